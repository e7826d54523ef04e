"""Team state: the real engine with Pulumi's DIY S3 backend on a real S3-compatible server
(versitygw, scripts/s3.sh, bucket versioning on), applying the dev stack to the live local cluster
(kwok nodes, pinned images). docs/state.md says what these show.

The module starts its own server (own data dir, own port on 127.0.0.1) with `scripts/s3.sh up` and
stops it by its pid with `scripts/s3.sh down`, so stopping it for the "server down" case touches no
one else's. Each test gets a bucket and namespaces of its own; the namespaces are deleted after it.
It needs the cluster up (scripts/test brings it up first) and never starts or stops it.
"""

from __future__ import annotations

import json
import os
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from bench.scratch import ROOT
from tests.e2e.conftest import Events, Project, make_project
from tests.e2e.test_live_cluster import changes, preview
from tests.e2e.live import Cluster, cluster_script, pin_images, point_at_cluster, unique_namespace, wait_for
from tools.s3 import backend_url, client, ensure_bucket

pytestmark = pytest.mark.e2e

S3_SH = ROOT / "scripts" / "s3.sh"
LOCKED = "the stack is currently locked by 1 lock(s)"
# Bounds of waits (not assertions about speed): a dev `up` on the kwok nodes, a CLI that must fail.
UP_TIMEOUT = 600
FAIL_TIMEOUT = 120


# --- the server, the cluster, a project on both ---------------------------------------------------

@dataclass
class S3Server:
    directory: Path
    port: int

    def script(self, command: str) -> subprocess.CompletedProcess:
        environment = {**os.environ, "LEANSTACK_S3_DIR": str(self.directory), "LEANSTACK_S3_PORT": str(self.port)}
        return subprocess.run([str(S3_SH), command], capture_output=True, text=True, timeout=900, env=environment)

    def up(self) -> None:
        result = self.script("up")
        assert result.returncode == 0, result.stderr

    def down(self) -> None:
        result = self.script("down")
        assert result.returncode == 0, result.stderr

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def credentials(self) -> dict[str, str]:
        """The AWS_* variables `scripts/s3.sh env` prints: the server's local-only credentials."""
        lines = self.script("env").stdout.splitlines()
        words = [word for line in lines for word in shlex.split(line)[1:]]
        return {key: value for key, _, value in (w.partition("=") for w in words) if key.startswith("AWS_")}

    def client(self):
        os.environ.update(self.credentials())  # boto3 reads them, as the engine does
        return client(self.endpoint)

    def bucket(self) -> str:
        """A new bucket with versioning on, as scripts/s3.sh makes the team's."""
        name = f"lc-state-{secrets.token_hex(4)}"
        ensure_bucket(self.client(), name)
        return name


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def s3(tmp_path_factory) -> Iterator[S3Server]:
    server = S3Server(tmp_path_factory.mktemp("s3"), free_port())
    server.up()
    yield server
    server.down()


@pytest.fixture(scope="module")
def live() -> Cluster:
    """The running local cluster (never started or stopped here: another engineer's tests share it)."""
    result = cluster_script("kubeconfig", timeout=30)
    kubeconfig = Path(result.stdout.strip())
    live = Cluster(kubeconfig)
    if result.returncode != 0 or not kubeconfig.is_file() or not live.ready():
        pytest.fail("the local cluster is not up: run scripts/cluster.sh up (scripts/test does)")
    return live


@pytest.fixture
def namespaces(live) -> Iterator[list[str]]:
    """Namespaces a test deploys to (append unique_namespace(...)); deleted after the test."""
    made: list[str] = []
    yield made
    if made:
        live.kubectl("delete", "namespace", *made, "--ignore-not-found", "--wait=false", timeout=120)


def team_project(tmp_path: Path, s3: S3Server, bucket: str) -> Project:
    """A scratch project whose state is in `bucket` on the server."""
    project = make_project(tmp_path)
    project.env.update(s3.credentials())
    project.env["PULUMI_BACKEND_URL"] = backend_url(bucket, s3.endpoint)
    return project


