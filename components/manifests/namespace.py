"""The namespace and its guard rails: Pod Security, quota, defaults, default-deny networking.

Network policies are additive: a pod selected by any policy accepts only what some policy allows.
`default_deny` selects every pod with no rules, so nothing flows until a service's own policy
(manifests.network) or `allow_dns` admits it.
"""

from __future__ import annotations

from components.config import StackConfig
from components.manifests import header, stack_labels
from components.quantities import parse_quantity
from components.sizing import RESOURCE_KEYS, format_amount, largest_limits, stack_footprint

POD_SECURITY_LEVEL = "restricted"
# Pinned, not "latest": a cluster upgrade must not silently tighten what already runs.
POD_SECURITY_VERSION = "v1.30"
DNS_PORTS = [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]


def namespace(config: StackConfig) -> dict:
    pod_security = {
        f"pod-security.kubernetes.io/{mode}{suffix}": value
        for mode in ("enforce", "audit", "warn")
        for suffix, value in (("", POD_SECURITY_LEVEL), ("-version", POD_SECURITY_VERSION))
    }
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": config.namespace, "labels": {**stack_labels(config), **pod_security}}}


def resource_quota(config: StackConfig) -> dict:
    """Hard caps at the stack's maximum footprint: every service at max replicas, mid-rollout."""
    footprint = stack_footprint(config)
    hard = {}
    for kind, amounts in (("requests", footprint.requests), ("limits", footprint.limits)):
        for key, name in RESOURCE_KEYS.items():
            hard[f"{kind}.{name}"] = format_amount(key, amounts[key])
    hard.update({
        "pods": str(footprint.pods),
        "requests.storage": format_amount("storage", footprint.storage) if footprint.storage else "0",
        "persistentvolumeclaims": str(footprint.persistent_volume_claims),
        "services.loadbalancers": str(footprint.load_balancers),
        "services.nodeports": "0",
    })
    return {**header("ResourceQuota", config, "quota"), "spec": {"hard": hard}}


def limit_range(config: StackConfig) -> dict:
    defaults = config.limit_range
    container = {
        "type": "Container",
        "default": {RESOURCE_KEYS[k]: getattr(defaults.default_limit, k) for k in RESOURCE_KEYS},
        "defaultRequest": {RESOURCE_KEYS[k]: getattr(defaults.default_request, k) for k in RESOURCE_KEYS},
        "max": largest_limits(config),
    }
    limits = [container]
    claims = [s.storage.size for s in config.services.values() if s.storage is not None]
    if claims:
        limits.append({"type": "PersistentVolumeClaim", "max": {"storage": max(claims, key=parse_quantity)}})
    return {**header("LimitRange", config, "defaults"), "spec": {"limits": limits}}


def default_deny(config: StackConfig) -> dict:
    return {
        **header("NetworkPolicy", config, "default-deny"),
        "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
    }


def allow_dns(config: StackConfig) -> dict:
    """Name resolution is the one egress every pod needs: to the cluster DNS in kube-system only."""
    return {
        **header("NetworkPolicy", config, "allow-dns"),
        "spec": {
            "podSelector": {},
            "policyTypes": ["Egress"],
            "egress": [{
                "to": [{
                    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                }],
                "ports": DNS_PORTS,
            }],
        },
    }
