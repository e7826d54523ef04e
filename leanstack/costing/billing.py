"""What a platform bills for one pod: requests (OpenCost-like), EKS Fargate sizes, GKE Autopilot rules.

Each model is a pure function PodShape -> BilledPod. Amounts are exact Decimals: cpu in cores,
memory and ephemeral storage in bytes. Node pools (allocatable, bin packing) live in nodes.py.

All pods are reduced to one amount per resource with the Kubernetes *effective request*, the rule
the namespace quota is sized by too (kube.pods.effective_amounts). A container with a limit but
no request gets request = limit (Kubernetes API defaulting).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal
from typing import Any, Callable, Mapping, Optional

from leanstack.kube.pods import effective_amounts
from leanstack.kube.quantities import GIB, MIB, RESOURCE_KEYS, format_bytes, format_cpu, parse_quantity

RESOURCES = tuple(RESOURCE_KEYS.values())
Amounts = dict[str, Decimal]


class BillingError(ValueError):
    """A pod the platform would reject or cannot size; the message names the pod and the limit."""


@dataclass(frozen=True)
class ContainerResources:
    name: str
    requests: Mapping[str, Decimal] = field(default_factory=dict)
    limits: Mapping[str, Decimal] = field(default_factory=dict)

    def request(self, key: str) -> Optional[Decimal]:
        """The request Kubernetes schedules with: the request, else the limit, else None."""
        value = self.requests.get(key)
        return value if value is not None else self.limits.get(key)


@dataclass(frozen=True)
class PodShape:
    """A pod's containers. `sidecars_before[i]` is how many of `sidecars` are listed before
    init container i; empty means all of them (the usual layout: sidecars first)."""

    containers: tuple[ContainerResources, ...]
    init_containers: tuple[ContainerResources, ...] = ()
    sidecars: tuple[ContainerResources, ...] = ()
    sidecars_before: tuple[int, ...] = ()
    name: str = "pod"


@dataclass(frozen=True)
class BilledPod:
    cpu: Decimal
    memory: Decimal
    ephemeral_storage: Decimal
    size: str
    adjustments: tuple[str, ...] = ()


def pod_shape(pod_spec: Mapping[str, Any], name: str = "pod") -> PodShape:
    """Read a Kubernetes pod spec dict (containers, initContainers) into a PodShape."""
    containers = tuple(_container(c) for c in pod_spec.get("containers") or [])
    inits, sidecars, before = [], [], []
    for raw in pod_spec.get("initContainers") or []:
        if raw.get("restartPolicy") == "Always":
            sidecars.append(_container(raw))
        else:
            inits.append(_container(raw))
            before.append(len(sidecars))
    return PodShape(containers, tuple(inits), tuple(sidecars), tuple(before), name)


def _container(raw: Mapping[str, Any]) -> ContainerResources:
    resources = raw.get("resources") or {}

    def amounts(section: str) -> dict[str, Decimal]:
        values = resources.get(section) or {}
        return {k: parse_quantity(values[k]) for k in RESOURCES if values.get(k) is not None}

    return ContainerResources(str(raw.get("name", "?")), amounts("requests"), amounts("limits"))


def effective_requests(pod: PodShape, request: Optional[Callable[[ContainerResources], Amounts]] = None) -> Amounts:
    """Per resource, the pod's effective request (kube.pods.effective_amounts); `request` maps a
    container to its amounts (default: request, else limit, else 0)."""
    request = request or _plain_request
    return effective_amounts(RESOURCES, [request(c) for c in pod.containers], [request(c) for c in pod.sidecars],
                             [request(c) for c in pod.init_containers], pod.sidecars_before)


def _plain_request(container: ContainerResources) -> Amounts:
    return {key: container.request(key) or Decimal(0) for key in RESOURCES}


# --- requests (today's OpenCost-like model) -------------------------------------------------------

def bill_requests(pod: PodShape) -> BilledPod:
    """Bill the effective request: container requests (a missing request defaults to its limit).

    For pods without native sidecars this equals model.pod_hourly with bill_limits=False (sum of
    containers, init containers by the max rule); with sidecars it follows the Kubernetes rule,
    where pod_hourly treats sidecars as ordinary init containers and so under-counts them.
    """
    amounts = effective_requests(pod)
    size = f"{format_cpu(amounts['cpu'])}/{format_bytes(amounts['memory'])}"
    return BilledPod(amounts["cpu"], amounts["memory"], amounts["ephemeral-storage"], size)


# --- EKS Fargate -----------------------------------------------------------------------------------

def _steps(start: str, stop: str, step: str) -> tuple[Decimal, ...]:
    first, last, by = Decimal(start), Decimal(stop), Decimal(step)
    return tuple(first + by * n for n in range(int((last - first) / by) + 1))


# vCPU -> memory sizes in GB. AWS's "GB" is GiB: the ECS page says 1 GB = 1024 MiB
# (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-cpu-memory-error.html, read 2026-12-01).
FARGATE_SIZES: tuple[tuple[Decimal, tuple[Decimal, ...]], ...] = (
    (Decimal("0.25"), (Decimal("0.5"), Decimal(1), Decimal(2))),
    (Decimal("0.5"), _steps("1", "4", "1")),
    (Decimal(1), _steps("2", "8", "1")),
    (Decimal(2), _steps("4", "16", "1")),
    (Decimal(4), _steps("8", "30", "1")),
    (Decimal(8), _steps("16", "60", "4")),
    (Decimal(16), _steps("32", "120", "8")),
)
FARGATE_SYSTEM_MEMORY = 256 * MIB
FARGATE_INCLUDED_EPHEMERAL = 20 * GIB
FARGATE_MAX_EPHEMERAL = 175 * GIB


def bill_fargate(pod: PodShape) -> BilledPod:
    """EKS Fargate: one pod per micro-VM, billed by the size it is rounded up to.

    https://docs.aws.amazon.com/eks/latest/userguide/fargate-pod-configuration.html (read 2026-12-01,
    stored copy of awsdocs/amazon-eks-user-guide latest/ug/nodes/fargate-pod-configuration.adoc):
    max(largest init container, sum of long-running containers) per resource; "Fargate adds 256 MB to
    each Pod's memory reservation" (kubelet, kube-proxy, containerd); rounds up to the table of vCPU
    and memory combinations (0.25 vCPU: 0.5/1/2 GB ... 16 vCPU: 32-120 GB in 8 GB steps); no requests
    -> 0.25 vCPU / 0.5 GB; example: 1 vCPU + 8 GB -> 2 vCPU / 9 GB. Storage: 20 GiB ephemeral by
    default, up to 175 GiB. Chosen size: the smallest vCPU that holds the memory, then the smallest
    memory step; higher vCPU rows never offer less memory, so this is also the cheapest.
    Not stated by AWS, assumed: 256 MB means 256 MiB; a limit without a request counts as the request
    (Kubernetes defaulting); ephemeral-storage billed is what is requested beyond the included 20 GiB
    (AWS provisions extra for system use, e.g. 100 GiB -> 115 GiB; whether that is billed is not said).
    """
    need = effective_requests(pod)
    memory = need["memory"] + FARGATE_SYSTEM_MEMORY
    largest_cpu, largest_memory = FARGATE_SIZES[-1][0], FARGATE_SIZES[-1][1][-1]
    largest = f"the largest Fargate size {_num(largest_cpu)} vCPU / {_num(largest_memory)} GB"
    if need["cpu"] > largest_cpu:
        raise BillingError(f"{pod.name} needs {_num(need['cpu'])} vCPU, larger than {largest}")
    if memory > largest_memory * GIB:
        raise BillingError(f"{pod.name} needs {_num(memory / GIB)} GB memory (with 256 MB for Kubernetes "
                           f"components), larger than {largest}")
    if need["ephemeral-storage"] > FARGATE_MAX_EPHEMERAL:
        raise BillingError(f"{pod.name} needs {format_bytes(need['ephemeral-storage'])} ephemeral storage, "
                           f"more than Fargate's 175Gi")
    cpu, memory_gb = next((v, m) for v, sizes in FARGATE_SIZES if v >= need["cpu"]
                          for m in sizes if m * GIB >= memory)
    adjustments = [f"memory +256Mi for kubelet, kube-proxy and containerd -> {format_bytes(memory)}"]
    if cpu != need["cpu"]:
        adjustments.append(f"cpu rounded up {format_cpu(need['cpu'])} -> {format_cpu(cpu)} (Fargate size)")
    if memory_gb * GIB != memory:
        adjustments.append(f"memory rounded up {format_bytes(memory)} -> {_num(memory_gb)} GB (Fargate size)")
    ephemeral = max(need["ephemeral-storage"] - FARGATE_INCLUDED_EPHEMERAL, Decimal(0))
    return BilledPod(cpu, (memory_gb * GIB).to_integral_value(), ephemeral, f"{_num(cpu)} vCPU/{_num(memory_gb)} GB", tuple(adjustments))


def _num(value: Decimal) -> str:
    """2 decimals at most, rounded up so a shown need is never below the real one: "0.25", "20"."""
    return f"{value.quantize(Decimal('0.01'), rounding=ROUND_CEILING).normalize():f}"


# --- GKE Autopilot -------------------------------------------------------------------------------

@dataclass(frozen=True)
class AutopilotRules:
    """One compute class's request rules. A maximum of None is unchecked: general-purpose's 30 vCPU
    is from https://finops-stack.jetstack.io/distribution-gke-autopilot (read 2026-12-01, a summary of
    Google's table: min 50m cpu with bursting, max 30); its memory maximum was found nowhere."""

    default_cpu: Decimal = Decimal("0.5")
    default_memory: Decimal = 2 * GIB
    default_ephemeral: Decimal = GIB
    min_cpu: Decimal = Decimal("0.05")
    min_memory: Decimal = 52 * MIB
    min_gib_per_cpu: Decimal = Decimal(1)
    max_gib_per_cpu: Decimal = Decimal("6.5")
    max_cpu: Optional[Decimal] = Decimal(30)
    max_memory: Optional[Decimal] = None


