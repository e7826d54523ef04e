"""Turn observed usage into requests, limits and HPA replica bounds. Pure: no I/O, no clock.

Two strategies compute the raw targets; the rules after them are shared.

krr (Robusta KRR's `simple` strategy, robusta_krr/strategies/simple.py):
  CPU request  = 95th percentile of each pod's CPU usage, highest pod (cpu_percentile=95; KRR asks
                 Prometheus for quantile_over_time per pod and takes the max over pods).
  memory       = highest working set of any pod + 15% (memory_buffer_percentage=15).
  enough data  = >= 100 points (points_required=100) and >= 3 h between first and last sample
                 (history_range_enough). KRR leaves the CPU limit unset and declines HPA services;
                 we apply the shared limit and HPA rules below instead.

vpa (the VPA recommender, kubernetes/autoscaler vertical-pod-autoscaler/pkg/recommender):
  CPU request  = 90th percentile of all pods' CPU samples (targetCPUPercentile=0.9, logic/
                 recommender.go) + 15% (recommendation-margin-fraction=0.15), each sample weighted
                 2^((t - end) / 24 h) (DefaultCPUHistogramDecayHalfLife=24h, model/
                 aggregations_config.go; the weight rule of util/decaying_histogram.go).
  memory       = 90th percentile (targetMemoryPeaksPercentile=0.9) of per-pod daily peaks (one
                 peak per pod per 24 h interval, DefaultMemoryAggregationInterval=24h, the last 8
                 of them, DefaultMemoryAggregationIntervalCount=8), weighted with a 24 h half-life
                 (DefaultMemoryHistogramDecayHalfLife), + 15%.
  VPA's own minimums (pod-recommendation-min-cpu-millicores=25, -min-memory-mb=250) are meant
  for whole pods in big clusters; we use the shared floors below. VPA recommends from any amount
  of history; we apply the same "enough data" rule as krr so both strategies decline alike.

Shared rules, applied in this order:
  1. Not enough data (fewer than Policy.min_samples CPU or memory samples, or less than
     Policy.min_history_seconds of history): no recommendation, the service is left alone;
     unless it was OOM-killed in the window (a crash-looping pod leaves little data): then only
     memory changes (rules 3-6), CPU and replicas stay as they are (VPA also acts on OOM events at
     once).
  2. HPA on CPU (autoscaling with cpu_utilization U%): CPU request = p95 of per-pod usage / U, so
     a pod at its 95th percentile sits exactly at the HPA target. With memory_utilization M%:
     memory request >= p95 of per-pod working set / M, so ordinary memory use never scales out.
  3. A probe that runs a command in the container (Probes.runs_commands): its process lives in the
     container's memory cgroup for a moment each period, which no step sample shows, so the memory
     target gains Policy.exec_probe_memory_bytes (16 MiB: `python -m worker.health` peaks at 14 MiB
     RSS, measured with /usr/bin/time). Found on the real node: the worker right-sized to 32Mi was
     OOM-killed within 2 s of every start, its first startup probe beside the worker's own 25 MiB.
  4. OOM kills in the window: memory request >= the VPA bump of the memory that was killed,
     max(x * 1.2, x + 100 Mi) (OOMBumpUpRatio, OOMMinBumpUp in model/container.go), where x is
     the current memory limit or the highest working set seen, whichever is larger (the kernel
     kills at the limit, which VPA's request-proportional limits make its "request").
  5. Floors and rounding up: CPU >= 10m in 5m steps, memory >= 32Mi in 16Mi steps (Policy).
  6. Limits. CPU: the current limit:request ratio applied to the new request (the burst headroom
     the team chose), but never below the highest CPU usage seen, so it throttles no more than
     before; and never below the current limit when a probe runs a command in the container: the
     probe's process starts inside the container's CPU quota and must finish within its timeout, a
     burst no per-step average shows (measured on the real node: the worker's `python -m
     worker.health`, 80 ms of CPU, timed out at 1 s under a 40m limit and the liveness probe
     restarted the pod; it passes under 200m). Memory: equal to the request (memory cannot be
     reclaimed by throttling; a limit above the request lets an overcommitted node OOM-kill the
     pod) but never below the highest working set + 15%, so the new limit kills nothing that ran
     fine in the window.
  7. HPA replicas (cpu_utilization set): with capacity = new CPU request * U per pod,
     min = ceil(median total CPU / capacity), max = ceil(peak total CPU * 1.2 / capacity); min
     never drops below 1, nor below 2 when the service runs 2 or more today (PDBs and zero-
     downtime rollouts need a second pod); max >= min + 1, so the HPA can still scale out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Callable

from leanstack.kube.quantities import MIB, format_bytes, format_cpu, parse_quantity, rounded_millicores
from leanstack.rightsize.model import (
    CurrentSpec,
    Evidence,
    PodSeries,
    Recommendation,
    Replicas,
    Resources,
    ServiceUsage,
)
from leanstack.rightsize.stats import ceil_count, ceil_to_step, millicores, percentile, weighted_percentile

HOUR = 3600.0

KRR_CPU_PERCENTILE = 0.95
KRR_MEMORY_BUFFER = 0.15
VPA_TARGET_CPU_PERCENTILE = 0.9
VPA_TARGET_MEMORY_PEAKS_PERCENTILE = 0.9
VPA_SAFETY_MARGIN = 0.15
VPA_HALF_LIFE_SECONDS = 24 * HOUR
VPA_MEMORY_INTERVAL_SECONDS = 24 * HOUR
VPA_MEMORY_INTERVAL_COUNT = 8
OOM_BUMP_RATIO = 1.2
OOM_MIN_BUMP_BYTES = int(100 * MIB)


@dataclass(frozen=True)
class Policy:
    """Thresholds and rounding shared by both strategies (defaults: KRR's data rule, our floors)."""

    min_samples: int = 100
    min_history_seconds: float = 3 * HOUR
    cpu_floor_millicores: int = 10
    cpu_step_millicores: int = 5
    memory_floor_bytes: int = int(32 * MIB)
    memory_step_bytes: int = int(16 * MIB)
    memory_limit_margin: float = 0.15
    exec_probe_memory_bytes: int = int(16 * MIB)
    hpa_peak_headroom: float = 1.2


def _pooled(series: dict[str, PodSeries]) -> list[float]:
    return [value for pod in series.values() for value in pod.values]


def _totals_per_step(series: dict[str, PodSeries]) -> list[float]:
    totals: dict[float, float] = {}
    for pod in series.values():
        for timestamp, value in zip(pod.timestamps, pod.values):
            totals[timestamp] = totals.get(timestamp, 0.0) + value
    return list(totals.values())


def evidence_of(usage: ServiceUsage) -> Evidence:
    cpu = _pooled(usage.cpu_cores)
    memory = _pooled(usage.memory_bytes)
    totals = _totals_per_step(usage.cpu_cores)
    stamps = [t for pod in usage.cpu_cores.values() for t in (pod.timestamps[:1] + pod.timestamps[-1:])]
    return Evidence(
        window_seconds=usage.window_end - usage.window_start,
        step_seconds=usage.step_seconds,
        pods=len(usage.cpu_cores.keys() | usage.memory_bytes.keys()),
        cpu_samples=len(cpu),
        memory_samples=len(memory),
        history_seconds=(max(stamps) - min(stamps)) if stamps else 0.0,
        cpu_p50=percentile(cpu, 0.5),
        cpu_p95=percentile(cpu, 0.95),
        cpu_max=max(cpu, default=0.0),
        memory_p50=percentile(memory, 0.5),
        memory_p95=percentile(memory, 0.95),
        memory_max=max(memory, default=0.0),
        total_cpu_p50=percentile(totals, 0.5),
        total_cpu_max=max(totals, default=0.0),
        restarts=usage.restarts,
        oom_kills=usage.oom_kills,
        dropped_samples=usage.dropped_samples,
        restart_source=usage.restart_source,
    )


def krr_targets(usage: ServiceUsage) -> tuple[float, float, str]:
    """Raw CPU cores and memory bytes per KRR `simple`, with how they were reached."""
    cpu = max(percentile(pod.values, KRR_CPU_PERCENTILE) for pod in usage.cpu_cores.values())
    peak = max(max(pod.values) for pod in usage.memory_bytes.values())
    memory = peak * (1 + KRR_MEMORY_BUFFER)
    return cpu, memory, "krr: CPU = p95 of the busiest pod; memory = peak working set + 15%"


def _decay_weight(timestamp: float, end: float) -> float:
    return 2.0 ** ((timestamp - end) / VPA_HALF_LIFE_SECONDS)


def vpa_targets(usage: ServiceUsage) -> tuple[float, float, str]:
    """Raw CPU cores and memory bytes per the VPA recommender's target estimator."""
    end = usage.window_end
    cpu_values, cpu_weights = [], []
    for pod in usage.cpu_cores.values():
        cpu_values.extend(pod.values)
        cpu_weights.extend(_decay_weight(t, end) for t in pod.timestamps)
    peaks, peak_weights = [], []
    for pod in usage.memory_bytes.values():
        daily: dict[int, float] = {}
        for timestamp, value in zip(pod.timestamps, pod.values):
            interval = math.floor((end - timestamp) / VPA_MEMORY_INTERVAL_SECONDS)
            if 0 <= interval < VPA_MEMORY_INTERVAL_COUNT:
                daily[interval] = max(value, daily.get(interval, value))
        for interval, peak in daily.items():
            peaks.append(peak)
            peak_weights.append(_decay_weight(end - interval * VPA_MEMORY_INTERVAL_SECONDS, end))
    cpu = weighted_percentile(cpu_values, cpu_weights, VPA_TARGET_CPU_PERCENTILE) * (1 + VPA_SAFETY_MARGIN)
    memory = weighted_percentile(peaks, peak_weights, VPA_TARGET_MEMORY_PEAKS_PERCENTILE) * (1 + VPA_SAFETY_MARGIN)
    return cpu, memory, "vpa: p90 of 24h-decayed CPU samples and daily memory peaks, + 15%"


STRATEGIES: dict[str, Callable[[ServiceUsage], tuple[float, float, str]]] = {"krr": krr_targets, "vpa": vpa_targets}


def oom_bumped_bytes(memory_bytes: float) -> float:
    return max(memory_bytes * OOM_BUMP_RATIO, memory_bytes + OOM_MIN_BUMP_BYTES)


def _hours(seconds: float) -> str:
    return f"{seconds / HOUR:.1f}h"


def _not_enough_data(evidence: Evidence, policy: Policy) -> str | None:
    if evidence.cpu_samples == 0 or evidence.memory_samples == 0:
        return "no samples in the window: no pod matched (check namespace, pod name prefix and container name)"
    if min(evidence.cpu_samples, evidence.memory_samples) < policy.min_samples or (
        evidence.history_seconds < policy.min_history_seconds
    ):
        return (
            f"not enough history: {min(evidence.cpu_samples, evidence.memory_samples)} samples over "
            f"{_hours(evidence.history_seconds)} (needs >= {policy.min_samples} samples and "
            f">= {_hours(policy.min_history_seconds)}); left as is"
        )
    return None


def _replicas(current: CurrentSpec, cpu_request: Decimal, evidence: Evidence, policy: Policy) -> Replicas:
    hpa = current.autoscaling
    capacity = float(cpu_request) * hpa.cpu_utilization / 100
    keep_pair = min(hpa.min_replicas, 2)
    minimum = max(ceil_count(evidence.total_cpu_p50 / capacity), keep_pair, 1)
    maximum = max(ceil_count(evidence.total_cpu_max * policy.hpa_peak_headroom / capacity), minimum + 1)
    return Replicas(minimum, maximum)


def recommend(usage: ServiceUsage, current: CurrentSpec, strategy: str = "krr", policy: Policy = Policy()) -> Recommendation:
    """The recommendation for one service; `recommended` is None when it is left alone."""
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; choose one of {', '.join(sorted(STRATEGIES))}")
    evidence = evidence_of(usage)
    hpa = current.autoscaling
    declined = _not_enough_data(evidence, policy)
    result = Recommendation(
        service=usage.service, strategy=strategy, current=current.resources, recommended=None,
        evidence=evidence, reasons=(declined,) if declined else (),
        current_replicas=Replicas(hpa.min_replicas, hpa.max_replicas) if hpa else None,
    )
    memory_only = bool(declined) and evidence.oom_kills > 0
    if declined and not memory_only:
        return result

    if memory_only:
        # A crash-looping pod leaves too little data to size anything but what killed it.
        cpu_target, memory_target = float(parse_quantity(current.resources.cpu_request)), 0.0
        reasons = [f"{declined.split(';')[0]}, but OOM-killed: only memory changes, CPU and replicas as they are"]
    else:
        cpu_target, memory_target, how = STRATEGIES[strategy](usage)
        reasons = [how]
    if hpa and hpa.cpu_utilization and not memory_only:
        cpu_target = evidence.cpu_p95 / (hpa.cpu_utilization / 100)
        reasons.append(f"HPA: CPU request = per-pod p95 {rounded_millicores(evidence.cpu_p95)} at the {hpa.cpu_utilization}% target")
    if hpa and hpa.memory_utilization and not memory_only:
        memory_target = max(memory_target, evidence.memory_p95 / (hpa.memory_utilization / 100))
    if current.exec_probes:
        memory_target += policy.exec_probe_memory_bytes
        reasons.append(f"a probe runs a command in the container: + {format_bytes(Decimal(policy.exec_probe_memory_bytes))} for its process")
    if evidence.oom_kills:
        killed_at = max(float(parse_quantity(current.resources.memory_limit)), evidence.memory_max)
        memory_target = max(memory_target, oom_bumped_bytes(killed_at))
        reasons.append(f"{evidence.oom_kills} OOM kill(s): memory >= {format_bytes(Decimal(int(killed_at)))} bumped by max(20%, 100Mi)")

    cpu_request = max(millicores(cpu_target, policy.cpu_step_millicores), Decimal(policy.cpu_floor_millicores) / 1000)
    memory_request = max(ceil_to_step(memory_target, policy.memory_step_bytes), policy.memory_floor_bytes)
    current_cpu_limit = parse_quantity(current.resources.cpu_limit)
    ratio = current_cpu_limit / parse_quantity(current.resources.cpu_request)
    cpu_limit = millicores(max(float(cpu_request * ratio), evidence.cpu_max), policy.cpu_step_millicores)
    if current.exec_probes and cpu_limit < current_cpu_limit and not memory_only:
        cpu_limit = current_cpu_limit
        reasons.append(f"a probe runs a command in the container: CPU limit kept at {format_cpu(cpu_limit)} for its burst")
    memory_limit = max(memory_request, ceil_to_step(evidence.memory_max * (1 + policy.memory_limit_margin), policy.memory_step_bytes))
    cpu_request_text, cpu_limit_text = ((current.resources.cpu_request, current.resources.cpu_limit) if memory_only
                                        else (format_cpu(cpu_request), format_cpu(cpu_limit)))
    recommended = Resources(
        cpu_request=cpu_request_text, cpu_limit=cpu_limit_text,
        memory_request=format_bytes(Decimal(memory_request)), memory_limit=format_bytes(Decimal(memory_limit)),
    )
    replicas = None
    if hpa and hpa.cpu_utilization and not memory_only:
        replicas = _replicas(current, cpu_request, evidence, policy)
    elif hpa and not memory_only:
        reasons.append("HPA scales on memory or a pods metric only: replica bounds left as they are")
    return Recommendation(
        service=usage.service, strategy=strategy, current=current.resources, recommended=recommended,
        evidence=evidence, reasons=tuple(reasons), current_replicas=result.current_replicas,
        recommended_replicas=replicas,
    )
