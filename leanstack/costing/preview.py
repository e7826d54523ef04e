"""A real `pulumi preview`, as the steps the cost delta prices: one seam between us and the engine.

It runs the Pulumi CLI's own machine-readable preview (`pulumi preview --json --show-sames`: the
engine's preview digest, every step with its old and new state, unchanged ones included, because
an HPA change moves what an unchanged Deployment costs) in one process. That is what the
Automation API does too, minus its extra CLI runs (`pulumi version`, `stack select`), measured in
bench/cost_overhead.py and docs/benchmarks.md. A missing stack is created first (read-only check
with `stack ls`, so the workspace's selected stack never changes).
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from leanstack.costing.delta import Step


class PreviewError(RuntimeError):
    """The preview failed: the message is the engine's own error lines."""


@dataclass(frozen=True)
class Preview:
    steps: list[Step]
    counts: dict[str, int]


def _pulumi(arguments: list[str], work_dir: Path) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PULUMI_SKIP_UPDATE_CHECK": "true"}
    try:
        return subprocess.run(["pulumi", *arguments, "--non-interactive"], cwd=work_dir, capture_output=True,
                              text=True, env=environment, check=False)
    except FileNotFoundError:
        raise PreviewError("pulumi: command not found; run scripts/setup, then source scripts/toolchain-env.sh") from None


def ensure_stack(stack: str, work_dir: Path) -> None:
    listed = _pulumi(["stack", "ls", "--json"], work_dir)
    if listed.returncode != 0:
        raise PreviewError(listed.stderr.strip() or listed.stdout.strip())
    if stack not in {entry.get("name") for entry in json.loads(listed.stdout or "[]")}:
        created = _pulumi(["stack", "init", stack], work_dir)
        if created.returncode != 0:
            raise PreviewError(created.stderr.strip())


def steps_of(digest: Mapping[str, Any]) -> list[Step]:
    """The digest's steps as plain Steps (inputs as the engine has them; secrets stay masked)."""
    steps = []
    for raw in digest.get("steps") or []:
        old, new = raw.get("oldState") or {}, raw.get("newState") or {}
        steps.append(Step(op=raw["op"], urn=raw["urn"], type=new.get("type") or old.get("type") or "",
                          old=old.get("inputs") if old else None, new=new.get("inputs") if new else None))
    return steps


def error_lines(digest: Mapping[str, Any], stderr: str) -> str:
    """The part of a failed preview worth reading: the error diagnostics, less the engine's prefix,
    so a config error reads as its own one-line-per-problem message."""
    lines = [line.strip().removeprefix("error: ").strip()
             for d in digest.get("diagnostics") or [] if d.get("severity") == "error"
             for line in str(d.get("message", "")).splitlines()]
    return "\n".join(line for line in lines if line) or stderr.strip() or "pulumi preview failed"


def run_preview(stack: str, work_dir: Path) -> Preview:
    ensure_stack(stack, work_dir)
    done = _pulumi(["preview", "--stack", stack, "--json", "--show-sames"], work_dir)
    try:
        digest = json.loads(done.stdout) if done.stdout.strip() else {}
    except json.JSONDecodeError:
        digest = {}
    if done.returncode != 0:
        raise PreviewError(error_lines(digest, done.stderr))
    return Preview(steps_of(digest), {str(op): int(n) for op, n in (digest.get("changeSummary") or {}).items()})
