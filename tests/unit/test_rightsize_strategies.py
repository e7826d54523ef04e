"""The rightsize strategies on usage built here; expectations are recomputed in plain Python."""

from __future__ import annotations

import math
import random
import statistics
from array import array

import pytest

from leanstack.rightsize import Autoscaling, CurrentSpec, Policy, Replicas, Resources, ServiceUsage, recommend
from leanstack.rightsize.model import PodSeries
from leanstack.rightsize.stats import ceil_to_step, percentile, weighted_percentile

Mi = 2**20
STEP = 300.0
END = 1_700_000_000.0
SPEC = CurrentSpec(Resources("200m", "400m", "256Mi", "512Mi"))


def series(values, end=END):
    stamps = [end - STEP * (len(values) - 1 - i) for i in range(len(values))]
    return PodSeries(array("d", stamps), array("d", values))


def usage(cpu: dict[str, list[float]], memory: dict[str, list[float]], **extra) -> ServiceUsage:
    longest = max((len(v) for v in cpu.values()), default=0)
    return ServiceUsage(
        service="api", namespace="shop", window_start=END - STEP * longest, window_end=END, step_seconds=STEP,
        cpu_cores={pod: series(v) for pod, v in cpu.items()},
        memory_bytes={pod: series(v) for pod, v in memory.items()}, **extra,
    )


def p(values, q):
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]


def millis(cores):
    return math.ceil(cores * 1000 / 5 - 1e-9) * 5


def mebis(amount):
    return math.ceil(amount / (16 * Mi) - 1e-9) * 16


@pytest.mark.parametrize("q", [0.5, 0.9, 0.95, 0.99])
def test_percentile_is_the_inclusive_definition(q):
    values = [random.Random(seed).uniform(0, 5) for seed in range(301)]
    assert percentile(values, q) == pytest.approx(p(values, q))


def test_weighted_percentile_picks_the_first_value_reaching_the_weight():
    assert weighted_percentile([1, 2, 3, 4], [1, 1, 1, 1], 0.5) == 2
    assert weighted_percentile([1, 2, 3, 4], [1, 1, 1, 7], 0.5) == 4
    assert ceil_to_step(0.2 * 1000, 5) == 200  # float noise (200.00000000000003) adds no step


def test_krr_takes_the_busiest_pods_p95_and_peak_memory_plus_15_percent():
    rng = random.Random(1)
    cpu = {"api-a": [rng.uniform(0.05, 0.3) for _ in range(200)], "api-b": [rng.uniform(0.05, 0.5) for _ in range(200)]}
    memory = {"api-a": [rng.uniform(100, 180) * Mi for _ in range(200)], "api-b": [rng.uniform(100, 200) * Mi for _ in range(200)]}
    result = recommend(usage(cpu, memory), SPEC, "krr")
    cpu_m = millis(max(p(v, 0.95) for v in cpu.values()))
    peak = max(max(v) for v in memory.values())
    all_cpu = [x for v in cpu.values() for x in v]
    assert result.recommended == Resources(
        f"{cpu_m}m", f"{millis(max(cpu_m * 2 / 1000, max(all_cpu)))}m", f"{mebis(peak * 1.15)}Mi", f"{mebis(peak * 1.15)}Mi"
    )
    assert result.evidence.cpu_samples == 400
    assert result.evidence.cpu_p95 == pytest.approx(p(all_cpu, 0.95))


def test_vpa_weighs_recent_samples_and_daily_memory_peaks():
    # two days at 5m steps: the older day busy (0.8 cores, 400Mi), the recent day quiet (0.1, 100Mi)
    per_day = int(86400 / STEP)
    cpu = [0.8] * per_day + [0.1] * per_day
    memory = [400 * Mi] * per_day + [100 * Mi] * per_day
    result = recommend(usage({"api-a": cpu}, {"api-a": memory}), SPEC, "vpa")
    # day-old samples weigh half as much: 1/3 of the weight is busy, so p90 is busy (0.8 * 1.15)
    assert result.recommended.cpu_request == f"{millis(0.8 * 1.15)}m"
    # peaks: 100Mi (weight 1, the last 24h) and 400Mi (weight 1/2): p90 needs the 400Mi peak
    assert result.recommended.memory_request == f"{mebis(400 * Mi * 1.15)}Mi"


