"""Prometheus scraping the real node's kubelet, as rightsize reads it.

Debian's Prometheus 2.42 on 127.0.0.1 (started and stopped by pid) scrapes the kubelet of
scripts/node.sh at its port 10250, /metrics/cadvisor and /metrics/resource, with a ServiceAccount
token bound to nodes/metrics only (leanstack.rightsize.local_prometheus.kubelet_scrape_config says
why not the apiserver's node proxy). Checked: both jobs up; CoreDNS (always running on the real node)
has container-level CPU and memory series under namespace/pod/container, read by fetch_usage; the
kubelet series that stand in for kube-state-metrics (start times, limit failures) are scraped; after a
fixed load (QUERIES DNS lookups sent to CoreDNS's pod from here), `analyze`'s evidence for CoreDNS
equals an independent PromQL query (subqueries over the same window and step) within 5%.

OOM kills without kube-state-metrics: the sample worker's test-only leak grows it past its memory
limit, the kernel kills it and the kubelet restarts it; `leanstack rightsize`, reading only the
kubelet's series, reports each kill the API reports and raises the worker's memory.
"""

from __future__ import annotations

import calendar
import json
import math
import socket
import struct
import subprocess
import time

import pytest
import requests

from leanstack.kube.quantities import parse_quantity
from leanstack.rightsize import CurrentSpec, Policy, PrometheusClient, Resources, aligned_end, analyze, fetch_usage
from leanstack.rightsize.local_prometheus import KUBELET_JOBS, LocalPrometheus
from tests.e2e.conftest import make_project
from tests.e2e.live import ROOT, unique_namespace, wait_for
from tests.e2e.node import independent_evidence, kubelet_prometheus, point_at_real_node

pytestmark = pytest.mark.e2e

SCRAPE = 5
STEP = 30  # cAdvisor stamps its own samples, up to 15 s apart (housekeeping), whatever the scrape rate
WINDOW = 150
QUERIES = 20000  # the fixed load: DNS queries to CoreDNS, one at a time
@pytest.fixture(scope="module")
def prometheus(cluster, tmp_path_factory):
    with kubelet_prometheus(cluster, tmp_path_factory.mktemp("node-prometheus"), SCRAPE) as server:
        yield server


def instant(prometheus: LocalPrometheus, promql: str) -> list[dict]:
    body = requests.get(f"{prometheus.url}/api/v1/query", params={"query": promql}, timeout=10).json()
    assert body["status"] == "success", body
    return body["data"]["result"]


def test_both_kubelet_jobs_are_scraped_with_the_token(prometheus):
    def up() -> dict:
        found = {r["metric"]["job"]: r["value"][1] for r in instant(prometheus, "up")}
        return found if len(found) == len(KUBELET_JOBS) and set(found.values()) == {"1"} else None
    assert wait_for(up, 60, "both kubelet jobs up") == dict.fromkeys(KUBELET_JOBS, "1")


def test_container_level_series_reach_fetch_usage(prometheus):
    time.sleep(max(0.0, prometheus.started + 3 * STEP - time.time()))  # a whole aligned step scraped
    end = time.time()
    usage = fetch_usage(PrometheusClient(prometheus.url), "kube-system", ["coredns"], 60, STEP, end=end)["coredns"]
    (pod,) = usage.memory_bytes
    assert pod.startswith("coredns-")
    assert min(usage.memory_bytes[pod].values) > 1_000_000  # a working set of bytes, not a 0 placeholder
    assert usage.cpu_cores[pod].values and min(usage.cpu_cores[pod].values) >= 0
    for job in KUBELET_JOBS:  # both endpoints carry the container-level series rightsize asks for
        assert instant(prometheus, f'container_cpu_usage_seconds_total{{job="{job}",namespace="kube-system",'
                                   f'pod="{pod}",container="coredns"}}')


def test_the_kubelet_series_that_stand_in_for_kube_state_metrics_are_scraped(prometheus):
    """Restarts and OOM kills without kube-state-metrics (leanstack.rightsize.metrics): each container's
    start time from /metrics/resource, and the pod cgroup's memory-limit failure count from cAdvisor."""
    start_times = 'container_start_time_seconds{job="kubelet-resource",namespace="kube-system",container="coredns"}'
    limit_hits = 'container_memory_failcnt{job="kubelet-cadvisor",namespace="kube-system",pod=~"coredns-.*",container="",image=""}'
    for promql in (start_times, limit_hits):
        (series,) = wait_for(lambda: instant(prometheus, promql), 60, promql)
        assert float(series["value"][1]) >= 0


def dns_load(server_ip: str, count: int) -> float:
    """Send `count` A queries for kubernetes.default.svc.cluster.local, each awaited; seconds taken."""
    name = b"".join(bytes([len(part)]) + part for part in b"kubernetes.default.svc.cluster.local".split(b".")) + b"\0"
    began = time.monotonic()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(2)
        for query_id in range(count):
            sock.sendto(struct.pack(">HHHHHH", query_id, 0x0100, 1, 0, 0, 0) + name + b"\0\x01\0\x01", (server_ip, 53))
            answer, _ = sock.recvfrom(512)
            assert struct.unpack(">H", answer[:2])[0] == query_id and answer[3] & 0x0F == 0  # our id, NOERROR
    return time.monotonic() - began


