"""The namespace and its guard rails: Pod Security, quota, defaults, default-deny networking.

Network policies are additive: a pod selected by any policy accepts only what some policy allows.
`default_deny` selects every pod with no rules, so nothing flows until a service's own policy
(render.network) or `allow_dns` admits it.
"""

from __future__ import annotations

from typing import Iterable, Mapping

from leanstack.kube import labels, names
from leanstack.kube.quantities import RESOURCE_KEYS, format_amount, parse_quantity
from leanstack.render.objects import NamespaceContext
from leanstack.render.sizing import footprint, largest_limits

POD_SECURITY_LEVEL = "restricted"
# Pinned, not "latest": a cluster upgrade must not silently tighten what already runs.
POD_SECURITY_VERSION = "v1.30"
DNS_PORTS = [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]


def namespace(context: NamespaceContext) -> dict:
    pod_security = {
        labels.pod_security(mode, suffix): value
        for mode in labels.POD_SECURITY_MODES
        for suffix, value in (("", POD_SECURITY_LEVEL), ("-version", POD_SECURITY_VERSION))
    }
    scope = context.scope
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": scope.namespace, "labels": {**scope.object_labels(), **pod_security}}}


def quota_caps(context: NamespaceContext) -> dict[str, str]:
    """Hard caps at the workloads' maximum footprint: every one at max replicas, mid-rollout."""
    most = footprint(context.workloads)
    hard = {}
    for kind, amounts in (("requests", most.requests), ("limits", most.limits)):
        for key, name in RESOURCE_KEYS.items():
            hard[f"{kind}.{name}"] = format_amount(key, amounts[key])
    hard.update({
        "pods": str(most.pods),
        "requests.storage": format_amount("storage", most.storage) if most.storage else "0",
        "persistentvolumeclaims": str(most.persistent_volume_claims),
        "services.loadbalancers": str(most.load_balancers),
        "services.nodeports": "0",
    })
    return hard


def resource_quotas(context: NamespaceContext) -> dict[str, dict]:
    """One ResourceQuota per cap (cap -> object), so that each cap can change on its own side of a
    rollout (`lowered_caps`); Kubernetes admits a pod only within every quota of its namespace."""
    return {cap: {**context.scope.header("ResourceQuota", names.quota(cap)), "spec": {"hard": {cap: value}}}
            for cap, value in quota_caps(context).items()}


def caps_in_force(hards: Iterable[Mapping[str, str]]) -> dict[str, str]:
    """Per cap, the smallest of the quotas' hard values: a pod must fit in every quota of its namespace."""
    caps: dict[str, str] = {}
    for hard in hards:
        for cap, value in hard.items():
            if cap not in caps or parse_quantity(value) < parse_quantity(caps[cap]):
                caps[cap] = value
    return caps


def lowered_caps(caps: Mapping[str, str], live: Mapping[str, str]) -> set[str]:
    """The caps that go below what is in force now (`live`, caps_in_force of the namespace's quotas). They are lowered only once every workload has rolled: until then the old
    pods (or a Pending one a failed rollout left) still count, and a cap lowered first would refuse
    the new pods that replace them, a deadlock. Every other cap is raised (or kept) before the
    workloads roll, so the new pods fit. During a rollout each cap is thus max(old, new)."""
    return {cap for cap, value in caps.items() if cap in live and parse_quantity(value) < parse_quantity(live[cap])}


def _at_most(amounts: dict[str, str], caps: dict[str, str]) -> dict[str, str]:
    return {name: min(amount, caps[name], key=parse_quantity) for name, amount in amounts.items()}


def limit_range(context: NamespaceContext) -> dict:
    """Defaults for containers that state nothing, capped so that defaultRequest <= default <= max
    (the API refuses a LimitRange otherwise): once right-sizing cuts every declared limit below the
    configured default, the default follows the largest limit the stack's own containers set."""
    defaults = context.limit_range
    most = largest_limits(context.workloads)
    default = _at_most({RESOURCE_KEYS[k]: getattr(defaults.default_limit, k) for k in RESOURCE_KEYS}, most)
    container = {
        "type": "Container",
        "default": default,
        "defaultRequest": _at_most({RESOURCE_KEYS[k]: getattr(defaults.default_request, k) for k in RESOURCE_KEYS}, default),
        "max": most,
    }
    limits = [container]
    claims = [s.storage.size for s in context.workloads if s.storage is not None]
    if claims:
        limits.append({"type": "PersistentVolumeClaim", "max": {"storage": max(claims, key=parse_quantity)}})
    return {**context.scope.header("LimitRange", names.LIMIT_RANGE), "spec": {"limits": limits}}


def default_deny(context: NamespaceContext) -> dict:
    return {
        **context.scope.header("NetworkPolicy", names.DEFAULT_DENY),
        "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
    }


def allow_dns(context: NamespaceContext) -> dict:
    """Name resolution is the one egress every pod needs: to the cluster DNS in kube-system only."""
    return {
        **context.scope.header("NetworkPolicy", names.ALLOW_DNS),
        "spec": {
            "podSelector": {},
            "policyTypes": ["Egress"],
            "egress": [{
                "to": [{
                    "namespaceSelector": {"matchLabels": {labels.NAMESPACE_NAME: "kube-system"}},
                    "podSelector": {"matchLabels": {labels.DNS_APP: labels.DNS_APP_VALUE}},
                }],
                "ports": DNS_PORTS,
            }],
        },
    }
