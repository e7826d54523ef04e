"""Pods that really run: the dev stack, built here, deployed by the real engine to the local cluster's
real node (scripts/node.sh: kubelet, containerd, kube-proxy, kube-router, CoreDNS), and every promise
checked on the running processes and by real packets:

- every pod Ready on the real node, none on a kwok node;
- hardening as the kernel reports it for every running container (UID/GID, no capabilities,
  no_new_privs, seccomp filter, read-only root, /tmp writable, secret files not world-readable);
- cluster DNS from every pod, and nothing outside the cluster resolves;
- network policy by TCP connects from inside each pod's network namespace equal the table the stack
  config implies (leanstack.scan.reachability, the one cyclonus agreed with), and a negative control;
- a killed main process is restarted by the kubelet;
- faults with orders in Postgres, none lost: pods deleted in the middle of `up`, the kubelet stopped
  until the node is NotReady and started again.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import socket
import subprocess
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest
from pulumi import automation as auto

from leanstack.config.schema import StackConfig
from leanstack.config.stack_file import load_stack_file
from leanstack.kube import labels
from leanstack.scan import reachability as r
from tests.e2e.conftest import Project, make_project
from tests.e2e.live import ROOT, Cluster, unique_namespace, wait_for
from tests.e2e.node import (NODE_IP, NODE_NAME, agnhost_pod, registry_ref, connect_from, containers, live_model, measured_table,
                            http, netns_by_ip, point_at_real_node, port_forward, probe_peers, ready_pod)

pytestmark = pytest.mark.e2e

NODE_SH = ROOT / "scripts" / "node.sh"


@dataclass
class Running:
    project: Project
    namespace: str
    config: StackConfig

    def pods(self, cluster: Cluster) -> dict[str, dict]:
        """service -> its (one) running pod."""
        return {pod["metadata"]["labels"][labels.SERVICE]: pod for pod in cluster.get("pods", namespace=self.namespace)
                if pod["status"].get("phase") == "Running" and labels.SERVICE in pod["metadata"]["labels"]}


@pytest.fixture(scope="module")
def dev(tmp_path_factory, cluster) -> Running:
    project = make_project(tmp_path_factory.mktemp("node-dev"))
    namespace = unique_namespace("node-dev")
    project.edit_config("dev", lambda config: point_at_real_node(config, cluster, namespace, await_timeout=300))
    project.up("dev")
    yield Running(project, namespace, load_stack_file(project.directory / "Pulumi.dev.yaml"))
    project.stack("dev").destroy()


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_the_staging_and_prod_stacks_run_on_the_real_node_too(tmp_path, cluster, stack):
    """Local copies, as committed (replicas, HPAs, PDBs, zone spread with ScheduleAnyway: one node
    satisfies it), images built here: every pod Ready on the real node, the migration completed."""
    project = make_project(tmp_path)
    namespace = unique_namespace(f"node-{stack}")
    project.edit_config(stack, lambda config: point_at_real_node(config, cluster, namespace, await_timeout=300))
    try:
        project.up(stack)
        config = load_stack_file(project.directory / f"Pulumi.{stack}.yaml")
        pods = cluster.get("pods", namespace=namespace)
        running = [p for p in pods if p["status"].get("phase") == "Running"]
        assert {p["metadata"]["labels"][labels.SERVICE] for p in running} == set(config.services)
        assert all(p["spec"]["nodeName"] == NODE_NAME and all(s["ready"] for s in p["status"]["containerStatuses"])
                   for p in running)
        assert [p["status"]["phase"] for p in pods if "job-name" in p["metadata"]["labels"]] == ["Succeeded"]
    finally:
        project.stack(stack).destroy()


def test_the_real_node_is_ready_beside_tainted_kwok_nodes_and_runs_cluster_dns(cluster):
    nodes = {node["metadata"]["name"]: node for node in cluster.get("nodes")}
    real = nodes[NODE_NAME]
    assert {c["type"]: c["status"] for c in real["status"]["conditions"]}["Ready"] == "True"
    assert {a["type"]: a["address"] for a in real["status"]["addresses"]}["InternalIP"] == NODE_IP
    assert real["status"]["nodeInfo"]["kubeletVersion"] == "v1.33.13"
    assert real["status"]["nodeInfo"]["containerRuntimeVersion"].startswith("containerd://1.6")
    assert not real["spec"].get("taints")
    fakes = [node for name, node in nodes.items() if name != NODE_NAME]
    assert fakes and all({"key": "kwok.x-k8s.io/node", "value": "fake", "effect": "NoSchedule"} in node["spec"]["taints"]
                         for node in fakes)
    (dns,) = cluster.get("pods", namespace="kube-system", selector="k8s-app=kube-dns")
    assert dns["spec"]["nodeName"] == NODE_NAME and dns["status"]["podIP"].startswith("10.244.0.")
    assert cluster.get("service", "kube-dns", "kube-system")["spec"]["clusterIP"] == "10.96.0.10"
    # The API server reaches the kubelet (logs, exec) at the node's InternalIP.
    logs = cluster.kubectl("-n", "kube-system", "logs", dns["metadata"]["name"]).stdout
    assert "CoreDNS-1.15.0" in logs


def test_every_pod_of_the_dev_stack_is_ready_on_the_real_node(dev, cluster):
    pods = dev.pods(cluster)
    assert set(pods) == set(dev.config.services)
    for service, pod in pods.items():
        assert pod["spec"]["nodeName"] == NODE_NAME, service
        assert all(s["ready"] and s["started"] for s in pod["status"]["containerStatuses"]), (service, pod["status"])
    assert not [pod for pod in cluster.get("pods", namespace=dev.namespace) if pod["spec"].get("nodeName") != NODE_NAME]


def test_hardening_holds_in_every_running_container(dev, cluster):
    checked = []
    for service, pod in dev.pods(cluster).items():
        security = dev.config.services[service].security
        for name, proc in containers(pod).items():
            where = f"{service}/{name} (pid {proc.pid})"
            assert (proc.uid, proc.gid) == (security.run_as_user, security.run_as_group), where
            assert proc.cap_eff == 0, where
            assert proc.no_new_privs == 1, where
            assert proc.seccomp == 2, where  # a seccomp filter: RuntimeDefault
            with pytest.raises(OSError) as refused:
                (proc.root / "leanstack-write-probe").write_text("x")
            assert refused.value.errno == errno.EROFS, where
            scratch = proc.root / "tmp" / f"leanstack-write-probe-{os.getpid()}"
            scratch.write_text("x")
            scratch.unlink()
            for secret in sorted((proc.root / "run" / "secrets" / "leanstack").glob("[A-Z]*")):
                mode = secret.stat().st_mode
                assert mode & 0o007 == 0, f"{where}: {secret.name} is readable by others ({oct(mode)})"
                read = subprocess.run(["cat", str(secret)], user=proc.uid, group=proc.gid,
                                      extra_groups=[security.fs_group], capture_output=True)
                assert read.returncode == 0 and read.stdout, f"{where}: its UID cannot read {secret.name}"
            checked.append(where)
    assert len(checked) >= len(dev.config.services)


def test_cluster_dns_answers_every_pod_and_resolves_nothing_outside(dev, cluster):
    for service, pod in dev.pods(cluster).items():
        peer = "postgres" if service != "postgres" else "redis"
        name = pod["metadata"]["name"]
        answer = exec_python_or_getent(cluster, dev.namespace, name, peer)
        service_ip = cluster.get("service", peer, dev.namespace)["spec"]["clusterIP"]
        assert answer == service_ip, (service, answer)
    api = dev.pods(cluster)["api"]["metadata"]["name"]
    assert exec_python_or_getent(cluster, dev.namespace, api, "example.com") is None


def exec_python_or_getent(cluster: Cluster, namespace: str, pod: str, host: str):
    """The address `host` resolves to inside `pod`, with the pod's own resolv.conf (None: no answer)."""
    python = ["python", "-c", f"import socket; print(socket.gethostbyname({host!r}))"]
    result = cluster.kubectl("-n", namespace, "exec", pod, "--", *python, check=False, timeout=60)
    if result.returncode != 0 and "executable file not found" in result.stderr:
        result = cluster.kubectl("-n", namespace, "exec", pod, "--", "getent", "hosts", host, check=False, timeout=60)
    return result.stdout.split()[0] if result.returncode == 0 and result.stdout.strip() else None


