"""The right-sizing loop on the pods that produced the numbers, on the real node:

dev (a scratch copy, its own namespace) runs; a fixed, recorded load (tools.loadgen: LOAD_REQUESTS
GETs of api's /ready, which asks Postgres and Redis each time) runs from a pod the policy lets reach
api; Prometheus scrapes the kubelet. Then `leanstack rightsize` over exactly that load's window: its
evidence for api matches an independent query of the same Prometheus within 5%; `--write` patches
Pulumi.dev.yaml (its comments kept); `leanstack cost` (a real preview) prints exactly the delta
rightsize priced; `pulumi up` rolls the pods to the written requests, and under the same load again
every pod stays Ready and unrestarted and every request succeeds. Each stage's wall time is printed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Optional

import pytest
import yaml

from leanstack.kube.quantities import parse_quantity
from leanstack.rightsize import aligned_end
from tests.e2e.conftest import Project, make_project
from tests.e2e.live import ROOT, Cluster, unique_namespace, wait_for
from tests.e2e.node import independent_evidence, ingress_caller, kubelet_prometheus, point_at_real_node

pytestmark = pytest.mark.e2e

SCRAPE = 5
STEP = 30
LOAD_REQUESTS = 7200  # about 150 s here: four whole 30 s steps inside it
LOAD_SECONDS = 300  # the bound; the fixed count ends it first
COMMENT = "# kept by rightsize --write: a comment of the loop test"
SETTLE_SECONDS = 120  # after the roll: the new pods run this long before their restarts are counted


def load(cluster: Cluster, namespace: str, netns: str) -> dict:
    service = cluster.get("service", "api", namespace)["spec"]
    url = f"http://{service['clusterIP']}:{service['ports'][0]['port']}/ready"
    result = subprocess.run(["ip", "netns", "exec", netns, sys.executable, "-m", "tools.loadgen", url,
                             "--requests", str(LOAD_REQUESTS), "--duration", str(LOAD_SECONDS), "--concurrency", "4"],
                            cwd=ROOT, capture_output=True, text=True, timeout=LOAD_SECONDS + 60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def pods_by_service(cluster: Cluster, namespace: str) -> dict[str, dict]:
    """Running (not Job) pods of the stack by service name; each must be the only one."""
    found = {}
    for pod in cluster.get("pods", namespace=namespace):
        if "job-name" in pod["metadata"]["labels"] or pod["metadata"].get("deletionTimestamp"):
            continue
        service = pod["metadata"]["labels"]["app.kubernetes.io/name"]
        assert service not in found, f"two {service} pods"
        found[service] = pod
    return found


def ready_and_restarts(pod: dict) -> tuple[bool, int]:
    ready = any(c["type"] == "Ready" and c["status"] == "True" for c in pod["status"].get("conditions", []))
    return ready, sum(c["restartCount"] for c in pod["status"].get("containerStatuses", []))


def leanstack(project: Project, *args: str, peak_rss: Optional[list] = None) -> subprocess.CompletedProcess:
    """The CLI on the scratch project; with `peak_rss`, under GNU time, whose last stderr line (its
    peak resident set in KiB) is appended there and taken off stderr."""
    command = [str(ROOT / ".venv" / "bin" / "python"), "-m", "leanstack.cli", *args, "--work-dir", str(project.directory)]
    measured = ["/usr/bin/time", "-f", "%M", *command] if peak_rss is not None else command
    result = subprocess.run(measured, env=project.env, capture_output=True, text=True, timeout=600, cwd=ROOT)
    if peak_rss is not None:
        *rest, last = result.stderr.rstrip("\n").split("\n")
        peak_rss.append(int(last))
        result.stderr = "\n".join(rest)
    return result


def seed_rule(evidence: dict) -> tuple[str, str]:
    """The seed guide's "monitor, then cut": requests set to the window's p95 CPU and max memory."""
    return f"{evidence['cpu_p95'] * 1000:.0f}m", f"{evidence['memory_max'] / 2**20:.1f}Mi"


def test_rightsize_write_cost_and_up_on_the_pods_that_produced_the_numbers(tmp_path, cluster):
    project = make_project(tmp_path)
    namespace = unique_namespace("loop")
    stack_file = project.directory / "Pulumi.dev.yaml"
    project.edit_config("dev", lambda config: point_at_real_node(config, cluster, namespace, await_timeout=300))
    stack_file.write_text(f"{COMMENT}\n{stack_file.read_text()}")
    timings: dict[str, float] = {}

    def timed(stage: str, began: float) -> None:
        timings[stage] = round(time.time() - began, 1)

    with kubelet_prometheus(cluster, tmp_path / "prometheus", SCRAPE) as prometheus:
        began = time.time()
        project.up("dev")
        timed("first up", began)
        try:
            with ingress_caller(cluster, f"load-{namespace[-6:]}") as netns:
                wait_for(lambda: all(ready_and_restarts(p)[0] for p in pods_by_service(cluster, namespace).values()),
                         120, "every dev pod Ready")
                # the window: whole steps inside the load, after every pod has been scraped for a step
                time.sleep(max(0.0, aligned_end(time.time(), STEP) + STEP - time.time()))
                began = time.time()
                first = load(cluster, namespace, netns)
                timed("load", began)
                assert first["ok"] == first["sent"] == LOAD_REQUESTS, first
                end = aligned_end(time.time(), STEP)
                window = end - (aligned_end(began, STEP) + STEP)
                time.sleep(max(0.0, end + STEP - time.time()))  # the window's last step fully scraped

                options = ("rightsize", "--stack", "dev", "--prometheus", prometheus.url, "--window", f"{window:.0f}s",
                           "--step", f"{STEP}s", "--until", f"{end:.0f}", "--min-samples", "3",
                           "--min-history", f"{window / 2:.0f}s", "--format", "json")
                began = time.time()
                peak_rss: list[int] = []
                dry = leanstack(project, *options, peak_rss=peak_rss)
                assert dry.returncode == 0, dry.stderr
                timed("rightsize", began)
                report = json.loads(dry.stdout)
                compared = {r["service"]: (seed_rule(r["evidence"]), r["recommended"] and (
                    r["recommended"]["cpu_request"], r["recommended"]["memory_request"])) for r in report["recommendations"]}
                (api,) = [r for r in report["recommendations"] if r["service"] == "api"]
                independent = independent_evidence(prometheus.url, namespace, "api", window, STEP, end)
                evidence = api["evidence"]
                assert evidence["cpu_p95"] == pytest.approx(independent["cpu_p95"], rel=0.05)
                assert evidence["memory_max"] == pytest.approx(independent["memory_max"], rel=0.05)
                assert evidence["cpu_samples"] - independent["cpu_samples"] in (0, 1)
                assert report["changes"], report["recommendations"]

                written = leanstack(project, *options, "--write")
                assert written.returncode == 0, written.stderr
                assert json.loads(written.stdout) == report  # the same --until: the same samples, the same change
                text = stack_file.read_text()
                assert text.startswith(COMMENT)
                services = yaml.safe_load(text)["config"]["leanstack:services"]
                for change in report["changes"]:
                    print(f"change: {change}")

                began = time.time()
                cost = leanstack(project, "cost", "--stack", "dev", "--format", "json")
                assert cost.returncode == 0, cost.stderr
                timed("cost preview", began)
                assert json.loads(cost.stdout)["total"] == report["cost_delta"]["total"]

                first_pods = pods_by_service(cluster, namespace)
                before = {name: ready_and_restarts(pod)[1] for name, pod in first_pods.items()}
                began = time.time()
                project.up("dev")
                timed("second up", began)
                rolled = pods_by_service(cluster, namespace)
                for recommendation in report["recommendations"]:
                    new = recommendation["recommended"]
                    if not new:
                        continue
                    name = recommendation["service"]
                    declared = services[name]["resources"]
                    (container,) = [c for c in rolled[name]["spec"]["containers"] if c["name"] == name]
                    for kind in ("requests", "limits"):
                        for resource in ("cpu", "memory"):
                            assert parse_quantity(container["resources"][kind][resource]) == parse_quantity(
                                declared[kind][resource]) == parse_quantity(new[f"{resource}_{kind[:-1]}"]), (name, kind)

                rolled_at = time.time()
                second = load(cluster, namespace, netns)
                timed("same load again", rolled_at)
                # long enough on the new sizes for a failing liveness probe to restart a pod (the slow profile: 4 x 15 s)
                time.sleep(max(0.0, rolled_at + SETTLE_SECONDS - time.time()))
                after = pods_by_service(cluster, namespace)
                # a pod the roll replaced has never restarted on its new sizes; one it kept, no more than before
                assert {name: ready_and_restarts(pod) for name, pod in after.items()} == {
                    name: (True, before[name] if pod["metadata"]["uid"] == first_pods[name]["metadata"]["uid"] else 0)
                    for name, pod in rolled.items()}
                assert second["ok"] == second["sent"] == LOAD_REQUESTS, second
        finally:
            project.stack("dev").destroy()
    print(f"\nloop: first load {first}; second load {second}; restarts before the roll {before}; "
          f"api evidence {evidence} vs independent {independent}; stage seconds {timings}; rightsize peak RSS "
          f"{peak_rss[0] / 1024:.0f} MiB; requests (cpu, memory) by the seed's p95/max rule vs recommended {compared}")
