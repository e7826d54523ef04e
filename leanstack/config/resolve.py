"""Resolve: a validated StackConfig -> frozen, fully bound inputs of the renderers and components.

The stack file names things by reference: a peer by its service name, a file by its source, a
secret by its config key, an image by the service that builds it. `resolve` binds every reference
once (a peer's port, a file's content, a secret's value, an image), so what comes out is complete
by construction: nothing downstream looks a name up, re-checks a table or speaks of key paths
(every stack-file wording stays in config, raised before any resource exists).

The classes are plain frozen dataclasses, one documented field each with its default, so a program
of your own (or Pulumi's component provider host, which infers a schema from them) can build them
without a stack file: no unions but `X | None`, no callables. Values known only at deploy time (an
image digest, a secret read with `pulumi.Config().require_secret`) are typed `Any`: config and
render stay free of Pulumi.
"""

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional, Sequence

from leanstack.config import schema
from leanstack.config.fields import TMP, WRITABLE_PATH_SIZE, ReplicaRange  # noqa: F401  what the renderers mount, re-exported
from leanstack.config.files import SECRET_FILES_DIR  # noqa: F401
from leanstack.kube import names


def _default(model: type, name: str) -> Any:
    """The stack file's default of a field: one home for it, whoever builds the inputs."""
    return model.model_fields[name].get_default(call_default_factory=True)


@dataclass(frozen=True)
class Amounts:
    """Kubernetes quantities of one container's requests or limits, as written ("250m", "384Mi")."""

    cpu: str
    """CPU, e.g. 250m. Required."""
    memory: str
    """Memory, e.g. 384Mi. Required."""
    ephemeral_storage: str
    """Local disk (the writable emptyDirs count against it), e.g. 64Mi. Required."""


@dataclass(frozen=True)
class Resources:
    """A container's requests (reserved and billed) and limits (the ceiling, >= requests)."""

    requests: Amounts
    """What the scheduler reserves and the cost model bills. Required."""
    limits: Amounts
    """The ceiling. Required."""


@dataclass(frozen=True)
class HttpProbe:
    """An HTTP GET the container must answer with 2xx/3xx."""

    path: str
    """The request path, e.g. /ready. Required."""
    port: int
    """The container port asked. Required."""


@dataclass(frozen=True)
class TcpProbe:
    """A TCP connection the container must accept."""

    port: int
    """The container port connected to. Required."""


@dataclass(frozen=True)
class ExecProbe:
    """A command run in the container that must exit 0."""

    command: Sequence[str]
    """The argv, e.g. (pg_isready, -U, app). Required."""


@dataclass(frozen=True)
class Probe:
    """One check, exactly one of http, tcp or exec (a closed union, kept as optional fields so a
    component schema can express it); build it with `Probe.http_get`, `.tcp_socket` or `.command`."""

    http: Optional[HttpProbe] = None
    """An HTTP GET. Default None."""
    tcp: Optional[TcpProbe] = None
    """A TCP connect. Default None."""
    exec: Optional[ExecProbe] = None
    """A command. Default None."""

    def __post_init__(self) -> None:
        if sum(kind is not None for kind in (self.http, self.tcp, self.exec)) != 1:
            raise ValueError("a probe is exactly one of http, tcp or exec")

    @classmethod
    def http_get(cls, path: str, port: int) -> "Probe":
        return cls(http=HttpProbe(path, port))

    @classmethod
    def tcp_socket(cls, port: int) -> "Probe":
        return cls(tcp=TcpProbe(port))

    @classmethod
    def command(cls, argv: Sequence[str]) -> "Probe":
        return cls(exec=ExecProbe(tuple(argv)))

    def __str__(self) -> str:
        if self.exec is not None:
            return " ".join(("exec", *self.exec.command))
        return f"http {self.http.path}" if self.http is not None else "tcp"


@dataclass(frozen=True)
class Probes:
    """Startup, readiness and liveness checks, timed by one profile (render.pod.PROBE_PROFILES)."""

    startup: Probe
    """Passes once the process is up; the other two start after it. Required."""
    readiness: Probe
    """Can the pod take traffic now? Failing takes it out of rotation. Required."""
    liveness: Probe
    """Is the process wedged for good? Failing restarts it. Required."""
    profile: str = _default(schema.Probes, "profile")
    """Timing: fast, standard or slow. Default standard."""

    @classmethod
    def http(cls, port: int) -> "Probes":
        """The stack file's default checks (GET /health to start and stay alive, /ready to serve) on `port`."""
        return probes(schema.Probes(), port)


