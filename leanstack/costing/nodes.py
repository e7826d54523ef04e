"""Standard node pools: what a node type can hold (allocatable), and how many nodes pods need.

Allocatable = capacity - kube-reserved - hard eviction threshold - DaemonSet requests per node.
Capacity is the instance type's nominal vCPU and memory; a real kubelet reports a little less
memory (the kernel keeps some), so results are a lower bound on nodes, not an upper one.

Packing is First-Fit-Decreasing, the heuristic node autoscalers use to estimate new nodes: pods
sorted by their dominant share of a node (the larger of cpu/allocatable cpu and
memory/allocatable memory), largest first, each onto the first node with room, else a new node.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal
from typing import Iterable, Literal, Sequence, Union

from leanstack.costing.billing import BillingError
from leanstack.kube.quantities import GIB, MIB, format_bytes, format_cpu

Provider = Literal["gke", "eks"]
PodRequest = tuple[str, Decimal, Decimal]  # (name, cpu cores, memory bytes)
EVICTION_HARD_MEMORY = 100 * MIB

# Share of each slice of capacity kept for the system, as (slice size, share); the last slice is open.
# CPU slices in cores, GKE memory slices in GiB.
# GKE: https://cloud.google.com/kubernetes-engine/docs/concepts/plan-node-sizes#memory_and_cpu_reservations
# (read 2026-12-01; the stored copy's table was not readable, the tiers were checked against code that
# quotes it, e.g. github.com/hatemosphere/gke-node-allocatable-memory-calculator, and against the page's
# own example output: a 4-core node shows allocatable cpu 3920m).
# EKS (AL2 AMI): https://github.com/awslabs/amazon-eks-ami/blob/main/templates/al2/runtime/bootstrap.sh
# (read 2026-12-01): same CPU tiers ("We are using these CPU ranges from GKE"), kube-reserved memory
# 11 MiB x max pods + 255 MiB, evictionHard memory.available 100Mi.
CPU_TIERS = ((Decimal(1), Decimal("0.06")), (Decimal(1), Decimal("0.01")), (Decimal(2), Decimal("0.005")),
             (None, Decimal("0.0025")))
GKE_MEMORY_TIERS = ((Decimal(4), Decimal("0.25")), (Decimal(4), Decimal("0.20")), (Decimal(8), Decimal("0.10")),
                    (Decimal(112), Decimal("0.06")), (None, Decimal("0.02")))
GKE_SMALL_MACHINE_MEMORY = 255 * MIB  # reserved instead of the tiers below 1 GiB


@dataclass(frozen=True)
class NodeType:
    name: str
    vcpu: Decimal
    memory_gib: Decimal
    max_pods: int
    hourly: Decimal


@dataclass(frozen=True)
class DaemonSetLoad:
    """What the DaemonSets request on every node."""

    cpu: Decimal = Decimal(0)
    memory: Decimal = Decimal(0)
    pods: int = 0


@dataclass(frozen=True)
class Allocatable:
    cpu: Decimal
    memory: Decimal
    pods: int


@dataclass(frozen=True)
class Packing:
    node_type: str
    nodes: tuple[tuple[str, ...], ...]
    allocatable: Allocatable
    hourly_cost: Decimal
    used_share: dict[str, Decimal] = field(default_factory=dict)  # requested / allocatable, all nodes

    @property
    def node_count(self) -> int:
        return len(self.nodes)


def _tiered(total: Decimal, tiers: tuple, floor_each: bool = False) -> Decimal:
    reserved, start = Decimal(0), Decimal(0)
    for size, share in tiers:
        end = total if size is None else min(total, start + size)
        if end <= start:
            break
        part = (end - start) * share
        # bootstrap.sh works in whole millicores and truncates each slice
        reserved += part.quantize(Decimal("0.001"), rounding=ROUND_FLOOR) if floor_each else part
        start = end
    return reserved


def kube_reserved(node: NodeType, provider: Provider) -> Allocatable:
    """cpu (cores) and memory (bytes) the provider reserves for the system, eviction threshold included."""
    if provider == "gke":
        cpu = _tiered(node.vcpu, CPU_TIERS)
        memory = (GKE_SMALL_MACHINE_MEMORY if node.memory_gib < 1
                  else _tiered(node.memory_gib, GKE_MEMORY_TIERS) * GIB)
    elif provider == "eks":
        cpu = _tiered(node.vcpu, CPU_TIERS, floor_each=True)
        memory = (11 * node.max_pods + 255) * MIB
    else:
        raise ValueError(f"unknown provider {provider!r}: use 'gke' or 'eks'")
    return Allocatable(cpu, memory + EVICTION_HARD_MEMORY, 0)


def allocatable(node: NodeType, provider: Provider, daemonset: DaemonSetLoad = DaemonSetLoad()) -> Allocatable:
    """What pods can request on one node of this type, after the system and the DaemonSets."""
    reserved = kube_reserved(node, provider)
    free = Allocatable(node.vcpu - reserved.cpu - daemonset.cpu,
                       node.memory_gib * GIB - reserved.memory - daemonset.memory, node.max_pods - daemonset.pods)
    if free.cpu <= 0 or free.memory <= 0 or free.pods <= 0:
        raise BillingError(f"node type {node.name} has no room left after the system and DaemonSets "
                           f"({format_cpu(max(free.cpu, Decimal(0)))} cpu, {format_bytes(max(free.memory, Decimal(0)))} memory, "
                           f"{max(free.pods, 0)} pods)")
    return free


def replicas(name: str, cpu: Decimal, memory: Decimal, count: int) -> list[PodRequest]:
    """`count` identical pods named name-0, name-1, ..."""
    return [(f"{name}-{i}", cpu, memory) for i in range(count)]


def pack(pods: Iterable[PodRequest], node_types: Union[NodeType, Sequence[NodeType]], provider: Provider,
         daemonset: DaemonSetLoad = DaemonSetLoad()) -> Packing:
    """Nodes needed for `pods` in a pool of one node type.

    With several candidate types the pool uses one of them: every type that holds each pod is packed,
    and the cheapest total per hour wins (then fewer nodes, then the name), which is what a person
    choosing the pool's machine type would compare. A pod no type can hold is a BillingError naming it.
    """
    pods = list(pods)
    candidates = [node_types] if isinstance(node_types, NodeType) else list(node_types)
    if not candidates:
        raise ValueError("pack needs at least one node type")
    packings, misfits = [], {}
    for node in candidates:
        room = allocatable(node, provider, daemonset)
        too_big = [name for name, cpu, memory in pods if cpu > room.cpu or memory > room.memory]
        if too_big:
            misfits[node.name] = too_big
        else:
            packings.append(_first_fit_decreasing(pods, node, room))
    if not packings:
        nowhere = sorted(set.intersection(*(set(names) for names in misfits.values())))
        if nowhere:
            sizes = ", ".join(f"{n} ({format_cpu(c)} cpu, {format_bytes(m)})" for n, c, m in pods if n in nowhere)
            raise BillingError(f"pod fits no node type ({', '.join(misfits)}): {sizes}")
        raise BillingError("no single node type holds every pod: "
                           + "; ".join(f"{t} cannot hold {', '.join(names)}" for t, names in misfits.items()))
    return min(packings, key=lambda p: (p.hourly_cost, p.node_count, p.node_type))


def pack_range(baseline: Iterable[PodRequest], ceiling: Iterable[PodRequest],
               node_types: Union[NodeType, Sequence[NodeType]], provider: Provider,
               daemonset: DaemonSetLoad = DaemonSetLoad()) -> tuple[Packing, Packing]:
    """(baseline, ceiling) packings, e.g. HPA minReplicas and maxReplicas pods."""
    return pack(baseline, node_types, provider, daemonset), pack(ceiling, node_types, provider, daemonset)


def _first_fit_decreasing(pods: list[PodRequest], node: NodeType, room: Allocatable) -> Packing:
    def dominant_share(pod: PodRequest) -> Decimal:
        return max(pod[1] / room.cpu, pod[2] / room.memory)

    nodes: list[list] = []  # [free cpu, free memory, free pod slots, names]
    for name, cpu, memory in sorted(pods, key=lambda p: (-dominant_share(p), p[0])):
        target = next((n for n in nodes if cpu <= n[0] and memory <= n[1] and n[2] >= 1), None)
        if target is None:
            target = [room.cpu, room.memory, room.pods, []]
            nodes.append(target)
        target[0] -= cpu
        target[1] -= memory
        target[2] -= 1
        target[3].append(name)
    count = len(nodes)
    used = {"cpu": sum((p[1] for p in pods), Decimal(0)), "memory": sum((p[2] for p in pods), Decimal(0))}
    share = {key: (used[key] / (count * total) if count else Decimal(0))
             for key, total in (("cpu", room.cpu), ("memory", room.memory))}
    return Packing(node.name, tuple(tuple(n[3]) for n in nodes), room, node.hourly * count, share)
