"""RightSizedService: one service's hardened workload and everything around it.

Children: ServiceAccount (no token), Secret for secret env, Deployment, Service and Ingress when
it has a port / is public, HPA when autoscaled, PDB when it always runs 2+ pods, PVC for storage,
and the NetworkPolicy that admits only its declared callers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import pulumi
import pulumi_kubernetes as k8s

from components.config import StackConfig
from components.manifests import as_args, network, scaling, workload


@dataclass(frozen=True)
class RightSizedServiceArgs:
    config: StackConfig
    service: str
    image: pulumi.Input[str]
    secret_env: dict[str, pulumi.Input[str]] = field(default_factory=dict)


class RightSizedService(pulumi.ComponentResource):
    deployment_name: pulumi.Output[str]
    image: pulumi.Output[str]
    address: Optional[str]

    def __init__(self, name: str, args: RightSizedServiceArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("leanstack:service:RightSizedService", name, None, opts)
        config, service_name = args.config, args.service
        spec = config.services[service_name]
        child = pulumi.ResourceOptions(parent=self)
        k8s.core.v1.ServiceAccount(f"{name}-sa", **as_args(workload.service_account(config, service_name)), opts=child)
        if spec.secret_env:
            k8s.core.v1.Secret(
                f"{name}-env",
                **as_args(workload.env_secret(config, service_name, {env: pulumi.Output.secret(args.secret_env[env]) for env in spec.secret_env})),
                opts=child,
            )
        if spec.storage is not None:
            k8s.core.v1.PersistentVolumeClaim(f"{name}-data", **as_args(workload.persistent_volume_claim(config, service_name)), opts=child)
        deployment = k8s.apps.v1.Deployment(f"{name}-deployment", **as_args(workload.deployment(config, service_name, args.image)), opts=child)
        if spec.port is not None:
            k8s.core.v1.Service(f"{name}-svc", **as_args(network.service(config, service_name)), opts=child)
        if spec.host is not None:
            k8s.networking.v1.Ingress(f"{name}-ingress", **as_args(network.ingress(config, service_name)), opts=child)
        if spec.autoscaling is not None:
            k8s.autoscaling.v2.HorizontalPodAutoscaler(
                f"{name}-hpa", **as_args(scaling.horizontal_pod_autoscaler(config, service_name)), opts=child
            )
        if scaling.needs_disruption_budget(config, service_name):
            k8s.policy.v1.PodDisruptionBudget(f"{name}-pdb", **as_args(scaling.pod_disruption_budget(config, service_name)), opts=child)
        k8s.networking.v1.NetworkPolicy(f"{name}-netpol", **as_args(network.network_policy(config, service_name)), opts=child)

        self.deployment_name = deployment.metadata.apply(lambda meta: meta.name)
        self.image = pulumi.Output.from_input(args.image)
        self.address = f"{service_name}.{config.namespace}.svc.cluster.local:{spec.port}" if spec.port else None
        self.register_outputs({"deployment_name": self.deployment_name, "image": self.image, "address": self.address})
