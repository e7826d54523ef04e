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
from components.declare import declare
from components.manifests import network, scaling, workload


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
    manifests: list[dict]

    def __init__(self, name: str, args: RightSizedServiceArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("leanstack:service:RightSizedService", name, None, opts)
        config, service_name = args.config, args.service
        spec = config.services[service_name]
        self.manifests = declared = []
        declare(self, declared, k8s.core.v1.ServiceAccount, f"{name}-sa", workload.service_account(config, service_name))
        if spec.secret_env:
            values = {env: pulumi.Output.secret(args.secret_env[env]) for env in spec.secret_env}
            declare(self, declared, k8s.core.v1.Secret, f"{name}-env", workload.env_secret(config, service_name, values))
        if spec.storage is not None:
            claim = workload.persistent_volume_claim(config, service_name)
            declare(self, declared, k8s.core.v1.PersistentVolumeClaim, f"{name}-data", claim)
        rollout = workload.deployment(config, service_name, args.image)
        deployment = declare(self, declared, k8s.apps.v1.Deployment, f"{name}-deployment", rollout)
        if spec.port is not None:
            declare(self, declared, k8s.core.v1.Service, f"{name}-svc", network.service(config, service_name))
        if spec.host is not None:
            declare(self, declared, k8s.networking.v1.Ingress, f"{name}-ingress", network.ingress(config, service_name))
        if spec.autoscaling is not None:
            hpa = scaling.horizontal_pod_autoscaler(config, service_name)
            declare(self, declared, k8s.autoscaling.v2.HorizontalPodAutoscaler, f"{name}-hpa", hpa)
        if scaling.needs_disruption_budget(config, service_name):
            budget = scaling.pod_disruption_budget(config, service_name)
            declare(self, declared, k8s.policy.v1.PodDisruptionBudget, f"{name}-pdb", budget)
        policy = network.network_policy(config, service_name)
        declare(self, declared, k8s.networking.v1.NetworkPolicy, f"{name}-netpol", policy)

        self.deployment_name = deployment.metadata.apply(lambda meta: meta.name)
        self.image = pulumi.Output.from_input(args.image)
        self.address = f"{service_name}.{config.namespace}.svc.cluster.local:{spec.port}" if spec.port else None
        self.register_outputs({"deployment_name": self.deployment_name, "image": self.image, "address": self.address})
