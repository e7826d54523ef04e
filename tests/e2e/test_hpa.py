"""Resource metrics and an HPA that scales for real, on the real node (scripts/node.sh runs
metrics-server behind the v1beta1.metrics.k8s.io APIService):

- `kubectl top pods` reports the running pods' CPU and memory;
- under a bounded load (tools.loadgen, sent from a pod the policy lets reach api), api's HPA raises
  replicas above the minimum and every new pod becomes Ready; once the load stops it scales back to
  the minimum, the scale-down stabilization set short through the stack's own
  `autoscaling.scale_down_stabilization_seconds`, never by patching the HPA.
"""

from __future__ import annotations

import calendar
import subprocess
import time

import pytest

from tests.e2e.conftest import make_project
from tests.e2e.live import ROOT, Cluster, unique_namespace, wait_for
from tests.e2e.node import NODE_NAME, ingress_caller, point_at_real_node

pytestmark = pytest.mark.e2e

MIN, MAX = 1, 3
STABILIZATION = 15  # seconds; the committed stacks keep 300


def test_kubectl_top_reports_the_pods_running_on_the_real_node(cluster):
    wait_for(lambda: cluster.kubectl("top", "pods", "-n", "kube-system", check=False).returncode == 0, 120,
             "kubectl top pods in kube-system")
    rows = [line.split() for line in cluster.kubectl("top", "pods", "-n", "kube-system", "--no-headers").stdout.splitlines()]
    pods = {row[0].rsplit("-", 2)[0]: row for row in rows}
    assert {"coredns", "metrics-server"} <= set(pods)
    assert all(row[1].endswith("m") and row[2].endswith("Mi") for row in rows), rows
    (node,) = [line.split() for line in cluster.kubectl("top", "node", NODE_NAME, "--no-headers").stdout.splitlines()]
    assert node[1].endswith("m")


def ready_pods(cluster: Cluster, namespace: str) -> dict[str, float]:
    """api pod name -> when it became Ready (the API server's clock, epoch seconds)."""
    found = {}
    for pod in cluster.get("pods", namespace=namespace, selector="app.kubernetes.io/name=api"):
        if "job-name" in pod["metadata"]["labels"] or pod["metadata"].get("deletionTimestamp"):
            continue
        for condition in pod["status"].get("conditions", []):
            if condition["type"] == "Ready" and condition["status"] == "True":
                found[pod["metadata"]["name"]] = calendar.timegm(time.strptime(condition["lastTransitionTime"], "%Y-%m-%dT%H:%M:%SZ"))
    return found


def test_api_scales_out_under_load_and_back_to_the_minimum(tmp_path, cluster):
    project = make_project(tmp_path)
    namespace = unique_namespace("hpa")

    def configure(config: dict) -> None:
        point_at_real_node(config, cluster, namespace, await_timeout=300)
        # CPU only: a Pods metric no adapter serves would keep the HPA from ever scaling down.
        config["services"]["api"]["autoscaling"] = {"min_replicas": MIN, "max_replicas": MAX, "cpu_utilization": 50,
                                                    "scale_down_stabilization_seconds": STABILIZATION}
    project.edit_config("staging", configure)
    project.up("staging")
    try:
        hpa = cluster.get("hpa", "api", namespace)
        assert hpa["spec"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == STABILIZATION
        wait_for(lambda: (cluster.get("hpa", "api", namespace)["status"].get("currentMetrics") or [None])[0], 180,
                 "api's HPA reading CPU from metrics-server")
        before = ready_pods(cluster, namespace)
        assert len(before) == MIN
        # The load leaves from a pod labelled as the ingress controller: api's policy admits it.
        with ingress_caller(cluster, f"load-{namespace[-6:]}") as netns:
            service = cluster.get("service", "api", namespace)["spec"]
            url = f"http://{service['clusterIP']}:{service['ports'][0]['port']}/health"
            started = time.time()
            load = subprocess.Popen(["ip", "netns", "exec", netns, "python3", "-m",
                                     "tools.loadgen", url, "--requests", "1000000", "--duration", "300", "--concurrency", "16"],
                                    cwd=ROOT, stdout=subprocess.PIPE, text=True)
            try:
                wait_for(lambda: len(ready_pods(cluster, namespace)) > MIN, 280, "a new api replica Ready under load")
                new = {name: at for name, at in ready_pods(cluster, namespace).items() if name not in before}
                reaction = min(new.values()) - started
                replicas = cluster.get("hpa", "api", namespace)["status"]["desiredReplicas"]
                wait_for(lambda: len(ready_pods(cluster, namespace)) >= cluster.get("hpa", "api", namespace)["status"]["desiredReplicas"],
                         180, "every new api replica Ready")
            finally:
                load.terminate()  # bounded anyway (300 s); stopped here so scale-down starts now
                summary = load.communicate(timeout=30)[0]
            stopped = time.time()
            wait_for(lambda: len(ready_pods(cluster, namespace)) == MIN
                     and cluster.get("deployment", "api", namespace)["spec"]["replicas"] == MIN, 300,
                     "api back to its minimum after the load")
            print(f"\nHPA: load start -> first new replica Ready {reaction:.0f} s (desired {replicas}); "
                  f"load stop -> back to {MIN}: {time.time() - stopped:.0f} s; load: {summary.strip() or 'terminated'}")
            assert replicas > MIN
    finally:
        project.stack("staging").destroy()