# --- network policy by packets -----------------------------------------------------------------

@pytest.fixture(scope="module")
def probe_pods(dev, cluster):
    with probe_peers(cluster, dev.config) as peers:
        yield peers


def test_real_connections_equal_the_table_the_stack_config_implies(dev, cluster, probe_pods):
    model = live_model(dev.config, dev.namespace, cluster, *probe_pods)
    expected, measured = measured_table(model, dev.config)
    differences = r.compare(expected, measured)
    assert differences == [], "\n".join(differences)
    allowed = sum(measured.values())
    assert 0 < allowed < len(measured)  # both kinds of cells were really exercised
    print(f"\nreachability by packets: {len(measured)} cells, {allowed} open, {len(measured) - allowed} refused, 0 differences")


def test_egress_to_an_undeclared_listener_on_the_node_is_refused(dev, cluster, probe_pods):
    listener = socket.create_server((NODE_IP, 0))
    port = listener.getsockname()[1]
    accepting = threading.Thread(target=lambda: [listener.accept() for _ in range(1)], daemon=True)
    accepting.start()
    try:
        netns = netns_by_ip()
        _, outsider = probe_pods
        api = dev.pods(cluster)["api"]
        # The control: a pod no policy selects reaches the listener, so it really answers.
        assert connect_from(netns[outsider["status"]["podIP"]], [f"{NODE_IP}:{port}"]) == {f"{NODE_IP}:{port}": "open"}
        assert connect_from(netns[api["status"]["podIP"]], [f"{NODE_IP}:{port}"])[f"{NODE_IP}:{port}"] != "open"
    finally:
        listener.close()


