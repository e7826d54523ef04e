"""Prometheus scraping the real node's kubelet, as rightsize reads it.

Debian's Prometheus 2.42 on 127.0.0.1 (started and stopped by pid) scrapes the kubelet of
scripts/node.sh at its port 10250, /metrics/cadvisor and /metrics/resource, with a ServiceAccount
token bound to nodes/metrics only (leanstack.rightsize.local_prometheus.kubelet_scrape_config says
why not the apiserver's node proxy). Checked: both jobs up; CoreDNS (always running on the real node)
has container-level CPU and memory series under namespace/pod/container, read by fetch_usage; the
OOM counter rightsize's evidence can use without kube-state-metrics is exported per container.
"""

from __future__ import annotations

import json
import shutil
import time

import pytest
import requests

from leanstack.rightsize import PrometheusClient, fetch_usage
from leanstack.rightsize.local_prometheus import KUBELET_JOBS, LocalPrometheus, kubelet_scrape_config
from tests.e2e.live import unique_namespace, wait_for
from tests.e2e.node import NODE_IP, NODE_NAME

pytestmark = pytest.mark.e2e

SCRAPE = 5
READER = "leanstack-e2e-kubelet-metrics"


def rbac(namespace: str) -> str:
    """A ServiceAccount allowed to GET the kubelet's metrics and nothing else."""
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "prometheus", "namespace": namespace}},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": READER},
         "rules": [{"apiGroups": [""], "resources": ["nodes/metrics"], "verbs": ["get"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": READER},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": READER},
         "subjects": [{"kind": "ServiceAccount", "name": "prometheus", "namespace": namespace}]},
    ]})


@pytest.fixture(scope="module")
def prometheus(cluster, tmp_path_factory):
    if not shutil.which("prometheus"):
        pytest.fail("prometheus not installed: run scripts/prometheus.sh")
    namespace = unique_namespace("prom")
    cluster.kubectl("create", "namespace", namespace)
    cluster.kubectl("apply", "-f", "-", stdin=rbac(namespace))
    work = tmp_path_factory.mktemp("node-prometheus")
    token = work / "token"
    token.write_text(cluster.kubectl("create", "token", "prometheus", "-n", namespace, "--duration=1h").stdout.strip())
    ca = cluster.directory / "node" / "kubelet" / "pki" / "kubelet.crt"  # the kubelet's self-signed serving cert
    server = LocalPrometheus(work / "data", config=kubelet_scrape_config(NODE_IP, NODE_NAME, ca, token, SCRAPE))
    server.start()
    try:
        yield server
    finally:
        server.stop()
        cluster.kubectl("delete", "clusterrolebinding,clusterrole", READER, "--ignore-not-found")


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
    wait_for(lambda: instant(prometheus, 'count_over_time(container_memory_working_set_bytes'
                                         '{job="kubelet-cadvisor",container="coredns"}[1m]) >= 4'), 60, "4 scrapes")
    end = time.time()
    usage = fetch_usage(PrometheusClient(prometheus.url), "kube-system", ["coredns"], 60, 15, end=end)["coredns"]
    (pod,) = usage.memory_bytes
    assert pod.startswith("coredns-")
    assert min(usage.memory_bytes[pod].values) > 1_000_000  # a working set of bytes, not a 0 placeholder
    assert usage.cpu_cores[pod].values and min(usage.cpu_cores[pod].values) >= 0
    for job in KUBELET_JOBS:  # both endpoints carry the container-level series rightsize asks for
        assert instant(prometheus, f'container_cpu_usage_seconds_total{{job="{job}",namespace="kube-system",'
                                   f'pod="{pod}",container="coredns"}}')


def test_oom_events_are_exported_per_container(prometheus):
    series = instant(prometheus, 'container_oom_events_total{job="kubelet-cadvisor",namespace="kube-system",'
                                 'container="coredns"}')
    assert [s["value"][1] for s in series] == ["0"]
