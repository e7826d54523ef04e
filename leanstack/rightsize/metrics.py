"""Read a service's usage from any Prometheus-compatible HTTP query API.

Only /api/v1/query_range is used (POST, form-encoded, so long selectors fit), which Prometheus,
Thanos, Mimir and VictoriaMetrics all serve. Every failure is a `PrometheusError` with a one-line
message naming the URL and what was wrong.

Matching pods to services: cAdvisor series carry namespace, pod and container labels but not the
pod's app label, so a service's series are those with namespace="<ns>", container="<service>" and
pod=~"<service>-.*" (Deployment and StatefulSet pods are named after their owner). This needs no
kube-state-metrics join (kube_pod_labels is often not exported with all labels), and the container
label keeps a sidecar or a `<service>-x` workload with another container name out. Services are
queried in batches with a regex alternation and split client-side by the container label.

Queries, per step (default 5m, a parameter):
  CPU     max by (pod, container) (rate(container_cpu_usage_seconds_total[step]))
          the average over each step; rate() handles counter resets server-side. `max by` rather
          than `sum by`: a kubelet scraped by two jobs exports the same container twice.
  memory  max by (pod, container) (max_over_time(container_memory_working_set_bytes[step]))
          the peak within each step, so a short spike between step points is not missed.
  restarts and OOM kills from kube-state-metrics where it runs, sampled per step: the restart
  counter's increases (reset-aware, see _count_restarts) and, for each increase, whether
  kube_pod_container_status_last_terminated_reason{reason="OOMKilled"} was 1 at that point.
  Where no kube-state-metrics series exist, from the kubelet's own series (KUBELET_* below):
  restarts are the changes of container_start_time_seconds (/metrics/resource keeps one series
  per container whose value is each run's start), and a restart is an OOM kill when the run it
  ended hit the pod's memory limit (cAdvisor's pod-level container_memory_failcnt rose; which rise
  belongs to which restart: _count_kubelet_restarts).
  cAdvisor's container_oom_events_total would name the kill directly, but it is counted on the
  killed container's own cgroup, which the runtime removes with the container before a scrape
  can see it (measured on the real node: the series leaves with its value still 0).

Before any recommendation, check_coverage turns the two ways a whole answer can be empty or short
into one line: no samples for any service (series under other label names, e.g. cAdvisor's old
pod_name/container_name, or pods that never ran or are not scraped), and a window reaching back
before the earliest sample of every service.

Long windows are split into chunks of at most `max_points` steps, because Prometheus refuses a
range query returning more than 11,000 points per series.
"""

from __future__ import annotations

import math
import re
import time
from array import array
from typing import Iterable, Optional, Sequence

import requests

from leanstack.kube import names
from leanstack.rightsize.model import PodSeries, ServiceUsage

PROMETHEUS_MAX_POINTS = 11_000
DNS_LABEL = re.compile(names.DNS_1123_LABEL)

CPU_QUERY = "max by (pod, container) (rate(container_cpu_usage_seconds_total{{{selector}}}[{step}s]))"
MEMORY_QUERY = "max by (pod, container) (max_over_time(container_memory_working_set_bytes{{{selector}}}[{step}s]))"
RESTARTS_QUERY = "max by (pod, container) (kube_pod_container_status_restarts_total{{{selector}}})"
EXPECTED_LABELS = ("namespace", "pod", "container")
# One series of the memory metric, any labels: what the scrape job actually attaches.
LABEL_PROBE = "topk(1, last_over_time(container_memory_working_set_bytes[{window}s]))"
OOM_QUERY = 'max by (pod, container) (kube_pod_container_status_last_terminated_reason{{{selector},reason="OOMKilled"}})'
# Restarts in each step (t - step, t], the change across its left edge included: changes() over
# two steps less the changes within the previous step; `or` covers a pod whose series began in it.
KUBELET_RESTARTS_QUERY = (
    "max by (pod, container) ((changes(container_start_time_seconds{{{selector}}}[{double_step}s])"
    " - changes(container_start_time_seconds{{{selector}}}[{step}s] offset {step}s))"
    " or changes(container_start_time_seconds{{{selector}}}[{step}s]))"
)
# The pod's own cgroup (no container, no image: the sandbox has an image): it outlives the container the kernel killed.
KUBELET_LIMIT_HITS_QUERY = 'max by (pod) (container_memory_failcnt{{{pod_selector},container="",image=""}})'