def test_without_its_own_policy_a_service_is_cut_off_by_default_deny(dev, cluster, probe_pods):
    """Negative control: delete web's NetworkPolicy. Only default-deny and allow-dns select web then,
    so every cell web sent or received closes except its DNS, and no other cell changes."""
    model = live_model(dev.config, dev.namespace, cluster, *probe_pods)
    web, dns = f"{dev.namespace}/web", f"{r.DNS_NAMESPACE}/kube-dns"
    _, before = measured_table(model, dev.config)
    expected = {key: ok and (web not in key[:2] or key[:2] == (web, dns)) for key, ok in before.items()}
    policy = cluster.get("networkpolicy", "web", dev.namespace)
    cluster.kubectl("-n", dev.namespace, "delete", "networkpolicy", "web")
    try:
        deadline = time.monotonic() + 90  # the enforcer applies a policy change within its sync (slower under load: a CI run saw 2 cells still open after 30 s)
        while (after := measured_table(model, dev.config)[1]) != expected and time.monotonic() < deadline:
            time.sleep(1)
        differences = r.compare(expected, after)
        assert differences == [], "\n".join(differences)
        assert any(before[key] and not after[key] for key in before)  # some cells really closed
    finally:
        for field in ("resourceVersion", "uid", "creationTimestamp", "generation", "managedFields"):
            policy["metadata"].pop(field, None)
        cluster.kubectl("apply", "-f", "-", stdin=json.dumps(policy))


def test_a_killed_main_process_is_restarted_by_the_kubelet(dev, cluster):
    pod = dev.pods(cluster)["worker"]
    name, before = pod["metadata"]["name"], pod["status"]["containerStatuses"][0]["restartCount"]
    (process,) = containers(pod).values()
    os.kill(process.pid, signal.SIGKILL)
    restarted = wait_for(lambda: ready_pod(cluster, dev.namespace, name) if
                         cluster.get("pod", name, dev.namespace)["status"]["containerStatuses"][0]["restartCount"] > before
                         else None, 120, f"{name} restarted and Ready")
    (again,) = containers(restarted).values()
    assert again.pid != process.pid and again.uid == process.uid