def test_vpa_forgets_memory_peaks_older_than_eight_days():
    per_day = int(86400 / STEP)
    memory = [900 * Mi] * per_day + [100 * Mi] * (8 * per_day)
    result = recommend(usage({"api-a": [0.1] * len(memory)}, {"api-a": memory}), SPEC, "vpa")
    assert result.recommended.memory_request == f"{mebis(100 * Mi * 1.15)}Mi"
    assert result.recommended.memory_limit == f"{mebis(900 * Mi * 1.15)}Mi"  # the limit still covers the peak seen


@pytest.mark.parametrize("samples, seconds_apart, expected", [(99, STEP, "99 samples"), (100, 100.0, "over 2.8h")])
def test_too_little_history_leaves_the_service_alone(samples, seconds_apart, expected):
    stamps = array("d", [END - seconds_apart * i for i in reversed(range(samples))])
    data = {"api-a": PodSeries(stamps, array("d", [0.1] * samples))}
    memory = {"api-a": PodSeries(stamps, array("d", [Mi] * samples))}
    result = recommend(ServiceUsage("api", "shop", END - 86400, END, STEP, data, memory), SPEC, "krr")
    assert result.recommended is None
    assert result.reasons[0].startswith("not enough history") and expected in result.reasons[0]


def test_no_samples_at_all_says_so():
    result = recommend(usage({}, {}), SPEC, "vpa")
    assert result.recommended is None and result.reasons[0].startswith("no samples")


def test_floors_and_limit_ratio():
    result = recommend(usage({"api-a": [0.0005] * 200}, {"api-a": [5 * Mi] * 200}), SPEC, "krr")
    assert result.recommended == Resources("10m", "20m", "32Mi", "32Mi")


def test_cpu_limit_never_below_observed_peak():
    cpu = [0.05] * 199 + [0.9]
    result = recommend(usage({"api-a": cpu}, {"api-a": [64 * Mi] * 200}), SPEC, "krr")
    assert (result.recommended.cpu_request, result.recommended.cpu_limit) == ("50m", "900m")


@pytest.mark.parametrize("exec_probes, cpu_limit", [(False, "20m"), (True, "400m")])
def test_an_exec_probe_keeps_the_current_cpu_limit_for_its_burst(exec_probes, cpu_limit):
    spec = CurrentSpec(SPEC.resources, exec_probes=exec_probes)
    result = recommend(usage({"api-a": [0.0005] * 200}, {"api-a": [5 * Mi] * 200}), spec, "krr")
    assert (result.recommended.cpu_request, result.recommended.cpu_limit) == ("10m", cpu_limit)
    assert any("probe runs a command" in reason for reason in result.reasons) is exec_probes


@pytest.mark.parametrize("exec_probes, extra", [(False, 0), (True, 16 * Mi)])
def test_an_exec_probe_adds_its_process_to_the_memory(exec_probes, extra):
    spec = CurrentSpec(SPEC.resources, exec_probes=exec_probes)
    result = recommend(usage({"api-a": [0.1] * 200}, {"api-a": [64 * Mi] * 200}), spec, "krr")
    memory = f"{mebis(64 * Mi * 1.15 + extra)}Mi"
    assert (result.recommended.memory_request, result.recommended.memory_limit) == (memory, memory)


def test_an_exec_probe_does_not_stop_the_cpu_limit_rising():
    spec = CurrentSpec(SPEC.resources, exec_probes=True)
    result = recommend(usage({"api-a": [0.5] * 200}, {"api-a": [64 * Mi] * 200}), spec, "krr")
    assert (result.recommended.cpu_request, result.recommended.cpu_limit) == ("500m", "1")


def test_oom_kill_bumps_memory_by_vpa_rule():
    memory = [300 * Mi] * 200
    result = recommend(usage({"api-a": [0.1] * 200}, {"api-a": memory}, restarts=2, oom_kills=2), SPEC, "krr")
    killed = 512 * Mi  # the current limit, above the 300Mi seen
    assert result.recommended.memory_request == f"{mebis(max(killed * 1.2, killed + 100 * Mi))}Mi"
    assert result.evidence.oom_kills == 2


