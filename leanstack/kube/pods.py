"""How Kubernetes counts a pod's resources: one amount per resource from all of its containers."""

from __future__ import annotations

from decimal import Decimal
from typing import Iterable, Mapping, Sequence


def effective_amounts(keys: Iterable[str], containers: Sequence[Mapping[str, Decimal]],
                      sidecars: Sequence[Mapping[str, Decimal]] = (), init_containers: Sequence[Mapping[str, Decimal]] = (),
                      sidecars_before: Sequence[int] = ()) -> dict[str, Decimal]:
    """Per key, a pod's effective request (or limit), the Kubernetes rule
    (https://kubernetes.io/docs/concepts/resource-management/effective-pod-requests-limits/, read
    2026-12-01): max(sum(containers) + sum(sidecars), max over init containers i of
    (init_i + sum of the sidecars listed before i)). Native sidecars are init containers with
    restartPolicy Always: they keep running, so they add to everything that starts after them.
    `sidecars_before[i]` is how many sidecars are listed before init container i; empty means all
    of them (the usual layout, and render.pod's). The namespace quota (render.sizing) and every bill
    (costing.billing) reduce a pod to its amounts with this one function."""
    if sidecars_before and len(sidecars_before) != len(init_containers):
        raise ValueError("sidecars_before needs one entry per init container")
    before = sidecars_before or (len(sidecars),) * len(init_containers)
    total = {}
    for key in keys:
        running = sum((amounts[key] for amounts in [*containers, *sidecars]), Decimal(0))
        starting = (init[key] + sum((side[key] for side in sidecars[:count]), Decimal(0))
                    for init, count in zip(init_containers, before))
        total[key] = max(running, *starting) if init_containers else running
    return total
