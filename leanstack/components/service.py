"""RightSizedService: one service's hardened workload and everything around it.

Children: ServiceAccount (no token), Secret for secret env, the NetworkPolicy that admits only its
declared callers, PVC for storage, the migration Job (the workload depends on it), a CronJob per
schedule, Deployment or StatefulSet (with its headless Service),
Service and Ingress when it has a port / is public, HPA when autoscaled, PDB when it always runs 2+ pods.
"""

from dataclasses import dataclass, field
from typing import Any, Mapping, NotRequired, Optional, Sequence

import pulumi
import pulumi_kubernetes as k8s

from leanstack.components.declare import declare
from leanstack.config.resolve import Ingress, Placement, Workload
from leanstack.kube import names
from leanstack.render import config_files, jobs, network, scaling, workload
from leanstack.render.objects import Scope, ServiceContext


@dataclass(frozen=True)
class RightSizedServiceArgs:
    """One service: its bound workload (leanstack.config.resolve.Workload) and where it runs."""

    namespace: str
    """Where it runs, e.g. a HardenedNamespace's name. Required."""
    workload: Workload
    """Size, scaling, probes, storage, exposure, peers, files and secrets, with secure defaults. Required."""
    image: pulumi.Input[str]
    """What the main container runs, ideally pinned by digest. Required."""
    labels: NotRequired[Mapping[str, str]] = field(default_factory=dict)
    """Added to every object. Default none."""
    environment: Optional[str] = None
    """dev, staging or prod (prod spreads replicas across zones). Default None: no label."""
    ingress: NotRequired[Ingress] = field(default_factory=Ingress)
    """The controller public services admit. Default ingress-nginx, class nginx, not awaited."""
    name: Optional[str] = None
    """The Kubernetes name. Default None: the component's name."""
    await_timeout_seconds: Optional[int] = None
    """How long `up` waits for the workload to become ready. Default None: the provider's 600."""
    rollout_after: NotRequired[Sequence[k8s.batch.v1.Job]] = ()
    """Migration Jobs the workload waits for besides its own (e.g. that of the service whose image
    it runs). Default none."""
    placement: NotRequired[Placement] = field(default_factory=Placement)
    """The node labels its pods require and the taints they tolerate. Default none."""

    def context(self, default_name: str) -> ServiceContext:
        scope = Scope(self.namespace, self.labels, self.environment)
        return ServiceContext(self.name or default_name, scope, self.workload, self.ingress, self.await_timeout_seconds,
                              self.placement)


class RightSizedService(pulumi.ComponentResource):
    # The class annotations are the package schema's outputs (leanstack.package), which has no unions:
    # `workload` (a Deployment or a StatefulSet) is annotated where it is set.
    migration: Optional[k8s.batch.v1.Job]
    service: Optional[k8s.core.v1.Service]
    autoscaler: Optional[k8s.autoscaling.v2.HorizontalPodAutoscaler]
    network_policy: k8s.networking.v1.NetworkPolicy
    deployment_name: pulumi.Output[str]
    image: pulumi.Output[str]
    address: Optional[str]
    manifests: list[dict[str, Any]]

    def __init__(self, name: str, args: RightSizedServiceArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("leanstack:service:RightSizedService", name, None, opts)
        context = args.context(name)
        spec = context.spec
        self.manifests = declared = []
        # What a pod of the service needs before it starts: its account, secrets and network policy.
        prerequisites = [declare(self, declared, k8s.core.v1.ServiceAccount, f"{name}-sa", workload.service_account(context))]
        if spec.secret_env:
            values = {secret.name: pulumi.Output.secret(secret.value) for secret in spec.secret_env}
            prerequisites.append(declare(self, declared, k8s.core.v1.Secret, f"{name}-env", workload.env_secret(context, values)))
        if spec.secret_files:
            files = {file.name: pulumi.Output.secret(file.value) for file in spec.secret_files}
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
        stateful = spec.stateful
        if stateful:  # the governing Service exists before the StatefulSet's first pod
            rollout_after.append(declare(self, declared, k8s.core.v1.Service, f"{name}-headless",
                                         network.headless_service(context)))
        self.workload: k8s.apps.v1.Deployment | k8s.apps.v1.StatefulSet = declare(
            self, declared, k8s.apps.v1.StatefulSet if stateful else k8s.apps.v1.Deployment,
            f"{name}-{'statefulset' if stateful else 'deployment'}", workload.workload_object(context, args.image),
            depends_on=rollout_after)
        self.service = declare(self, declared, k8s.core.v1.Service, f"{name}-svc", network.service(context))
        declare(self, declared, k8s.networking.v1.Ingress, f"{name}-ingress", network.ingress(context))
        self.autoscaler = declare(self, declared, k8s.autoscaling.v2.HorizontalPodAutoscaler, f"{name}-hpa",
                                  scaling.horizontal_pod_autoscaler(context))
        declare(self, declared, k8s.policy.v1.PodDisruptionBudget, f"{name}-pdb", scaling.pod_disruption_budget(context))

        self.deployment_name = self.workload.metadata.apply(lambda meta: meta.name)
        self.image = pulumi.Output.from_input(args.image)
        self.address = f"{context.name}.{context.scope.namespace}.svc.cluster.local:{spec.port}" if spec.port else None
        self.register_outputs({"deployment_name": self.deployment_name, "image": self.image, "address": self.address})
