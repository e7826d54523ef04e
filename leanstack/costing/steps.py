"""One step of a Pulumi preview as the cost delta reads it: the engine's operation on a resource
and the resource's inputs (and outputs) before and after. costing.preview makes them from the engine's digest,
costing.delta prices them; a module of its own so that starting a preview loads nothing else."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Iterable, Mapping, Optional

REPLACE_OPS = {"replace", "create-replacement", "delete-replaced", "discard-replaced"}


@dataclass(frozen=True)
class Step:
    op: str
    urn: str
    type: str
    old: Optional[Mapping[str, Any]]
    new: Optional[Mapping[str, Any]]
    # The resource's outputs before and after: an Image's `ref` (its pushed digest) lives there.
    old_outputs: Optional[Mapping[str, Any]] = None
    new_outputs: Optional[Mapping[str, Any]] = None


def merge_steps(steps: Iterable[Step]) -> dict[str, Step]:
    """One step per URN; the steps of a replacement collapse into a single `replace`."""
    merged: dict[str, Step] = {}
    for step in steps:
        seen = merged.get(step.urn)
        if seen is None:
            merged[step.urn] = step
            continue
        op = "replace" if {seen.op, step.op} & REPLACE_OPS else step.op
        merged[step.urn] = Step(op, step.urn, step.type, seen.old or step.old, step.new or seen.new,
                                seen.old_outputs or step.old_outputs, step.new_outputs or seen.new_outputs)
    return {urn: (replace(s, op="replace") if s.op in REPLACE_OPS else s) for urn, s in merged.items()}
