"""Price: usage x the sheet's unit prices -> money per resource, category and service.

Everything is exact Decimal; rounding to cents happens only when shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Iterable, Mapping

from leanstack.config.price_sheets import PriceSheet
from leanstack.costing.money import HOURS_PER_MONTH, MoneyRange
from leanstack.costing.models import billing_model
from leanstack.costing.pool import pool_costs
from leanstack.costing.usage import CLUSTER_FEE_HOUR, ImageUsage, Usage, usage_of

CATEGORIES = ("compute", "storage", "network", "registry")


@dataclass(frozen=True)
class LineItem:
    """One resource's monthly cost in one category, as a baseline..ceiling range."""

    usage: Usage
    cost: MoneyRange

    @property
    def resource(self) -> str:
        return self.usage.resource


def price_usage(usage: Usage, sheet: PriceSheet) -> LineItem:
    per_unit = sum((amount * price.of(sheet) for price, amount in usage.quantities.items()), Decimal(0))
    low, high = usage.count
    return LineItem(usage, MoneyRange(per_unit * low, per_unit * high))


@dataclass(frozen=True)
class CostReport:
    sheet: str
    items: tuple[LineItem, ...] = field(default_factory=tuple)

    def total(self) -> MoneyRange:
        return MoneyRange.total(item.cost for item in self.items)

    def grouped(self, key: str) -> dict[str, MoneyRange]:
        """Totals by a usage field: resource, category or service."""
        groups: dict[str, MoneyRange] = {}
        for item in self.items:
            group = getattr(item.usage, key)
            groups[group] = groups.get(group, MoneyRange()) + item.cost
        return groups

    def by_resource(self) -> dict[str, MoneyRange]:
        return self.grouped("resource")

    def summary(self) -> dict[str, Any]:
        """The stack output `cost`: money as strings with cents, so previews diff cleanly."""
        categories = self.grouped("category")
        # The cluster fee only appears when a stack opts in (cost.cluster_fee_share), so outputs of
        # other stacks keep their keys.
        shown = list(CATEGORIES) + sorted(set(categories) - set(CATEGORIES))
        return {
            "sheet": self.sheet,
            "currency": "USD",
            "monthly": self.total().as_dict(),
            "by_category": {c: categories.get(c, MoneyRange()).as_dict() for c in shown},
            "by_service": {s: amounts.as_dict() for s, amounts in sorted(self.grouped("service").items())},
        }


def cluster_fee(sheet: PriceSheet, share: Decimal) -> Usage:
    """This stack's share of the provider's per-cluster fee, as its own clearly named line."""
    return Usage(f"Cluster/{sheet.name}", "cluster", "cluster", {CLUSTER_FEE_HOUR: HOURS_PER_MONTH * share}, (1, 1),
                 f"cluster fee, {share:f} share")


def price_objects(objects: Iterable[Mapping[str, Any]], sheet: PriceSheet, images: Iterable[ImageUsage] = (),
                  cluster_fee_share: Decimal = Decimal(0)) -> CostReport:
    """Usage then price: the whole pipeline for a set of objects. A `nodes` sheet bills pods by
    requests and prices the workloads as their shares of the packed nodes (costing.pool)."""
    model = billing_model(sheet)
    usages = usage_of(objects, model, images)
    if cluster_fee_share and sheet.cluster_fee_hour:
        usages.append(cluster_fee(sheet, cluster_fee_share))
    if not model.packs_nodes:
        return CostReport(sheet.name, tuple(price_usage(u, sheet) for u in usages))
    workloads = [u for u in usages if u.pod is not None]
    items = [price_usage(u, sheet) for u in usages if u.pod is None]
    if workloads:
        shares, pool, rest = pool_costs(workloads, model)
        items = [LineItem(u, share) for u, share in zip(workloads, shares)] + [LineItem(pool, rest)] + items
    return CostReport(sheet.name, tuple(items))
