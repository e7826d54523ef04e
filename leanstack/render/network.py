"""How a service is reached and what it may reach.

On top of the namespace's default-deny, each service gets one NetworkPolicy:
- ingress only from the pods of the services in its `allow_from`, on its port; public services
  also from the ingress controller's namespace (and from anywhere when behind a LoadBalancer);
- egress only to the pods of the services in its `depends_on`, on their ports, plus the CIDRs
  named in `egress_cidrs`. DNS comes from the namespace's allow-dns policy.
A service with no callers gets an empty ingress list: selected, so it accepts nothing.
"""

from __future__ import annotations

from typing import Optional

from leanstack.kube import labels, names
from leanstack.render.objects import ServiceContext, member_labels, selector_labels
from leanstack.render.pod import port_name

ANYWHERE_V4 = "0.0.0.0/0"


def service(context: ServiceContext) -> Optional[dict]:
    """The Service of a workload with a port; None for one without."""
    spec = context.spec
    if spec.port is None:
        return None
    return _service(context, context.name, {"type": "LoadBalancer" if spec.load_balancer else "ClusterIP"})


def headless_service(context: ServiceContext) -> Optional[dict]:
    """The governing Service of a StatefulSet: DNS names per pod (<svc>-0.<svc>-headless), published
    while starting too, so the members of a cluster can find each other. None for a Deployment."""
    if not context.spec.stateful:
        return None
    return _service(context, names.headless_service(context.name),
                    {"type": "ClusterIP", "clusterIP": "None", "publishNotReadyAddresses": True})


def _service(context: ServiceContext, name: str, kind: dict) -> dict:
    spec = context.spec
    manifest = context.header("Service", name)
    # How the service may be reached: the public-exposure-only policy admits a LoadBalancer or
    # NodePort Service only when this says public. Not awaited: the workload's own readiness await
    # already proves its pods serve, and the provider's wait for endpoints (or a load balancer
    # address no controller may publish) added ~10 s per Service on a live cluster.
    manifest["metadata"]["annotations"] = {labels.EXPOSURE: spec.exposure, labels.SKIP_AWAIT: "true"}
    return {
        **manifest,
        "spec": {
            **kind,
            "selector": selector_labels(context.name),
            "ports": [{"name": port_name(spec), "port": spec.port, "targetPort": port_name(spec), "protocol": "TCP"}],
        },
    }


def ingress(context: ServiceContext) -> Optional[dict]:
    """The Ingress of a public service with a host; None otherwise."""
    name, spec = context.name, context.spec
    if spec.host is None:
        return None
    manifest = context.header("Ingress")
    if not context.ingress.publishes_status:
        # The provider awaits an address in .status.loadBalancer, which only a publishing controller writes.
        manifest["metadata"]["annotations"] = {labels.SKIP_AWAIT: "true"}
    return {
        **manifest,
        "spec": {
            "ingressClassName": context.ingress.class_name,
            "rules": [{
                "host": spec.host,
                "http": {"paths": [{
                    "path": "/",
                    "pathType": "Prefix",
                    "backend": {"service": {"name": name, "port": {"number": spec.port}}},
                }]},
            }],
        },
    }


def network_policy(context: ServiceContext) -> dict:
    name, spec = context.name, context.spec
    peers: list[dict] = [{"podSelector": {"matchLabels": member_labels(caller)}} for caller in spec.allow_from]
    if spec.exposure == "public":
        peers.append({"namespaceSelector": {"matchLabels": {labels.NAMESPACE_NAME: context.ingress.namespace}}})
        if spec.load_balancer:
            peers.append({"ipBlock": {"cidr": ANYWHERE_V4}})
    ingress_rules = [{"from": peers, "ports": [{"protocol": "TCP", "port": spec.port}]}] if peers else []
    egress_rules = [
        {"to": [{"podSelector": {"matchLabels": member_labels(peer.name)}}], "ports": [{"protocol": "TCP", "port": peer.port}]}
        for peer in spec.peers
    ]
    if spec.egress_cidrs:
        egress_rules.append({"to": [{"ipBlock": {"cidr": cidr}} for cidr in spec.egress_cidrs]})
    return {
        **context.header("NetworkPolicy"),
        "spec": {
            "podSelector": {"matchLabels": member_labels(name)},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": ingress_rules,
            "egress": egress_rules,
        },
    }
