#!/usr/bin/env python3
"""Pod startup on the local cluster's real node, naive vs optimized api image, side by side in one run.

For each image (the naive api of bench/images/api/Dockerfile, built and pushed here, and the
optimized api the `local` stack runs), `--runs` times, alternating: the image is removed from the
node's containerd, a pod running it is created, and the phases are timed from `kubectl apply`:
scheduled, container started and Ready as first seen by polling every 0.1 s; the image pull as the
kubelet reports it ("Successfully pulled ... in Xs"; layers the node already holds for a running pod
are not pulled again: the local stack's api is scaled to 0 meanwhile, so only the base layers the
worker and web run on stay). The pods run in a namespace of their
own (Pod Security `baseline`: the naive image runs as root, as its Dockerfile says) and probe
`/health` on port 8080.

A node's pull shares layers with the pods it already runs (api, worker and web share the floor
base), so a second table times the pull with nothing shared, the first service on an empty node:
for each image, alternating, a fresh containerd (the node's binary, CRI off, its own root, state and
socket in a temporary directory, stopped by pid) runs `ctr images pull` (fetch every layer, unpack
into overlayfs), and the bytes it fetched are summed from its content store's blobs.

Usage (scripts/setup done: cluster up, `local` stack applied):
  .venv/bin/python -m bench.node_startup [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from bench.images.run import builder
from bench.scratch import ROOT
from tools import registry

REGISTRY = "127.0.0.1:5000"
CLUSTER = ROOT / "scripts" / "cluster.sh"
NAMESPACE = "bench-startup"
PULLED = re.compile(r"Successfully pulled image .* in ([0-9.]+)(ms|s) ")


def kubectl(*args: str, stdin: str | None = None) -> str:
    kubeconfig = subprocess.run([str(CLUSTER), "kubeconfig"], capture_output=True, text=True, check=True).stdout.strip()
    command = [str(Path(kubeconfig).parent / "bin" / "kubectl"), "--kubeconfig", kubeconfig, *args]
    return subprocess.run(command, input=stdin, capture_output=True, text=True, check=True).stdout


def naive_image() -> str:
    """bench/images/api/Dockerfile (one stage, build base, root), built and pushed to the local registry."""
    tag = f"{REGISTRY}/leanstack-bench/api-naive:startup"
    build, env = builder()
    subprocess.run([*build, "-q", "-t", tag, "-f", str(ROOT / "bench" / "images" / "api" / "Dockerfile"),
                    "--build-arg", f"BASE={REGISTRY}/leanstack/python:3.11-build",
                    "--secret", "id=pip_cert,src=/etc/ssl/certs/ca-certificates.crt", str(ROOT / "apps" / "api")],
                   check=True, capture_output=True, env=env)
    subprocess.run(["docker", "push", "-q", tag], check=True, capture_output=True)
    return f"{tag.rsplit(':', 1)[0]}@{registry.digest(tag)}"


def optimized_image() -> str:
    """The api image the `local` stack runs (its Deployment's image, pinned by digest)."""
    return json.loads(kubectl("-n", "shop-dev", "get", "deployment", "api", "-o", "json"))[
        "spec"]["template"]["spec"]["containers"][0]["image"]


def pod(name: str, image: str) -> dict:
    probe = {"httpGet": {"path": "/health", "port": 8080}, "periodSeconds": 1}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": NAMESPACE},
            "spec": {"restartPolicy": "Never", "automountServiceAccountToken": False, "enableServiceLinks": False,
                     "containers": [{"name": "api", "image": image, "imagePullPolicy": "IfNotPresent",
                                     "env": [{"name": "PORT", "value": "8080"}],
                                     "startupProbe": {**probe, "failureThreshold": 120}, "readinessProbe": probe}]}}


def forget(image: str) -> None:
    """Remove every name of `image` from the node's containerd (its layers go too unless a running
    container still uses them: those are the bytes a node already has). The CRI records an image
    under its tag, its repo@digest and its config digest (`sha256:...`, the image id): every name
    whose target is the image's digest goes, or the id alone keeps the layers."""
    ctr = ["ctr", "--address", "/run/containerd/containerd.sock", "-n", "k8s.io", "images"]
    digest = image.split("@")[1]
    listing = subprocess.run([*ctr, "ls"], capture_output=True, text=True, check=True).stdout.splitlines()[1:]
    doomed = [line.split()[0] for line in listing if line.split()[2] == digest]
    if doomed:
        subprocess.run([*ctr, "rm", "--sync", *doomed], capture_output=True, check=True)  # --sync: wait for the GC


def one_run(name: str, image: str) -> dict[str, float]:
    """Seconds from `kubectl apply` to each phase, each first seen by polling every 0.1 s; the pull
    time is the kubelet's own figure."""
    forget(image)
    created = time.monotonic()
    kubectl("apply", "-f", "-", stdin=json.dumps(pod(name, image)))
    seen: dict[str, float] = {}
    while "ready" not in seen:
        if time.monotonic() - created > 300:
            raise SystemExit(f"pod {name} ({image}) not Ready within 300 s")
        current = json.loads(kubectl("-n", NAMESPACE, "get", "pod", name, "-o", "json"))
        now = time.monotonic() - created
        status = current["status"]
        if current["spec"].get("nodeName"):
            seen.setdefault("scheduled", now)
        if any("running" in c.get("state", {}) for c in status.get("containerStatuses", [])):
            seen.setdefault("started", now)
        if any(c["type"] == "Ready" and c["status"] == "True" for c in status.get("conditions", [])):
            seen["ready"] = now
        time.sleep(0.1)
    events = json.loads(kubectl("-n", NAMESPACE, "get", "events", "--field-selector", f"involvedObject.name={name}",
                                "-o", "json"))["items"]
    seen["pull"] = next((float(m[1]) / (1000 if m[2] == "ms" else 1) for e in events
                         if (m := PULLED.search(e["message"]))), 0.0)
    kubectl("-n", NAMESPACE, "delete", "pod", name, "--wait=true", "--grace-period=1")
    return seen