@dataclass(frozen=True)
class PodsMetric:
    """A per-pod custom metric target of an HPA."""

    name: str
    """The metric, e.g. http_requests_per_second. Required."""
    average_value: str
    """The target average per pod, a quantity. Required."""


@dataclass(frozen=True)
class Autoscaling:
    """An autoscaling/v2 HPA; it owns the replica count, so the workload leaves replicas unset."""

    min_replicas: int
    """Baseline; 2+ adds a PodDisruptionBudget. Required."""
    max_replicas: int
    """Ceiling; sizes the namespace quota. Required."""
    cpu_utilization: Optional[int] = _default(schema.Autoscaling, "cpu_utilization")
    """Target average CPU % of requests. Default 70."""
    memory_utilization: Optional[int] = None
    """Target average memory % of requests. Default None."""
    pods_metric: Optional[PodsMetric] = None
    """A custom per-pod metric target. Default None."""
    scale_down_stabilization_seconds: int = _default(schema.Autoscaling, "scale_down_stabilization_seconds")
    """How long load must stay low before scaling down. Default 300."""


@dataclass(frozen=True)
class Storage:
    """A ReadWriteOnce PersistentVolumeClaim (one per replica of a StatefulSet)."""

    size: str
    """Requested capacity, e.g. 2Gi. Required."""
    mount_path: str
    """Where it is mounted. Required."""
    storage_class: str = _default(schema.Storage, "storage_class")
    """StorageClass, priced per class. Default standard."""


@dataclass(frozen=True)
class Cache:
    """An emptyDir for data that may be lost with the pod."""

    mount_path: str
    """Where it is mounted. Required."""
    size_limit: str
    """Its size limit, counted against the disk or memory limit. Required."""
    medium: str = _default(schema.Cache, "medium")
    """disk, or memory (tmpfs). Default disk."""


@dataclass(frozen=True)
class Security:
    """Who the pod runs as and where it may write; the rest of the hardening is not negotiable."""

    run_as_user: int = _default(schema.SecurityOverrides, "run_as_user")
    """Non-root UID. Default 10001."""
    run_as_group: int = _default(schema.SecurityOverrides, "run_as_group")
    """Non-root GID. Default 10001."""
    fs_group: int = _default(schema.SecurityOverrides, "fs_group")
    """Group owning mounted volumes. Default 10001."""
    writable_paths: Sequence[str] = (TMP,)
    """Writable emptyDirs on the read-only root filesystem. Default (/tmp,)."""


@dataclass(frozen=True)
class Peer:
    """A service this one calls: egress to its pods, on its port."""

    name: str
    """The peer's service name. Required."""
    port: int
    """The port it serves on. Required."""


@dataclass(frozen=True)
class SecretEnv:
    """An environment variable from the service's Secret."""

    name: str
    """The variable. Required."""
    value: Any
    """Its value, a string or an Output (e.g. pulumi.Config().require_secret); stored as a secret. Required."""


@dataclass(frozen=True)
class ConfigFile:
    """A read-only file from the service's ConfigMap (mode 0444); its content rolls the pods when it changes."""

    name: str
    """The file name (its ConfigMap key). Required."""
    path: str
    """Where it appears in the containers. Required."""
    content: str
    """Its text. Required."""


@dataclass(frozen=True)
class SecretFile:
    """A read-only file in the secret-files directory (mode 0400); its path is in env `<name>_FILE`."""

    name: str
    """The file name. Required."""
    value: Any
    """Its content, a string or an Output; stored as a secret. Required."""


