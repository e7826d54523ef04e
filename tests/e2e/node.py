"""The real node of the local cluster (scripts/node.sh) as the tests see it: running containers' host
processes, pod network namespaces, and TCP connects made from inside them.

Everything here reads the kernel's own view (/proc, network namespaces) or the node's own tools
(containerd's `ctr`), never our renderers: a promise about a running pod is checked on the process.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Optional

import requests

from leanstack.config.schema import StackConfig
from leanstack.kube import labels
from leanstack.rightsize.local_prometheus import LocalPrometheus, kubelet_scrape_config
from leanstack.scan import reachability as r
from tests.e2e.live import Cluster, unique_namespace, wait_for
from tools import registry

NODE_NAME = os.environ.get("LEANSTACK_NODE_NAME", "leanstack-node-1")
NODE_IP = os.environ.get("LEANSTACK_NODE_IP", "10.244.0.1")
POD_NETWORK_PREFIX = "10.244.0."
CRI_SOCKET = "/run/containerd/containerd.sock"
REGISTRY = "127.0.0.1:5000"
# The committed stacks' upstream refs -> the images scripts/service-images.sh builds here.
LOCAL_SERVICE_IMAGES = {"postgres": "leanstack/postgres:15", "redis": "leanstack/redis:7"}


def registry_ref(repository_tag: str) -> str:
    """repository:tag in the local registry, pinned by the digest the registry holds."""
    found = registry.digest(f"{REGISTRY}/{repository_tag}")
    assert found, f"{REGISTRY}/{repository_tag} is not in the local registry (scripts/node.sh, scripts/service-images.sh)"
    return f"{REGISTRY}/{repository_tag.rsplit(':', 1)[0]}@{found}"


def point_at_real_node(config: dict, cluster: Cluster, namespace: str, await_timeout: Optional[int] = None) -> None:
    """Edit a stack's config mapping: deploy to `cluster` in `namespace`; builds stay builds, the
    upstream database and cache images become the local ones (nothing is pulled from outside)."""
    config["kubernetes"] = {"kubeconfig": str(cluster.kubeconfig),
                            **({"await_timeout_seconds": await_timeout} if await_timeout else {})}
    config["namespace"] = namespace
    for name, service in config["services"].items():
        ref = service["image"].get("ref", "")
        for upstream, local in LOCAL_SERVICE_IMAGES.items():
            if ref.startswith(f"{upstream}:"):
                service["image"] = {"ref": registry_ref(local)}


@dataclass(frozen=True)
class Process:
    """A container's main process as the kernel reports it (/proc/<pid>/status)."""

    pid: int
    uid: int
    gid: int
    cap_eff: int
    no_new_privs: int
    seccomp: int

    @property
    def root(self) -> Path:
        """The container's root file system as that process sees it (its mounts included)."""
        return Path(f"/proc/{self.pid}/root")


def task_pids() -> dict[str, int]:
    """containerd task (container) id -> host pid of its main process, from the node's containerd."""
    out = subprocess.run(["ctr", "--address", CRI_SOCKET, "--namespace", "k8s.io", "tasks", "ls"],
                         capture_output=True, text=True, check=True, timeout=30).stdout
    pids = {}
    for line in out.splitlines()[1:]:
        task, pid, status = line.split()[:3]
        if status == "RUNNING":
            pids[task] = int(pid)
    return pids


