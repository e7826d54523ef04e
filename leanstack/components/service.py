"""RightSizedService: one service's hardened workload and everything around it.

Children: ServiceAccount (no token), Secret for secret env, Deployment, Service and Ingress when
it has a port / is public, HPA when autoscaled, PDB when it always runs 2+ pods, PVC for storage,
and the NetworkPolicy that admits only its declared callers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Optional

import pulumi
import pulumi_kubernetes as k8s

from leanstack.components.declare import declare
from leanstack.config.schema import WorkloadSpec
from leanstack.render import network, scaling, workload
from leanstack.render.objects import IngressSettings, Scope, ServiceContext


@dataclass(frozen=True)
class RightSizedServiceArgs:
    """namespace: where it runs (e.g. a HardenedNamespace's name). workload: size, scaling, probes,
    storage, exposure and peers, with secure defaults (see leanstack.config.schema.WorkloadSpec).
    image: what runs, ideally pinned by digest. peer_ports: the port of each service in
    workload.depends_on. labels: added to every object. environment: dev, staging or prod (prod
    spreads replicas across zones). ingress: the controller public services admit (default
    ingress-nginx, class nginx). secret_env: the value of each env var in workload.secret_env,
    stored in a Secret. name: the Kubernetes name, the component's name by default.
    await_timeout_seconds: how long `up` waits for the Deployment to become ready (provider default 600)."""

    namespace: str
    workload: WorkloadSpec
    image: pulumi.Input[str]
    peer_ports: Mapping[str, int] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    environment: Optional[str] = None
    ingress: IngressSettings = field(default_factory=IngressSettings)
    secret_env: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    name: Optional[str] = None
    await_timeout_seconds: Optional[int] = None

    def context(self, default_name: str) -> ServiceContext:
        scope = Scope(self.namespace, self.labels, self.environment)
        return ServiceContext(self.name or default_name, scope, self.workload, self.peer_ports, self.ingress,
                              self.await_timeout_seconds)


class RightSizedService(pulumi.ComponentResource):
    deployment: k8s.apps.v1.Deployment
    service: Optional[k8s.core.v1.Service]
    autoscaler: Optional[k8s.autoscaling.v2.HorizontalPodAutoscaler]
    network_policy: k8s.networking.v1.NetworkPolicy
    deployment_name: pulumi.Output[str]
    image: pulumi.Output[str]
    address: Optional[str]
    manifests: list[dict]

    def __init__(self, name: str, args: RightSizedServiceArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("leanstack:service:RightSizedService", name, None, opts)
        context = args.context(name)
        spec = context.spec
        missing = sorted(set(spec.secret_env) - set(args.secret_env))
        if missing:
            raise ValueError(f"service {context.name}: secret_env has no value for {', '.join(missing)}")
        self.manifests = declared = []
        declare(self, declared, k8s.core.v1.ServiceAccount, f"{name}-sa", workload.service_account(context))
        if spec.secret_env:
            values = {env: pulumi.Output.secret(args.secret_env[env]) for env in spec.secret_env}
            declare(self, declared, k8s.core.v1.Secret, f"{name}-env", workload.env_secret(context, values))
        declare(self, declared, k8s.core.v1.PersistentVolumeClaim, f"{name}-data", workload.persistent_volume_claim(context))
        self.deployment = declare(self, declared, k8s.apps.v1.Deployment, f"{name}-deployment", workload.deployment(context, args.image))
        self.service = declare(self, declared, k8s.core.v1.Service, f"{name}-svc", network.service(context))
        declare(self, declared, k8s.networking.v1.Ingress, f"{name}-ingress", network.ingress(context))
        self.autoscaler = declare(self, declared, k8s.autoscaling.v2.HorizontalPodAutoscaler, f"{name}-hpa",
                                  scaling.horizontal_pod_autoscaler(context))
        declare(self, declared, k8s.policy.v1.PodDisruptionBudget, f"{name}-pdb", scaling.pod_disruption_budget(context))
        self.network_policy = declare(self, declared, k8s.networking.v1.NetworkPolicy, f"{name}-netpol",
                                      network.network_policy(context))

        self.deployment_name = self.deployment.metadata.apply(lambda meta: meta.name)
        self.image = pulumi.Output.from_input(args.image)
        self.address = f"{context.name}.{context.scope.namespace}.svc.cluster.local:{spec.port}" if spec.port else None
        self.register_outputs({"deployment_name": self.deployment_name, "image": self.image, "address": self.address})
