"""The Prometheus client's one-line errors and sample hygiene, against a stub HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from array import array
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

from leanstack.rightsize import PrometheusClient, PrometheusError, fetch_usage
from leanstack.rightsize.local_prometheus import free_port
from leanstack.rightsize.metrics import _chunks, no_samples_problem, short_window_problem
from leanstack.rightsize.model import PodSeries, ServiceUsage


class Stub(BaseHTTPRequestHandler):
    reply: tuple[int, str, str] = (200, "application/json", "{}")

    def do_POST(self):  # noqa: N802 - http.server's naming
        query = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode()).get("query", [""])[0]
        # a metric name in the query picks its own reply; any other query gets `reply`
        replies = getattr(self.server, "by_metric", {})
        status, kind, body = next((r for metric, r in replies.items() if metric in query), self.server.reply)
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args):
        pass


@pytest.fixture
def stub():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Stub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def url(server):
    return f"http://127.0.0.1:{server.server_address[1]}"


def matrix(*series):
    return json.dumps({"status": "success", "data": {"resultType": "matrix", "result": list(series)}})


def test_unreachable_url():
    client = PrometheusClient(f"http://127.0.0.1:{free_port()}", timeout=2)
    with pytest.raises(PrometheusError, match=r"^cannot reach Prometheus at http://127\.0\.0\.1:\d+: ") as error:
        client.query_range("up", 0, 600, 300)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("reply, message", [
    ((200, "text/html", "<html>Grafana</html>"), "answered HTTP 200 with text/html, not the Prometheus API's JSON"),
    ((200, "application/json", '{"data": {}}'), "JSON without a status field"),
    ((400, "application/json", '{"status": "error", "errorType": "bad_data", "error": "parse error:\\n bad"}'),
     r"rejected the query \(bad_data\): parse error: bad$"),
    ((200, "application/json", '{"status": "success", "data": {"resultType": "vector", "result": []}}'), "expected 'matrix'"),
])
def test_answers_that_are_not_usable(stub, reply, message):
    stub.reply = reply
    with pytest.raises(PrometheusError, match=message):
        PrometheusClient(url(stub)).query_range("up", 0, 600, 300)


def test_nan_and_inf_samples_are_dropped_and_counted(stub):
    labels = {"pod": "api-1", "container": "api"}
    stub.reply = (200, "application/json", matrix({"metric": labels, "values": [[0, "1"], [300, "NaN"], [600, "+Inf"], [900, "2"]]}))
    [(got_labels, series, dropped)] = PrometheusClient(url(stub)).query_range("q", 0, 900, 300)
    assert (got_labels, list(series.values), dropped) == (labels, [1.0, 2.0], 2)


def test_empty_results_give_services_without_samples(stub):
    stub.reply = (200, "application/json", matrix())
    usage = fetch_usage(PrometheusClient(url(stub)), "shop", ["api", "web"], 3600, 300, end=7200)
    assert usage["api"].cpu_cores == {} and usage["web"].restarts == 0


def test_restart_counter_resets_and_oom_flags(stub):
    labels = {"pod": "api-1", "container": "api"}
    restarts = {"metric": labels, "values": [[0, "4"], [300, "5"], [600, "1"], [900, "3"]]}  # reset before 600
    stub.reply = (200, "application/json", matrix(restarts))
    # every query gets the same answer here, so the OOM flag reads 1 (>=1) wherever restarts are >= 1
    usage = fetch_usage(PrometheusClient(url(stub)), "shop", ["api"], 900, 300, end=900)["api"]
    assert (usage.restarts, usage.oom_kills, usage.last_oom_at) == (4, 4, 900.0)


def kubelet_usage(stub, pod: str, restarts_per_step: list, limit_failures: list, window: int, step: int):
    """fetch_usage of service api where no kube-state-metrics series exist: the restarts per step
    (as KUBELET_RESTARTS_QUERY counts them) and the pod cgroup's limit failures, as [time, value]."""
    stub.reply = (200, "application/json", matrix())
    stub.by_metric = {
        "container_start_time_seconds": (200, "application/json", matrix(
            {"metric": {"pod": pod, "container": "api"}, "values": [[t, str(v)] for t, v in restarts_per_step]})),
        "container_memory_failcnt": (200, "application/json", matrix(
            {"metric": {"pod": pod}, "values": [[t, str(v)] for t, v in limit_failures]})),
    }
    return fetch_usage(PrometheusClient(url(stub)), "shop", ["api"], window, step, end=window)["api"]


def test_without_kube_state_metrics_restarts_and_oom_kills_come_from_the_kubelet(stub):
    # the pod cgroup hit its memory limit during the step ending at 300 only
    usage = kubelet_usage(stub, "api-1", [[0, 0], [300, 2], [600, 0], [900, 1]], [[0, 5], [300, 9], [600, 9], [900, 9]],
                          900, 300)
    assert (usage.restarts, usage.oom_kills, usage.last_oom_at, usage.restart_source) == (3, 2, 300.0, "kubelet")


