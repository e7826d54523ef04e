"""Resource and cost delta of a preview: each step's old and new inputs, priced side by side.

The engine reports one step per resource (several for a replacement). The old world is every
step's old inputs, the new world every step's new inputs; each world is priced whole (an HPA
changes what its Deployment costs), then compared resource by resource. Pure: events come in as
plain `Step`s, so this is tested without the engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Iterable, Mapping, Optional

from leanstack.config.price_sheets import PriceSheet
from leanstack.costing.images import ImageRow
from leanstack.costing.money import MoneyRange
from leanstack.costing.price import CostReport, LineItem, price_objects
from leanstack.costing.steps import Step, merge_steps
from leanstack.costing.usage import Usage, pods_text
from leanstack.kube.manifest import claim_size, resource_id
from leanstack.kube.quantities import format_bytes, format_cpu, parse_quantity

# Line items priced from the whole world rather than one object: no step of their own.
DERIVED = ("NodePool/", "Cluster/")


def op_name(op: Any) -> str:
    """An engine operation as its plain name ("update"), whether the SDK gives an enum or a string."""
    return str(getattr(op, "value", op))


@dataclass(frozen=True)
class Row:
    """One resource's step: its cost before and after, and what it bills in resource terms."""

    op: str
    resource: str
    old: MoneyRange
    new: MoneyRange
    old_resources: str = ""
    new_resources: str = ""

    @property
    def delta(self) -> MoneyRange:
        return self.new - self.old

    @property
    def free(self) -> bool:
        """Costs nothing before and after (a quota, a policy, an HPA: its effect shows on its target)."""
        return self.old.is_zero() and self.new.is_zero()

    def resources_text(self) -> str:
        """`3-10 x 500m/512Mi (billed 0.5 vCPU/1 GB) -> 2-10 x 250m/384Mi (billed ...)`; one side if unchanged."""
        if self.old_resources == self.new_resources:
            return self.new_resources
        return f"{self.old_resources or '–'} -> {self.new_resources or '–'}"


@dataclass(frozen=True)
class DeltaReport:
    stack: str
    sheet: str
    rows: tuple[Row, ...]
    old_total: MoneyRange
    new_total: MoneyRange
    counts: dict[str, int]
    warnings: tuple[str, ...] = ()
    images: tuple[ImageRow, ...] = ()  # per built image, old -> new size and efficiency (costing.images)

    @property
    def delta(self) -> MoneyRange:
        return self.new_total - self.old_total

    def shown_rows(self, everything: bool = False) -> tuple[Row, ...]:
        """The rows a report lists: all of them, or only those with money on either side."""
        return self.rows if everything else tuple(row for row in self.rows if not row.free)

    def folded_rows(self, everything: bool = False) -> tuple[Row, ...]:
        """Rows that cost nothing on either side, folded into one summary line unless asked for."""
        return () if everything else tuple(row for row in self.rows if row.free)


def _kubernetes_objects(steps: Iterable[Step], side: str) -> dict[str, Mapping[str, Any]]:
    objects = {}
    for step in steps:
        inputs = getattr(step, side)
        if step.type.startswith("kubernetes:") and inputs:
            objects[step.urn] = inputs
    return objects


def describe_usage(items: Iterable[LineItem]) -> str:
    """What one resource bills, in resource terms: pods x requested (billed size), and storage."""
    parts = []
    for item in items:
        usage: Usage = item.usage
        count = pods_text(usage.count)
        if usage.pod is not None and usage.requested is not None:
            requested = f"{format_cpu(usage.requested['cpu'])}/{format_bytes(usage.requested['memory'])}"
            billed = f" (billed {usage.pod.size})" if usage.pod.size != requested else ""
            parts.append(f"{count} x {requested}{billed}")
        elif usage.category == "storage" or usage.resource.startswith(DERIVED):
            parts.append(usage.detail)
    return "; ".join(parts)


def _by_resource(report: CostReport) -> dict[str, list[LineItem]]:
    grouped: dict[str, list[LineItem]] = {}
    for item in report.items:
        grouped.setdefault(item.resource, []).append(item)
    return grouped


def derived_rows(old_items: Mapping[str, list[LineItem]], new_items: Mapping[str, list[LineItem]]) -> list[Row]:
    """Node pool and cluster fee rows: `2-3 x m6i.large nodes -> 2 x m6i.large nodes` at baseline-ceiling."""
    rows = []
    for name in sorted({r for r in (*old_items, *new_items) if r.startswith(DERIVED)}):
        before, after = old_items.get(name, []), new_items.get(name, [])
        old, new = MoneyRange.total(i.cost for i in before), MoneyRange.total(i.cost for i in after)
        old_text, new_text = describe_usage(before), describe_usage(after)
        op = "create" if not before else "delete" if not after else "same" if (old, old_text) == (new, new_text) else "update"
        rows.append(Row(op, name, old, new, old_text, new_text))
    return rows


def cost_delta(stack: str, steps: Iterable[Step], sheet: PriceSheet, counts: Optional[Mapping[str, int]] = None,
               cluster_fee_share: Decimal = Decimal(0), images: tuple[ImageRow, ...] = ()) -> DeltaReport:
    merged = merge_steps(steps)
    old_objects = _kubernetes_objects(merged.values(), "old")
    new_objects = _kubernetes_objects(merged.values(), "new")
    old_report = price_objects(old_objects.values(), sheet, cluster_fee_share=cluster_fee_share)
    new_report = price_objects(new_objects.values(), sheet, cluster_fee_share=cluster_fee_share)
    old_items, new_items = _by_resource(old_report), _by_resource(new_report)
    rows = []
    for urn, step in merged.items():
        if urn not in old_objects and urn not in new_objects:
            continue
        before = old_items.get(resource_id(old_objects[urn]), []) if urn in old_objects else []
        after = new_items.get(resource_id(new_objects[urn]), []) if urn in new_objects else []
        old, new = MoneyRange.total(i.cost for i in before), MoneyRange.total(i.cost for i in after)
        if step.op == "same" and old.is_zero() and new.is_zero():
            continue
        name = resource_id(new_objects.get(urn) or old_objects[urn])
        rows.append(Row(step.op, name, old, new, describe_usage(before), describe_usage(after)))
    rows.extend(derived_rows(old_items, new_items))
    rows.sort(key=lambda row: (-abs(row.delta.baseline), row.resource))
    warnings = tuple(shrink_warnings(merged.values(), old_objects, new_objects))
    return DeltaReport(stack, sheet.name, tuple(rows), old_report.total(), new_report.total(), dict(counts or {}), warnings, images)


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
