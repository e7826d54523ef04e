"""Pricing a `nodes` sheet: the stack's pods packed onto a node pool, the nodes' cost shared out.

Every workload's pods are billed by requests (billing.bill_requests) and packed First-Fit-Decreasing
(nodes.pack_range) at the baseline (HPA minReplicas / replicas) and the ceiling (maxReplicas). The
money is the nodes' cost; it is split so the delta still shows which workload moved it:
- a workload pays, per pod, its requests share of a node: the mean of its cpu / allocatable cpu and
  memory / allocatable memory (an even cpu:memory split of the node price; the pool does not say
  which resource a node is bought for) x the node's price;
- `NodePool/<name>` carries the rest: capacity no request holds (packing gaps, pod-slot limits).
Every pod fits inside one node's allocatable, so the shares never exceed the nodes' cost.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Sequence

from leanstack.costing.models import Nodes
from leanstack.costing.money import HOURS_PER_MONTH, MoneyRange, money
from leanstack.costing.nodes import Packing, pack_range, replicas
from leanstack.costing.usage import Usage, pods_text


def pod_share(packing: Packing, cpu: Decimal, memory: Decimal) -> Decimal:
    """One pod's share of a node of this packing: the mean of its cpu and memory shares."""
    room = packing.allocatable
    return (cpu / room.cpu + memory / room.memory) / 2


def pool_costs(workloads: Sequence[Usage], model: Nodes) -> tuple[list[MoneyRange], Usage, MoneyRange]:
    """Per workload (same order) its monthly share, then the NodePool usage and its monthly cost."""
    pods = [(u.resource, u.pod.cpu, u.pod.memory, u.count) for u in workloads]
    node_types = model.node_types()
    baseline, ceiling = pack_range(
        [p for name, cpu, memory, (low, _) in pods for p in replicas(name, cpu, memory, low)],
        [p for name, cpu, memory, (_, high) in pods for p in replicas(name, cpu, memory, high)],
        node_types, model.provider, model.daemonset_load())
    hourly = {t.name: t.hourly for t in node_types}

    def monthly(packing: Packing, cpu: Decimal, memory: Decimal, count: int) -> Decimal:
        return count * pod_share(packing, cpu, memory) * hourly[packing.node_type] * HOURS_PER_MONTH

    shares = [MoneyRange(monthly(baseline, cpu, memory, low), monthly(ceiling, cpu, memory, high))
              for _, cpu, memory, (low, high) in pods]
    nodes = MoneyRange(baseline.hourly_cost * HOURS_PER_MONTH, ceiling.hourly_cost * HOURS_PER_MONTH)
    idle = nodes - MoneyRange.total(shares)
    usage = Usage(f"NodePool/{model.sheet.node_pool.name}", "cluster", "compute", {},
                  (baseline.node_count, ceiling.node_count),
                  f"{nodes_text(baseline, ceiling)} ({money(nodes.baseline)}-{money(nodes.ceiling)} USD/month in all)")
    return shares, usage, idle


def nodes_text(baseline: Packing, ceiling: Packing) -> str:
    """`2-3 x m6i.large nodes`, or both ends when the cheapest type differs between them."""
    if baseline.node_type == ceiling.node_type:
        return f"{pods_text((baseline.node_count, ceiling.node_count))} x {baseline.node_type} nodes"
    return f"{baseline.node_count} x {baseline.node_type} - {ceiling.node_count} x {ceiling.node_type} nodes"