def on_cluster(project: Project, live: Cluster, namespaces: list[str], stack: str = "dev") -> str:
    """Point `stack` (a copy of dev's file for another name) at a fresh namespace on the kwok nodes."""
    if stack != "dev":
        (project.directory / f"Pulumi.{stack}.yaml").write_text((project.directory / "Pulumi.dev.yaml").read_text())
    namespace = unique_namespace(f"state-{stack}")
    namespaces.append(namespace)
    project.edit_config(stack, lambda config: point_at_cluster(config, live, namespace))
    project.stack(stack)  # created (or selected) in the bucket, so the CLI runs below find it
    return namespace


def pulumi(project: Project, *args: str) -> subprocess.Popen:
    """The pulumi CLI on the project, as a user runs it."""
    return subprocess.Popen(["pulumi", *args, "--non-interactive"], cwd=project.directory, env=project.env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finished(process: subprocess.Popen, timeout: float = UP_TIMEOUT) -> tuple[int, str, str]:
    stdout, stderr = process.communicate(timeout=timeout)
    return process.returncode, stdout, stderr


def run(project: Project, *args: str, timeout: float = UP_TIMEOUT) -> tuple[int, str, str]:
    return finished(pulumi(project, *args), timeout)


def cost(project: Project, stack: str = "dev") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "leanstack.cli", "cost", "--stack", stack, "--format", "json",
                           "--work-dir", str(project.directory)],
                          env=project.env, capture_output=True, text=True, timeout=600, cwd=ROOT)


def error_line(stdout: str, stderr: str) -> str:
    """The one line a failed command printed (asserting it is one)."""
    lines = [line for line in (stdout + stderr).splitlines() if line.strip()]
    assert len(lines) == 1, lines
    return lines[0]


# --- what state and the cluster hold ----------------------------------------------------------------

def deployment(project: Project, stack: str = "dev") -> dict:
    """`pulumi stack export`: it must parse (the state is valid) and hold no pending operation."""
    code, stdout, stderr = run(project, "stack", "export", "--stack", stack, timeout=FAIL_TIMEOUT)
    assert code == 0, stderr
    exported = json.loads(stdout)["deployment"]
    assert not exported.get("pending_operations"), exported["pending_operations"]
    return exported


def kube_objects(resources: list[dict]) -> list[tuple[str, str, str]]:
    """(kind, namespace, name) of every Kubernetes object in state."""
    return sorted((r["outputs"]["kind"], r["outputs"]["metadata"].get("namespace", ""), r["outputs"]["metadata"]["name"])
                  for r in resources if r["type"].startswith("kubernetes:") and r["type"] != "pulumi:providers:kubernetes")


def cluster_objects(live: Cluster, namespace: str, kinds: set[str]) -> list[tuple[str, str, str]]:
    """(kind, namespace, name) of the objects leanstack manages in `namespace`, of the kinds state holds,
    and the namespace itself."""
    found = [("Namespace", "", namespace)] if live.get("namespace", namespace) else []
    for kind in sorted(kinds - {"Namespace"}):
        for item in live.get(kind, namespace=namespace, selector="app.kubernetes.io/managed-by=leanstack"):
            found.append((kind, namespace, item["metadata"]["name"]))
    return sorted(found)


def assert_cluster_matches_state(project: Project, live: Cluster, namespace: str, stack: str = "dev") -> list:
    """Nothing lost (every object in state is in the cluster) or duplicated (the cluster holds no
    managed object state lacks, and state names each object once); returns the state's objects."""
    objects = kube_objects(deployment(project, stack)["resources"])
    assert len(objects) == len(set(objects)), "an object is in state twice"
    assert cluster_objects(live, namespace, {kind for kind, _, _ in objects}) == objects
    return objects


def converged(project: Project, stack: str = "dev") -> None:
    """A refreshing preview finds nothing to change: state, program and cluster agree."""
    _, events = preview(project, stack, refresh=True)
    assert changes(events) == {}, changes(events)