@dataclass(frozen=True)
class ExtraContainer:
    """A sidecar (runs beside the main container for the pod's life) or an init container (runs to
    completion before it), hardened like the main container."""

    name: str
    """Container name, unique in the pod. Required."""
    resources: Resources
    """Its requests and limits (counted in the quota and the cost). Required."""
    image: Any = None
    """Its image (a pinned ref or a built image's Output). Default None: the service's own."""
    command: Optional[Sequence[str]] = None
    """Its command. Default None: the image's entrypoint."""
    args: Optional[Sequence[str]] = None
    """Its args. Default None: the image's CMD."""
    inherit_main: bool = False
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
    timeout_seconds: int = _default(schema.Migration, "timeout_seconds")
    """activeDeadlineSeconds. Default 600."""
    backoff_limit: int = _default(schema.Migration, "backoff_limit")
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
    concurrency_policy: str = _default(schema.Schedule, "concurrency_policy")
    """Forbid or Replace. Default Forbid."""
    successful_jobs_history_limit: int = _default(schema.Schedule, "successful_jobs_history_limit")
    """Default 1."""
    failed_jobs_history_limit: int = _default(schema.Schedule, "failed_jobs_history_limit")
    """Default 3."""
    starting_deadline_seconds: int = _default(schema.Schedule, "starting_deadline_seconds")
    """Default 300."""
    active_deadline_seconds: int = _default(schema.Schedule, "active_deadline_seconds")
    """Default 3600."""
    backoff_limit: int = _default(schema.Schedule, "backoff_limit")
    """Default 0."""
    expected_run_seconds: int = _default(schema.Schedule, "expected_run_seconds")
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
    role: str = _default(schema.WorkloadSpec, "role")
    """app, worker, web, database or cache (the component label). Default app."""
    kind: str = _default(schema.WorkloadSpec, "workload")
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
    exposure: str = _default(schema.WorkloadSpec, "exposure")
    """internal, or public (admits the ingress controller). Default internal."""
    host: Optional[str] = None
    """Ingress host of a public service. Default None: no Ingress."""
    load_balancer: bool = False
    """A LoadBalancer Service for a public service. Default False."""
    allow_from: Sequence[str] = ()
    """Services whose pods may call this one. Default none."""
    peers: Sequence[Peer] = ()
    """Services this one calls. Default none."""
    egress_cidrs: Sequence[str] = ()
    """Egress to addresses outside the cluster. Default none."""
    env: Mapping[str, str] = field(default_factory=dict)
    """Plain environment variables. Default none."""
    secret_env: Sequence[SecretEnv] = ()
    """Environment variables from a Secret. Default none."""
    config_files: Sequence[ConfigFile] = ()
    """Read-only files from a ConfigMap. Default none."""
    secret_files: Sequence[SecretFile] = ()
    """Read-only files from a Secret. Default none."""
    security: Security = Security()
    """Who the pod runs as and where it may write. Default Security()."""
    sidecars: Sequence[ExtraContainer] = ()
    """Native sidecars, started first and stopped last. Default none."""
    init_containers: Sequence[ExtraContainer] = ()
    """Run in order, each to completion, before the pod starts. Default none."""
    migrate: Optional[Migration] = None
    """A Job before each rollout. Default None."""
    schedules: Sequence[Schedule] = ()
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


@dataclass(frozen=True)
class ContainerDefaults:
    """A LimitRange's defaults for containers that state nothing (e.g. injected sidecars)."""

    default_request: Amounts = field(default_factory=lambda: amounts(schema.LimitRangeDefaults().default_request))
    """Default 50m / 64Mi / 64Mi."""
    default_limit: Amounts = field(default_factory=lambda: amounts(schema.LimitRangeDefaults().default_limit))
    """Default 250m / 256Mi / 256Mi."""


@dataclass(frozen=True)
class Ingress:
    """The cluster's ingress controller: public services admit its namespace and use its class."""

    namespace: str = _default(schema.StackConfig, "ingress_namespace")
    """Its namespace. Default ingress-nginx."""
    class_name: str = _default(schema.StackConfig, "ingress_class")
    """Its IngressClass. Default nginx."""
    publishes_status: bool = _default(schema.StackConfig, "ingress_publishes_status")
    """It writes an address to the Ingress status, so `up` may await it. Default False."""


@dataclass(frozen=True)
class Toleration:
    """A node taint the pods tolerate (Kubernetes' toleration fields)."""

    key: str
    """The taint's key, e.g. kwok.x-k8s.io/node. Required."""
    operator: str = _default(schema.Toleration, "operator")
    """Equal (matches value) or Exists (any value). Default Equal."""
    value: Optional[str] = None
    """The taint's value, with Equal. Default None."""
    effect: Optional[str] = None
    """The effect tolerated. Default None: every effect."""


