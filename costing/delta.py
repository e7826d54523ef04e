"""Resource and cost delta of a preview: each step's old and new inputs, priced side by side.

The engine reports one step per resource (several for a replacement). The old world is every
step's old inputs, the new world every step's new inputs; each world is priced whole (an HPA
changes what its Deployment costs), then compared resource by resource. Pure: events come in as
plain `Step`s, so this is tested without the engine.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Iterable, Mapping, Optional

from components.quantities import parse_quantity
from costing.model import cents, claim_size, money, price_objects, resource_id
from costing.sheets import PriceSheet

ZERO = Decimal(0)
REPLACE_OPS = {"replace", "create-replacement", "delete-replaced", "discard-replaced"}
SYMBOLS = {"create": "+", "update": "~", "replace": "+-", "delete": "-", "same": " "}


def op_name(op: Any) -> str:
    """An engine operation as its plain name ("update"), whether the SDK gives an enum or a string."""
    return str(getattr(op, "value", op))


@dataclass(frozen=True)
class Step:
    op: str
    urn: str
    type: str
    old: Optional[Mapping[str, Any]]
    new: Optional[Mapping[str, Any]]


@dataclass(frozen=True)
class Row:
    op: str
    resource: str
    old: tuple[Decimal, Decimal]
    new: tuple[Decimal, Decimal]

    @property
    def delta(self) -> tuple[Decimal, Decimal]:
        return self.new[0] - self.old[0], self.new[1] - self.old[1]


@dataclass(frozen=True)
class DeltaReport:
    stack: str
    sheet: str
    rows: tuple[Row, ...]
    old_total: tuple[Decimal, Decimal]
    new_total: tuple[Decimal, Decimal]
    counts: dict[str, int]
    warnings: tuple[str, ...] = ()

    @property
    def delta(self) -> tuple[Decimal, Decimal]:
        return self.new_total[0] - self.old_total[0], self.new_total[1] - self.old_total[1]

    def exceeds(self, budget: str) -> bool:
        """Does the monthly baseline increase exceed `budget`: "10%" of the old total or "50" USD?"""
        increase = self.delta[0]
        if budget.strip().endswith("%"):
            percent = Decimal(budget.strip()[:-1])
            if self.old_total[0] == 0:
                return increase > 0
            return increase * 100 / self.old_total[0] > percent
        return increase > Decimal(budget)


def merge_steps(steps: Iterable[Step]) -> dict[str, Step]:
    """One step per URN; the steps of a replacement collapse into a single `replace`."""
    merged: dict[str, Step] = {}
    for step in steps:
        seen = merged.get(step.urn)
        if seen is None:
            merged[step.urn] = step
            continue
        op = "replace" if {seen.op, step.op} & REPLACE_OPS else step.op
        merged[step.urn] = Step(op, step.urn, step.type, seen.old or step.old, step.new or seen.new)
    return {urn: (Step("replace", s.urn, s.type, s.old, s.new) if s.op in REPLACE_OPS else s) for urn, s in merged.items()}


def _kubernetes_objects(steps: Iterable[Step], side: str) -> dict[str, Mapping[str, Any]]:
    objects = {}
    for step in steps:
        inputs = getattr(step, side)
        if step.type.startswith("kubernetes:") and not step.type.startswith("pulumi:") and inputs:
            objects[step.urn] = inputs
    return objects


def cost_delta(stack: str, steps: Iterable[Step], sheet: PriceSheet, counts: Optional[Mapping[str, int]] = None) -> DeltaReport:
    merged = merge_steps(steps)
    old_objects = _kubernetes_objects(merged.values(), "old")
    new_objects = _kubernetes_objects(merged.values(), "new")
    old_report, new_report = price_objects(old_objects.values(), sheet), price_objects(new_objects.values(), sheet)
    old_costs, new_costs = old_report.by_resource(), new_report.by_resource()
    rows = []
    for urn, step in merged.items():
        if step.urn not in old_objects and step.urn not in new_objects:
            continue
        old = old_costs.get(resource_id(old_objects[urn]), (ZERO, ZERO)) if urn in old_objects else (ZERO, ZERO)
        new = new_costs.get(resource_id(new_objects[urn]), (ZERO, ZERO)) if urn in new_objects else (ZERO, ZERO)
        if step.op == "same" and old == new == (ZERO, ZERO):
            continue
        name = resource_id(new_objects.get(urn) or old_objects[urn])
        rows.append(Row(step.op, name, old, new))
    rows.sort(key=lambda row: (-abs(row.delta[0]), row.resource))
    warnings = tuple(shrink_warnings(merged.values(), old_objects, new_objects))
    return DeltaReport(stack, sheet.name, tuple(rows), old_report.total(), new_report.total(), dict(counts or {}), warnings)


def shrink_warnings(steps: Iterable[Step], old: Mapping[str, Mapping], new: Mapping[str, Mapping]) -> list[str]:
    """Kubernetes never shrinks a PersistentVolumeClaim: such an update fails on a cluster (render
    mode accepts it), and replacing the claim instead deletes its data. Say so before apply."""
    warnings = []
    for step in steps:
        before, after = old.get(step.urn), new.get(step.urn)
        if not (before and after) or after.get("kind") != "PersistentVolumeClaim":
            continue
        old_size, new_size = claim_size(before), claim_size(after)
        if parse_quantity(new_size) > 0 and parse_quantity(new_size) < parse_quantity(old_size):
            consequence = ("the replacement deletes the volume and its data" if step.op == "replace"
                           else "Kubernetes refuses to shrink a claim, so this update fails on a cluster")
            warnings.append(f"{resource_id(after)} shrinks from {old_size} to {new_size}: {consequence}; "
                            f"migrate the data to a new, smaller claim instead")
    return warnings



def span(amounts: tuple[Decimal, Decimal]) -> str:
    low, high = amounts
    return money(low) if cents(low) == cents(high) else f"{money(low)}–{money(high)}"


def signed(amount: Decimal) -> str:
    value = cents(amount)
    return f"+{value:.2f}" if value > 0 else f"{value:.2f}"


def signed_span(amounts: tuple[Decimal, Decimal]) -> str:
    low, high = amounts
    return signed(low) if cents(low) == cents(high) else f"{signed(low)} (ceiling {signed(high)})"


def count_line(counts: Mapping[str, int]) -> str:
    return (f"+{counts.get('create', 0)} created, ~{counts.get('update', 0)} updated, "
            f"+-{counts.get('replace', 0)} replaced, -{counts.get('delete', 0)} deleted, {counts.get('same', 0)} unchanged")


def to_markdown(report: DeltaReport) -> str:
    lines = [
        f"### leanstack cost delta: `{report.stack}`",
        "",
        f"Resources: {count_line(report.counts)}",
        "",
        "| op | resource | old $/month | new $/month | delta |",
        "|---|---|---:|---:|---:|",
    ]
    for row in report.rows:
        lines.append(f"| {SYMBOLS.get(row.op, row.op)} {row.op} | `{row.resource}` | {span(row.old)} | {span(row.new)} | {signed_span(row.delta)} |")
    lines += [
        "",
        "| monthly total | old | new | delta |",
        "|---|---:|---:|---:|",
        f"| baseline | {money(report.old_total[0])} | {money(report.new_total[0])} | {signed(report.delta[0])} |",
        f"| ceiling | {money(report.old_total[1])} | {money(report.new_total[1])} | {signed(report.delta[1])} |",
        "",
        f"Prices: `{report.sheet}`, USD per month (730 hours); ranges are HPA minReplicas–maxReplicas.",
    ]
    if report.warnings:
        lines += ["", "**Warnings**", ""] + [f"- {warning}" for warning in report.warnings]
    return "\n".join(lines) + "\n"


def to_json(report: DeltaReport) -> str:
    def pair(amounts: tuple[Decimal, Decimal]) -> dict[str, str]:
        return {"baseline": money(amounts[0]), "ceiling": money(amounts[1])}

    return json.dumps({
        "stack": report.stack,
        "sheet": report.sheet,
        "currency": "USD",
        "counts": report.counts,
        "resources": [{"op": r.op, "resource": r.resource, "old": pair(r.old), "new": pair(r.new), "delta": pair(r.delta)}
                      for r in report.rows],
        "total": {"old": pair(report.old_total), "new": pair(report.new_total), "delta": pair(report.delta)},
        "warnings": list(report.warnings),
    }, indent=2) + "\n"