class PrometheusError(RuntimeError):
    """Prometheus could not be asked or did not answer usefully; the message is one line."""


def _one_line(text: str, limit: int = 200) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


class PrometheusClient:
    """A minimal query_range client; NaN and Inf samples are dropped and counted per series."""

    def __init__(self, url: str, timeout: float = 60.0, session: Optional[requests.Session] = None):
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.session = session or requests.Session()

    def _post(self, path: str, form: dict[str, str]) -> dict:
        endpoint = f"{self.url}{path}"
        try:
            response = self.session.post(endpoint, data=form, timeout=self.timeout)
        except requests.RequestException as exc:
            raise PrometheusError(f"cannot reach Prometheus at {self.url}: {_one_line(exc)}") from None
        try:
            body = response.json()
        except ValueError:
            kind = response.headers.get("content-type", "no content type")
            raise PrometheusError(
                f"{endpoint} answered HTTP {response.status_code} with {_one_line(kind)}, not the Prometheus "
                f"API's JSON: is {self.url} the base URL of Prometheus (or Thanos, Mimir, VictoriaMetrics)?"
            ) from None
        if not isinstance(body, dict) or "status" not in body:
            raise PrometheusError(f"{endpoint} answered JSON without a status field: {self.url} is not a Prometheus API")
        if body["status"] != "success":
            raise PrometheusError(
                f"Prometheus at {self.url} rejected the query ({body.get('errorType', 'error')}): "
                f"{_one_line(body.get('error', 'no error text'))}"
            )
        return body.get("data") or {}

    def query_range(
        self, promql: str, start: float, end: float, step: float, max_points: int = PROMETHEUS_MAX_POINTS
    ) -> list[tuple[dict, PodSeries, int]]:
        """(labels, finite samples, dropped NaN/Inf count) per series over [start, end]; long
        windows are asked in chunks and merged."""
        merged: dict[tuple, tuple[dict, array, array, list[int]]] = {}
        for chunk_start, chunk_end in _chunks(start, end, step, max_points):
            data = self._post("/api/v1/query_range", {"query": promql, "start": f"{chunk_start:.3f}", "end": f"{chunk_end:.3f}", "step": f"{step:g}"})
            if data.get("resultType") != "matrix":
                raise PrometheusError(f"Prometheus at {self.url} returned {data.get('resultType')!r} for a range query, expected 'matrix'")
            for series in data.get("result", []):
                labels = series.get("metric", {})
                key = tuple(sorted(labels.items()))
                _, stamps, values, dropped = merged.setdefault(key, (labels, array("d"), array("d"), [0]))
                for timestamp, text in series.get("values", []):
                    value = float(text)
                    if math.isfinite(value):
                        stamps.append(float(timestamp))
                        values.append(value)
                    else:
                        dropped[0] += 1
        return [(labels, PodSeries(stamps, values), dropped[0]) for labels, stamps, values, dropped in merged.values()]


def _chunks(start: float, end: float, step: float, max_points: int) -> Iterable[tuple[float, float]]:
    """Consecutive [start, end] pieces of at most max_points steps each, no step repeated."""
    span = step * (max_points - 1)
    chunk_start = start
    while chunk_start <= end:
        chunk_end = min(chunk_start + span, end)
        yield chunk_start, chunk_end
        chunk_start = chunk_end + step


def _pod_selector(namespace: str, services: Sequence[str]) -> str:
    return f'namespace="{namespace}",pod=~"({"|".join(services)})-.*"'


def _selector(namespace: str, services: Sequence[str]) -> str:
    return f'{_pod_selector(namespace, services)},container=~"{"|".join(services)}"'


def _by_service(
    results: list[tuple[dict, PodSeries, int]], services: Sequence[str], dropped: dict[str, int]
) -> dict[str, dict[str, PodSeries]]:
    """Series per service and pod; adds each service's dropped samples to `dropped`."""
    grouped: dict[str, dict[str, PodSeries]] = {service: {} for service in services}
    for labels, series, dropped_samples in results:
        service, pod = labels.get("container", ""), labels.get("pod", "")
        # The regex admits pod "a-b-x" for service "a" with container "a-b"; the label decides.
        if service in grouped and pod.startswith(service + "-"):
            dropped[service] += dropped_samples
            if len(series.values):
                grouped[service][pod] = series
    return grouped


