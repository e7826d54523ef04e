"""HardenedNamespace: a namespace that enforces Pod Security `restricted`, caps its workloads'
footprint with a ResourceQuota, sets container defaults with a LimitRange, and denies all traffic
that no policy admits (DNS excepted)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Optional, Sequence

import pulumi
import pulumi_kubernetes as k8s

from leanstack.components.declare import declare
from leanstack.config.schema import LimitRangeDefaults, WorkloadSpec
from leanstack.render import namespace as render
from leanstack.render.objects import NamespaceContext, Scope


@dataclass(frozen=True)
class HardenedNamespaceArgs:
    """name: the namespace. workloads: what it will hold (the quota is their peak footprint: each at
    max replicas plus its rollout surge; the limit range's maxima are their largest limits).
    labels: added to every object. environment: dev, staging or prod, as a label the policies read.
    limit_range: requests and limits of containers that state none (default 50m/64Mi, 250m/256Mi)."""

    name: str
    workloads: Sequence[WorkloadSpec]
    labels: Mapping[str, str] = field(default_factory=dict)
    environment: Optional[str] = None
    limit_range: LimitRangeDefaults = field(default_factory=LimitRangeDefaults)

    def context(self) -> NamespaceContext:
        return NamespaceContext(Scope(self.name, self.labels, self.environment), self.workloads, self.limit_range)


class HardenedNamespace(pulumi.ComponentResource):
    """Children: Namespace, ResourceQuota, LimitRange, default-deny and allow-dns NetworkPolicies."""

    namespace: k8s.core.v1.Namespace
    name: pulumi.Output[str]
    manifests: list[dict]

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
