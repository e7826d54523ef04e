"""A bound workload: what runs beside the main container, its run-to-completion tasks, and the
Workload the renderers and RightSizedService take."""

from dataclasses import dataclass, field
from typing import Any, Mapping, NotRequired, Optional, Sequence

from leanstack.config import schema
from leanstack.config.fields import ReplicaRange
from leanstack.config.resolve.parts import (Autoscaling, Cache, ConfigFile, Peer, Resources, SecretEnv, SecretFile, Security,
                                            Storage, default_of)
from leanstack.config.resolve.probes import Probes
from leanstack.kube import names


@dataclass(frozen=True)
class ExtraContainer:
    """A sidecar (runs beside the main container for the pod's life) or an init container (runs to
    completion before it), hardened like the main container."""

    name: str
    """Container name, unique in the pod. Required."""
    resources: Resources
    """Its requests and limits (counted in the quota and the cost). Required."""
    image: NotRequired[Any] = None
    """Its image (a pinned ref or a built image's Output). Default None: the service's own."""
    command: Optional[Sequence[str]] = None
    """Its command. Default None: the image's entrypoint."""
    args: Optional[Sequence[str]] = None
    """Its args. Default None: the image's CMD."""
    inherit_main: NotRequired[bool] = False
    """Also see what the main container sees (env, files, storage, cache). Default False."""


@dataclass(frozen=True)
class Migration:
    """A Job each new image runs to completion before the workload rolls."""

    command: Sequence[str]
    """What it runs. Required."""
    resources: Resources
    """Its size. Required (the stack file defaults it to the service's)."""
    args: Optional[Sequence[str]] = None
    """Its args. Default None."""
    timeout_seconds: NotRequired[int] = default_of(schema.Migration, "timeout_seconds")
    """activeDeadlineSeconds. Default 600."""
    backoff_limit: NotRequired[int] = default_of(schema.Migration, "backoff_limit")
    """Retries of a failed run. Default 0."""
    name = names.MIGRATION  # the container's name: fixed, not a field
    concurrent_runs = 1  # retries follow each other


@dataclass(frozen=True)
class Schedule:
    """A CronJob running the service's image with its own command (timing fields as in batch/v1)."""

    name: str
    """The schedule's name; the CronJob is <service>-<name>. Required."""
    schedule: str
    """Cron schedule in UTC. Required."""
    command: Sequence[str]
    """What each run executes. Required."""
    resources: Resources
    """Its size. Required (the stack file defaults it to the service's)."""
    args: Optional[Sequence[str]] = None
    """Its args. Default None."""
    concurrency_policy: NotRequired[str] = default_of(schema.Schedule, "concurrency_policy")
    """Forbid or Replace. Default Forbid."""
    successful_jobs_history_limit: NotRequired[int] = default_of(schema.Schedule, "successful_jobs_history_limit")
    """Default 1."""
    failed_jobs_history_limit: NotRequired[int] = default_of(schema.Schedule, "failed_jobs_history_limit")
    """Default 3."""
    starting_deadline_seconds: NotRequired[int] = default_of(schema.Schedule, "starting_deadline_seconds")
    """Default 300."""
    active_deadline_seconds: NotRequired[int] = default_of(schema.Schedule, "active_deadline_seconds")
    """Default 3600."""
    backoff_limit: NotRequired[int] = default_of(schema.Schedule, "backoff_limit")
    """Default 0."""
    expected_run_seconds: NotRequired[int] = default_of(schema.Schedule, "expected_run_seconds")
    """How long a run takes, for the cost estimate. Default 300."""

    @property
    def concurrent_runs(self) -> int:
        """Forbid runs one pod at a time; Replace starts the next while the stopped one's pod may still terminate."""
        return 2 if self.concurrency_policy == "Replace" else 1


@dataclass(frozen=True)
class Workload(ReplicaRange):
    """One service's workload, every reference bound: what the renderers and RightSizedService take."""

    resources: Resources
    """Requests and limits of the main container. Required."""
    probes: Probes
    """Startup, readiness and liveness checks (Probes.http(port) for the stack file's defaults). Required."""
    role: NotRequired[str] = default_of(schema.WorkloadSpec, "role")
    """app, worker, web, database or cache (the component label). Default app."""
    kind: NotRequired[str] = default_of(schema.WorkloadSpec, "workload")
    """deployment or statefulset. Default deployment."""
    port: Optional[int] = None
    """Container port; None: no Service. Default None."""
    command: Optional[Sequence[str]] = None
    """Container command. Default None: the image's entrypoint."""
    args: Optional[Sequence[str]] = None
    """Container args. Default None: the image's CMD."""
    replicas: Optional[int] = None
    """Fixed replicas; 1 if neither this nor autoscaling. Default None."""
    autoscaling: Optional[Autoscaling] = None
    """An HPA. Default None."""
    storage: Optional[Storage] = None
    """Persistent data. Default None."""
    cache: Optional[Cache] = None
    """Disposable data. Default None."""
    exposure: NotRequired[str] = default_of(schema.WorkloadSpec, "exposure")
    """internal, or public (admits the ingress controller). Default internal."""
    host: Optional[str] = None
    """Ingress host of a public service. Default None: no Ingress."""
    load_balancer: NotRequired[bool] = False
    """A LoadBalancer Service for a public service. Default False."""
    allow_from: NotRequired[Sequence[str]] = ()
    """Services whose pods may call this one. Default none."""
    peers: NotRequired[Sequence[Peer]] = ()
    """Services this one calls. Default none."""
    egress_cidrs: NotRequired[Sequence[str]] = ()
    """Egress to addresses outside the cluster. Default none."""
    env: NotRequired[Mapping[str, str]] = field(default_factory=dict)
    """Plain environment variables. Default none."""
    secret_env: NotRequired[Sequence[SecretEnv]] = ()
    """Environment variables from a Secret. Default none."""
    config_files: NotRequired[Sequence[ConfigFile]] = ()
    """Read-only files from a ConfigMap. Default none."""
    secret_files: NotRequired[Sequence[SecretFile]] = ()
    """Read-only files from a Secret. Default none."""
    security: NotRequired[Security] = Security()
    """Who the pod runs as and where it may write. Default Security()."""
    sidecars: NotRequired[Sequence[ExtraContainer]] = ()
    """Native sidecars, started first and stopped last. Default none."""
    init_containers: NotRequired[Sequence[ExtraContainer]] = ()
    """Run in order, each to completion, before the pod starts. Default none."""
    migrate: Optional[Migration] = None
    """A Job before each rollout. Default None."""
    schedules: NotRequired[Sequence[Schedule]] = ()
    """CronJobs. Default none."""
    disruption_min_available: Optional[int] = None
    """PDB minAvailable. Default None: maxUnavailable 1."""

    @property
    def extra_containers(self) -> list[ExtraContainer]:
        """Sidecars, then init containers: the order of the pod's initContainers, so every init
        container can use the sidecars (e.g. a database proxy)."""
        return [*self.sidecars, *self.init_containers]

    @property
    def tasks(self) -> list[Migration | Schedule]:
        """Run-to-completion work: the migration, then each schedule."""
        return [*([self.migrate] if self.migrate else []), *self.schedules]

    @property
    def stateful(self) -> bool:
        return self.kind == "statefulset"