@dataclass(frozen=True)
class Placement:
    """The nodes a service's pods may run on."""

    node_selector: Mapping[str, str] = field(default_factory=dict)
    """Node labels they require. Default none."""
    tolerations: Sequence[Toleration] = ()
    """Taints they tolerate. Default none, so no pod lands on a tainted node."""


@dataclass(frozen=True)
class ImageBuild:
    """A BuildKit build of a Dockerfile (OptimizedImage), with what it may read bound."""

    context: str
    """Build context directory. Required."""
    dockerfile: str = _default(schema.ImageBuild, "dockerfile")
    """Dockerfile, relative to the context. Default Dockerfile."""
    target: Optional[str] = _default(schema.ImageBuild, "target")
    """Multi-stage target. Default runtime (the lean stage)."""
    args: Mapping[str, str] = field(default_factory=dict)
    """Build args. Default none."""
    platform: str = _default(schema.ImageBuild, "platform")
    """Target platform. Default linux/amd64."""
    size_budget: Optional[str] = None
    """Largest allowed image size, e.g. 150Mi; a larger image fails `up`. Default None: no budget."""
    budget_setting: str = "size_budget"
    """How the over-budget error names the budget's setting. Default size_budget."""
    cache_from_registry: bool = _default(schema.ImageBuild, "cache_from_registry")
    """Reuse the last pushed image's layers as build cache. Default True."""
    build_on_preview: bool = _default(schema.ImageBuild, "build_on_preview")
    """Build during previews too. Default False."""
    secrets: Mapping[str, str] = field(default_factory=dict)
    """BuildKit secret id -> its content (RUN --mount=type=secret), never stored in a layer. Default none."""


@dataclass(frozen=True)
class Service:
    """One service of a stack, bound."""

    name: str
    """Its name in the stack file (and of its objects)."""
    workload: Workload
    """Its bound workload."""
    image: Any
    """What its main container runs: a pinned ref, or the Output of a build."""
    image_owner: Optional[str] = None
    """The service whose build it runs when not its own: that service's migration gates this rollout."""


@dataclass(frozen=True)
class Stack:
    """A stack's namespace and services, bound."""

    namespace: str
    """The namespace holding every object."""
    labels: Mapping[str, str]
    """Added to every object."""
    environment: str
    """dev, staging or prod."""
    limit_range: ContainerDefaults
    """The namespace's container defaults."""
    ingress: Ingress
    """The ingress controller public services admit."""
    await_timeout_seconds: Optional[int]
    """How long `up` awaits a workload (None: the provider's default)."""
    placement: Placement
    """The nodes every pod of the stack may run on."""
    services: Sequence[Service]
    """Every service, in stack-file order."""


def amounts(section: schema.ResourceAmounts) -> Amounts:
    return Amounts(section.cpu, section.memory, section.ephemeral_storage)


def resources(spec: schema.Resources) -> Resources:
    return Resources(amounts(spec.requests), amounts(spec.limits))


def probe(spec: schema.Probes, kind: schema.ProbeKind, port: Optional[int]) -> Probe:
    """One check: a readiness or liveness command overrides the type for that probe alone."""
    command = {"readiness": spec.readiness_command, "liveness": spec.liveness_command}.get(kind) or spec.command
    if command is not None:
        return Probe.command(command)
    if spec.type == "tcp":
        return Probe.tcp_socket(port)
    return Probe.http_get(getattr(spec, f"{kind}_path"), port)


def probes(spec: schema.Probes, port: Optional[int]) -> Probes:
    return Probes(*(probe(spec, kind, port) for kind in ("startup", "readiness", "liveness")), profile=spec.profile)


def _task_fields(task: schema.Migration | schema.Schedule, main: schema.Resources) -> dict[str, Any]:
    values = {key: getattr(task, key) for key in type(task).model_fields if key != "resources"}
    return {**values, "resources": resources(task.resources or main)}