def descendants(root: int) -> list[int]:
    """The pids of every process below `root` (from /proc), nearest first."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text()
            parents[int(entry.name)] = int(stat[stat.rindex(")") + 2:].split()[1])
        except (OSError, ValueError):
            continue
    found, frontier = [], [root]
    while frontier:
        children = [pid for pid, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


def lock_keys(s3: S3Server, bucket: str) -> list[str]:
    listed = s3.client().list_objects_v2(Bucket=bucket, Prefix=".pulumi/locks/")
    return [item["Key"] for item in listed.get("Contents", [])]


def bucket_versions(s3: S3Server, bucket: str) -> list[tuple[str, str, str]]:
    """Every version of every object (key, version id, ETag): what "state untouched" compares."""
    listed = s3.client().list_object_versions(Bucket=bucket)
    return sorted((v["Key"], v["VersionId"], v["ETag"]) for v in listed.get("Versions", []))


def urns(names: list[str], stack: str, namespace: str) -> set[str]:
    """URNs less what differs between two stacks of one program: the stack's name (in the URN's
    prefix and the root resource's name, <project>-<stack>) and the namespace."""
    return {urn.replace(f"urn:pulumi:{stack}::", "urn:pulumi:STACK::").replace(f"::leanstack-{stack}", "::leanstack-STACK")
            .replace(namespace, "NAMESPACE") for urn in names}


# --- the tests -----------------------------------------------------------------------------------------

def test_preview_up_and_cost_run_on_the_s3_backend_and_versioning_keeps_every_checkpoint(tmp_path, s3, live, namespaces):
    bucket = s3.bucket()
    project = team_project(tmp_path, s3, bucket)
    namespace = on_cluster(project, live, namespaces)
    started = time.monotonic()
    project.preview("dev")
    previewed = time.monotonic()
    project.up("dev")
    print(f"\nS3 backend: preview {previewed - started:.1f} s, up {time.monotonic() - previewed:.1f} s")
    objects = assert_cluster_matches_state(project, live, namespace)
    assert ("Deployment", namespace, "api") in objects

    # The cost tool reads the old state through the engine's preview: unchanged, it prices a no-op.
    priced = cost(project)
    assert priced.returncode == 0, priced.stderr
    report = json.loads(priced.stdout)
    assert report["counts"].get("create", 0) == 0 and report["total"]["delta"] == {"baseline": "0.00", "ceiling": "0.00"}
    assert float(report["total"]["new"]["baseline"]) > 0

    # Each update wrote the checkpoint anew; the bucket keeps the older ones, and no lock is left.
    checkpoint = ".pulumi/stacks/leanstack/dev.json"
    assert sum(key == checkpoint for key, _, _ in bucket_versions(s3, bucket)) >= 2
    assert lock_keys(s3, bucket) == []


def test_two_concurrent_ups_of_one_stack_one_proceeds_the_other_fails_on_the_lock(tmp_path, s3, live, namespaces):
    bucket = s3.bucket()
    project = team_project(tmp_path, s3, bucket)
    namespace = on_cluster(project, live, namespaces)
    first = pulumi(project, "up", "--yes", "--stack", "dev")
    second = pulumi(project, "up", "--yes", "--stack", "dev")
    started = time.monotonic()
    results = {}
    for name, process in (("first", first), ("second", second)):
        results[name] = finished(process)
        results[name] += (time.monotonic() - started,)
    codes = sorted(code for code, *_ in results.values())
    assert codes[0] == 0 and codes[1] != 0, {name: (code, err[-2000:]) for name, (code, _, err, _) in results.items()}
    (loser,) = [r for r in results.values() if r[0] != 0]
    assert LOCKED in loser[1] + loser[2] and "pulumi cancel" in loser[1] + loser[2], loser[2]
    print(f"\nconcurrent up: the loser failed after {loser[3]:.1f} s")

    resources = deployment(project)["resources"]
    assert_cluster_matches_state(project, live, namespace)
    converged(project)
    # The same resources as a single `up` of that program: a fresh stack's preview would create exactly these.
    other = on_cluster(project, live, namespaces, stack="reference")
    _, planned = preview(project, "reference")
    assert (urns([r["urn"] for r in resources], "dev", namespace)
            == urns([step.urn for step in planned.steps], "reference", other))
    assert lock_keys(s3, bucket) == []


