"""Wall time of `pulumi preview` and `pulumi up` of the dev stack with its state in the local file
backend and in S3 (versitygw, scripts/s3.sh), measured side by side in one run (docs/state.md).

Render mode (no cluster) and pinned images (no builds), so the difference is the backend's: each
run takes a fresh stack in each backend (a fresh directory, a fresh bucket with versioning on) and
times, in turn: preview (all creates), up (all creates), preview (all same), up (all same). The
backends alternate within a run, so a busy neighbour slows both alike.

    scripts/s3.sh up && source scripts/toolchain-env.sh && eval "$(scripts/s3.sh env)" &&
      .venv/bin/python -m bench.state_backend --runs 3     # from the root: it imports tools.s3
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import yaml

from bench.scratch import pin_images, scratch_project
from tools.s3 import backend_url, client, ensure_bucket

STEPS = [("preview", "empty (all creates)"), ("up", "empty (all creates)"),
         ("preview", "after up (all same)"), ("up", "after up (all same)")]


def pinned_project(directory: Path) -> Path:
    project = scratch_project(directory)
    path = project / "Pulumi.dev.yaml"
    document = yaml.safe_load(path.read_text())
    ours = {key.split(":", 1)[1]: value for key, value in document["config"].items()}
    pin_images(ours)
    document["config"] = {f"leanstack:{key}": value for key, value in ours.items()}
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return project


def s3_backend(base_url: str) -> str:
    """A fresh bucket (versioning on) on the server of $PULUMI_BACKEND_URL, as its backend URL."""
    endpoint = "http://" + parse_qs(urlsplit(base_url).query)["endpoint"][0]
    bucket = f"bench-state-{secrets.token_hex(4)}"
    ensure_bucket(client(endpoint), bucket)
    return backend_url(bucket, endpoint)


def timed(command: str, project: Path, env: dict) -> float:
    arguments = ["pulumi", command, "--stack", "dev", "--non-interactive"] + (["--yes"] if command == "up" else [])
    start = time.perf_counter()
    subprocess.run(arguments, cwd=project, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    base = os.environ.get("PULUMI_BACKEND_URL", "")
    if not base.startswith("s3://"):
        raise SystemExit('PULUMI_BACKEND_URL is not s3://...: run eval "$(scripts/s3.sh env)" first')
    times: dict[tuple[str, int], list[float]] = {}
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / "state").mkdir()
            backends = {"file": f"file://{tmp}/state", "s3": s3_backend(base)}
            envs, projects = {}, {}
            for name, url in backends.items():
                projects[name] = pinned_project(Path(tmp) / name)
                envs[name] = {**os.environ, "PULUMI_BACKEND_URL": url,
                              "PULUMI_CONFIG_PASSPHRASE": os.environ.get("PULUMI_CONFIG_PASSPHRASE", "leanstack-local-only")}
                subprocess.run(["pulumi", "stack", "init", "dev", "--non-interactive"], cwd=projects[name],
                               env=envs[name], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for index, (command, _) in enumerate(STEPS):
                for name in backends:
                    times.setdefault((name, index), []).append(timed(command, projects[name], envs[name]))
    print(f"{'command':<9} {'state':<22} {'file (median)':>14} {'s3 (median)':>12}   ({args.runs} runs)")
    for index, (command, state) in enumerate(STEPS):
        file_time, s3_time = (statistics.median(times[(name, index)]) for name in ("file", "s3"))
        print(f"{command:<9} {state:<22} {file_time:>13.2f}s {s3_time:>11.2f}s")


if __name__ == "__main__":
    main()