def _count_restarts(restarts: PodSeries, oom_flags: Optional[PodSeries]) -> tuple[int, int, Optional[float]]:
    """Restarts, OOM kills and the last OOM time from a pod's restart counter and OOM flag.

    A counter that goes down was reset (kube-state-metrics or the pod restarted): its new value is
    the increase since the reset, as in Prometheus' own increase().
    """
    flagged = set()
    if oom_flags is not None:
        flagged = {t for t, v in zip(oom_flags.timestamps, oom_flags.values) if v >= 1}
    restarts_total = oom_kills = 0
    last_oom_at = None
    previous = None
    for timestamp, value in zip(restarts.timestamps, restarts.values):
        if previous is not None:
            increase = int(round(value - previous if value >= previous else value))
            restarts_total += increase
            if increase and timestamp in flagged:
                oom_kills += increase
                last_oom_at = timestamp
        previous = value
    return restarts_total, oom_kills, last_oom_at


def _count_kubelet_restarts(per_step: PodSeries, failures: Optional[PodSeries], window_start: float,
                            step_seconds: float) -> tuple[int, int, Optional[float]]:
    """Restarts, OOM kills and the last OOM time from a pod's restarts per step and its pod cgroup's
    memory-limit failure count.

    The kubelet starts the next container only after its back-off (10 s, doubling to 5 min), so a
    kill and the restart it causes often fall in different steps, and cAdvisor refreshes a cgroup's
    counters only every 10-15 s (housekeeping), so the rise can be stamped a step before or after
    the restart's. A restart is an OOM kill when it can claim a rise no earlier restart claimed, at
    most one step after its own step and not before the step ahead of the previous restart (older
    rises belong to earlier runs): each restart claims one rise (the run that ended hit its limit
    once), so two kills a step or two apart are two. The first sample of a series that begins
    before the window stands for the time before it and is not counted.
    """
    rises = []
    if failures is not None:
        previous = 0.0 if failures.timestamps and failures.timestamps[0] > window_start else None
        for timestamp, value in zip(failures.timestamps, failures.values):
            if previous is not None and value > previous:
                rises.append(timestamp)
            previous = value
    skip_first = bool(per_step.timestamps) and per_step.timestamps[0] <= window_start
    restarts = oom_kills = 0
    last_oom_at = None
    unmatched = 0  # index of the first rise no restart has claimed yet
    earliest = float("-inf")  # rises before this belong to runs before the previous restart
    for index, (timestamp, value) in enumerate(zip(per_step.timestamps, per_step.values)):
        count = int(round(value))
        if not count or (skip_first and index == 0):
            continue
        restarts += count
        while unmatched < len(rises) and rises[unmatched] < earliest:
            unmatched += 1
        claimable = [rise for rise in rises[unmatched:unmatched + count] if rise <= timestamp + step_seconds]
        if claimable:
            oom_kills += count
            last_oom_at = timestamp
            unmatched += len(claimable)
        earliest = timestamp - step_seconds
    return restarts, oom_kills, last_oom_at


def aligned_end(end: float, step_seconds: float) -> float:
    """The window's end, aligned down to a whole step so every run evaluates the same instants."""
    return math.floor(end / step_seconds) * step_seconds


