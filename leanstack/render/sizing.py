"""How big a namespace's workloads may get: the numbers its ResourceQuota and LimitRange are sized from.

A service's maximum footprint is its per-pod amount times the most pods it can have at once:
max replicas plus the one extra pod a RollingUpdate surges (Recreate rollouts surge none).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Iterable, Sequence

from leanstack.config.schema import WorkloadSpec
from leanstack.kube.quantities import format_bytes, format_cpu, parse_quantity

ROLLING_SURGE = 1
RESOURCE_KEYS = {"cpu": "cpu", "memory": "memory", "ephemeral_storage": "ephemeral-storage"}


def rolls_without_surge(service: WorkloadSpec) -> bool:
    """A ReadWriteOnce volume can't be attached to a surged pod on another node: recreate instead."""
    return service.storage is not None


def peak_pods(service: WorkloadSpec) -> int:
    return service.max_replicas + (0 if rolls_without_surge(service) else ROLLING_SURGE)


@dataclass(frozen=True)
class Footprint:
    """Totals in base units: cores for cpu, bytes for everything else."""

    requests: dict[str, Decimal]
    limits: dict[str, Decimal]
    pods: int
    storage: Decimal
    persistent_volume_claims: int
    load_balancers: int


def footprint(workloads: Iterable[WorkloadSpec]) -> Footprint:
    """The most the workloads can hold at once: each at max replicas plus its rollout surge."""
    workloads = list(workloads)
    requests = {key: Decimal(0) for key in RESOURCE_KEYS}
    limits = {key: Decimal(0) for key in RESOURCE_KEYS}
    for service in workloads:
        pods = peak_pods(service)
        for key in RESOURCE_KEYS:
            requests[key] += parse_quantity(getattr(service.resources.requests, key)) * pods
            limits[key] += parse_quantity(getattr(service.resources.limits, key)) * pods
    claims = [s.storage for s in workloads if s.storage is not None]
    return Footprint(
        requests=requests,
        limits=limits,
        pods=sum(peak_pods(s) for s in workloads),
        storage=sum((parse_quantity(c.size) for c in claims), Decimal(0)),
        persistent_volume_claims=len(claims),
        load_balancers=sum(1 for s in workloads if s.load_balancer),
    )


def format_amount(key: str, amount: Decimal) -> str:
    return format_cpu(amount) if key == "cpu" else format_bytes(amount)


def largest_limits(workloads: Sequence[WorkloadSpec]) -> dict[str, str]:
    """Per-container maxima for the LimitRange: the largest limit any of the workloads sets."""
    return {
        RESOURCE_KEYS[key]: format_amount(key, max(parse_quantity(getattr(s.resources.limits, key)) for s in workloads))
        for key in RESOURCE_KEYS
    }