def test_hpa_request_puts_p95_at_the_target_and_replicas_follow_the_load():
    rng = random.Random(7)
    cpu = {pod: [rng.uniform(0.1, 0.6) for _ in range(300)] for pod in ("api-a", "api-b", "api-c")}
    memory = {pod: [200 * Mi] * 300 for pod in cpu}
    spec = CurrentSpec(Resources("250m", "500m", "384Mi", "512Mi"), Autoscaling(2, 6, cpu_utilization=70))
    result = recommend(usage(cpu, memory), spec, "krr")
    everything = [x for v in cpu.values() for x in v]
    request_m = millis(p(everything, 0.95) / 0.7)
    totals = [sum(v[i] for v in cpu.values()) for i in range(300)]
    capacity = request_m / 1000 * 0.7
    minimum = max(math.ceil(statistics.median(totals) / capacity), 2)
    maximum = max(math.ceil(max(totals) * 1.2 / capacity), minimum + 1)
    assert result.recommended.cpu_request == f"{request_m}m"
    assert result.recommended_replicas == Replicas(minimum, maximum)
    assert result.current_replicas == Replicas(2, 6)


def test_the_hpa_reason_names_the_observed_p95_in_whole_millicores():
    spec = CurrentSpec(Resources("250m", "500m", "384Mi", "512Mi"), Autoscaling(2, 6, cpu_utilization=70))
    result = recommend(usage({"api-a": [0.3004] * 200}, {"api-a": [200 * Mi] * 200}), spec, "krr")
    assert "HPA: CPU request = per-pod p95 300m at the 70% target" in result.reasons


def test_hpa_min_keeps_a_pair_but_single_replica_services_may_stay_single():
    cpu = {"api-a": [0.01] * 200}
    memory = {"api-a": [64 * Mi] * 200}
    pair = CurrentSpec(SPEC.resources, Autoscaling(3, 6, cpu_utilization=70))
    single = CurrentSpec(SPEC.resources, Autoscaling(1, 3, cpu_utilization=70))
    assert recommend(usage(cpu, memory), pair).recommended_replicas == Replicas(2, 3)
    assert recommend(usage(cpu, memory), single).recommended_replicas == Replicas(1, 2)


def test_hpa_on_memory_keeps_ordinary_memory_below_the_target():
    memory = {"api-a": [400 * Mi] * 200}
    spec = CurrentSpec(SPEC.resources, Autoscaling(2, 4, cpu_utilization=None, memory_utilization=50))
    result = recommend(usage({"api-a": [0.1] * 200}, memory), spec, "krr")
    assert result.recommended.memory_request == f"{mebis(400 * Mi / 0.5)}Mi"
    assert result.recommended_replicas is None and "left as they are" in result.reasons[-1]


def test_unknown_strategy_is_rejected():
    with pytest.raises(ValueError, match="choose one of krr, vpa"):
        recommend(usage({}, {}), SPEC, "magic")


def test_policy_thresholds_are_parameters():
    data = usage({"api-a": [0.1] * 50}, {"api-a": [Mi] * 50})
    assert recommend(data, SPEC, policy=Policy(min_samples=10, min_history_seconds=3600)).recommended is not None


def test_an_oom_killed_service_with_too_little_data_gets_memory_only():
    memory = [300 * Mi] * 5
    result = recommend(usage({"api-a": [0.9] * 5}, {"api-a": memory}, restarts=2, oom_kills=2), SPEC, "krr")
    killed = 512 * Mi
    assert result.recommended == Resources("200m", "400m", f"{mebis(max(killed * 1.2, killed + 100 * Mi))}Mi",
                                           f"{mebis(max(killed * 1.2, killed + 100 * Mi))}Mi")
    assert result.reasons[0].startswith("not enough history: 5 samples") and "only memory changes" in result.reasons[0]
    assert recommend(usage({"api-a": [0.9] * 5}, {"api-a": memory}), SPEC, "krr").recommended is None
