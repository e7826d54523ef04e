"""The building blocks of the stack config: value types (quantities, paths, names) and the small
models a workload is made of (image, resources, autoscaling, probes, storage, cache, security).

`leanstack.config.workload` assembles them into WorkloadSpec and ServiceSpec,
`leanstack.config.schema` into StackConfig; the schema re-exports them all, so callers import from it alone.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Literal, Optional

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from leanstack.kube import names
from leanstack.config.errors import Problem, Problems
from leanstack.config.image_rules import ImageRules
from leanstack.kube.quantities import RESOURCE_KEYS, QuantityError, parse_quantity

DNS_LABEL = names.DNS_1035_LABEL
HOSTNAME = names.DNS_1123_SUBDOMAIN
ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
CONFIG_KEY = r"^[A-Za-z][A-Za-z0-9_-]*$"
SHA256_DIGEST = r"sha256:[0-9a-f]{64}"
DIGEST = re.compile(rf"^{SHA256_DIGEST}$")
DIGEST_REF = re.compile(rf"^(?P<repo>[a-z0-9][a-z0-9._/:-]*?)(:(?P<tag>[\w][\w.-]{{0,127}}))?@{SHA256_DIGEST}$")


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


class ReplicaRange:
    """The replica range of a workload with `replicas` (fixed) and `autoscaling` (an HPA's range),
    1 with neither: for the stack file's WorkloadSpec and the bound resolve.Workload alike."""

    @property
    def min_replicas(self) -> int:
        return self.autoscaling.min_replicas if self.autoscaling else (self.replicas or 1)

    @property
    def max_replicas(self) -> int:
        return self.autoscaling.max_replicas if self.autoscaling else (self.replicas or 1)


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
    build_on_preview: bool = Field(False, description="Build during previews too (needs BuildKit there), into an OCI "
                                   "layout under .leanstack-cache/builds: `leanstack cost` then shows a changed "
                                   "image's new size and efficiency.")
    secret_files: dict[Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+$")], str] = Field(
        default_factory=dict,
        description="BuildKit secret id -> host file (RUN --mount=type=secret); never stored in a layer.",
    )
    # dive's CI rules beside the size budget (leanstack/config/image_rules.py; checked by leanstack.images).
    rules: ImageRules = Field(default_factory=ImageRules, description="dive's rules for the built image.")


class ImageSpec(Strict):
    """Exactly one of `build` (our Dockerfile), `ref` (a prebuilt image pinned by digest) or `from`
    (the image another service builds: built once, every user runs the same digest)."""

    build: Optional[ImageBuild] = None
    ref: Optional[str] = Field(None, description="Prebuilt image, pinned: repo[:tag]@sha256:<64 hex>.")
    from_: Optional[ServiceName] = Field(None, alias="from", description="Run the image this service builds.")

    @model_validator(mode="after")
    def _one_source(self) -> "ImageSpec":
        if sum(source is not None for source in (self.build, self.ref, self.from_)) != 1:
            raise ValueError("set exactly one of build (a Dockerfile to build), ref (an image pinned by digest) "
                             "or from (a service whose built image to run)")
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
        for field in RESOURCE_KEYS:
            request, limit = getattr(self.requests, field), getattr(self.limits, field)
            if parse_quantity(limit) < parse_quantity(request):
                problems.append(Problem(f"limits.{field}", f"{limit} is below requests.{field} {request} (limits must be >= requests)"))
        if problems:
            raise Problems(problems)
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


ProbeKind = Literal["startup", "readiness", "liveness"]


class Probes(Strict):
    """Startup, readiness and liveness checks, timed by one profile (see render.pod.PROBE_PROFILES).

    Readiness ("can it take traffic now?") and liveness ("is it stuck for good?") should ask
    different questions: a pod that fails readiness leaves rotation, one that fails liveness is
    restarted. readiness_command/liveness_command run an exec check for that one probe (e.g.
    pg_isready) whatever the type; `leanstack.config.lint` warns when the two checks are the same."""

    type: Literal["http", "tcp", "exec"] = Field("http", description="How the checks are made.")
    startup_path: HttpPath = Field("/health", description="For type http.")
    readiness_path: HttpPath = Field("/ready", description="For type http.")
    liveness_path: HttpPath = Field("/health", description="For type http.")
    command: Optional[list[str]] = Field(None, min_length=1, description="For type exec.")
    readiness_command: Optional[list[str]] = Field(None, min_length=1, description="An exec readiness check, any type.")
    liveness_command: Optional[list[str]] = Field(None, min_length=1, description="An exec liveness check, any type.")
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
