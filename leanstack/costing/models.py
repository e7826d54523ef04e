"""Billing models: how the sheet's platform bills a pod, as one object chosen once from the sheet.

Each model carries what the stages ask of it: `bill` (usage: a pod's billed size), `largest` (the
platform checks: the biggest pod it runs), `advice` (the checks: what it would change about a pod)
and `packs_nodes` (price: the workloads are shares of packed nodes, costing.pool). The rules
themselves are pure functions in costing.billing and costing.nodes; this module only picks them.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Mapping, Optional

from leanstack.config.price_sheets import PriceSheet
from leanstack.costing.billing import (FARGATE_MAX_EPHEMERAL, FARGATE_SIZES, FARGATE_SYSTEM_MEMORY, GENERAL_PURPOSE,
                                       BilledPod, PodShape, bill_autopilot, bill_fargate, bill_requests)
from leanstack.costing.nodes import DaemonSetLoad, NodeType, allocatable
from leanstack.kube.quantities import GIB, format_bytes, format_cpu, parse_quantity


@dataclass(frozen=True)
class Largest:
    """The biggest pod a platform runs: how to name it, and per resource the most a pod may request."""

    description: str
    ceiling: Mapping[str, Decimal]


@dataclass(frozen=True)
class Advice:
    """What the platform would change about a pod: at `field` (requests or limits of its main
    container), and whether `cost.strict` makes it an error."""

    field: str
    message: str
    strict_error: bool = False


class BillingModel:
    """Requests, as OpenCost bills them: the pod's effective request, no platform limits."""

    name = "requests"
    packs_nodes = False

    def bill(self, pod: PodShape) -> BilledPod:
        return bill_requests(pod)

    def largest(self) -> Optional[Largest]:
        return None

    def advice(self, pod: PodShape) -> list[Advice]:
        return []


class Fargate(BillingModel):
    """EKS Fargate: the pod rounded up to a Fargate size (billing.bill_fargate)."""

    name = "fargate"

    def bill(self, pod: PodShape) -> BilledPod:
        return bill_fargate(pod)

    def largest(self) -> Largest:
        cpu, memory = FARGATE_SIZES[-1][0], FARGATE_SIZES[-1][1][-1]
        return Largest(f"the largest Fargate size {cpu:f} vCPU / {memory:f} GB",
                       {"cpu": cpu, "memory": memory * GIB - FARGATE_SYSTEM_MEMORY, "ephemeral-storage": FARGATE_MAX_EPHEMERAL})

    def advice(self, pod: PodShape) -> list[Advice]:
        """Fargate sizes the pod by requests, so limits above them buy nothing and usage below the
        limits can still be throttled or OOM-killed."""
        main = pod.containers[0]
        differ = [key for key in ("cpu", "memory") if main.requests.get(key) != main.limits.get(key)]
        if not differ:
            return []
        return [Advice("limits", f"{', '.join(differ)} limits differ from requests: Fargate sizes and bills the pod by "
                                 "requests, so capacity above them is not reserved; set limits equal to requests", True)]


class Autopilot(BillingModel):
    """GKE Autopilot: the pod's requests after Autopilot's defaults, minimums and ratio (billing.bill_autopilot)."""

    name = "autopilot"

    def bill(self, pod: PodShape) -> BilledPod:
        return bill_autopilot(pod)

    def largest(self) -> Largest:
        rules = GENERAL_PURPOSE
        return Largest("Autopilot's general-purpose maximum",
                       {k: v for k, v in (("cpu", rules.max_cpu), ("memory", rules.max_memory)) if v is not None})

    def advice(self, pod: PodShape) -> list[Advice]:
        billed = bill_autopilot(pod)
        return [Advice("requests", f"Autopilot bills {billed.size}: " + "; ".join(billed.adjustments))] if billed.adjustments else []


@dataclass(frozen=True)
class Nodes(BillingModel):
    """A node pool: pods billed by requests, packed First-Fit-Decreasing onto the sheet's node types;
    the nodes are what is paid for (costing.pool)."""

    sheet: PriceSheet
    name = "nodes"
    packs_nodes = True

    def node_types(self) -> list[NodeType]:
        pool, listed = self.sheet.node_pool, {t.name: t for t in self.sheet.instance_types}
        return [NodeType(n, listed[n].vcpu, listed[n].memory_gib, listed[n].max_pods, listed[n].hourly) for n in pool.types]

    def daemonset_load(self) -> DaemonSetLoad:
        load = self.sheet.node_pool.daemonset
        return DaemonSetLoad(parse_quantity(load.cpu), parse_quantity(load.memory), load.pods)

    @property
    def provider(self) -> str:
        return self.sheet.node_pool.provider

    def largest(self) -> Largest:
        rooms = [(t.name, allocatable(t, self.provider, self.daemonset_load())) for t in self.node_types()]
        name, room = max(rooms, key=lambda item: (item[1].memory, item[1].cpu))
        return Largest(f"the largest node allocatable ({name}: {format_cpu(room.cpu)} cpu, {format_bytes(room.memory)})",
                       {"cpu": max(r.cpu for _, r in rooms), "memory": max(r.memory for _, r in rooms)})


def billing_model(sheet: PriceSheet) -> BillingModel:
    """The sheet's billing model: the one place its `billing` name is read."""
    simple = {model.name: model for model in (BillingModel, Fargate, Autopilot)}
    return Nodes(sheet) if sheet.billing == Nodes.name else simple[sheet.billing]()
