"""Autoscaling (autoscaling/v2 HPA with behavior) and disruption budgets."""

from __future__ import annotations

from typing import Optional

from leanstack.kube.manifest import WORKLOAD_KINDS
from leanstack.render.objects import ServiceContext, selector_labels

# Scale up fast (double, or +2 pods, per minute, whichever is more); scale down gently (at most half
# per minute) and only after the configured stabilization window, so a dip doesn't drop capacity.
SCALE_UP = {
    "stabilizationWindowSeconds": 0,
    "selectPolicy": "Max",
    "policies": [{"type": "Percent", "value": 100, "periodSeconds": 60}, {"type": "Pods", "value": 2, "periodSeconds": 60}],
}
SCALE_DOWN_POLICIES = [{"type": "Percent", "value": 50, "periodSeconds": 60}]


def horizontal_pod_autoscaler(context: ServiceContext) -> Optional[dict]:
    """The HPA of an autoscaled service; None for one with fixed replicas."""
    name, autoscaling = context.name, context.spec.autoscaling
    if autoscaling is None:
        return None
    metrics = [
        {"type": "Resource", "resource": {"name": resource, "target": {"type": "Utilization", "averageUtilization": target}}}
        for resource, target in (("cpu", autoscaling.cpu_utilization), ("memory", autoscaling.memory_utilization))
        if target is not None
    ]
    if autoscaling.pods_metric is not None:
        metrics.append({
            "type": "Pods",
            "pods": {
                "metric": {"name": autoscaling.pods_metric.name},
                "target": {"type": "AverageValue", "averageValue": autoscaling.pods_metric.average_value},
            },
        })
    return {
        **context.header("HorizontalPodAutoscaler"),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": WORKLOAD_KINDS[context.spec.kind], "name": name},
            "minReplicas": autoscaling.min_replicas,
            "maxReplicas": autoscaling.max_replicas,
            "metrics": metrics,
            "behavior": {
                "scaleUp": SCALE_UP,
                "scaleDown": {
                    "stabilizationWindowSeconds": autoscaling.scale_down_stabilization_seconds,
                    "selectPolicy": "Min",
                    "policies": SCALE_DOWN_POLICIES,
                },
            },
        },
    }


def pod_disruption_budget(context: ServiceContext) -> Optional[dict]:
    """A disruption budget for a service that always runs 2+ pods: only such a service can keep
    serving while a node drains. None for the others."""
    name, service = context.name, context.spec
    if service.min_replicas < 2:
        return None
    budget = (
        {"minAvailable": service.disruption_min_available}
        if service.disruption_min_available is not None
        else {"maxUnavailable": 1}
    )
    return {
        **context.header("PodDisruptionBudget"),
        "spec": {
            **budget,
            "selector": {"matchLabels": selector_labels(name)},
            # A crash-looping pod must not block a node drain.
            "unhealthyPodEvictionPolicy": "AlwaysAllow",
        },
    }