def test_a_shell_less_container_is_debugged_with_the_floor_debug_variant_as_an_ephemeral_container(dev, cluster):
    """docs/images.md's debug story on the real node: api runs on the floor (no shell), so `kubectl exec
    -- sh` fails; `kubectl debug --profile=restricted --target=api` with the -floor-debug image gets a
    shell that sees api's processes and, as the same user, its files under /proc/<pid>/root."""
    pod = dev.pods(cluster)["api"]["metadata"]["name"]
    no_shell = cluster.kubectl("-n", dev.namespace, "exec", pod, "-c", "api", "--", "sh", "-c", "true", check=False)
    assert no_shell.returncode != 0 and "executable file not found" in no_shell.stderr + no_shell.stdout
    debug = registry_ref("leanstack/python:3.11-floor-debug")
    script = "ps -o user,args; ls /proc/1/root/app/app"  # the target's main process is pid 1 of the namespace it shares
    cluster.kubectl("-n", dev.namespace, "debug", pod, f"--image={debug}", "--profile=restricted", "--target=api",
                    "-c", "debugger", "--", "sh", "-c", script)

    def finished():
        statuses = cluster.get("pod", pod, dev.namespace)["status"].get("ephemeralContainerStatuses", [])
        return next((s["state"]["terminated"] for s in statuses if s["name"] == "debugger" and "terminated" in s["state"]), None)
    exit_code = wait_for(finished, 120, "the debugger to finish")["exitCode"]
    shown = cluster.kubectl("-n", dev.namespace, "logs", pod, "-c", "debugger").stdout
    assert exit_code == 0 and "python -m app" in shown and "__init__.py" in shown, shown


# --- the system at work, and what a broken change does -----------------------------------------

def test_an_order_goes_from_api_through_redis_and_the_worker_to_postgres_and_back(dev, cluster):
    """Through a port-forward (API server -> kubelet -> the pod): api queues the order in Redis, the
    worker writes it to Postgres with the password from its secret file, api reads it back."""
    with api_port_forward(cluster, dev) as base:
        status, placed = http(f"{base}/api/orders", {"item": "beta", "quantity": 2})
        assert status == 202 and placed["status"] == "queued"
        order = wait_for(lambda: (lambda s, b: b if s == 200 else None)(*http(f"{base}/api/orders/{placed['id']}")),
                         30, "the worker to write the order")
        assert (order["item"], order["quantity"], order["total"]) == ("beta", 2, "4.50")


# --- faults with running pods: orders written before each fault are all in Postgres after it -----

def test_a_pod_deleted_in_the_middle_of_up_is_replaced_and_up_converges_with_no_order_lost(dev, cluster):
    """While `up` waits for a rolling api, the new api pod and the database's pod are deleted: the
    controllers replace both, `up` still succeeds, and Postgres (on its volume) kept every order."""
    placed = place_orders(cluster, dev, 5)
    database = dev.pods(cluster)["postgres"]["metadata"]
    dev.project.edit_config("dev", lambda config: config["services"]["api"]["env"].update(FAULT_ROLLOUT="mid-up"))
    outcome: dict = {}
    up = threading.Thread(target=lambda: outcome.update(result=run_up(dev)))
    up.start()
    try:
        rolling = wait_for(lambda: next((pod["metadata"]["name"] for pod in cluster.get(
            "pods", namespace=dev.namespace, selector=f"{labels.NAME}=api") if fault_rollout_of(pod) == "mid-up"), None),
            120, "a serving pod of api's new template (the migration done, the rollout under way)")
        assert up.is_alive(), "up ended before the fault could be injected"
        cluster.kubectl("-n", dev.namespace, "delete", "pod", rolling, database["name"], "--wait=false")
    finally:
        up.join(timeout=600)
    assert isinstance(outcome.get("result"), auto.UpResult), outcome
    pods = wait_for(lambda: (lambda found: found if set(found) >= {"api", "postgres"} and all(
        ready_pod(cluster, dev.namespace, pod["metadata"]["name"]) for pod in found.values()) else None)(dev.pods(cluster)),
        120, "every service Ready after the deletions")
    assert pods["postgres"]["metadata"]["uid"] != database["uid"]  # the database pod really was replaced
    assert fault_rollout_of(pods["api"]) == "mid-up" and pods["api"]["metadata"]["name"] != rolling
    assert placed <= orders_in_postgres(cluster, dev)


