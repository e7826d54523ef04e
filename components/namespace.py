"""HardenedNamespace: a namespace that enforces Pod Security `restricted`, caps the stack's
footprint with a ResourceQuota, sets container defaults with a LimitRange, and denies all traffic
that no policy admits (DNS excepted)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_kubernetes as k8s

from components.config import StackConfig
from components.declare import declare
from components.manifests import namespace as render


@dataclass(frozen=True)
class HardenedNamespaceArgs:
    config: StackConfig


class HardenedNamespace(pulumi.ComponentResource):
    """Children: Namespace, ResourceQuota, LimitRange, default-deny and allow-dns NetworkPolicies."""

    name: pulumi.Output[str]
    manifests: list[dict]

    def __init__(self, name: str, args: HardenedNamespaceArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("leanstack:namespace:HardenedNamespace", name, None, opts)
        config = args.config
        self.manifests = []
        namespace = declare(self, self.manifests, k8s.core.v1.Namespace, f"{name}-ns", render.namespace(config))
        inside = {"depends_on": [namespace]}
        declare(self, self.manifests, k8s.core.v1.ResourceQuota, f"{name}-quota", render.resource_quota(config), **inside)
        declare(self, self.manifests, k8s.core.v1.LimitRange, f"{name}-defaults", render.limit_range(config), **inside)
        declare(self, self.manifests, k8s.networking.v1.NetworkPolicy, f"{name}-default-deny", render.default_deny(config), **inside)
        declare(self, self.manifests, k8s.networking.v1.NetworkPolicy, f"{name}-allow-dns", render.allow_dns(config), **inside)
        self.name = namespace.metadata.apply(lambda meta: meta.name)
        self.register_outputs({"name": self.name})
