"""rightsize against a real Prometheus: backfilled series of known shapes, then metrics + strategy.

Each service's series are generated here with a CPU usage rate that is constant over every 5-minute
step, so rate() over a step is known exactly, and every expected recommendation is recomputed from
the generated rates and memory samples with the documented rules (statistics.quantiles for the
inclusive percentile), not with the code under test. Needs scripts/prometheus.sh.
"""

from __future__ import annotations

import math
import shutil
import statistics
import time
from decimal import Decimal

import pytest

from leanstack.kube.quantities import format_bytes, format_cpu, parse_quantity
from leanstack.rightsize import (
    Autoscaling, CurrentSpec, PrometheusClient, PrometheusError, Replicas, Resources, analyze, fetch_usage, recommend,
)
from leanstack.rightsize.local_prometheus import LocalPrometheus, Series, backfill

pytestmark = pytest.mark.e2e

Mi = 2**20
NAMESPACE = "shop"
SCRAPE = 30
STEP = 300
WINDOW = 2 * 86400
END = math.floor(time.time() / STEP) * STEP - 2 * STEP  # a little in the past: fully written
START = END - WINDOW
STEPS = range(START, END + 1, STEP)


def noise(t: int, spread: int) -> int:
    return (t * 7919) % spread


class Pod:
    """One pod's generated samples and the per-step values Prometheus must report for them."""

    def __init__(self, service, name, cpu_rate, memory, begin=START - STEP, restarts_at=(), oom=False):
        self.service, self.name = service, name
        self.stamps = list(range(begin, END + 1, SCRAPE))
        self.memory = [memory(s, self._since_restart(s, restarts_at)) for s in self.stamps]
        counter, total, offset = [], 1000.0, 0.0
        for s in self.stamps:
            previous_total = total
            if s > begin:
                total += cpu_rate(math.ceil(s / STEP) * STEP) * SCRAPE
            if s in restarts_at:  # the restarted process counts from 0 and has run one scrape interval
                offset = previous_total
            counter.append(total - offset)
        self.counter = counter
        self.restart_counts = [sum(1 for r in restarts_at if r <= s) for s in self.stamps]
        self.oom_flags = [1.0 if oom and count else 0.0 for count in self.restart_counts]
        self.oom = oom
        self.cpu_steps = {t: cpu_rate(t) for t in STEPS if t - STEP >= begin}
        self.memory_steps = {
            t: max(m for s, m in zip(self.stamps, self.memory) if t - STEP <= s <= t) for t in STEPS if t >= begin
        }

    @staticmethod
    def _since_restart(s, restarts_at):
        return s - max([r for r in restarts_at if r <= s], default=START - STEP)

    def series(self):
        labels = {"namespace": NAMESPACE, "pod": self.name, "container": self.service}
        yield Series("container_cpu_usage_seconds_total", "counter", labels, self.stamps, self.counter)
        yield Series("container_memory_working_set_bytes", "gauge", labels, self.stamps, self.memory)
        yield Series("kube_pod_container_status_restarts_total", "counter", labels, self.stamps, self.restart_counts)
        if self.oom:
            oom_labels = dict(labels, reason="OOMKilled")
            yield Series("kube_pod_container_status_last_terminated_reason", "gauge", oom_labels, self.stamps, self.oom_flags)


LEAK_PER_SECOND = Mi / 300  # 1 Mi per step
CACHE_LIMIT = 256 * Mi
CACHE_OOMS = [START + 10 * 3600 + n * 156 * STEP for n in range(3)]  # every 156 Mi of growth

