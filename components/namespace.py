"""HardenedNamespace: a namespace that enforces Pod Security `restricted`, caps the stack's
footprint with a ResourceQuota, sets container defaults with a LimitRange, and denies all traffic
that no policy admits (DNS excepted)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_kubernetes as k8s

from components.config import StackConfig
from components.manifests import as_args, namespace as render


@dataclass(frozen=True)
class HardenedNamespaceArgs:
    config: StackConfig


class HardenedNamespace(pulumi.ComponentResource):
    """Children: Namespace, ResourceQuota, LimitRange, default-deny and allow-dns NetworkPolicies."""

    name: pulumi.Output[str]

    def __init__(self, name: str, args: HardenedNamespaceArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("leanstack:namespace:HardenedNamespace", name, None, opts)
        config = args.config
        child = pulumi.ResourceOptions(parent=self)
        namespace = k8s.core.v1.Namespace(f"{name}-ns", **as_args(render.namespace(config)), opts=child)
        in_namespace = pulumi.ResourceOptions(parent=self, depends_on=[namespace])
        k8s.core.v1.ResourceQuota(f"{name}-quota", **as_args(render.resource_quota(config)), opts=in_namespace)
        k8s.core.v1.LimitRange(f"{name}-defaults", **as_args(render.limit_range(config)), opts=in_namespace)
        k8s.networking.v1.NetworkPolicy(f"{name}-default-deny", **as_args(render.default_deny(config)), opts=in_namespace)
        k8s.networking.v1.NetworkPolicy(f"{name}-allow-dns", **as_args(render.allow_dns(config)), opts=in_namespace)
        self.name = namespace.metadata.apply(lambda meta: meta.name)
        self.register_outputs({"name": self.name})