def process(pid: int) -> Process:
    fields = dict(line.split(":\t", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":\t" in line)
    return Process(pid, int(fields["Uid"].split()[1]), int(fields["Gid"].split()[1]), int(fields["CapEff"], 16),
                   int(fields["NoNewPrivs"]), int(fields["Seccomp"]))


def containers(pod: dict) -> dict[str, Process]:
    """Each running container of `pod` (a Pod object) -> its main process."""
    pids = task_pids()
    found = {}
    for status in pod["status"].get("containerStatuses", []) + pod["status"].get("initContainerStatuses", []):
        container_id = status.get("containerID", "").removeprefix("containerd://")
        if container_id in pids:
            found[status["name"]] = process(pids[container_id])
    return found


def netns_by_ip() -> dict[str, str]:
    """Pod IP -> the network namespace containerd made for that pod (ip netns: cni-<uuid>)."""
    found = {}
    names = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout.split("\n")
    for name in (line.split()[0] for line in names if line.startswith("cni-")):
        addresses = subprocess.run(["ip", "-n", name, "-4", "-o", "addr", "show"], capture_output=True, text=True).stdout
        for line in addresses.splitlines():
            address = line.split()[3].split("/")[0]
            if address.startswith(POD_NETWORK_PREFIX):
                found[address] = name
    return found


# Runs with this machine's python3 inside a pod's network namespace: the packets leave from the pod's
# own interface and address, so the node's NetworkPolicy enforcer judges them as the pod's own.
_CONNECT = """
import json, socket, sys
results = {}
for target in json.loads(sys.argv[1]):
    host, port = target.rsplit(":", 1)
    sock = socket.socket()
    sock.settimeout(float(sys.argv[2]))
    try:
        sock.connect((host, int(port)))
        results[target] = "open"
    except ConnectionRefusedError:
        results[target] = "refused"
    except OSError as error:
        results[target] = type(error).__name__
    finally:
        sock.close()
print(json.dumps(results))
"""


def connect_from(netns: str, targets: Iterable[str], timeout: float = 2.0) -> dict[str, str]:
    """TCP connects from inside `netns` to each host:port: "open", "refused" (a reject or no
    listener) or the error's name (e.g. "TimeoutError": dropped)."""
    targets = list(targets)
    result = subprocess.run(["ip", "netns", "exec", netns, "python3", "-c", _CONNECT, json.dumps(targets), str(timeout)],
                            capture_output=True, text=True, timeout=30 + timeout * len(targets))
    if result.returncode != 0:
        raise RuntimeError(f"connect from {netns} failed: {result.stderr.strip()}")
    return json.loads(result.stdout)


# --- network policy by packets -----------------------------------------------------------------

def agnhost_pod(cluster: Cluster, namespace: str, name: str, pod_labels: dict, ports: list[int]) -> dict:
    """An agnhost `porter` pod answering on every port (no policy selects it outside the stack)."""
    env = [{"name": f"SERVE_PORT_{port}", "value": "leanstack"} for port in ports]
    manifest = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace, "labels": pod_labels},
                "spec": {"securityContext": {"runAsNonRoot": True, "runAsUser": 65532, "seccompProfile": {"type": "RuntimeDefault"},
                                             "sysctls": [{"name": "net.ipv4.ip_unprivileged_port_start", "value": "0"}]},
                         "automountServiceAccountToken": False,
                         "containers": [{"name": "porter", "image": registry_ref("leanstack/agnhost:v1.33.13"),
                                         "args": ["porter"], "env": env,
                                         "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                                             "capabilities": {"drop": ["ALL"]}}}]}}
    cluster.kubectl("apply", "-f", "-", stdin=json.dumps(manifest))
    return wait_for(lambda: ready_pod(cluster, namespace, name), 120, f"pod {namespace}/{name} Ready")


@contextmanager
def ingress_caller(cluster: Cluster, name: str) -> Iterator[str]:
    """An agnhost pod in ingress-nginx labelled as its controller (a public service's policy admits
    it), deleted afterwards; yields its network namespace, to send load from."""
    pod = agnhost_pod(cluster, "ingress-nginx", name,
                      {"app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/component": "controller"}, [9])
    try:
        yield netns_by_ip()[pod["status"]["podIP"]]
    finally:
        cluster.kubectl("-n", "ingress-nginx", "delete", "pod", name, "--wait=false", check=False)


def ready_pod(cluster: Cluster, namespace: str, name: str):
    pod = cluster.get("pod", name, namespace)
    ok = pod and any(c["type"] == "Ready" and c["status"] == "True" for c in pod["status"].get("conditions", []))
    return pod if ok else None


def live_model(config: StackConfig, namespace: str, cluster: Cluster, ingress: dict, outsider: dict) -> r.ProbeModel:
    """The probe model of the running system: one running pod per service of the stack in `namespace`,
    the ingress and outsider pods and the real CoreDNS pod, with their real IPs and labels."""
    running = {pod["metadata"]["labels"][labels.SERVICE]: pod for pod in cluster.get("pods", namespace=namespace)
               if pod["status"].get("phase") == "Running" and labels.SERVICE in pod["metadata"]["labels"]}
    pods = [r.Pod(namespace, service, pod["metadata"]["labels"], pod["status"]["podIP"], service=service)
            for service, pod in sorted(running.items())]
    (dns,) = cluster.get("pods", namespace=r.DNS_NAMESPACE, selector="k8s-app=kube-dns")
    pods += [r.Pod(ingress["metadata"]["namespace"], "ingress-controller", ingress["metadata"]["labels"],
                   ingress["status"]["podIP"], role="ingress"),
             r.Pod(r.DNS_NAMESPACE, "kube-dns", dns["metadata"]["labels"], dns["status"]["podIP"], role="dns"),
             r.Pod(outsider["metadata"]["namespace"], "outsider", outsider["metadata"]["labels"],
                   outsider["status"]["podIP"], role="outsider")]
    namespaces = {pod.namespace: {} for pod in pods}
    return r.ProbeModel(namespaces, pods, [p for p in r.probes_for(config) if p.protocol == "TCP"])


def listens(config: StackConfig, destination: r.Pod, probe: r.Probe) -> bool:
    """Only where something really listens does a connect tell allowed from denied: the node's
    enforcer rejects (connection refused), exactly as a closed port answers."""
    if destination.role in ("ingress", "outsider"):
        return True  # agnhost porter answers on every probed port
    if destination.role == "dns":
        return probe.port == r.DNS_PORT
    return config.services[destination.service].port == probe.port


def measured_table(model: r.ProbeModel, config: StackConfig) -> tuple[r.Table, r.Table]:
    """(expected, measured) over the cells where the destination listens, by real TCP connects."""
    expected_all = r.expected_table(config, model)
    netns = netns_by_ip()
    expected, measured = {}, {}
    for source in model.pods:
        # A pod's packets to its own address never leave its network namespace: no enforcer sees
        # them (Kubernetes lets a pod reach itself), so those cells are not probed.
        cells = [(d, p) for d in model.pods for p in model.probes if d != source and listens(config, d, p)]
        answers = connect_from(netns[source.ip], [f"{d.ip}:{p.port}" for d, p in cells])
        for destination, probe in cells:
            key = (source.key, destination.key, str(probe))
            expected[key] = expected_all[key]
            measured[key] = answers[f"{destination.ip}:{probe.port}"] == "open"
    return expected, measured


@contextmanager
def probe_peers(cluster: Cluster, config: StackConfig) -> Iterator[tuple[dict, dict]]:
    """An agnhost pod labelled as the ingress controller in the stack's ingress namespace and an
    intruder in a namespace of its own, both answering on every probed port; removed afterwards."""
    outsider_ns = unique_namespace("intruder")
    cluster.kubectl("create", "namespace", outsider_ns)
    ports = sorted({p.port for p in r.probes_for(config)})
    ingress = agnhost_pod(cluster, config.ingress_namespace, f"ingress-probe-{outsider_ns[-6:]}",
                          {"app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/component": "controller"}, ports)
    outsider = agnhost_pod(cluster, outsider_ns, "outsider", {"app": "outsider"}, ports)
    try:
        yield ingress, outsider
    finally:
        cluster.kubectl("-n", config.ingress_namespace, "delete", "pod", ingress["metadata"]["name"], "--wait=false")
        cluster.kubectl("delete", "namespace", outsider_ns, "--wait=false")


# --- Prometheus scraping the node's kubelet ------------------------------------------------------

METRICS_READER = "leanstack-e2e-kubelet-metrics"


def metrics_reader_rbac(namespace: str) -> str:
    """A ServiceAccount allowed to GET the kubelet's metrics and nothing else."""
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "prometheus", "namespace": namespace}},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": METRICS_READER},
         "rules": [{"apiGroups": [""], "resources": ["nodes/metrics"], "verbs": ["get"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": METRICS_READER},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": METRICS_READER},
         "subjects": [{"kind": "ServiceAccount", "name": "prometheus", "namespace": namespace}]},
    ]})


