"""How big a namespace's workloads may get: the numbers its ResourceQuota and LimitRange are sized from.

A service's maximum footprint is its per-pod amount times the most pods it can have at once:
max replicas plus the one extra pod a RollingUpdate surges (Recreate rollouts surge none), plus one
pod for its migration Job (which runs while the old version still serves) and for each schedule
(concurrent_runs). A pod's amount is its effective request or limit: sidecars and init containers
count (kube.pods.effective_amounts, the rule costing.billing bills by too).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Iterable, Sequence

from leanstack.config.resolve import Resources, Workload
from leanstack.kube.pods import effective_amounts
from leanstack.kube.quantities import RESOURCE_KEYS, format_amount, parse_quantity

ROLLING_SURGE = 1


def rolls_without_surge(service: Workload) -> bool:
    """A ReadWriteOnce volume can't be attached to a surged pod on another node: recreate instead.
    A StatefulSet never surges: it replaces its pods one by one."""
    return service.storage is not None or service.stateful


def claims(service: Workload) -> int:
    """Volumes of the service's storage: one, or one per replica of a StatefulSet (kept when scaled down)."""
    if service.storage is None:
        return 0
    return service.max_replicas if service.stateful else 1


def peak_pods(service: Workload) -> int:
    return service.max_replicas + (0 if rolls_without_surge(service) else ROLLING_SURGE)


def pod_groups(service: Workload) -> list[tuple[int, Resources]]:
    """(at most how many at once, resources of one) for each kind of pod the service runs: its
    serving pods, then one group per task (Migration/Schedule.concurrent_runs)."""
    return [(peak_pods(service), service.resources), *((task.concurrent_runs, task.resources) for task in service.tasks)]


@dataclass(frozen=True)
class Footprint:
    """Totals in base units: cores for cpu, bytes for everything else."""

    requests: dict[str, Decimal]
    limits: dict[str, Decimal]
    pods: int
    storage: Decimal
    persistent_volume_claims: int
    load_balancers: int


def footprint(workloads: Iterable[Workload]) -> Footprint:
    """The most the workloads can hold at once: each at max replicas plus its rollout surge."""
    workloads = list(workloads)
    requests = {key: Decimal(0) for key in RESOURCE_KEYS}
    limits = {key: Decimal(0) for key in RESOURCE_KEYS}
    for service in workloads:
        for pods, resources in pod_groups(service):
            for totals, kind in ((requests, "requests"), (limits, "limits")):
                for key, amount in effective(service, resources, kind).items():
                    totals[key] += amount * pods
    volumes = [(s.storage, claims(s)) for s in workloads if s.storage is not None]
    return Footprint(
        requests=requests,
        limits=limits,
        pods=sum(pods for s in workloads for pods, _ in pod_groups(s)),
        storage=sum((parse_quantity(storage.size) * count for storage, count in volumes), Decimal(0)),
        persistent_volume_claims=sum(count for _, count in volumes),
        load_balancers=sum(1 for s in workloads if s.load_balancer),
    )


def effective(service: Workload, main: Resources, kind: str) -> dict[str, Decimal]:
    """A service's pod's effective requests (or limits), as the scheduler and the quota count them
    (kube.pods.effective_amounts; render.pod lists the sidecars before the init containers)."""
    return effective_amounts(RESOURCE_KEYS, [_amounts(main, kind)],
                             [_amounts(extra.resources, kind) for extra in service.sidecars],
                             [_amounts(extra.resources, kind) for extra in service.init_containers])


def _amounts(resources: Resources, kind: str) -> dict[str, Decimal]:
    return {key: parse_quantity(getattr(getattr(resources, kind), key)) for key in RESOURCE_KEYS}


def largest_limits(workloads: Sequence[Workload]) -> dict[str, str]:
    """Per-container maxima for the LimitRange: the largest limit any container of the workloads sets."""
    every = [resources for s in workloads for _, resources in pod_groups(s)]
    every += [extra.resources for s in workloads for extra in s.extra_containers]
    return {
        RESOURCE_KEYS[key]: format_amount(key, max(parse_quantity(getattr(r.limits, key)) for r in every))
        for key in RESOURCE_KEYS
    }