def test_an_up_killed_mid_update_leaves_a_stale_lock_that_cancel_clears_then_refresh_and_up_converge(
        tmp_path, s3, live, namespaces):
    bucket = s3.bucket()
    project = team_project(tmp_path, s3, bucket)
    namespace = on_cluster(project, live, namespaces)
    doomed = pulumi(project, "up", "--yes", "--stack", "dev")

    def mid_update() -> bool:  # the namespace's first Deployment is applied, or the up already ended
        if doomed.poll() is not None:
            return True
        return live.get("namespace", namespace) is not None and bool(live.get("deployments", namespace=namespace))

    wait_for(mid_update, UP_TIMEOUT, f"the first Deployment in {namespace}", interval=0.1)
    assert doomed.poll() is None, f"up ended before it could be killed: {doomed.communicate()[1][-2000:]}"
    # The CLI's plugins (language host, program, provider) run in process groups of their own and
    # outlive it: noted now, ended by pid after the CLI, as a lost machine would take them along.
    plugins = descendants(doomed.pid)
    os.kill(doomed.pid, signal.SIGKILL)
    doomed.wait(timeout=30)
    for pid in plugins:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    doomed.communicate()
    assert len(lock_keys(s3, bucket)) == 1

    started = time.monotonic()
    code, stdout, stderr = run(project, "up", "--yes", "--stack", "dev", timeout=FAIL_TIMEOUT)
    assert code != 0 and LOCKED in stdout + stderr and "pulumi cancel" in stdout + stderr, stderr
    print(f"\nstale lock: the next up failed after {time.monotonic() - started:.1f} s")

    code, _, stderr = run(project, "cancel", "--yes", "--stack", "dev", timeout=FAIL_TIMEOUT)
    assert code == 0, stderr
    assert lock_keys(s3, bucket) == []
    code, _, stderr = run(project, "refresh", "--yes", "--clear-pending-creates", "--stack", "dev")
    assert code == 0, stderr
    project.up("dev")
    converged(project)
    objects = assert_cluster_matches_state(project, live, namespace)
    assert ("Deployment", namespace, "worker") in objects


def test_two_stacks_update_in_parallel_as_their_locks_are_per_stack(tmp_path, s3, live, namespaces):
    bucket = s3.bucket()
    project = team_project(tmp_path, s3, bucket)
    placed = {stack: on_cluster(project, live, namespaces, stack) for stack in ("dev", "dev-b")}
    running = {stack: pulumi(project, "up", "--yes", "--stack", stack) for stack in placed}
    for stack, process in running.items():
        code, _, stderr = finished(process)
        assert code == 0, f"{stack}: {stderr[-2000:]}"
    for stack, namespace in placed.items():
        assert_cluster_matches_state(project, live, namespace, stack)
    assert lock_keys(s3, bucket) == []


def test_server_down_or_bucket_missing_is_one_line_from_each_command_and_state_is_untouched(tmp_path, s3):
    """Render mode (no cluster): this is about the backend."""
    bucket = s3.bucket()
    project = team_project(tmp_path, s3, bucket)
    project.edit_config("dev", pin_images)
    project.up("dev")
    before = bucket_versions(s3, bucket)
    commands = {"pulumi preview": ["preview", "--stack", "dev"], "pulumi up": ["up", "--yes", "--stack", "dev"]}

    def each_command_fails_with(cause: str) -> None:
        for name, args in commands.items():
            code, stdout, stderr = run(project, *args, timeout=FAIL_TIMEOUT)
            assert code != 0, name
            line = error_line(stdout, stderr)
            assert line.startswith("error: ") and cause in line, f"{name}: {line}"
        priced = cost(project)
        assert priced.returncode == 1
        line = error_line(priced.stdout, priced.stderr)
        assert cause in line, f"leanstack cost: {line}"

    missing = "lc-state-missing-" + secrets.token_hex(4)
    project.env["PULUMI_BACKEND_URL"] = backend_url(missing, s3.endpoint)
    each_command_fails_with("NoSuchBucket")
    assert missing not in [b["Name"] for b in s3.client().list_buckets()["Buckets"]]

    project.env["PULUMI_BACKEND_URL"] = backend_url(bucket, s3.endpoint)
    s3.down()
    try:
        each_command_fails_with("connection refused")
    finally:
        s3.up()
    assert bucket_versions(s3, bucket) == before
    assert lock_keys(s3, bucket) == []
