"""The small bound values a workload is made of: amounts, scaling, storage, who it runs as, its
peers, files and secrets."""

from dataclasses import dataclass
from typing import Any, NotRequired, Optional, Sequence

from leanstack.config import schema
from leanstack.config.fields import TMP


def default_of(model: type, name: str) -> Any:
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
    cpu_utilization: Optional[int] = default_of(schema.Autoscaling, "cpu_utilization")
    """Target average CPU % of requests. Default 70."""
    memory_utilization: Optional[int] = None
    """Target average memory % of requests. Default None."""
    pods_metric: Optional[PodsMetric] = None
    """A custom per-pod metric target. Default None."""
    scale_down_stabilization_seconds: NotRequired[int] = default_of(schema.Autoscaling, "scale_down_stabilization_seconds")
    """How long load must stay low before scaling down. Default 300."""


@dataclass(frozen=True)
class Storage:
    """A ReadWriteOnce PersistentVolumeClaim (one per replica of a StatefulSet)."""

    size: str
    """Requested capacity, e.g. 2Gi. Required."""
    mount_path: str
    """Where it is mounted. Required."""
    storage_class: NotRequired[str] = default_of(schema.Storage, "storage_class")
    """StorageClass, priced per class. Default standard."""


@dataclass(frozen=True)
class Cache:
    """An emptyDir for data that may be lost with the pod."""

    mount_path: str
    """Where it is mounted. Required."""
    size_limit: str
    """Its size limit, counted against the disk or memory limit. Required."""
    medium: NotRequired[str] = default_of(schema.Cache, "medium")
    """disk, or memory (tmpfs). Default disk."""


@dataclass(frozen=True)
class Security:
    """Who the pod runs as and where it may write; the rest of the hardening is not negotiable."""

    run_as_user: NotRequired[int] = default_of(schema.SecurityOverrides, "run_as_user")
    """Non-root UID. Default 10001."""
    run_as_group: NotRequired[int] = default_of(schema.SecurityOverrides, "run_as_group")
    """Non-root GID. Default 10001."""
    fs_group: NotRequired[int] = default_of(schema.SecurityOverrides, "fs_group")
    """Group owning mounted volumes. Default 10001."""
    writable_paths: NotRequired[Sequence[str]] = (TMP,)
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


def amounts(section: schema.ResourceAmounts) -> Amounts:
    return Amounts(section.cpu, section.memory, section.ephemeral_storage)


def resources(spec: schema.Resources) -> Resources:
    return Resources(amounts(spec.requests), amounts(spec.limits))
