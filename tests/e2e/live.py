"""The local Kubernetes cluster (scripts/cluster.sh: real control plane, kwok fake nodes) for the
end-to-end tests that apply stacks to it: start it, point a scratch stack at it, read objects back.

The cluster is started (idempotently; built on first use) once per test session and left running:
the caller of the test command may stop it with `scripts/cluster.sh down`. Every wait here is
bounded and says what it waited for.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

from bench.scratch import PINNED, on_kwok_nodes, pin_images

ROOT = Path(__file__).resolve().parents[2]
CLUSTER_SH = ROOT / "scripts" / "cluster.sh"
# kwok never pulls, so any digest runs; tests not about images use these (PINNED) instead of builds.
OTHER_DIGEST = "registry.example/shop/{}@sha256:" + "2" * 64


class ClusterError(RuntimeError):
    pass


def cluster_script(*args: str, timeout: float = 3600) -> subprocess.CompletedProcess:
    """scripts/cluster.sh <args>; `up` builds first when needed (~14 min cold), hence the long bound."""
    return subprocess.run([str(CLUSTER_SH), *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT)


@dataclass
class Cluster:
    kubeconfig: Path

    @property
    def directory(self) -> Path:
        return self.kubeconfig.parent

    @property
    def kubectl_path(self) -> Path:
        return self.directory / "bin" / "kubectl"

    @property
    def pid_dir(self) -> Path:
        # kwokctl's work dir (scripts/cluster.sh: KWOK_HOME/clusters/<name>/pids/<component>.pid)
        name = os.environ.get("LEANSTACK_CLUSTER_NAME", "leanstack")
        return self.directory / "kwok" / "clusters" / name / "pids"

    def pid(self, component: str) -> int:
        return int((self.pid_dir / f"{component}.pid").read_text().strip())

    def env(self) -> dict[str, str]:
        return {**os.environ, "KUBECONFIG": str(self.kubeconfig)}

    def kubectl(self, *args: str, check: bool = True, stdin: Optional[str] = None,
                timeout: float = 60) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [str(self.kubectl_path), "--cache-dir", str(self.directory / "kube-cache"), *args],
            input=stdin, capture_output=True, text=True, env=self.env(), timeout=timeout,
        )
        if check and result.returncode != 0:
            raise ClusterError(f"kubectl {' '.join(args)} failed ({result.returncode}): {result.stderr.strip()}")
        return result

    def get(self, kind: str, name: Optional[str] = None, namespace: Optional[str] = None, **options: str) -> Any:
        """One object (name given) or the list's items, as JSON; None for a named object that is not there."""
        args = ["get", kind] + ([name] if name else [])
        args += ["-n", namespace] if namespace else []
        for key, value in options.items():
            args += [f"--{key.replace('_', '-')}", value]
        result = self.kubectl(*args, "-o", "json", check=False)
        if result.returncode != 0:
            if name and "NotFound" in result.stderr:
                return None
            raise ClusterError(f"kubectl get {kind} {name or ''} -n {namespace}: {result.stderr.strip()}")
        document = json.loads(result.stdout)
        return document if name else document["items"]

    def events(self, namespace: str) -> list[dict]:
        return self.get("events", namespace=namespace)

    def ready(self) -> bool:
        result = self.kubectl("get", "--raw", "/readyz", check=False, timeout=10)
        return result.returncode == 0 and result.stdout.strip() == "ok"


def wait_for(condition: Callable[[], Any], timeout: float, what: str, interval: float = 0.25) -> Any:
    """Poll `condition` until it returns something truthy; fail naming `what` (and the last value)."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            last = condition()
        except ClusterError as error:  # e.g. the API server restarting: keep polling until the deadline
            last = error
        if last and not isinstance(last, ClusterError):
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what} (last: {last!r})")
        time.sleep(interval)


def start_cluster() -> Cluster:
    """`scripts/cluster.sh up` (a no-op when up) and the cluster it reports."""
    result = cluster_script("up")
    if result.returncode != 0:
        raise ClusterError(f"scripts/cluster.sh up failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    kubeconfig = Path(cluster_script("kubeconfig", timeout=30).stdout.strip())
    cluster = Cluster(kubeconfig)
    wait_for(cluster.ready, 60, "kube-apiserver /readyz")
    return cluster


TEST_NAMESPACE_PREFIX = "lc-"


def delete_test_namespaces(cluster: Cluster) -> list[str]:
    """Delete every namespace the live tests made (lc-*): the cluster keeps its etcd data across
    `down`/`up`, so leftovers would pile up pods and volumes run after run."""
    names = [item["metadata"]["name"] for item in cluster.get("namespaces")
             if item["metadata"]["name"].startswith(TEST_NAMESPACE_PREFIX)]
    if names:
        cluster.kubectl("delete", "namespace", *names, "--wait=false", timeout=120)
    return names


def unique_namespace(label: str) -> str:
    """lc-<label>-<6 hex>, a DNS label of at most 63 characters."""
    return f"{TEST_NAMESPACE_PREFIX}{label[:48].strip('-').replace('_', '-')}-{secrets.token_hex(3)}"


def point_at_cluster(config: dict, cluster: Cluster, namespace: str, await_timeout: Optional[int] = None,
                     digest: str = PINNED) -> None:
    """Edit a stack's config mapping (Project.edit_config): deploy to `cluster` in `namespace`, on the
    kwok nodes, with prebuilt pinned images instead of builds (kwok never pulls)."""
    config["kubernetes"] = {"await_timeout_seconds": await_timeout} if await_timeout is not None else {}
    on_kwok_nodes(config, str(cluster.kubeconfig))
    config["namespace"] = namespace
    pin_images(config, digest)


def deployments_available(cluster: Cluster, namespace: str, expected: dict[str, int]) -> Callable[[], bool]:
    """A poll: every Deployment in `expected` has exactly that many available replicas."""
    def check() -> bool:
        found = {d["metadata"]["name"]: d.get("status", {}).get("availableReplicas", 0)
                 for d in cluster.get("deployments", namespace=namespace)}
        return all(found.get(name) == replicas for name, replicas in expected.items())
    return check


def namespace_gone(cluster: Cluster, namespace: str) -> Callable[[], bool]:
    return lambda: cluster.get("namespace", namespace) is None
