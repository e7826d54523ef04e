"""RightSizedService: one service's hardened workload and everything around it.

Children: ServiceAccount (no token), Secret for secret env, the NetworkPolicy that admits only its
declared callers, PVC for storage, the migration Job (the workload depends on it), a CronJob per
schedule, Deployment or StatefulSet (with its headless Service),
Service and Ingress when it has a port / is public, HPA when autoscaled, PDB when it always runs 2+ pods.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Optional, Sequence

import pulumi
import pulumi_kubernetes as k8s

from leanstack.components.declare import declare
from leanstack.config.schema import WorkloadSpec
from leanstack.kube import names
from leanstack.render import config_files, jobs, network, scaling, workload
from leanstack.render.objects import IngressSettings, Placement, Scope, ServiceContext


@dataclass(frozen=True)
class RightSizedServiceArgs:
    """namespace: where it runs (e.g. a HardenedNamespace's name). workload: size, scaling, probes,
    storage, exposure and peers, with secure defaults (see leanstack.config.schema.WorkloadSpec).
    image: what runs, ideally pinned by digest. peer_ports: the port of each service in
    workload.depends_on. labels: added to every object. environment: dev, staging or prod (prod
    spreads replicas across zones). ingress: the controller public services admit (default
    ingress-nginx, class nginx). secret_env: the value of each env var in workload.secret_env,
    stored in a Secret. name: the Kubernetes name, the component's name by default.
    await_timeout_seconds: how long `up` waits for the Deployment to become ready (provider default 600).
    rollout_after: resources the workload waits for besides its own migration (e.g. the migration of
    the service whose image it runs). config_files: the content of each file in workload.config_files.
    secret_files: the value of each file in workload.secret_files, stored in a Secret.
    peer_images: the image of each service a sidecar or init container takes its image `from`.
    placement: the node labels its pods require and the taints they tolerate (none by default)."""

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
    rollout_after: Sequence[pulumi.Resource] = ()
    config_files: Mapping[str, str] = field(default_factory=dict)
    secret_files: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    peer_images: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    placement: Placement = field(default_factory=Placement)

    def context(self, default_name: str) -> ServiceContext:
        scope = Scope(self.namespace, self.labels, self.environment)
        return ServiceContext(self.name or default_name, scope, self.workload, self.peer_ports, self.ingress,
                              self.await_timeout_seconds, self.config_files, self.extra_images(), self.placement)

    def extra_images(self) -> dict[str, pulumi.Input[str]]:
        """The image of each sidecar or init container that names one."""
        found = {}
        for extra in self.workload.extra_containers:
            if extra.image is not None and extra.image.from_ is not None:
                if extra.image.from_ not in self.peer_images:
                    raise ValueError(f"{extra.name}: peer_images has no image for {extra.image.from_} (its image.from)")
                found[extra.name] = self.peer_images[extra.image.from_]
            elif extra.image is not None:
                found[extra.name] = extra.image.ref
        return found


class RightSizedService(pulumi.ComponentResource):
    workload: k8s.apps.v1.Deployment | k8s.apps.v1.StatefulSet
    migration: Optional[k8s.batch.v1.Job]
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
        for field_name, given in (("secret_env", args.secret_env), ("secret_files", args.secret_files)):
            missing = sorted(set(getattr(spec, field_name)) - set(given))
            if missing:
                raise ValueError(f"service {context.name}: {field_name} has no value for {', '.join(missing)}")
        self.manifests = declared = []
        # What a pod of the service needs before it starts: its account, secrets and network policy.
        prerequisites = [declare(self, declared, k8s.core.v1.ServiceAccount, f"{name}-sa", workload.service_account(context))]
        if spec.secret_env:
            values = {env: pulumi.Output.secret(args.secret_env[env]) for env in spec.secret_env}
            prerequisites.append(declare(self, declared, k8s.core.v1.Secret, f"{name}-env", workload.env_secret(context, values)))
        if spec.secret_files:
            files = {file: pulumi.Output.secret(args.secret_files[file]) for file in spec.secret_files}
            prerequisites.append(declare(self, declared, k8s.core.v1.Secret, f"{name}-files",
                                         config_files.files_secret(context, files)))
        if spec.config_files:
            prerequisites.append(declare(self, declared, k8s.core.v1.ConfigMap, f"{name}-config",
                                         config_files.config_map(context)))
        self.network_policy = declare(self, declared, k8s.networking.v1.NetworkPolicy, f"{name}-netpol",
                                      network.network_policy(context))
        prerequisites.append(self.network_policy)
        declare(self, declared, k8s.core.v1.PersistentVolumeClaim, f"{name}-data", workload.persistent_volume_claim(context))
        # The name is the one value computed from the image (an Output); the Job itself is declared here.
        job_name = pulumi.Output.from_input(args.image).apply(lambda ref: names.migration_job(context.name, ref))
        self.migration = declare(self, declared, k8s.batch.v1.Job, f"{name}-migrate",
                                 jobs.migration_job(context, args.image, job_name), depends_on=prerequisites)
        for schedule, manifest in jobs.cron_jobs(context, args.image).items():
            declare(self, declared, k8s.batch.v1.CronJob, f"{name}-{schedule}", manifest, depends_on=prerequisites)
        # The workload starts after what its pods need (or the ReplicaSet backs off on a missing
        # service account), and rolls only after the new image's migration succeeded.
        rollout_after = [*prerequisites, *args.rollout_after, *([self.migration] if self.migration else [])]
        stateful = spec.workload == "statefulset"
        if stateful:  # the governing Service exists before the StatefulSet's first pod
            rollout_after.append(declare(self, declared, k8s.core.v1.Service, f"{name}-headless",
                                         network.headless_service(context)))
        self.workload = declare(self, declared, k8s.apps.v1.StatefulSet if stateful else k8s.apps.v1.Deployment,
                                f"{name}-{'statefulset' if stateful else 'deployment'}",
                                workload.workload_object(context, args.image), depends_on=rollout_after)
        self.service = declare(self, declared, k8s.core.v1.Service, f"{name}-svc", network.service(context))
        declare(self, declared, k8s.networking.v1.Ingress, f"{name}-ingress", network.ingress(context))
        self.autoscaler = declare(self, declared, k8s.autoscaling.v2.HorizontalPodAutoscaler, f"{name}-hpa",
                                  scaling.horizontal_pod_autoscaler(context))
        declare(self, declared, k8s.policy.v1.PodDisruptionBudget, f"{name}-pdb", scaling.pod_disruption_budget(context))

        self.deployment_name = self.workload.metadata.apply(lambda meta: meta.name)
        self.image = pulumi.Output.from_input(args.image)
        self.address = f"{context.name}.{context.scope.namespace}.svc.cluster.local:{spec.port}" if spec.port else None
        self.register_outputs({"deployment_name": self.deployment_name, "image": self.image, "address": self.address})
