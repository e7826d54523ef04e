"""Wall time and peak memory of `pulumi preview` for the dev and prod stacks.

Each preview runs on a scratch copy with an empty file backend (every resource a create, as a first
PR preview) and again after `pulumi up` (all `same`, as a routine PR). Peak memory is the largest
sum of RSS over the whole process tree (CLI, language host, Python program, providers), sampled
every 50 ms from /proc.

    source scripts/toolchain-env.sh && .venv/bin/python bench/preview.py --runs 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from scratch import scratch_project

PAGE = os.sysconf("SC_PAGE_SIZE")


def tree_rss(root: int) -> int:
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            fields = stat[stat.rindex(")") + 2:].split()
            parents[int(entry.name)] = int(fields[1])
            rss[int(entry.name)] = int((entry / "statm").read_text().split()[1]) * PAGE
        except (OSError, ValueError):
            continue
    members, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        for pid, ppid in parents.items():
            if ppid == parent and pid not in members:
                members.add(pid)
                frontier.append(pid)
    return sum(rss.get(pid, 0) for pid in members)


def measured(command: list[str], cwd: Path, env: dict) -> tuple[float, int]:
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, tree_rss(process.pid))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample)
    sampler.start()
    code = process.wait()
    elapsed = time.perf_counter() - start
    done.set()
    sampler.join()
    if code:
        raise SystemExit(f"{' '.join(command)} failed with {code}")
    return elapsed, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"{'stack':<6} {'state':<22} {'wall (median)':>14} {'peak RSS of tree':>17}   ({args.runs} runs)")
    for stack in ("dev", "prod"):
        with tempfile.TemporaryDirectory() as tmp:
            project = scratch_project(Path(tmp) / "project")
            (Path(tmp) / "state").mkdir()
            env = {**os.environ, "PULUMI_BACKEND_URL": f"file://{tmp}/state",
                   "PULUMI_CONFIG_PASSPHRASE": os.environ.get("PULUMI_CONFIG_PASSPHRASE", "leanstack-local-only")}
            subprocess.run(["pulumi", "stack", "init", stack, "--non-interactive"], cwd=project, env=env, check=True,
                           stdout=subprocess.DEVNULL)
            preview = ["pulumi", "preview", "--stack", stack, "--non-interactive"]
            for state in ("empty (all creates)", "after up (all same)"):
                if state.startswith("after"):
                    subprocess.run(["pulumi", "up", "--yes", "--stack", stack, "--non-interactive"], cwd=project, env=env,
                                   check=True, stdout=subprocess.DEVNULL)
                runs = [measured(preview, project, env) for _ in range(args.runs)]
                wall = statistics.median(r[0] for r in runs)
                peak = max(r[1] for r in runs)
                print(f"{stack:<6} {state:<22} {wall:>13.2f}s {peak / 2**20:>14.0f} MiB")


if __name__ == "__main__":
    main()
