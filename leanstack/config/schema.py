"""The stack config schema: the single source of truth for what a stack may say.

Every `leanstack:<key>` in `Pulumi.<stack>.yaml` is one top-level field of `StackConfig`. Models
forbid unknown keys and are frozen. Sizes are Kubernetes quantities, kept as the user wrote them
(so manifests show "384Mi", not bytes) and checked by `leanstack.kube.quantities`. Cross-field rules
(limits >= requests, min <= max replicas, references between services) fail here, before a single
resource is registered; `components.stack_file` turns the failures into one message per problem.

Secure defaults live next to each field; loosening them takes a named key.
"""

from __future__ import annotations

import ipaddress
import re
from decimal import Decimal
from typing import Annotated, Literal, Optional

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from leanstack.config.errors import Problem, Problems
from leanstack.config.price_sheets import DEFAULT_SHEET, SHEETS, PriceSheet
from leanstack.kube.quantities import QuantityError, format_bytes, parse_quantity

DNS_LABEL = r"^[a-z]([-a-z0-9]*[a-z0-9])?$"
ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
CONFIG_KEY = r"^[A-Za-z][A-Za-z0-9_-]*$"
DIGEST_REF = re.compile(r"^(?P<repo>[a-z0-9][a-z0-9._/:-]*?)(:(?P<tag>[\w][\w.-]{0,127}))?@sha256:[0-9a-f]{64}$")


def _positive_quantity(value: str) -> str:
    try:
        amount = parse_quantity(value)
    except QuantityError as exc:
        raise ValueError(str(exc)) from None
    if amount <= 0:
        raise ValueError(f"{value!r} is zero; use a positive quantity such as 250m or 384Mi")
    return str(value).strip()


def _absolute_path(value: str) -> str:
    if not value.startswith("/") or "//" in value or "/../" in f"{value}/":
        raise ValueError(f"{value!r} is not an absolute path; use e.g. /var/cache/app")
    return value


def _http_path(value: str) -> str:
    if not value.startswith("/"):
        raise ValueError(f'{value!r} is not an HTTP path; did you mean "/{value}"?')
    return value


def _cidr(value: str) -> str:
    if "/" not in value:
        raise ValueError(f'CIDR mask is missing in {value!r}; did you mean "{value}/32"?')
    try:
        return str(ipaddress.ip_network(value, strict=True))
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a CIDR block: {exc}") from None


# Every writable path on the read-only root filesystem (/tmp and the named extras) is an emptyDir
# of this size; the validator counts them against the disk limit and the renderer mounts them.
WRITABLE_PATH_SIZE = "64Mi"
TMP = "/tmp"

