"""How big a stack may get: the numbers a namespace's ResourceQuota and LimitRange are sized from.

A service's maximum footprint is its per-pod amount times the most pods it can have at once:
max replicas plus the one extra pod a RollingUpdate surges (Recreate rollouts surge none).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from components.config import ServiceSpec, StackConfig
from components.quantities import format_bytes, format_cpu, parse_quantity

ROLLING_SURGE = 1
RESOURCE_KEYS = {"cpu": "cpu", "memory": "memory", "ephemeral_storage": "ephemeral-storage"}


def rolls_without_surge(service: ServiceSpec) -> bool:
    """A ReadWriteOnce volume can't be attached to a surged pod on another node: recreate instead."""
    return service.storage is not None


def peak_pods(service: ServiceSpec) -> int:
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


def stack_footprint(config: StackConfig) -> Footprint:
    requests = {key: Decimal(0) for key in RESOURCE_KEYS}
    limits = {key: Decimal(0) for key in RESOURCE_KEYS}
    for service in config.services.values():
        pods = peak_pods(service)
        for key in RESOURCE_KEYS:
            requests[key] += parse_quantity(getattr(service.resources.requests, key)) * pods
            limits[key] += parse_quantity(getattr(service.resources.limits, key)) * pods
    claims = [s.storage for s in config.services.values() if s.storage is not None]
    return Footprint(
        requests=requests,
        limits=limits,
        pods=sum(peak_pods(s) for s in config.services.values()),
        storage=sum((parse_quantity(c.size) for c in claims), Decimal(0)),
        persistent_volume_claims=len(claims),
        load_balancers=sum(1 for s in config.services.values() if s.load_balancer),
    )


def format_amount(key: str, amount: Decimal) -> str:
    return format_cpu(amount) if key == "cpu" else format_bytes(amount)


def largest_limits(config: StackConfig) -> dict[str, str]:
    """Per-container maxima for the LimitRange: the largest limit any declared service sets."""
    return {
        RESOURCE_KEYS[key]: format_amount(
            key, max(parse_quantity(getattr(s.resources.limits, key)) for s in config.services.values())
        )
        for key in RESOURCE_KEYS
    }