def test_a_pod_created_inside_the_window_counts_its_first_limit_hit(stub):
    usage = kubelet_usage(stub, "api-2", [[600, 1], [900, 0]], [[600, 3], [900, 3]], 900, 300)
    assert (usage.restarts, usage.oom_kills, usage.last_oom_at) == (1, 1, 600.0)


def test_chunks_cover_the_window_once():
    chunks = list(_chunks(0, 3000, 300, 4))
    assert chunks == [(0, 900), (1200, 2100), (2400, 3000)]


def test_names_are_validated():
    with pytest.raises(ValueError, match="not a Kubernetes name"):
        fetch_usage(PrometheusClient("http://127.0.0.1:1"), "shop", ['api"}or'], 3600)


def test_until_reads_rfc3339_or_unix_seconds_and_two_runs_agree_on_the_window():
    from leanstack.rightsize import aligned_end, parse_instant

    assert parse_instant("2026-12-02T03:00:00Z") == parse_instant("1796180400") == 1796180400.0
    assert parse_instant("2026-12-02T04:00:00+01:00") == 1796180400.0
    assert parse_instant(None, now=1234.5) == 1234.5
    # two "now"s that straddle a step boundary would read different samples; one --until does not
    assert aligned_end(parse_instant("1796180699"), 300) == aligned_end(parse_instant("1796180400"), 300)
    for bad, message in (("soon", "is not a time"), ("2026-12-02T03:00:00", "has no time zone")):
        with pytest.raises(ValueError, match=message):
            parse_instant(bad)


def usage_from(first_sample: float, window_start: float = 0.0) -> dict:
    series = PodSeries(array("d", [first_sample, 7200.0]), array("d", [1.0, 1.0]))
    return {"api": ServiceUsage("api", "shop", window_start, 7200.0, 300.0, {"api-1": series}, {"api-1": series}),
            "web": ServiceUsage("web", "shop", window_start, 7200.0, 300.0)}


def test_series_under_other_label_names_name_both_sets():
    line = no_samples_problem("shop", ["api"], {"__name__": "container_memory_working_set_bytes", "namespace": "shop",
                                                    "pod_name": "api-1", "container_name": "api"},
                              "http://p")
    assert line == ("container_memory_working_set_bytes at http://p has labels container_name, namespace, pod_name; "
                    "expected namespace, pod, container (missing pod, container): relabel the cAdvisor scrape job")


def test_pods_that_never_ran_and_an_unscraped_kubelet_are_told_apart():
    labels = {"namespace": "other", "pod": "x-1", "container": "x"}
    assert no_samples_problem("shop", ["api", "web"], labels, "http://p") == (
        "no samples for any of the 2 services (api, web) in namespace 'shop' at http://p: "
        "their pods have not run in the window (or run under other names)")
    assert "does not scrape the kubelets' /metrics/cadvisor" in no_samples_problem("shop", ["api"], None, "http://p")


def test_a_window_longer_than_the_data_says_how_much_there_is():
    assert short_window_problem(usage_from(600.0)) is None  # within two steps of the start
    assert short_window_problem(usage_from(3600.0)) == (
        "the window starts at 1970-01-01T00:00:00Z but the earliest sample of any service is at "
        "1970-01-01T01:00:00Z: there are 1.0h of data; use a --window of at most 1h")
    assert short_window_problem({}) is None


def test_a_kill_counts_for_the_restart_that_follows_it_after_the_back_off(stub):
    # killed in the step ending at 300 (the limit failures rose), restarted after the back-off in
    # the step ending at 900; a plain restart (no rise) at 1200
    usage = kubelet_usage(stub, "api-1", [[0, 0], [300, 0], [600, 0], [900, 1], [1200, 1]],
                          [[0, 2], [300, 7], [600, 7], [900, 7], [1200, 7]], 1200, 300)
    assert (usage.restarts, usage.oom_kills, usage.last_oom_at) == (2, 1, 900.0)


def test_two_kills_two_steps_apart_are_two_even_when_the_first_restart_could_reach_both_rises(stub):
    # kill 1 seen at 60 with its restart; run 2 is killed and seen at 90, restarted at 120 (back-off)
    usage = kubelet_usage(stub, "api-1", [[0, 0], [30, 0], [60, 1], [90, 0], [120, 1]],
                          [[0, 0], [30, 0], [60, 40], [90, 85], [120, 85]], 120, 30)
    assert (usage.restarts, usage.oom_kills, usage.last_oom_at) == (2, 2, 120.0)
