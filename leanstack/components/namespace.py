"""HardenedNamespace: a namespace that enforces Pod Security `restricted`, caps its workloads'
footprint with a ResourceQuota, sets container defaults with a LimitRange, and denies all traffic
that no policy admits (DNS excepted)."""

from dataclasses import dataclass, field
from typing import Any, Mapping, NotRequired, Optional, Sequence

import pulumi
import pulumi_kubernetes as k8s

from leanstack.components.declare import declare
from leanstack.config.resolve import ContainerDefaults, Workload
from leanstack.render import namespace as render
from leanstack.render.objects import NamespaceContext, Scope


@dataclass(frozen=True)
class HardenedNamespaceArgs:
    """A namespace and the workloads it will hold (leanstack.config.resolve.Workload)."""

    name: str
    """The namespace. Required."""
    workloads: Sequence[Workload]
    """What it will hold: the quota is their peak footprint (each at max replicas plus its rollout
    surge), the limit range's maxima their largest limits. Required."""
    labels: NotRequired[Mapping[str, str]] = field(default_factory=dict)
    """Added to every object. Default none."""
    environment: Optional[str] = None
    """dev, staging or prod, written as a label the policies read. Default None: no label."""
    limit_range: NotRequired[ContainerDefaults] = field(default_factory=ContainerDefaults)
    """Requests and limits of containers that state none. Default 50m/64Mi/64Mi, 250m/256Mi/256Mi."""

    def context(self) -> NamespaceContext:
        return NamespaceContext(Scope(self.name, self.labels, self.environment), self.workloads, self.limit_range)


class HardenedNamespace(pulumi.ComponentResource):
    """Children: Namespace, ResourceQuota, LimitRange, default-deny and allow-dns NetworkPolicies."""

    namespace: k8s.core.v1.Namespace
    name: pulumi.Output[str]
    manifests: list[dict[str, Any]]

    def __init__(self, name: str, args: HardenedNamespaceArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("leanstack:namespace:HardenedNamespace", name, None, opts)
        context = args.context()
        self.manifests = []
        self.namespace = declare(self, self.manifests, k8s.core.v1.Namespace, f"{name}-ns", render.namespace(context))
        inside = {"depends_on": [self.namespace]}
        declare(self, self.manifests, k8s.core.v1.ResourceQuota, f"{name}-quota", render.resource_quota(context), **inside)
        declare(self, self.manifests, k8s.core.v1.LimitRange, f"{name}-defaults", render.limit_range(context), **inside)
        declare(self, self.manifests, k8s.networking.v1.NetworkPolicy, f"{name}-default-deny", render.default_deny(context), **inside)
        declare(self, self.manifests, k8s.networking.v1.NetworkPolicy, f"{name}-allow-dns", render.allow_dns(context), **inside)
        self.name = self.namespace.metadata.apply(lambda meta: meta.name)
        self.register_outputs({"name": self.name})