GENERAL_PURPOSE = AutopilotRules()


def bill_autopilot(pod: PodShape, rules: AutopilotRules = GENERAL_PURPOSE) -> BilledPod:
    """GKE Autopilot (general-purpose class, Pod bursting): billed = the Pod's requests after
    Autopilot's defaults, minimums and ratio; limits above requests cost nothing.

    https://cloud.google.com/kubernetes-engine/docs/concepts/autopilot-resource-requests (read
    2026-12-01; stored copies show only the page's first sections): verified there: defaults of
    0.5 vCPU / 2 GiB for general-purpose, 1 GiB ephemeral storage for non-DaemonSet containers;
    requests below the minimum are raised, above the maximum rejected; if only one of cpu/memory is
    set, the other is set to comply with the class's CPU:memory ratio.
    Google's minimum/maximum table was not in the stored copies; a third-party summary of it
    (AutopilotRules) confirms 50m minimum cpu with bursting and 30 vCPU maximum. NOT verified: 52 MiB
    minimum memory, ratio 1:1 to 1:6.5 vCPU:GiB, the 200m + 2 GiB -> 308m example (from the issue). Assumed: minimums and ratio apply to the
    Pod's effective request; a derived request is the smallest that complies; raised cpu rounds up to
    1m, raised memory to 1 MiB; no other rounding (none was found documented for bursting clusters).
    """
    adjustments: list[str] = []

    def defaulted(container: ContainerResources) -> Amounts:
        cpu, memory = container.request("cpu"), container.request("memory")
        if cpu is None and memory is None:
            cpu, memory = rules.default_cpu, rules.default_memory
            adjustments.append(f"{container.name}: no cpu/memory request, default {format_cpu(cpu)}/{format_bytes(memory)}")
        elif memory is None:
            memory = _ceil(cpu * rules.min_gib_per_cpu * GIB, MIB)
            adjustments.append(f"{container.name}: memory request set from cpu by the ratio: {format_bytes(memory)}")
        elif cpu is None:
            cpu = _ceil(memory / GIB / rules.max_gib_per_cpu, Decimal("0.001"))
            adjustments.append(f"{container.name}: cpu request set from memory by the ratio: {format_cpu(cpu)}")
        ephemeral = container.request("ephemeral-storage")
        return {"cpu": cpu, "memory": memory, "ephemeral-storage": rules.default_ephemeral if ephemeral is None else ephemeral}

    need = effective_requests(pod, defaulted)
    cpu, memory = need["cpu"], need["memory"]
    if cpu < rules.min_cpu:
        adjustments.append(f"cpu raised {format_cpu(cpu)} -> {format_cpu(rules.min_cpu)} (minimum)")
        cpu = rules.min_cpu
    if memory < rules.min_memory:
        adjustments.append(f"memory raised {format_bytes(memory)} -> {format_bytes(rules.min_memory)} (minimum)")
        memory = rules.min_memory
    if memory > cpu * rules.max_gib_per_cpu * GIB:
        raised = _ceil(memory / GIB / rules.max_gib_per_cpu, Decimal("0.001"))
        adjustments.append(f"cpu raised {format_cpu(cpu)} -> {format_cpu(raised)} to keep the 1:{_num(rules.max_gib_per_cpu)} ratio")
        cpu = raised
    elif memory < cpu * rules.min_gib_per_cpu * GIB:
        raised = _ceil(cpu * rules.min_gib_per_cpu * GIB, MIB)
        adjustments.append(f"memory raised {format_bytes(memory)} -> {format_bytes(raised)} to keep the 1:{_num(rules.min_gib_per_cpu)} ratio")
        memory = raised
    for label, value, ceiling, show in (("cpu", cpu, rules.max_cpu, format_cpu), ("memory", memory, rules.max_memory, format_bytes)):
        if ceiling is not None and value > ceiling:
            raise BillingError(f"{pod.name} requests {show(value)} {label}, above Autopilot's maximum {show(ceiling)}")
    return BilledPod(cpu, memory, need["ephemeral-storage"], f"{format_cpu(cpu)}/{format_bytes(memory)}", tuple(adjustments))


def _ceil(value: Decimal, unit: Decimal) -> Decimal:
    return Decimal(math.ceil(value / unit)) * unit
