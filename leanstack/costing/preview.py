"""A real `pulumi preview`, as the steps the cost delta prices: one seam between us and the engine.

It runs the Pulumi CLI's own machine-readable preview (`pulumi preview --json --show-sames`, streamed
as engine events with PULUMI_ENABLE_STREAMING_JSON_PREVIEW: every step with its old and new state,
unchanged ones included, because an HPA change moves what an unchanged Deployment costs) in one
process, read into the shape of the CLI's preview digest. Streamed, because the digest is written
from each step as planned, before its provider answers: it lacks the outputs a step reports in
the preview itself, such as the digest of an image built on preview (costing.images). The process
starts before anything else so the caller's own checks overlap the engine's run
(bench/cost_overhead.py, docs/benchmarks.md). A missing stack is the CLI's own exit code 6
(`ExitStackNotFound`): it is created and the preview run once more, so the common case costs one
CLI run and no `stack ls`.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

from leanstack.costing.steps import Step

STACK_NOT_FOUND = 6  # pulumi sdk/go/common/util/cmdutil/exit.go


class PreviewError(RuntimeError):
    """The preview failed: the message is the engine's own error lines."""


@dataclass(frozen=True)
class Preview:
    steps: list[Step]
    counts: dict[str, int]


def _start(arguments: list[str], work_dir: Path) -> subprocess.Popen:
    environment = {**os.environ, "PULUMI_SKIP_UPDATE_CHECK": "true", "PULUMI_ENABLE_STREAMING_JSON_PREVIEW": "true"}
    try:
        return subprocess.Popen(["pulumi", *arguments, "--non-interactive"], cwd=work_dir, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=environment)
    except FileNotFoundError:
        raise PreviewError("pulumi: command not found; run scripts/setup, then source scripts/toolchain-env.sh") from None


def digest_of(lines: Iterable[str]) -> dict[str, Any]:
    """The streamed preview's engine events (one JSON object a line) as the preview digest `--json`
    prints (steps with oldState/newState, changeSummary, diagnostics), each step's newState taken
    from its outputs event once the step ran. A line that is no JSON object is skipped."""
    steps: list[dict[str, Any]] = []
    running: dict[tuple[str, str], dict[str, Any]] = {}  # (urn, op) -> its step, for its outputs event
    digest: dict[str, Any] = {"steps": steps, "diagnostics": []}
    for line in lines:
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        if not isinstance(event, dict):
            continue
        if "resourcePreEvent" in event or "resOutputsEvent" in event:
            meta = (event.get("resourcePreEvent") or event["resOutputsEvent"])["metadata"]
            step = running.get((meta["urn"], meta["op"]))
            if step is None:
                step = running[(meta["urn"], meta["op"])] = {"op": meta["op"], "urn": meta["urn"]}
                steps.append(step)
            step["oldState"], step["newState"] = meta.get("old"), meta.get("new")
        elif "summaryEvent" in event:
            digest["changeSummary"] = event["summaryEvent"].get("resourceChanges") or {}
        elif "diagnosticEvent" in event:
            digest["diagnostics"].append(event["diagnosticEvent"])
    return digest


def steps_of(digest: Mapping[str, Any]) -> list[Step]:
    """The digest's steps as plain Steps (inputs as the engine has them; secrets stay masked)."""
    steps = []
    for raw in digest.get("steps") or []:
        old, new = raw.get("oldState") or {}, raw.get("newState") or {}
        steps.append(Step(op=raw["op"], urn=raw["urn"], type=new.get("type") or old.get("type") or "",
                          old=old.get("inputs") if old else None, new=new.get("inputs") if new else None,
                          old_outputs=old.get("outputs") if old else None, new_outputs=new.get("outputs") if new else None))
    return steps


def error_lines(digest: Mapping[str, Any], stderr: str) -> str:
    """The part of a failed preview worth reading: the error diagnostics, less the engine's prefix,
    so a config error reads as its own one-line-per-problem message."""
    lines = [line.strip().removeprefix("error: ").strip()
             for d in digest.get("diagnostics") or [] if d.get("severity") == "error"
             for line in str(d.get("message", "")).splitlines()]
    return "\n".join(line for line in lines if line) or stderr.strip() or "pulumi preview failed"


class RunningPreview:
    """`pulumi preview` of `stack`, running from construction; `result()` waits for its steps. As a
    context manager it stops an unfinished preview on the way out (a config error found meanwhile)."""

    def __init__(self, stack: str, work_dir: Path) -> None:
        self.stack, self.work_dir = stack, work_dir
        try:
            self._process: subprocess.Popen | None = self._preview()
            self._missing_cli: PreviewError | None = None
        except PreviewError as error:  # said by result(), after the caller's own checks, like any engine error
            self._process, self._missing_cli = None, error

    def _preview(self) -> subprocess.Popen:
        return _start(["preview", "--stack", self.stack, "--json", "--show-sames"], self.work_dir)

    def result(self) -> Preview:
        if self._process is None:
            raise self._missing_cli
        stdout, stderr = self._process.communicate()
        if self._process.returncode == STACK_NOT_FOUND:
            created = _start(["stack", "init", self.stack], self.work_dir)
            if created.wait() != 0:
                raise PreviewError(created.stderr.read().strip())
            self._process = self._preview()
            stdout, stderr = self._process.communicate()
        digest = digest_of(stdout.splitlines())
        if self._process.returncode != 0:
            raise PreviewError(error_lines(digest, stderr))
        return Preview(steps_of(digest), {str(op): int(n) for op, n in (digest.get("changeSummary") or {}).items()})

    def __enter__(self) -> RunningPreview:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            self._process.communicate()
