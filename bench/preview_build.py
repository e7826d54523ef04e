"""What the preview's new image side costs: `leanstack cost` and `pulumi up` after a change to api's
source, with `build_on_preview` (the OCI-layout Image beside each pushed one) and without.

Side by side in one run: two scratch copies of the project, the committed dev stack (its builds
have build_on_preview) and the same stack without it, each `up` once; then, per run, the same new
file in apps/api/app of both, `leanstack cost` of each (alternating which goes first), and `pulumi
up` of each. Prints the median wall times and their ratios, and what the layouts hold on disk.

    scripts/setup && source scripts/toolchain-env.sh && source scripts/pulumi-env.sh && \\
        .venv/bin/python bench/preview_build.py --runs 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from scratch import ROOT, scratch_project

from leanstack.images.layout import BUILDS

STACK = "dev"


def without_build_on_preview(project: Path) -> None:
    path = project / f"Pulumi.{STACK}.yaml"
    document = yaml.safe_load(path.read_text())
    for service in document["config"]["leanstack:services"].values():
        service.get("image", {}).get("build", {}).pop("build_on_preview", None)
    path.write_text(yaml.safe_dump(document, sort_keys=False))


def timed(command: list[str], cwd: Path, env: dict) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def disk_bytes(directory: Path) -> int:
    return sum(path.stat().st_size for path in directory.rglob("*") if path.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        projects = {}
        for label in ("build_on_preview", "without"):
            base = Path(tmp) / label
            project = scratch_project(base / "project")
            if label == "without":
                without_build_on_preview(project)
            (base / "state").mkdir()
            env = {**os.environ, "PULUMI_BACKEND_URL": f"file://{base / 'state'}",
                   "PULUMI_CONFIG_PASSPHRASE": os.environ.get("PULUMI_CONFIG_PASSPHRASE", "leanstack-local-only")}
            subprocess.run(["pulumi", "stack", "select", STACK, "--create", "--non-interactive"], cwd=project, env=env,
                           check=True, stdout=subprocess.DEVNULL)
            subprocess.run(["pulumi", "up", "--yes", "--non-interactive", "--stack", STACK], cwd=project, env=env,
                           check=True, stdout=subprocess.DEVNULL)
            projects[label] = (project, env)
        cost: dict[str, list[float]] = {label: [] for label in projects}
        up: dict[str, list[float]] = {label: [] for label in projects}
        for run in range(args.runs):
            for project, _ in projects.values():
                (project / "apps" / "api" / "app" / f"bench_{run}.py").write_text(f"RUN = {run}\n" + "#" * 100_000 + "\n")
            order = list(projects) if run % 2 == 0 else list(reversed(projects))
            for label in order:
                project, env = projects[label]
                cost[label].append(timed([sys.executable, "-m", "leanstack.cli", "cost", "--stack", STACK, "--work-dir",
                                          str(project), "--format", "json"], ROOT, env))
            for label in order:
                project, env = projects[label]
                up[label].append(timed(["pulumi", "up", "--yes", "--non-interactive", "--stack", STACK], project, env))
        layouts = disk_bytes(projects["build_on_preview"][0] / BUILDS / STACK)
    print(f"{'after a change to api':<24} {'build_on_preview':>17} {'without':>9} {'ratio':>7}   (medians of {args.runs})")
    for name, times in (("leanstack cost", cost), ("pulumi up", up)):
        on, off = statistics.median(times["build_on_preview"]), statistics.median(times["without"])
        print(f"{name:<24} {on:>16.2f}s {off:>8.2f}s {on / off:>6.2f}x")
    print(f"OCI layouts on disk after {1 + args.runs} builds of api and 1 of worker and web: {layouts / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
