"""One workload of the stack file: WorkloadSpec (what runs, how big, how checked, who may talk to
it, what else it runs) and ServiceSpec (a WorkloadSpec with its image). Validators here see one
workload; references between services are checked by `leanstack.config.schema.StackConfig`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal, Optional

from pydantic import AfterValidator, Field, model_validator

from leanstack.config.errors import Problem, Problems
from leanstack.config.fields import (CONFIG_KEY, HOSTNAME, TMP, WRITABLE_PATH_SIZE, Autoscaling, Cache, EnvName, ImageSpec, Port,
                                     Probes, ReplicaRange, Resources, SecurityOverrides, ServiceName, Storage, Strict, _cidr)
from leanstack.config.files import SECRET_FILES_DIR, ConfigFile, FileName
from leanstack.config.processes import Command, ExtraContainer, Migration, Schedule
from leanstack.kube.quantities import format_bytes, parse_quantity


class WorkloadSpec(ReplicaRange, Strict):
    """One workload: size, scaling, checks, storage, and who may talk to it (its image aside)."""

    role: Literal["app", "worker", "web", "database", "cache"] = Field("app", description="Databases and caches must stay internal.")
    workload: Literal["deployment", "statefulset"] = Field(
        "deployment", description="statefulset: stable pod names and a volume per replica (storage), behind a headless Service.")
    port: Optional[Port] = Field(None, description="Container port; a service without one gets no Service.")
    resources: Resources = Field(description="Requests and limits of the one container.")
    command: Optional[Command] = Field(None, min_length=1, description="Container command (replaces the image's entrypoint).")
    args: Optional[list[str]] = Field(None, description="Container args (replace the image's CMD).")
    replicas: Optional[int] = Field(None, ge=1, le=1000, description="Fixed replicas; 1 if neither this nor autoscaling.")
    autoscaling: Optional[Autoscaling] = None
    probes: Probes = Field(default_factory=Probes, description="Startup, readiness and liveness checks.")
    storage: Optional[Storage] = Field(None, description="Persistent data (PVC); single replica only.")
    cache: Optional[Cache] = Field(None, description="Disposable data (emptyDir).")
    exposure: Literal["internal", "public"] = Field("internal", description="Public services admit the ingress controller.")
    host: Optional[str] = Field(None, pattern=HOSTNAME, description="Ingress host (public).")
    load_balancer: bool = Field(False, description="Expose a public service through a LoadBalancer Service.")
    allow_from: list[ServiceName] = Field(default_factory=list, description="Services that may call this one.")
    depends_on: list[ServiceName] = Field(default_factory=list, description="Services this one calls (egress).")
    egress_cidrs: list[Annotated[str, AfterValidator(_cidr)]] = Field(
        default_factory=list, description="Explicit egress to addresses outside the cluster."
    )
    env: dict[EnvName, str] = Field(default_factory=dict, description="Plain environment variables.")
    secret_env: dict[EnvName, Annotated[str, Field(pattern=CONFIG_KEY)]] = Field(
        default_factory=dict, description="Env var -> name of a secret stack config key (pulumi config set --secret)."
    )
    config_files: dict[FileName, ConfigFile] = Field(
        default_factory=dict, description="Read-only files from a ConfigMap, by file name; a change rolls the pods.")
    secret_files: dict[EnvName, Annotated[str, Field(pattern=CONFIG_KEY)]] = Field(
        default_factory=dict,
        description=f"File name -> secret stack config key; mounted read-only in {SECRET_FILES_DIR}, "
                    "its path in env <NAME>_FILE.")
    security: SecurityOverrides = Field(default_factory=SecurityOverrides, description="Named escape hatches.")
    init_containers: list[ExtraContainer] = Field(default_factory=list, description="Run in order, each to completion, before the pod starts.")
    sidecars: list[ExtraContainer] = Field(
        default_factory=list, description="Run beside the main container for the pod's life (native sidecars: started first, stopped last).")
    migrate: Optional[Migration] = Field(None, description="A Job each new image runs to completion before the rollout.")
    schedules: dict[ServiceName, Schedule] = Field(
        default_factory=dict, description="CronJobs running the service's image, by name (<service>-<name> is at most 52 long).")
    disruption_min_available: Optional[int] = Field(None, ge=1, description="PDB minAvailable; default maxUnavailable 1.")

    @model_validator(mode="after")
    def _consistent(self) -> "WorkloadSpec":
        """Every problem at its key path (relative to the workload), as StackConfig's validators do."""
        problems = []
        if self.replicas is not None and self.autoscaling is not None:
            problems.append(Problem("replicas", "set either replicas or autoscaling, not both (the HPA owns the replica count)"))
        if self.role in ("database", "cache") and self.exposure == "public":
            problems.append(Problem("exposure", f"a {self.role} must stay internal; exposure public is not allowed for role {self.role}"))
        if self.exposure == "internal" and (self.host or self.load_balancer):
            problems.append(Problem("exposure", "host and load_balancer need exposure: public"))
        if self.exposure == "public" and self.port is None:
            problems.append(Problem("port", "a public service needs a port"))
        if self.probes.type in ("http", "tcp") and (self.probes.port or self.port) is None:
            problems.append(Problem("probes.port", f"{self.probes.type} probes need a port: set port or probes.port, or use probes.type exec"))
        if self.storage is not None and self.max_replicas > 1 and self.workload == "deployment":
            problems.append(Problem("storage", (
                "storage is a ReadWriteOnce volume: run it with 1 replica (no autoscaling), "
                "use workload: statefulset (a volume per replica), or keep state outside the service")))
        if self.workload == "statefulset" and self.port is None:
            problems.append(Problem("port", "a statefulset needs a port: its pods are addressed through a headless Service"))
        problems.extend(self._mount_problems())
        if self.disruption_min_available is not None and self.disruption_min_available >= self.min_replicas:
            problems.append(Problem("disruption_min_available", (
                f"disruption_min_available {self.disruption_min_available} must be below the minimum "
                f"replicas {self.min_replicas}, or no node could ever be drained")))
        problems.extend(self._scratch_space_problems(self.resources, "resources"))
        for where, task in self.tasks().items():
            if task.resources is not None:
                problems.extend(self._scratch_space_problems(task.resources, f"{where}.resources"))
        names = [container.name for container in self.extra_containers]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            problems.append(Problem("sidecars", f"init_containers and sidecars repeat the name {', '.join(repeated)}"))
        overlap = set(self.env) & set(self.secret_env)
        if overlap:
            problems.append(Problem("secret_env", f"env and secret_env both set {', '.join(sorted(overlap))}"))
        file_envs = set(self.env) | set(self.secret_env)
        clashing = sorted(f"{name}_FILE" for name in self.secret_files if f"{name}_FILE" in file_envs)
        if clashing:
            problems.append(Problem("secret_files", f"secret_files sets {', '.join(clashing)}, which env or secret_env sets too"))
        if problems:
            raise Problems(problems)
        return self

    def _mount_problems(self) -> list[Problem]:
        """Two volumes cannot share a path, and nothing may be mounted over the secret files."""
        mounts = [(path, "a writable path", "security.extra_writable_paths") for path in self.writable_paths]
        mounts += [(self.storage.mount_path, "storage", "storage.mount_path")] if self.storage else []
        mounts += [(self.cache.mount_path, "cache", "cache.mount_path")] if self.cache else []
        mounts += [(file.mount_path, f"config_files.{name}", f"config_files.{name}.mount_path")
                   for name, file in self.config_files.items()]
        problems, seen = [], {}
        for path, owner, key in mounts:
            if path in seen:
                problems.append(Problem(key, f"{seen[path]} and {owner} share mount_path {path}"))
            elif self.secret_files and (path + "/").startswith(SECRET_FILES_DIR + "/"):
                problems.append(Problem(key, f"{owner} mount_path {path} is inside {SECRET_FILES_DIR}, where secret_files live"))
            seen.setdefault(path, owner)
        return problems

    def _scratch_space_problems(self, resources: Resources, where: str) -> list[Problem]:
        """emptyDirs on disk count against the ephemeral-storage limit, in memory against the memory limit
        (every pod of the service mounts them: its Jobs' too)."""
        on_disk = [WRITABLE_PATH_SIZE] * len(self.writable_paths)
        in_memory = []
        if self.cache is not None:
            (in_memory if self.cache.medium == "memory" else on_disk).append(self.cache.size_limit)
        problems = []
        for kind, sizes, limit in (("ephemeral_storage", on_disk, resources.limits.ephemeral_storage),
                                   ("memory", in_memory, resources.limits.memory)):
            needed = sum((parse_quantity(size) for size in sizes), Decimal(0))
            if sizes and parse_quantity(limit) < needed + (0 if kind == "ephemeral_storage" else 1):
                problems.append(Problem(f"{where}.limits.{kind}", (
                    f"{limit} cannot hold the pod's {'disk' if kind != 'memory' else 'memory'} "
                    f"emptyDirs ({' + '.join(sizes)}); raise it above {format_bytes(needed)} or the kubelet evicts the pod")))
        return problems

    @property
    def extra_containers(self) -> list[ExtraContainer]:
        """Sidecars, then init containers: the order of the pod's initContainers, so every init
        container can use the sidecars (e.g. a database proxy)."""
        return [*self.sidecars, *self.init_containers]

    def tasks(self) -> dict[str, Migration | Schedule]:
        """Run-to-completion work by key path: the migration, then each schedule."""
        found: dict[str, Migration | Schedule] = {"migrate": self.migrate} if self.migrate else {}
        return {**found, **{f"schedules.{name}": schedule for name, schedule in self.schedules.items()}}

    @property
    def probe_port(self) -> Optional[int]:
        return self.probes.port or self.port

    @property
    def writable_paths(self) -> list[str]:
        """Writable emptyDirs on the read-only root filesystem: /tmp, then the named extras."""
        return [TMP, *self.security.extra_writable_paths]


class ServiceSpec(WorkloadSpec):
    """A workload of the stack file, with where its image comes from."""

    image: ImageSpec = Field(description="What the container runs.")