def workload(spec: schema.WorkloadSpec, peer_ports: Mapping[str, int], images: Mapping[str, Any],
             files: Mapping[str, str], secret: Callable[[str], Any]) -> Workload:
    """Bind one workload: `peer_ports` of its depends_on, `images` of the services its containers
    take an image `from`, the content of its config files, `secret(key)` the value of a secret key."""

    def extra(container: schema.ExtraContainer) -> ExtraContainer:
        source = container.image
        image = None if source is None else (source.ref if source.ref is not None else images[source.from_])
        return ExtraContainer(container.name, resources(container.resources), image, container.command,
                              container.args, container.inherit_main)

    autoscaling = spec.autoscaling
    return Workload(
        resources=resources(spec.resources),
        probes=probes(spec.probes, spec.probe_port),
        role=spec.role,
        kind=spec.workload,
        port=spec.port,
        command=spec.command,
        args=spec.args,
        replicas=spec.replicas,
        autoscaling=None if autoscaling is None else Autoscaling(
            autoscaling.min_replicas, autoscaling.max_replicas, autoscaling.cpu_utilization,
            autoscaling.memory_utilization,
            autoscaling.pods_metric and PodsMetric(autoscaling.pods_metric.name, autoscaling.pods_metric.average_value),
            autoscaling.scale_down_stabilization_seconds),
        storage=spec.storage and Storage(spec.storage.size, spec.storage.mount_path, spec.storage.storage_class),
        cache=spec.cache and Cache(spec.cache.mount_path, spec.cache.size_limit, spec.cache.medium),
        exposure=spec.exposure,
        host=spec.host,
        load_balancer=spec.load_balancer,
        allow_from=tuple(spec.allow_from),
        peers=tuple(Peer(name, peer_ports[name]) for name in spec.depends_on),
        egress_cidrs=tuple(spec.egress_cidrs),
        env=dict(spec.env),
        secret_env=tuple(SecretEnv(env, secret(key)) for env, key in spec.secret_env.items()),
        config_files=tuple(ConfigFile(name, file.mount_path, files[name]) for name, file in spec.config_files.items()),
        secret_files=tuple(SecretFile(name, secret(key)) for name, key in spec.secret_files.items()),
        security=Security(spec.security.run_as_user, spec.security.run_as_group, spec.security.fs_group,
                          (TMP, *spec.security.extra_writable_paths)),
        sidecars=tuple(extra(container) for container in spec.sidecars),
        init_containers=tuple(extra(container) for container in spec.init_containers),
        migrate=spec.migrate and Migration(**_task_fields(spec.migrate, spec.resources)),
        schedules=tuple(Schedule(name=name, **_task_fields(schedule, spec.resources))
                        for name, schedule in spec.schedules.items()),
        disruption_min_available=spec.disruption_min_available,
    )


def builds(config: schema.StackConfig, secrets: Mapping[str, Mapping[str, str]]) -> dict[str, ImageBuild]:
    """The image build of each service with image.build; `secrets` holds the content of its build
    secret files (config.files.read_build_secrets)."""
    found = {}
    for name, spec in config.services.items():
        build = spec.image.build
        if build is not None:
            found[name] = ImageBuild(
                context=build.context, dockerfile=build.dockerfile, target=build.target, args=dict(build.args),
                platform=build.platform, size_budget=build.size_budget,
                budget_setting=f"services.{name}.image.build.size_budget", cache_from_registry=build.cache_from_registry,
                build_on_preview=build.build_on_preview, secrets=dict(secrets.get(name, {})))
    return found


def resolve(config: schema.StackConfig, built: Mapping[str, Any], files: Mapping[str, Mapping[str, str]],
            secret: Callable[[str], Any]) -> Stack:
    """Bind a validated stack: `built` holds the image of every service with image.build, `files`
    the content of every service's config files (config.files.read_config_files), `secret(key)`
    the value of a secret config key. Nothing here can fail: validation already checked every reference."""
    services = config.services
    images = {name: spec.image.ref if spec.image.ref is not None else built[config.built_image_of(name)]
              for name, spec in services.items()}
    ports = {name: spec.port for name, spec in services.items() if spec.port is not None}
    return Stack(
        namespace=config.namespace,
        labels=dict(config.labels),
        environment=config.environment,
        limit_range=ContainerDefaults(amounts(config.limit_range.default_request), amounts(config.limit_range.default_limit)),
        ingress=Ingress(config.ingress_namespace, config.ingress_class, config.ingress_publishes_status),
        await_timeout_seconds=config.kubernetes.await_timeout_seconds,
        placement=Placement(dict(config.kubernetes.node_selector),
                            tuple(Toleration(t.key, t.operator, t.value, t.effect) for t in config.kubernetes.tolerations)),
        services=tuple(Service(name, workload(spec, ports, images, files.get(name, {}), secret), images[name],
                               spec.image.from_) for name, spec in services.items()),
    )