def test_evidence_after_a_fixed_load_matches_an_independent_query(cluster, prometheus):
    (pod,) = cluster.get("pods", namespace="kube-system", selector="k8s-app=kube-dns")
    seconds = dns_load(pod["status"]["podIP"], QUERIES)
    print(f"load: {QUERIES} DNS queries in {seconds:.1f}s")
    time.sleep(max(0.0, prometheus.started + WINDOW + 2 * STEP - time.time()))  # the window fully scraped
    end = math.floor(time.time() / STEP) * STEP - STEP  # a little in the past: fully scraped
    spec = {"coredns": CurrentSpec(Resources("100m", "200m", "70Mi", "170Mi"))}
    short = Policy(min_samples=3, min_history_seconds=WINDOW / 2)
    (result,) = analyze(prometheus.url, "kube-system", spec, WINDOW, "krr", STEP, end=end, policy=short)
    independent = independent_evidence(prometheus.url, "kube-system", "coredns", WINDOW, STEP, end)
    evidence = result.evidence
    print(f"evidence {evidence}; independent {independent}; recommended {result.recommended}")
    assert result.recommended is not None, result.reasons
    assert evidence.cpu_p95 > 0
    assert evidence.cpu_p95 == pytest.approx(independent["cpu_p95"], rel=0.05)
    assert evidence.memory_max == pytest.approx(independent["memory_max"], rel=0.05)
    # the range query includes the window's first instant, a subquery's range does not
    assert evidence.cpu_samples - independent["cpu_samples"] in (0, 1)
    assert (evidence.window_seconds, evidence.step_seconds) == (WINDOW, STEP)


LEAK_MIB_PER_S = 4  # the worker is Ready within seconds and reaches dev's 192Mi limit in about 40 s


def worker_pod(cluster, namespace: str) -> dict:
    (pod,) = cluster.get("pods", namespace=namespace, selector="app.kubernetes.io/name=worker")
    return pod


def worker_status(cluster, namespace: str) -> dict:
    return worker_pod(cluster, namespace)["status"]["containerStatuses"][0]


def test_oom_kills_seen_in_the_kubelets_series_raise_the_workers_memory(tmp_path, cluster, prometheus):
    project = make_project(tmp_path)
    namespace = unique_namespace("oom")

    def configure(config: dict) -> None:
        point_at_real_node(config, cluster, namespace, await_timeout=300)
        config["services"]["worker"]["env"]["WORKER_TEST_LEAK_MIB_PER_S"] = str(LEAK_MIB_PER_S)
    project.edit_config("dev", configure)
    project.up("dev")
    # Every run that ended, by container id: the API shows only the last one, and a run can also end
    # otherwise (a liveness probe that times out while the kernel reclaims), so each is recorded before
    # the next replaces it (at least the 10 s back-off apart).
    ended: dict[str, dict] = {}
    try:
        def killed_twice():
            status = worker_status(cluster, namespace)
            if "terminated" in status["lastState"]:
                ended[status["lastState"]["terminated"]["containerID"]] = status["lastState"]["terminated"]
            return [run["reason"] for run in ended.values()].count("OOMKilled") >= 2
        wait_for(killed_twice, 300, "the worker OOM-killed twice", interval=1)
        restarted = worker_status(cluster, namespace)["restartCount"]
        created = calendar.timegm(time.strptime(worker_pod(cluster, namespace)["metadata"]["creationTimestamp"],
                                                "%Y-%m-%dT%H:%M:%SZ"))
        warnings = [f"{e['reason']}: {e['message']}" for e in cluster.events(namespace)
                    if e["involvedObject"].get("name", "").startswith("worker-") and e["type"] == "Warning"]
    finally:
        project.stack("dev").destroy()
    # In order; while the kubelet backs off, the last run has ended but its restart is still to come.
    runs = [(run["reason"], run["exitCode"]) for run in sorted(ended.values(), key=lambda run: run["finishedAt"])]
    assert restarted <= len(runs) <= restarted + 1, f"{restarted} restarts but runs ended {runs}"
    # the pods are gone; their last samples are in Prometheus once the step after them is scraped
    time.sleep(max(0.0, aligned_end(time.time(), STEP) + STEP + 2 * SCRAPE - time.time()))
    end = aligned_end(time.time(), STEP)
    window = end - aligned_end(created, STEP)  # from the worker's first run: the data begins there
    result = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "-m", "leanstack.cli", "rightsize", "--stack", "dev",
         "--prometheus", prometheus.url, "--window", f"{window:.0f}s", "--step", f"{STEP}s", "--until", f"{end:.0f}",
         "--min-samples", "3", "--min-history", "60s", "--format", "json", "--work-dir", str(project.directory)],
        capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    (worker,) = [r for r in json.loads(result.stdout)["recommendations"] if r["service"] == "worker"]
    evidence = worker["evidence"]
    print(f"\nAPI: {restarted} restarts, runs ended {runs}, warnings {warnings}; rightsize evidence {evidence}; "
          f"recommended {worker['recommended']}")
    assert evidence["restart_source"] == "kubelet"
    # A restart is an OOM kill when the run before it was; the API was read before destroy, and one
    # more restart may have come before the pods went.
    assert restarted <= evidence["restarts"] <= restarted + 1
    followed_by_a_restart = [reason for reason, _ in runs[:evidence["restarts"]]]
    assert evidence["oom_kills"] == followed_by_a_restart.count("OOMKilled") >= 1
    limit = parse_quantity(worker["current"]["memory_limit"])
    assert parse_quantity(worker["recommended"]["memory_request"]) >= limit * 6 / 5
    assert any("OOM kill" in reason for reason in worker["reasons"])