def test_a_stopped_kubelet_makes_the_node_not_ready_and_once_started_every_pod_is_back_with_no_order_lost(dev, cluster):
    """The kubelet stops posting status: after the controller-manager's grace period (50 s, the 1.33
    default, set in scripts/cluster.sh) the node is NotReady and its pods unready, while their
    containers keep running; started again, the node and every pod are Ready, none was evicted (the
    default not-ready toleration is 300 s) and no order is lost."""
    placed = place_orders(cluster, dev, 5)
    before = {service: pod["metadata"]["uid"] for service, pod in dev.pods(cluster).items()}
    running = {service: {c.pid for c in containers(pod).values()} for service, pod in dev.pods(cluster).items()}
    kubelet = node_pid(cluster, "kubelet")
    stopped_at = time.monotonic()
    os.kill(kubelet, signal.SIGTERM)
    wait_for(lambda: not process_alive(kubelet), 30, "the kubelet to exit")
    try:
        wait_for(lambda: node_ready(cluster) != "True", 50 + 60, f"{NODE_NAME} NotReady")
        not_ready_after = time.monotonic() - stopped_at
        assert not_ready_after >= 40, f"NotReady after only {not_ready_after:.0f} s"
        wait_for(lambda: not any(ready_pod(cluster, dev.namespace, pod["metadata"]["name"])
                                 for pod in dev.pods(cluster).values()), 60, "the node's pods marked unready")
        assert all(process_alive(pid) for pids in running.values() for pid in pids)  # the containers ran on
    finally:
        subprocess.run([str(NODE_SH), "up"], check=True, capture_output=True, text=True, timeout=600)
    wait_for(lambda: node_ready(cluster) == "True", 120, f"{NODE_NAME} Ready again")
    wait_for(lambda: all(ready_pod(cluster, dev.namespace, pod["metadata"]["name"]) for pod in dev.pods(cluster).values()),
             180, "every pod Ready again")
    assert {service: pod["metadata"]["uid"] for service, pod in dev.pods(cluster).items()} == before  # none evicted
    assert placed <= orders_in_postgres(cluster, dev)
    assert len(place_orders(cluster, dev, 1)) == 1  # and the system takes new work


@contextmanager
def api_port_forward(cluster: Cluster, dev: Running) -> Iterator[str]:
    """The api Service on a local port, once /ready answers."""
    with port_forward(cluster, dev.namespace, "api", 8080) as base:
        yield base


def place_orders(cluster: Cluster, dev: Running, count: int) -> set[str]:
    """Place `count` orders through api and wait until the worker has written each: their ids."""
    with api_port_forward(cluster, dev) as base:
        ids = set()
        for n in range(count):
            status, placed = http(f"{base}/api/orders", {"item": "alpha", "quantity": n + 1})
            assert status == 202, status
            ids.add(placed["id"])
        wait_for(lambda: all(http(f"{base}/api/orders/{i}")[0] == 200 for i in ids), 60, f"{count} orders written")
        return ids


def orders_in_postgres(cluster: Cluster, dev: Running) -> set[str]:
    """The order ids in Postgres, read in the database pod with psql and the password its secret file holds."""
    pod = dev.pods(cluster)["postgres"]["metadata"]["name"]
    query = 'PGPASSWORD="$(cat "$POSTGRES_PASSWORD_FILE")" psql -h 127.0.0.1 -U postgres -tAc "SELECT id FROM orders"'
    return set(cluster.kubectl("-n", dev.namespace, "exec", pod, "--", "sh", "-c", query).stdout.split())