@contextmanager
def kubelet_prometheus(cluster: Cluster, work: Path, scrape_seconds: int) -> Iterator[LocalPrometheus]:
    """Debian's Prometheus on 127.0.0.1 scraping the node's kubelet (/metrics/cadvisor and
    /metrics/resource) with a token bound to nodes/metrics only; `started` is when it began."""
    if not shutil.which("prometheus"):
        raise RuntimeError("prometheus not installed: run scripts/prometheus.sh")
    work.mkdir(parents=True, exist_ok=True)
    namespace = unique_namespace("prom")
    cluster.kubectl("create", "namespace", namespace)
    cluster.kubectl("apply", "-f", "-", stdin=metrics_reader_rbac(namespace))
    token = work / "token"
    token.write_text(cluster.kubectl("create", "token", "prometheus", "-n", namespace, "--duration=1h").stdout.strip())
    ca = cluster.directory / "node" / "kubelet" / "pki" / "kubelet.crt"  # the kubelet's self-signed serving cert
    server = LocalPrometheus(work / "data", config=kubelet_scrape_config(NODE_IP, NODE_NAME, ca, token, scrape_seconds))
    server.start()
    server.started = time.time()
    try:
        yield server
    finally:
        server.stop()
        cluster.kubectl("delete", "clusterrolebinding,clusterrole", METRICS_READER, "--ignore-not-found")