PODS = [
    # steady, two pods, HPA on CPU and memory
    Pod("api", "api-7d4b9-aaaaa", lambda t: 0.2 + 0.01 * (t // STEP * 37 % 7), lambda s, _: 200 * Mi + noise(s, 4 * Mi)),
    Pod("api", "api-7d4b9-bbbbb", lambda t: 0.25 + 0.01 * (t // STEP * 11 % 5), lambda s, _: 210 * Mi + noise(s, 2 * Mi)),
    # daily cycle
    Pod("web", "web-5c8f7-ccccc", lambda t: 0.05 + 0.04 * math.sin(2 * math.pi * t / 86400),
        lambda s, _: 60 * Mi + int(10 * Mi * (1 + math.sin(2 * math.pi * s / 86400)))),
    # spiky: one busy step every 3 hours
    Pod("worker", "worker-6b7c8-ddddd", lambda t: 0.9 if t % 10800 == 0 else 0.03,
        lambda s, _: 300 * Mi if s % 10800 == 0 else 150 * Mi + noise(s, Mi)),
    # memory leak, OOM-killed at its 256Mi limit; each kill resets the CPU counter
    Pod("cache", "cache-0", lambda t: 0.12, lambda s, age: 100 * Mi + int(age * LEAK_PER_SECOND),
        restarts_at=CACHE_OOMS, oom=True),
    # idle: below every floor
    Pod("idle", "idle-55d6f-eeeee", lambda t: 0.001, lambda s, _: 20 * Mi),
    # restarts (not OOM) twice a day: counter resets
    Pod("batch", "batch-84c2d-fffff", lambda t: 0.1 + 0.05 * (t // STEP % 3), lambda s, _: 64 * Mi,
        restarts_at=[START + 6 * 3600, START + 18 * 3600, START + 30 * 3600]),
    # too short: deployed two hours ago
    Pod("fresh", "fresh-9f9f9-ggggg", lambda t: 0.1, lambda s, _: 50 * Mi, begin=END - 2 * 3600),
    # a different workload whose pods match "api-.*" but whose container is not "api"
    Pod("api-gateway", "api-gateway-1a2b3-hhhhh", lambda t: 3.0, lambda s, _: 900 * Mi),
]

SPECS = {
    "api": CurrentSpec(Resources("250m", "500m", "384Mi", "512Mi"), Autoscaling(2, 6, 70, 80)),
    "web": CurrentSpec(Resources("25m", "100m", "48Mi", "96Mi")),
    "worker": CurrentSpec(Resources("100m", "250m", "192Mi", "256Mi")),
    "cache": CurrentSpec(Resources("50m", "200m", "128Mi", "256Mi")),
    "idle": CurrentSpec(Resources("100m", "200m", "128Mi", "128Mi")),
    "batch": CurrentSpec(Resources("100m", "300m", "128Mi", "256Mi")),
    "fresh": CurrentSpec(Resources("100m", "200m", "128Mi", "128Mi")),
    "ghost": CurrentSpec(Resources("100m", "200m", "128Mi", "128Mi")),
}


def p(values, q):  # inclusive percentile, independent of leanstack.rightsize.stats
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]


def up(amount, step):
    return math.ceil(amount / step - 1e-9) * step


def expected_krr(service: str) -> tuple[Resources, Replicas | None]:
    pods = [pod for pod in PODS if pod.service == service]
    spec = SPECS[service]
    cpu_all = [v for pod in pods for v in pod.cpu_steps.values()]
    memory_all = [v for pod in pods for v in pod.memory_steps.values()]
    cpu = max(p(list(pod.cpu_steps.values()), 0.95) for pod in pods)
    memory = max(memory_all) * 1.15
    hpa = spec.autoscaling
    if hpa:
        cpu = p(cpu_all, 0.95) / (hpa.cpu_utilization / 100)
        memory = max(memory, p(memory_all, 0.95) / (hpa.memory_utilization / 100))
    if any(pod.oom for pod in pods):
        killed = max(float(parse_quantity(spec.resources.memory_limit)), max(memory_all))
        memory = max(memory, killed * 1.2, killed + 100 * Mi)
    cpu_m = max(up(cpu * 1000, 5), 10)
    memory_b = max(up(memory, 16 * Mi), 32 * Mi)
    ratio = float(parse_quantity(spec.resources.cpu_limit) / parse_quantity(spec.resources.cpu_request))
    cpu_limit_m = up(max(cpu_m * ratio, max(cpu_all) * 1000), 5)
    memory_limit_b = max(memory_b, up(max(memory_all) * 1.15, 16 * Mi))
    resources = Resources(format_cpu(Decimal(cpu_m) / 1000), format_cpu(Decimal(cpu_limit_m) / 1000),
                          format_bytes(Decimal(memory_b)), format_bytes(Decimal(memory_limit_b)))
    if not hpa:
        return resources, None
    totals = [sum(pod.cpu_steps[t] for pod in pods) for t in STEPS if all(t in pod.cpu_steps for pod in pods)]
    capacity = cpu_m / 1000 * hpa.cpu_utilization / 100
    minimum = max(math.ceil(statistics.median(totals) / capacity - 1e-9), min(hpa.min_replicas, 2))
    maximum = max(math.ceil(max(totals) * 1.2 / capacity - 1e-9), minimum + 1)
    return resources, Replicas(minimum, maximum)


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory):
    if not (shutil.which("prometheus") and shutil.which("promtool")):
        pytest.fail("prometheus/promtool not installed: run scripts/prometheus.sh")
    data = tmp_path_factory.mktemp("prometheus") / "data"
    backfill([series for pod in PODS for series in pod.series()], data)
    server = LocalPrometheus(data)
    server.start()
    yield server
    server.stop()


def run(prometheus, strategy, **options):
    recommendations = analyze(prometheus.url, NAMESPACE, SPECS, WINDOW, strategy, STEP, end=END, **options)
    return {r.service: r for r in recommendations}


@pytest.mark.parametrize("service", ["api", "web", "worker", "cache", "idle", "batch"])
def test_krr_recommendation_matches_independent_computation(prometheus, service):
    result = run(prometheus, "krr")[service]
    resources, replicas = expected_krr(service)
    assert result.recommended == resources, result.reasons
    assert result.recommended_replicas == replicas
    pods = [pod for pod in PODS if pod.service == service]
    assert result.evidence.cpu_samples == sum(len(pod.cpu_steps) for pod in pods)
    assert result.evidence.pods == len(pods)


def test_restarts_oom_kills_and_counter_resets(prometheus):
    results = run(prometheus, "krr")
    assert (results["cache"].evidence.restarts, results["cache"].evidence.oom_kills) == (3, 3)
    assert (results["batch"].evidence.restarts, results["batch"].evidence.oom_kills) == (3, 0)
    assert results["batch"].evidence.cpu_max == pytest.approx(0.2)  # a reset did not read as a spike or a dip
    assert any("OOM" in reason for reason in results["cache"].reasons)


def test_short_history_and_missing_services_are_left_alone(prometheus):
    results = run(prometheus, "krr")
    assert results["fresh"].recommended is None
    assert results["fresh"].reasons[0].startswith("not enough history: 24 samples over 1.9h")
    assert results["ghost"].recommended is None
    assert results["ghost"].reasons[0].startswith("no samples")


def test_other_containers_behind_the_pod_prefix_are_not_counted(prometheus):
    assert run(prometheus, "krr")["api"].evidence.cpu_max < 1.0  # api-gateway runs at 3 cores


def test_vpa_matches_independent_computation(prometheus):
    result = run(prometheus, "vpa")["worker"]
    pod = next(pod for pod in PODS if pod.service == "worker")
    weights = {t: 2 ** ((t - END) / 86400) for t in pod.cpu_steps}
    ordered = sorted(pod.cpu_steps.items(), key=lambda item: item[1])
    threshold, cumulative = 0.9 * sum(weights.values()), 0.0
    for t, value in ordered:
        cumulative += weights[t]
        if cumulative >= threshold:
            cpu = value * 1.15
            break
    days = {}
    for t, value in pod.memory_steps.items():
        day = (END - t) // 86400
        days[day] = max(value, days.get(day, 0))
    peaks = sorted((value, 2.0 ** -day) for day, value in days.items() if day < 8)
    threshold, cumulative = 0.9 * sum(w for _, w in peaks), 0.0
    for value, weight in peaks:
        cumulative += weight
        if cumulative >= threshold:
            memory = value * 1.15
            break
    memory_limit = max(up(memory, 16 * Mi), up(max(pod.memory_steps.values()) * 1.15, 16 * Mi))
    assert result.recommended.cpu_request == format_cpu(Decimal(up(cpu * 1000, 5)) / 1000)
    assert result.recommended.memory_request == format_bytes(Decimal(up(memory, 16 * Mi)))
    assert result.recommended.memory_limit == format_bytes(Decimal(memory_limit))


def test_chunked_queries_give_the_same_usage(prometheus):
    client = PrometheusClient(prometheus.url)
    whole = fetch_usage(client, NAMESPACE, ["api", "cache"], WINDOW, STEP, end=END)
    chunked = fetch_usage(client, NAMESPACE, ["api", "cache"], WINDOW, STEP, end=END, max_points=50, services_per_query=1)
    for service in ("api", "cache"):
        assert recommend(chunked[service], SPECS[service]) == recommend(whole[service], SPECS[service])
        for pod, series in whole[service].cpu_cores.items():
            assert list(chunked[service].cpu_cores[pod].timestamps) == list(series.timestamps)


def test_pods_that_never_ran_and_a_window_longer_than_the_data_are_one_line(prometheus):
    with pytest.raises(PrometheusError) as never_ran:
        analyze(prometheus.url, "empty", SPECS, WINDOW, "krr", STEP, end=END)
    assert str(never_ran.value) == (
        f"no samples for any of the {len(SPECS)} services ({', '.join(SPECS)}) in namespace 'empty' at "
        f"{prometheus.url}: their pods have not run in the window (or run under other names)")
    with pytest.raises(PrometheusError, match=r"there are 48\.1h of data; use a --window of at most 48h$"):
        analyze(prometheus.url, NAMESPACE, SPECS, 2 * WINDOW, "krr", STEP, end=END)


def test_series_under_other_label_names_say_which_were_expected_and_found(tmp_path):
    # cAdvisor before Kubernetes 1.16 named them pod_name and container_name
    labels = {"namespace": NAMESPACE, "pod_name": "api-7d4b9-aaaaa", "container_name": "api"}
    stamps = list(range(START - STEP, END + 1, SCRAPE))
    backfill([Series("container_memory_working_set_bytes", "gauge", labels, stamps, [1.0] * len(stamps))],
             tmp_path / "data")
    server = LocalPrometheus(tmp_path / "data")
    server.start()
    try:
        with pytest.raises(PrometheusError) as error:
            analyze(server.url, NAMESPACE, {"api": SPECS["api"]}, WINDOW, "krr", STEP, end=END)
    finally:
        server.stop()
    assert str(error.value) == (
        f"container_memory_working_set_bytes at {server.url} has labels container_name, namespace, pod_name; "
        "expected namespace, pod, container (missing pod, container): relabel the cAdvisor scrape job")