def run_up(dev: Running):
    """`up` of the dev stack, for a thread: the result, or the engine's error diagnostics as the failure."""
    diagnostics: list[str] = []

    def collect(event: auto.EngineEvent) -> None:
        if event.diagnostic_event is not None and event.diagnostic_event.severity == "error":
            diagnostics.append(f"{event.diagnostic_event.urn}: {event.diagnostic_event.message.strip()}")
    try:
        return dev.project.stack("dev").up(on_event=collect)
    except auto.CommandError as error:
        return AssertionError("\n".join(diagnostics) or str(error))


def fault_rollout_of(pod: dict) -> str | None:
    """The FAULT_ROLLOUT variable of the pod's main container (its own key: later tests roll RELEASE)."""
    env = pod["spec"]["containers"][0].get("env", [])
    return next((e.get("value") for e in env if e["name"] == "FAULT_ROLLOUT"), None)


def node_pid(cluster: Cluster, component: str) -> int:
    """A node process's pid, from the pid file scripts/node.sh wrote (NODE_DIR/pids)."""
    return int((cluster.directory / "node" / "pids" / f"{component}.pid").read_text().strip())


def process_alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def node_ready(cluster: Cluster) -> str | None:
    node = cluster.get("node", NODE_NAME)
    return next((c["status"] for c in node["status"]["conditions"] if c["type"] == "Ready"), None)


def test_a_probe_command_missing_from_the_image_fails_up_naming_the_service_and_the_kubelet_says_why(dev, cluster):
    def broken(config: dict) -> None:
        # The timeout annotation changes every Deployment of the namespace in the same `up`: the case
        # in which the unpatched provider reported this rollout complete (tools/k8s-provider).
        config["kubernetes"]["await_timeout_seconds"] = 60
        config["services"]["worker"]["probes"]["command"] = ["pg_isready"]  # not in the worker's image
    dev.project.edit_config("dev", broken)
    try:
        with pytest.raises(auto.CommandError) as failed:
            dev.project.up("dev")
        assert "worker" in str(failed.value) and "timed out waiting to be Ready" in str(failed.value)
        unhealthy = [e["message"] for e in cluster.events(dev.namespace) if e.get("reason") == "Unhealthy"
                     and e["involvedObject"]["name"].startswith("worker-")]
        # kubelet 1.33: a probe command that cannot start is an error ("resulted in unknown state"), so the
        # container is neither Ready nor restarted: the rollout holds, the old pod keeps serving.
        assert any(m.startswith("Startup probe errored") and '"pg_isready": executable file not found' in m
                   for m in unhealthy), unhealthy
    finally:
        dev.project.edit_config("dev", lambda config: config["services"]["worker"]["probes"].update(
            command=["python", "-m", "worker.health"]))
        dev.project.up("dev")  # the fix converges


def test_a_failing_migration_fails_up_naming_the_job_and_the_old_pods_keep_serving(dev, cluster):
    before = dev.pods(cluster)["api"]["metadata"]["name"]

    def failing(config: dict) -> None:
        api = config["services"]["api"]
        api["migrate"]["command"] = ["python", "-c", "raise SystemExit('migration 0042 failed')"]
        api["env"]["RELEASE"] = "next"  # a rollout the failed migration must hold back
    dev.project.edit_config("dev", failing)
    with pytest.raises(auto.CommandError) as failed:
        dev.project.up("dev")
    assert "api-migrate" in str(failed.value)
    deployment = cluster.get("deployment", "api", dev.namespace)
    env = {e["name"] for e in deployment["spec"]["template"]["spec"]["containers"][0].get("env", [])}
    assert "RELEASE" not in env  # the workload was not rolled
    assert ready_pod(cluster, dev.namespace, before)  # the old pod still serves