def independent_evidence(url: str, namespace: str, service: str, window: float, step: float, end: float) -> dict[str, float]:
    """p95 CPU, max memory and the CPU sample count of a service's container over the window, asked
    of Prometheus directly (subqueries), not through leanstack.rightsize."""
    selector = f'namespace="{namespace}",container="{service}",pod=~"{service}-.*"'
    cpu = f"max by (pod, container) (rate(container_cpu_usage_seconds_total{{{selector}}}[{step:g}s]))"
    memory = f"max by (pod, container) (max_over_time(container_memory_working_set_bytes{{{selector}}}[{step:g}s]))"

    def at_end(promql: str) -> float:
        answer = requests.get(f"{url}/api/v1/query", params={"query": promql, "time": end}, timeout=10).json()
        return max(float(sample["value"][1]) for sample in answer["data"]["result"])

    return {
        "cpu_p95": at_end(f"quantile_over_time(0.95, ({cpu})[{window:g}s:{step:g}s])"),
        "memory_max": at_end(f"max_over_time(({memory})[{window:g}s:{step:g}s])"),
        "cpu_samples": at_end(f"count_over_time(({cpu})[{window:g}s:{step:g}s])"),
    }


def free_local_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def http(url: str, body: dict | None = None) -> tuple[int, dict]:
    """GET (or POST `body` as JSON): status and the JSON answer; 0 when nothing answered."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, {}
    except OSError:
        return 0, {}


@contextmanager
def port_forward(cluster: Cluster, namespace: str, service: str, port: int) -> Iterator[str]:
    """A Service on a local port (kubectl port-forward: API server -> kubelet -> the pod): its base URL,
    once /ready answers."""
    local = free_local_port()
    forward = subprocess.Popen([str(cluster.kubectl_path), "--kubeconfig", str(cluster.kubeconfig), "-n", namespace,
                                "port-forward", "--address", "127.0.0.1", f"service/{service}", f"{local}:{port}"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        base = f"http://127.0.0.1:{local}"
        wait_for(lambda: http(f"{base}/ready")[0] == 200, 30, f"{service} /ready through the port-forward")
        yield base
    finally:
        forward.terminate()
        forward.wait(timeout=10)
