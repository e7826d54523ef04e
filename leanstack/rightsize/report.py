"""What `leanstack rightsize` reports: per service current -> recommended values, the evidence and
reasons behind them, the stack file changes, and what exactly those changes cost.

Formatting is pure (markdown, the PR comment body, and json are strings; the rich tables print to
a given console). The cost of a change is priced with the preview's own delta machinery: the old
and the new config are each run under Pulumi mocks (components/offline.py), their objects paired
by kind, namespace and name into `Step`s, and `cost_delta` prices both worlds, so the numbers are
the ones `leanstack cost` shows once the change is previewed.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict
from datetime import datetime, timezone
from typing import Any, Iterable, Mapping, Sequence

from rich.console import Console
from rich.table import Table

from leanstack.config.schema import StackConfig
from leanstack.costing.delta import DeltaReport, cost_delta
from leanstack.costing.output import to_json as delta_json
from leanstack.costing.steps import Step
from leanstack.kube.manifest import dig, resource_id, resource_type
from leanstack.kube.quantities import rounded_mebibytes, rounded_millicores
from leanstack.rightsize.model import Evidence, Recommendation, Replicas
from leanstack.rightsize.patch import Change

COLUMNS = ("CPU request", "CPU limit", "memory request", "memory limit", "HPA replicas")


# --- the cost of the change ------------------------------------------------------------------------

def _key(manifest: Mapping[str, Any]) -> tuple[str, str, str]:
    return manifest["kind"], dig(manifest, "metadata", "namespace") or "", dig(manifest, "metadata", "name")


def steps_between(old: Iterable[Mapping[str, Any]], new: Iterable[Mapping[str, Any]]) -> list[Step]:
    """Pair two renderings' objects by (kind, namespace, name) into the Steps a preview would report."""
    before, after = {_key(o): o for o in old}, {_key(o): o for o in new}
    steps = []
    for key in [*before, *(k for k in after if k not in before)]:
        was, now = before.get(key), after.get(key)
        op = "create" if was is None else "delete" if now is None else "same" if was == now else "update"
        manifest = now or was
        # Any stable string serves as the URN: cost_delta only uses it to pair old and new.
        steps.append(Step(op, f"{resource_type(manifest)}::{resource_id(manifest)}", resource_type(manifest), was, now))
    return steps


def change_delta(stack: str, old: StackConfig, new: StackConfig) -> DeltaReport:
    """The monthly cost delta of replacing config `old` with `new`, without the engine."""
    from leanstack.components.offline import run_platform  # loads Pulumi; only needed here

    # run_platform installs process-wide Pulumi mocks: the two runs must not overlap.
    before = run_platform(old, stack).kubernetes_objects()
    after = run_platform(new, stack).kubernetes_objects()
    steps = steps_between(before, after)
    return cost_delta(stack, steps, new.cost.sheet(), Counter(step.op for step in steps), new.cost.cluster_fee_share)


# --- figures as text -------------------------------------------------------------------------------

def _hours(seconds: float) -> str:
    return f"{seconds / 3600:.1f}h"


def _replicas(replicas: Replicas | None) -> str:
    return f"{replicas.min_replicas}-{replicas.max_replicas}" if replicas else ""


def _moved(old: str, new: str) -> str:
    return old if old == new else f"{old} -> {new}"


def value_cells(recommendation: Recommendation) -> tuple[str, ...]:
    """The five value columns: "current -> recommended" where they differ, the value where not."""
    current, new = recommendation.current, recommendation.recommended
    if new is None:
        return (current.cpu_request, current.cpu_limit, current.memory_request, current.memory_limit,
                _replicas(recommendation.current_replicas))
    replicas = (_moved(_replicas(recommendation.current_replicas), _replicas(recommendation.recommended_replicas))
                if recommendation.recommended_replicas else _replicas(recommendation.current_replicas))
    return (_moved(current.cpu_request, new.cpu_request), _moved(current.cpu_limit, new.cpu_limit),
            _moved(current.memory_request, new.memory_request), _moved(current.memory_limit, new.memory_limit),
            replicas)