Quantity = Annotated[str, Field(min_length=1), AfterValidator(_positive_quantity)]
DnsLabel = Annotated[str, Field(min_length=1, max_length=63, pattern=DNS_LABEL)]
ServiceName = Annotated[str, Field(min_length=1, max_length=40, pattern=DNS_LABEL)]
AbsolutePath = Annotated[str, AfterValidator(_absolute_path)]
HttpPath = Annotated[str, AfterValidator(_http_path)]
Port = Annotated[int, Field(ge=1, le=65535)]
EnvName = Annotated[str, Field(pattern=ENV_NAME)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class ImageBuild(Strict):
    """Build the image from a Dockerfile with BuildKit (OptimizedImage)."""

    context: str = Field(min_length=1, description="Build context, relative to the project root.")
    dockerfile: str = Field("Dockerfile", min_length=1, description="Dockerfile, relative to the context.")
    target: Optional[str] = Field("runtime", description="Multi-stage target; the lean runtime stage by default.")
    args: dict[str, str] = Field(default_factory=dict, description="Build args (e.g. base images).")
    platform: str = Field("linux/amd64", pattern=r"^[a-z0-9]+/[a-z0-9_]+(/[a-z0-9]+)?$")
    size_budget: Optional[Quantity] = Field(None, description="Largest allowed image size, e.g. 150Mi.")
    cache_from_registry: bool = Field(True, description="Reuse the last pushed image's layers as build cache.")
    build_on_preview: bool = Field(False, description="Build during previews too (needs a Docker engine there).")
    secret_files: dict[Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+$")], str] = Field(
        default_factory=dict,
        description="BuildKit secret id -> host file (RUN --mount=type=secret); never stored in a layer.",
    )


class ImageSpec(Strict):
    """Exactly one of `build` (our Dockerfile) or `ref` (a prebuilt image pinned by digest)."""

    build: Optional[ImageBuild] = None
    ref: Optional[str] = Field(None, description="Prebuilt image, pinned: repo[:tag]@sha256:<64 hex>.")

    @model_validator(mode="after")
    def _one_source(self) -> "ImageSpec":
        if (self.build is None) == (self.ref is None):
            raise ValueError("set exactly one of build (a Dockerfile to build) or ref (an image pinned by digest)")
        if self.ref is not None:
            match = DIGEST_REF.match(self.ref)
            if match is None:
                raise ValueError(
                    f"ref {self.ref!r} is not pinned by digest; use repository[:tag]@sha256:<64 hex digits>"
                )
            if match["tag"] == "latest":
                raise ValueError(f"ref {self.ref!r} uses the tag latest; drop the tag and keep the digest")
        return self


class ResourceAmounts(Strict):
    cpu: Quantity
    memory: Quantity
    ephemeral_storage: Quantity


class Requests(ResourceAmounts):
    ephemeral_storage: Quantity = "64Mi"


class Limits(ResourceAmounts):
    ephemeral_storage: Quantity = "256Mi"


class Resources(Strict):
    """Container requests (what the scheduler reserves and what we bill) and limits (the ceiling)."""

    requests: Requests = Field(description="Reserved and billed; ephemeral_storage defaults to 64Mi.")
    limits: Limits = Field(description="Ceiling, >= requests; ephemeral_storage defaults to 256Mi.")

    @model_validator(mode="after")
    def _limits_cover_requests(self) -> "Resources":
        problems = []
        for field in ("cpu", "memory", "ephemeral_storage"):
            request, limit = getattr(self.requests, field), getattr(self.limits, field)
            if parse_quantity(limit) < parse_quantity(request):
                problems.append(f"limits.{field} {limit} is below requests.{field} {request}")
        if problems:
            raise ValueError("; ".join(problems) + " (limits must be >= requests)")
        return self


class PodsMetric(Strict):
    """A per-pod custom metric target, e.g. http_requests_per_second averaging 100."""

    name: str = Field(min_length=1, pattern=r"^[a-zA-Z_][a-zA-Z0-9_:.-]*$", description="Metric name.")
    average_value: Quantity = Field(description="Target average per pod.")


class Autoscaling(Strict):
    """An autoscaling/v2 HPA; it owns the replica count, so the Deployment leaves replicas unset."""

    min_replicas: int = Field(ge=1, le=1000, description="Baseline; 2+ adds a PodDisruptionBudget.")
    max_replicas: int = Field(ge=1, le=1000, description="Ceiling; sizes the namespace quota.")
    cpu_utilization: Optional[int] = Field(70, ge=1, le=100, description="Target average CPU % of requests.")
    memory_utilization: Optional[int] = Field(None, ge=1, le=100, description="Target average memory % of requests.")
    pods_metric: Optional[PodsMetric] = Field(None, description="A custom per-pod metric target.")
    scale_down_stabilization_seconds: int = Field(300, ge=0, le=3600, description="Wait before scaling down.")

    @model_validator(mode="after")
    def _range_and_metric(self) -> "Autoscaling":
        if self.min_replicas > self.max_replicas:
            raise ValueError(f"min_replicas {self.min_replicas} > max_replicas {self.max_replicas}")
        if self.cpu_utilization is None and self.memory_utilization is None and self.pods_metric is None:
            raise ValueError("set at least one of cpu_utilization, memory_utilization or pods_metric")
        return self


ProbeProfile = Literal["fast", "standard", "slow"]


class Probes(Strict):
    """Startup, readiness and liveness checks of one kind, timed by one profile (see manifests.PROBE_PROFILES)."""

    type: Literal["http", "tcp", "exec"] = Field("http", description="How the checks are made.")
    startup_path: HttpPath = Field("/health", description="For type http.")
    readiness_path: HttpPath = Field("/ready", description="For type http.")
    liveness_path: HttpPath = Field("/health", description="For type http.")
    command: Optional[list[str]] = Field(None, min_length=1, description="For type exec.")
    port: Optional[Port] = Field(None, description="Defaults to the service port.")
    profile: ProbeProfile = Field("standard", description="Timing: fast (60 s to start), standard (2 min), slow (5 min).")

    @model_validator(mode="after")
    def _command_for_exec(self) -> "Probes":
        if (self.type == "exec") != (self.command is not None):
            raise ValueError("command is required for type exec and only allowed there")
        return self


class Storage(Strict):
    """A PersistentVolumeClaim (ReadWriteOnce) mounted at mount_path."""

    size: Quantity = Field(description="Requested capacity, e.g. 2Gi.")
    storage_class: str = Field("standard", pattern=DNS_LABEL, description="StorageClass (priced per class).")
    mount_path: AbsolutePath = Field(description="Where the volume is mounted.")


class Cache(Strict):
    """An emptyDir for data that may be lost with the pod; size_limit evicts a runaway cache."""

    mount_path: AbsolutePath = Field(description="Where the emptyDir is mounted.")
    size_limit: Quantity = Field(description="Counts against the ephemeral-storage (disk) or memory limit.")
    medium: Literal["disk", "memory"] = Field("disk", description="memory uses tmpfs.")


class SecurityOverrides(Strict):
    """Named escape hatches from the hardened defaults; every one is visible in config review."""

    run_as_user: int = Field(10001, ge=1, le=2**31 - 1, description="Non-root UID the image expects.")
    run_as_group: int = Field(10001, ge=1, le=2**31 - 1, description="Non-root GID.")
    fs_group: int = Field(10001, ge=1, le=2**31 - 1, description="Group owning mounted volumes.")
    extra_writable_paths: list[AbsolutePath] = Field(
        default_factory=list, description="Writable emptyDirs besides /tmp on the read-only root filesystem."
    )


class WorkloadSpec(Strict):
    """One workload: size, scaling, checks, storage, and who may talk to it (its image aside)."""

    role: Literal["app", "worker", "web", "database", "cache"] = Field("app", description="Databases and caches must stay internal.")
    port: Optional[Port] = Field(None, description="Container port; a service without one gets no Service.")
    resources: Resources = Field(description="Requests and limits of the one container.")
    replicas: Optional[int] = Field(None, ge=1, le=1000, description="Fixed replicas; 1 if neither this nor autoscaling.")
    autoscaling: Optional[Autoscaling] = None
    probes: Probes = Field(default_factory=Probes, description="Startup, readiness and liveness checks.")
    storage: Optional[Storage] = Field(None, description="Persistent data (PVC); single replica only.")
    cache: Optional[Cache] = Field(None, description="Disposable data (emptyDir).")
    exposure: Literal["internal", "public"] = Field("internal", description="Public services admit the ingress controller.")
    host: Optional[str] = Field(None, pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", description="Ingress host (public).")
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
    security: SecurityOverrides = Field(default_factory=SecurityOverrides, description="Named escape hatches.")
    disruption_min_available: Optional[int] = Field(None, ge=1, description="PDB minAvailable; default maxUnavailable 1.")

    @model_validator(mode="after")
    def _consistent(self) -> "WorkloadSpec":
        problems = []
        if self.replicas is not None and self.autoscaling is not None:
            problems.append("set either replicas or autoscaling, not both (the HPA owns the replica count)")
        if self.role in ("database", "cache") and self.exposure == "public":
            problems.append(f"a {self.role} must stay internal; exposure public is not allowed for role {self.role}")
        if self.exposure == "internal" and (self.host or self.load_balancer):
            problems.append("host and load_balancer need exposure: public")
        if self.exposure == "public" and self.port is None:
            problems.append("a public service needs a port")
        if self.probes.type in ("http", "tcp") and (self.probes.port or self.port) is None:
            problems.append(f"{self.probes.type} probes need a port: set port or probes.port, or use probes.type exec")
        if self.storage is not None and self.max_replicas > 1:
            problems.append(
                "storage is a ReadWriteOnce volume: run it with 1 replica (no autoscaling), "
                "or keep state outside the service"
            )
        if self.storage and self.cache and self.storage.mount_path == self.cache.mount_path:
            problems.append(f"storage and cache share mount_path {self.storage.mount_path}")
        if self.disruption_min_available is not None and self.disruption_min_available >= self.min_replicas:
            problems.append(
                f"disruption_min_available {self.disruption_min_available} must be below the minimum "
                f"replicas {self.min_replicas}, or no node could ever be drained"
            )
        problems.extend(self._scratch_space_problems())
        overlap = set(self.env) & set(self.secret_env)
        if overlap:
            problems.append(f"env and secret_env both set {', '.join(sorted(overlap))}")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _scratch_space_problems(self) -> list[str]:
        """emptyDirs on disk count against the ephemeral-storage limit, in memory against the memory limit."""
        on_disk = [WRITABLE_PATH_SIZE] * len(self.writable_paths)
        in_memory = []
        if self.cache is not None:
            (in_memory if self.cache.medium == "memory" else on_disk).append(self.cache.size_limit)
        problems = []
        for kind, sizes, limit in (("ephemeral_storage", on_disk, self.resources.limits.ephemeral_storage),
                                   ("memory", in_memory, self.resources.limits.memory)):
            needed = sum((parse_quantity(size) for size in sizes), Decimal(0))
            if sizes and parse_quantity(limit) < needed + (0 if kind == "ephemeral_storage" else 1):
                problems.append(
                    f"resources.limits.{kind} {limit} cannot hold the pod's {'disk' if kind != 'memory' else 'memory'} "
                    f"emptyDirs ({' + '.join(sizes)}); raise it above {format_bytes(needed)} or the kubelet evicts the pod"
                )
        return problems

    @property
    def min_replicas(self) -> int:
        return self.autoscaling.min_replicas if self.autoscaling else (self.replicas or 1)

    @property
    def max_replicas(self) -> int:
        return self.autoscaling.max_replicas if self.autoscaling else (self.replicas or 1)

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


class Registry(Strict):
    """Where built images are pushed; the local registry on loopback by default."""

    server: str = Field("127.0.0.1:5000", min_length=1, description="Registry host[:port].")
    prefix: str = Field("leanstack", pattern=r"^[a-z0-9]+([._/-][a-z0-9]+)*$", description="Repository path before the service name.")


class Kubernetes(Strict):
    """Deploy to a cluster (kubeconfig/context) or, with neither, render manifests to a directory."""

    kubeconfig: Optional[str] = Field(None, description="Path or content of a kubeconfig to deploy with.")
    context: Optional[str] = Field(None, description="Kubeconfig context to deploy to.")
    render_dir: Optional[str] = Field(None, description="Default rendered/<stack> when no cluster is named.")

    @model_validator(mode="after")
    def _cluster_or_render(self) -> "Kubernetes":
        if self.render_dir and (self.kubeconfig or self.context):
            raise ValueError("render_dir cannot be combined with kubeconfig or context")
        return self

    @property
    def renders(self) -> bool:
        return not (self.kubeconfig or self.context)


class LimitRangeDefaults(Strict):
    """Defaults for containers that state nothing (e.g. injected sidecars)."""

    default_request: Requests = Requests(cpu="50m", memory="64Mi", ephemeral_storage="64Mi")
    default_limit: Limits = Limits(cpu="250m", memory="256Mi", ephemeral_storage="256Mi")


class CostSettings(Strict):
    """How previews price the stack: a shipped price sheet by name, or `custom` with custom_sheet."""

    price_sheet: str = Field(DEFAULT_SHEET, description="A shipped sheet name, or custom.")
    custom_sheet: Optional[PriceSheet] = Field(None, description="Your own unit prices (with price_sheet: custom).")
    image_pulls_per_month: int = Field(0, ge=0, description="Pulls of each built image, for transfer cost.")

    @model_validator(mode="after")
    def _known_sheet(self) -> "CostSettings":
        if self.price_sheet == "custom":
            if self.custom_sheet is None:
                raise ValueError("price_sheet custom needs custom_sheet with your unit prices")
        elif self.price_sheet not in SHEETS:
            raise ValueError(
                f"unknown price sheet {self.price_sheet!r}; use one of {', '.join(sorted(SHEETS))}, "
                "or custom with custom_sheet"
            )
        elif self.custom_sheet is not None:
            raise ValueError("custom_sheet is only used with price_sheet: custom")
        return self

    def sheet(self) -> PriceSheet:
        return self.custom_sheet if self.custom_sheet is not None else SHEETS[self.price_sheet]


class StackConfig(Strict):
    """One stack (environment): its namespace, where images go, where manifests go, and its services."""

    environment: Literal["dev", "staging", "prod"] = Field(description="Prod adds topology spread.")
    namespace: DnsLabel = Field(description="Namespace holding every object of the stack.")
    labels: dict[str, str] = Field(default_factory=dict, description="Added to every object.")
    registry: Registry = Field(default_factory=Registry)
    image_builder: Optional[str] = Field(
        None, min_length=1,
        description="buildx builder for image builds (docker-container, remote or kubernetes driver); "
                    "scripts/buildkit.sh registers `leanstack`. None: the provider starts its own.",
    )
    kubernetes: Kubernetes = Field(default_factory=Kubernetes)
    ingress_namespace: DnsLabel = Field("ingress-nginx", description="Namespace of the ingress controller.")
    ingress_class: str = Field("nginx", min_length=1, description="IngressClass of public services' Ingresses.")
    limit_range: LimitRangeDefaults = Field(default_factory=LimitRangeDefaults)
    cost: CostSettings = Field(default_factory=CostSettings, description="Price sheet for the `cost` output and previews.")
    services: dict[ServiceName, ServiceSpec] = Field(min_length=1, description="The workloads, by name (a DNS label, at most 40 long).")

    @model_validator(mode="after")
    def _references(self) -> "StackConfig":
        problems = []
        for name, service in self.services.items():
            for field in ("allow_from", "depends_on"):
                path = f"services.{name}.{field}"
                for ref in getattr(service, field):
                    if ref == name:
                        problems.append(Problem(path, "a service cannot name itself"))
                    elif ref not in self.services:
                        problems.append(Problem(path, f"unknown service {ref!r}; declared services: {', '.join(sorted(self.services))}"))
            for dependency in service.depends_on:
                target = self.services.get(dependency)
                path = f"services.{name}.depends_on"
                if target is not None and name not in target.allow_from:
                    problems.append(Problem(path, f"{dependency} does not admit {name}; add {name} to services.{dependency}.allow_from"))
                if target is not None and target.port is None:
                    problems.append(Problem(path, f"{dependency} has no port to connect to"))
            for caller in service.allow_from:
                if caller in self.services and service.port is None:
                    problems.append(Problem(f"services.{name}.allow_from", f"{name} has no port, so no one can call it"))
        if problems:
            raise Problems(problems)
        return self

    def secret_keys(self) -> set[str]:
        return {key for service in self.services.values() for key in service.secret_env.values()}