def fetch_usage(
    client: PrometheusClient,
    namespace: str,
    services: Sequence[str],
    window_seconds: float,
    step_seconds: float = 300.0,
    end: Optional[float] = None,
    services_per_query: int = 20,
    max_points: int = PROMETHEUS_MAX_POINTS,
) -> dict[str, ServiceUsage]:
    """Usage of each service's container over [end - window, end] (end defaults to now), the end
    aligned down to a whole step."""
    for name in (namespace, *services):
        if not DNS_LABEL.match(name):
            raise ValueError(f"{name!r} is not a Kubernetes name (lowercase letters, digits and '-')")
    end = aligned_end(time.time() if end is None else end, step_seconds)
    start = end - window_seconds
    result: dict[str, ServiceUsage] = {}
    for offset in range(0, len(services), services_per_query):
        batch = list(services[offset: offset + services_per_query])
        selector = _selector(namespace, batch)
        dropped = dict.fromkeys(batch, 0)

        def ask(template: str) -> dict[str, dict[str, PodSeries]]:
            promql = template.format(selector=selector, step=f"{step_seconds:g}", double_step=f"{2 * step_seconds:g}")
            return _by_service(client.query_range(promql, start, end, step_seconds, max_points), batch, dropped)

        cpu, memory, restarts, oom = ask(CPU_QUERY), ask(MEMORY_QUERY), ask(RESTARTS_QUERY), ask(OOM_QUERY)
        source = "kube-state-metrics"
        counts = {service: [_count_restarts(series, oom[service].get(pod)) for pod, series in restarts[service].items()]
                  for service in batch}
        if not any(restarts.values()):
            source = "kubelet"
            limit_hits = client.query_range(
                KUBELET_LIMIT_HITS_QUERY.format(pod_selector=_pod_selector(namespace, batch)), start, end, step_seconds, max_points)
            failures = {labels.get("pod", ""): series for labels, series, _ in limit_hits}
            counts = {service: [_count_kubelet_restarts(series, failures.get(pod), start, step_seconds) for pod, series in pods.items()]
                      for service, pods in ask(KUBELET_RESTARTS_QUERY).items()}
        for service in batch:
            oom_times = [at for _, _, at in counts[service] if at is not None]
            result[service] = ServiceUsage(
                service=service, namespace=namespace, window_start=start, window_end=end, step_seconds=step_seconds,
                cpu_cores=cpu[service], memory_bytes=memory[service],
                restarts=sum(c[0] for c in counts[service]), oom_kills=sum(c[1] for c in counts[service]),
                last_oom_at=max(oom_times, default=None), dropped_samples=dropped[service], restart_source=source,
            )
    return result


def _utc(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def no_samples_problem(namespace: str, services: Sequence[str], probe: Optional[dict], url: str) -> str:
    """Why no service has a sample, from one series of the memory metric (None: there is none)."""
    if probe is None:
        return (f"Prometheus at {url} has no container_memory_working_set_bytes series in the window: "
                f"it does not scrape the kubelets' /metrics/cadvisor (or not for that long)")
    missing = [label for label in EXPECTED_LABELS if label not in probe]
    if missing:
        # last_over_time keeps the metric name in Prometheus 2.42; it is not a label to relabel
        found = ", ".join(sorted(label for label in probe if label != "__name__")) or "none"
        return (f"container_memory_working_set_bytes at {url} has labels {found}; expected "
                f"{', '.join(EXPECTED_LABELS)} (missing {', '.join(missing)}): relabel the cAdvisor scrape job")
    return (f"no samples for any of the {len(services)} services ({', '.join(services)}) in namespace "
            f"{namespace!r} at {url}: their pods have not run in the window (or run under other names)")


def short_window_problem(usage: dict[str, ServiceUsage]) -> Optional[str]:
    """A window starting well before the earliest sample of every service reads less than asked:
    say how much data there is. Two steps of slack: a rate needs a step before its first point."""
    stamps = [series.timestamps[0] for u in usage.values()
              for series in (*u.cpu_cores.values(), *u.memory_bytes.values())]
    if not stamps or not usage:
        return None
    first = next(iter(usage.values()))
    earliest = min(stamps)
    if earliest <= first.window_start + 2 * first.step_seconds:
        return None
    hours = (first.window_end - earliest) / 3600
    return (f"the window starts at {_utc(first.window_start)} but the earliest sample of any service is at "
            f"{_utc(earliest)}: there are {hours:.1f}h of data; use a --window of at most {math.floor(hours) or 1}h")


def check_coverage(client: PrometheusClient, namespace: str, usage: dict[str, ServiceUsage]) -> None:
    """Raise PrometheusError (one line) when no service has samples or the window is longer than
    the data; a single service without samples is left to the strategies ("no samples")."""
    if usage and all(not u.cpu_cores and not u.memory_bytes for u in usage.values()):
        first = next(iter(usage.values()))
        window = first.window_end - first.window_start
        found = client.query_range(LABEL_PROBE.format(window=f"{window:g}"), first.window_end, first.window_end,
                                   first.step_seconds)
        raise PrometheusError(no_samples_problem(namespace, list(usage), found[0][0] if found else None, client.url))
    problem = short_window_problem(usage)
    if problem:
        raise PrometheusError(problem)