def evidence_cells(evidence: Evidence) -> tuple[str, ...]:
    if not evidence.cpu_samples and not evidence.memory_samples:
        return ("0", "0/0", "–", "–", "–", str(evidence.restarts), str(evidence.oom_kills))
    return (
        str(evidence.pods),
        f"{evidence.cpu_samples}/{evidence.memory_samples}",
        _hours(evidence.history_seconds),
        " / ".join(rounded_millicores(cores) for cores in (evidence.cpu_p50, evidence.cpu_p95, evidence.cpu_max)),
        " / ".join(rounded_mebibytes(amount) for amount in (evidence.memory_p50, evidence.memory_p95, evidence.memory_max)),
        str(evidence.restarts),
        str(evidence.oom_kills),
    )


EVIDENCE_COLUMNS = ("pods", "samples cpu/memory", "history", "CPU p50 / p95 / max", "memory p50 / p95 / max",
                    "restarts", "OOM kills")


def headline(strategy: str, window: str, step: str, until: float) -> str:
    end = datetime.fromtimestamp(until, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"strategy {strategy}, usage over the {window} until {end} (--until {until:.0f}) in {step} steps"


def _file_state(stack_file: str, written: bool, changes: Sequence[Change]) -> str:
    if not changes:
        return f"{stack_file}: nothing to change"
    return f"{stack_file}: written" if written else f"{stack_file}: not written (run with --write)"


# --- markdown and json -----------------------------------------------------------------------------

def to_markdown(stack: str, strategy: str, window: str, step: str, until: float, recommendations: Sequence[Recommendation],
                changes: Sequence[Change], stack_file: str, written: bool) -> str:
    """The recommendations as a PR comment body (the cost delta's own markdown follows it)."""
    lines = [f"### leanstack rightsize: `{stack}`", "", f"{headline(strategy, window, step, until).capitalize()}.", "",
             "| service | " + " | ".join(COLUMNS) + " |", "|---" * (len(COLUMNS) + 1) + "|"]
    for r in recommendations:
        state = "" if r.recommended else " (left alone)"
        lines.append(f"| `{r.service}`{state} | " + " | ".join(c or "–" for c in value_cells(r)) + " |")
    lines += ["", "| service | " + " | ".join(EVIDENCE_COLUMNS) + " |", "|---" * (len(EVIDENCE_COLUMNS) + 1) + "|"]
    lines += [f"| `{r.service}` | " + " | ".join(evidence_cells(r.evidence)) + " |" for r in recommendations]
    lines += ["", "**Why**", ""]
    lines += [f"- `{r.service}`{'' if r.recommended else ' (left alone)'}: {'; '.join(r.reasons) or 'already right-sized'}"
              for r in recommendations]
    lines += ["", f"**Stack file** {_file_state(stack_file, written, changes)}", ""]
    lines += [f"- `{change}`" for change in changes]
    return "\n".join(lines).rstrip() + "\n"


def to_json(until: float, recommendations: Sequence[Recommendation], changes: Sequence[Change],
            delta: DeltaReport) -> str:
    """One object: the window's end, every recommendation as data, the changes, and the cost delta's own json."""
    return json.dumps({
        "until": until,
        "recommendations": [asdict(r) for r in recommendations],
        "changes": [asdict(change) for change in changes],
        "cost_delta": json.loads(delta_json(delta)),
    }, indent=2) + "\n"


# --- terminal --------------------------------------------------------------------------------------

def print_tables(console: Console, stack: str, strategy: str, window: str, step: str, until: float,
                 recommendations: Sequence[Recommendation], changes: Sequence[Change], stack_file: str,
                 written: bool) -> None:
    values = Table(title=f"leanstack rightsize: {stack}  ({headline(strategy, window, step, until)})", title_justify="left")
    for column in ("service", *COLUMNS):
        values.add_column(column)
    for r in recommendations:
        values.add_row(r.service if r.recommended else f"{r.service} (left alone)", *value_cells(r),
                       style=None if r.recommended else "dim")
    console.print(values)
    evidence = Table(title="evidence", title_justify="left")
    for column in ("service", *EVIDENCE_COLUMNS):
        evidence.add_column(column, justify="left" if column == "service" else "right")
    for r in recommendations:
        evidence.add_row(r.service, *evidence_cells(r.evidence))
    console.print(evidence)
    for r in recommendations:
        console.print(f"{r.service}: {'; '.join(r.reasons) or 'already right-sized'}", markup=False, highlight=False)
    console.print(_file_state(stack_file, written, changes), style="bold", markup=False)
    for change in changes:
        console.print(f"  {change}", markup=False, highlight=False)