def empty_store_pull(image: str) -> dict[str, float]:
    """Seconds for `ctr images pull` (fetch + unpack) of `image` into an empty containerd store, and
    the bytes fetched."""
    work = Path(tempfile.mkdtemp(prefix="bench-empty-store-"))
    socket = work / "containerd.sock"
    (work / "config.toml").write_text(
        f'version = 2\nroot = "{work / "root"}"\nstate = "{work / "state"}"\n'
        f'disabled_plugins = ["io.containerd.grpc.v1.cri"]\n[grpc]\n  address = "{socket}"\n')
    daemon = subprocess.Popen(["containerd", "--config", str(work / "config.toml")], stdout=subprocess.DEVNULL,
                              stderr=(work / "containerd.log").open("w"))
    ctr = ["ctr", "--address", str(socket), "-n", "bench"]
    try:
        deadline = time.monotonic() + 30
        while subprocess.run([*ctr, "version"], capture_output=True).returncode != 0:
            if time.monotonic() > deadline or daemon.poll() is not None:
                raise SystemExit(f"the empty-store containerd did not start: {(work / 'containerd.log').read_text()[-500:]}")
            time.sleep(0.1)
        began = time.monotonic()
        subprocess.run([*ctr, "images", "pull", "--plain-http", image], capture_output=True, check=True)
        seconds = time.monotonic() - began
        blobs = work / "root" / "io.containerd.content.v1.content" / "blobs" / "sha256"
        return {"pull": seconds, "bytes": float(sum(blob.stat().st_size for blob in blobs.iterdir()))}
    finally:
        daemon.terminate()
        daemon.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    images = {"naive": naive_image(), "optimized": optimized_image()}
    kubectl("create", "namespace", NAMESPACE)
    kubectl("label", "namespace", NAMESPACE, "pod-security.kubernetes.io/enforce=baseline")
    # The local stack's own api pods hold the optimized image's layers: scaled to 0 while this runs, so
    # its pulls are as cold as the naive one's (base layers other pods run on stay, as on any node).
    replicas = kubectl("-n", "shop-dev", "get", "deployment", "api", "-o", "jsonpath={.spec.replicas}").strip()
    kubectl("-n", "shop-dev", "scale", "deployment", "api", "--replicas=0")
    kubectl("-n", "shop-dev", "wait", "--for=delete", "pod", "-l", "app.kubernetes.io/name=api", "--timeout=120s")
    # The finished migrate Job's pod keeps its exited container, and with it the image's layers (the Job
    # stays Complete without it).
    kubectl("-n", "shop-dev", "delete", "pod", "-l", "leanstack.dev/service=api", "--field-selector=status.phase==Succeeded",
            "--wait=true")
    try:
        results: dict[str, list[dict[str, float]]] = {kind: [] for kind in images}
        for run in range(runs):
            for kind, image in images.items():  # alternating, so load drifts hit both alike
                results[kind].append(one_run(f"{kind}-{run}", image))
    finally:
        kubectl("delete", "namespace", NAMESPACE, "--wait=false")
        kubectl("-n", "shop-dev", "scale", "deployment", "api", f"--replicas={replicas}")
    sizes = {kind: subprocess.run(["docker", "image", "inspect", "-f", "{{.Size}}", image], capture_output=True,
                                  text=True).stdout.strip() for kind, image in images.items()}
    print(f"| phase (median of {runs}, s after kubectl apply) | naive | optimized | optimized/naive |")
    print("|---|---:|---:|---:|")
    for phase in ("scheduled", "pull", "started", "ready"):
        naive, optimized = (statistics.median(r[phase] for r in results[k]) for k in ("naive", "optimized"))
        ratio = f"{optimized / naive:.2f}" if naive else "–"
        print(f"| {phase}{' (image pull alone)' if phase == 'pull' else ''} | {naive:.2f} | {optimized:.2f} | {ratio} |")
    empty: dict[str, list[dict[str, float]]] = {kind: [] for kind in images}
    for _ in range(runs):
        for kind, image in images.items():
            empty[kind].append(empty_store_pull(image))
    print(f"\n| pull with nothing shared (median of {runs}) | naive | optimized | optimized/naive |")
    print("|---|---:|---:|---:|")
    for key, label, scale in (("pull", "ctr images pull: fetch + unpack (s)", 1), ("bytes", "bytes fetched (MB)", 1e6)):
        naive, optimized = (statistics.median(r[key] for r in empty[k]) / scale for k in ("naive", "optimized"))
        print(f"| {label} | {naive:.2f} | {optimized:.2f} | {optimized / naive:.2f} |")
    print(f"runs (s): {json.dumps({k: [round(r['pull'], 2) for r in v] for k, v in empty.items()})}")
    print(f"\nimages: {json.dumps(images)}\nlocal sizes (bytes, where the engine has them): {json.dumps(sizes)}")


if __name__ == "__main__":
    main()
