"""Autoscaling (autoscaling/v2 HPA with behavior) and disruption budgets."""

from __future__ import annotations

from components.config import StackConfig
from components.manifests import header, selector_labels

# Scale up fast (double, or +2 pods, per minute, whichever is more); scale down gently (at most half
# per minute) and only after the configured stabilization window, so a dip doesn't drop capacity.
SCALE_UP = {
    "stabilizationWindowSeconds": 0,
    "selectPolicy": "Max",
    "policies": [{"type": "Percent", "value": 100, "periodSeconds": 60}, {"type": "Pods", "value": 2, "periodSeconds": 60}],
}
SCALE_DOWN_POLICIES = [{"type": "Percent", "value": 50, "periodSeconds": 60}]


def horizontal_pod_autoscaler(config: StackConfig, name: str) -> dict:
    autoscaling = config.services[name].autoscaling
    assert autoscaling is not None
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
        **header("HorizontalPodAutoscaler", config, name, name),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
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


def needs_disruption_budget(config: StackConfig, name: str) -> bool:
    """Only a service that always runs 2+ pods can keep serving while a node drains."""
    return config.services[name].min_replicas >= 2


def pod_disruption_budget(config: StackConfig, name: str) -> dict:
    service = config.services[name]
    budget = (
        {"minAvailable": service.disruption_min_available}
        if service.disruption_min_available is not None
        else {"maxUnavailable": 1}
    )
    return {
        **header("PodDisruptionBudget", config, name, name),
        "spec": {
            **budget,
            "selector": {"matchLabels": selector_labels(name)},
            # A crash-looping pod must not block a node drain.
            "unhealthyPodEvictionPolicy": "AlwaysAllow",
        },
    }
