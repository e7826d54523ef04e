"""`pulumi up` against the live local cluster vs render mode, side by side, and the cluster's start-to-ready.

For each stack (dev, prod) and each run: a fresh scratch copy and empty file backend, images pinned
to prebuilt digests (no builds in either mode, so the difference is the cluster), then `pulumi up`
in render mode (manifests to rendered/<stack>/) and, in another scratch copy, against the cluster
(its own namespace, the provider awaiting every Deployment until available). Runs alternate between
modes so load drifts hit both. Start-to-ready: `scripts/cluster.sh down` (by pid) then `up`.

    source scripts/toolchain-env.sh && source scripts/pulumi-env.sh
    .venv/bin/python bench/live_cluster.py --runs 3 [--no-restart]
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from scratch import ROOT, on_kwok_nodes, scratch_project

PINNED = "registry.example/shop/{}@sha256:" + "1" * 64


def cluster(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(ROOT / "scripts" / "cluster.sh"), *args], capture_output=True, text=True,
                          timeout=3600, check=True)


def prepare(directory: Path, stack: str, kubeconfig: str | None) -> dict:
    scratch_project(directory / "project")
    (directory / "state").mkdir()
    path = directory / "project" / f"Pulumi.{stack}.yaml"
    document = yaml.safe_load(path.read_text())
    config = document["config"]
    for name, service in config["leanstack:services"].items():
        if "build" in service["image"] or "from" in service["image"]:
            service["image"] = {"ref": PINNED.format(name)}
    if kubeconfig:
        ours = {key.split(":", 1)[1]: value for key, value in config.items()}
        on_kwok_nodes(ours, kubeconfig)
        ours["namespace"] = f"bench-{stack}-{secrets.token_hex(3)}"
        document["config"] = {f"leanstack:{key}": value for key, value in ours.items()}
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return {**{k: v for k, v in os.environ.items()}, "PULUMI_BACKEND_URL": f"file://{directory / 'state'}",
            "PULUMI_CONFIG_PASSPHRASE": os.environ.get("PULUMI_CONFIG_PASSPHRASE", "leanstack-local-only")}


def timed_up(stack: str, kubeconfig: str | None) -> tuple[float, str]:
    with tempfile.TemporaryDirectory(prefix="bench-live-") as temp:
        directory = Path(temp)
        env = prepare(directory, stack, kubeconfig)
        cwd = directory / "project"
        subprocess.run(["pulumi", "stack", "init", stack, "--non-interactive"], cwd=cwd, env=env, check=True,
                       capture_output=True, timeout=120)
        start = time.perf_counter()
        result = subprocess.run(["pulumi", "up", "--stack", stack, "--yes", "--non-interactive", "--skip-preview"],
                                cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
        elapsed = time.perf_counter() - start
        if result.returncode != 0:
            sys.exit(f"pulumi up ({stack}, {'cluster' if kubeconfig else 'render'}) failed:\n{result.stdout[-3000:]}")
        created = re.search(r"\+ (\d+) created", result.stdout)
        if kubeconfig:  # leave the cluster as found
            subprocess.run(["pulumi", "destroy", "--stack", stack, "--yes", "--non-interactive", "--skip-preview"],
                           cwd=cwd, env=env, capture_output=True, timeout=900, check=True)
        return elapsed, created.group(1) if created else "?"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-restart", action="store_true", help="skip the cluster down/up measurement")
    options = parser.parse_args()

    ready = []
    if not options.no_restart:
        for _ in range(options.runs):
            cluster("down")
            start = time.perf_counter()
            cluster("up")
            ready.append(time.perf_counter() - start)
    else:
        cluster("up")
    kubeconfig = cluster("kubeconfig").stdout.strip()

    print(f"load average at start: {os.getloadavg()[0]:.1f}")
    if ready:
        print(f"cluster start-to-ready (down, then `scripts/cluster.sh up`): median {statistics.median(ready):.2f} s "
              f"(runs: {', '.join(f'{t:.2f}' for t in ready)})")
    print("| stack | resources | render mode (median) | live cluster (median) | ratio | runs render / live |")
    print("|---|---:|---:|---:|---:|---|")
    for stack in ("dev", "prod"):
        render, live, count = [], [], "?"
        for _ in range(options.runs):
            seconds, count = timed_up(stack, None)
            render.append(seconds)
            seconds, _ = timed_up(stack, kubeconfig)
            live.append(seconds)
        r, l = statistics.median(render), statistics.median(live)
        print(f"| {stack} | {count} | {r:.2f} s | {l:.2f} s | {l / r:.2f}x | "
              f"{', '.join(f'{t:.1f}' for t in render)} / {', '.join(f'{t:.1f}' for t in live)} |")
    print(f"load average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
