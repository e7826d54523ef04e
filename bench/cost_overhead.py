"""How much `leanstack cost` adds over a plain `pulumi preview` of the same stack.

Side by side in one run, alternating the two commands, on (1) the dev stack and (2) a generated
100-service stack; each from an up-to-date state (so the preview is all `same`, as in a PR that
changes a little). Prints the median wall times, their ratio and the median of the per-run ratios (target: at most 1.05x).

    scripts/setup && source scripts/toolchain-env.sh && .venv/bin/python bench/cost_overhead.py --runs 5
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

PINNED = "registry.example/bench/{}@sha256:" + "0" * 64


def generated_stack(project: Path, services: int) -> str:
    """Pulumi.bench.yaml: `services` internal services with prebuilt images, half autoscaled."""
    document = yaml.safe_load((project / "Pulumi.dev.yaml").read_text())
    config = document["config"]
    config["leanstack:namespace"] = "bench"
    generated = {}
    for index in range(services):
        name = f"svc{index:03d}"
        service = {
            "image": {"ref": PINNED.format(name)},
            "port": 8080,
            "resources": {"requests": {"cpu": f"{50 + index}m", "memory": "128Mi"},
                          "limits": {"cpu": "500m", "memory": "256Mi"}},
            "allow_from": [f"svc{index - 1:03d}"] if index else [],
            "depends_on": [f"svc{index + 1:03d}"] if index + 1 < services else [],
        }
        if index % 2:
            service["autoscaling"] = {"min_replicas": 2, "max_replicas": 5}
        generated[name] = service
    config["leanstack:services"] = generated
    config = {k: v for k, v in config.items() if k != "leanstack:postgresPassword"}
    document["config"] = config
    (project / "Pulumi.bench.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    return "bench"


def timed(command: list[str], cwd: Path, env: dict) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def measure(project: Path, stack: str, env: dict, runs: int) -> tuple[float, float, float]:
    subprocess.run(["pulumi", "stack", "select", stack, "--create", "--non-interactive"], cwd=project, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run(["pulumi", "up", "--yes", "--non-interactive", "--stack", stack], cwd=project, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    preview = ["pulumi", "preview", "--non-interactive", "--stack", stack]
    cost = [sys.executable, "-m", "leanstack.cli", "cost", "--stack", stack, "--work-dir", str(project), "--format", "json"]
    plain, tool = [], []
    for _ in range(runs):
        plain.append(timed(preview, project, env))
        tool.append(timed(cost, ROOT, env))
    # The median of each run's own ratio as well: a pair runs back to back, so it shares the machine's
    # state, while the medians of the two columns also carry its drift (this machine slows under load).
    paired = statistics.median(t / p for p, t in zip(plain, tool))
    return statistics.median(plain), statistics.median(tool), paired


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        project = scratch_project(base / "project")
        (base / "state").mkdir()
        env = {**os.environ, "PULUMI_BACKEND_URL": f"file://{base / 'state'}",
               "PULUMI_CONFIG_PASSPHRASE": os.environ.get("PULUMI_CONFIG_PASSPHRASE", "leanstack-local-only")}
        rows = []
        for label, stack in (("dev (5 services)", "dev"), ("generated, 100 services", generated_stack(project, 100))):
            rows.append((label, *measure(project, stack, env, args.runs)))
    print(f"{'stack':<26} {'pulumi preview':>15} {'leanstack cost':>15} {'ratio':>7} {'paired':>7}   (medians of {args.runs})")
    for label, plain, tool, paired in rows:
        print(f"{label:<26} {plain:>14.2f}s {tool:>14.2f}s {tool / plain:>6.2f}x {paired:>6.2f}x")


if __name__ == "__main__":
    main()
