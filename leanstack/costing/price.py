"""Price: usage x the sheet's unit prices -> money per resource, category and service.

Everything is exact Decimal; rounding to cents happens only when shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Iterable, Mapping

from leanstack.config.price_sheets import PriceSheet
from leanstack.costing.money import MoneyRange
from leanstack.costing.usage import ImageUsage, Usage, usage_of

CATEGORIES = ("compute", "storage", "network", "registry")


def unit_price(sheet: PriceSheet, price: str) -> Decimal:
    """A sheet's price by name; `storage_gib_month:<class>` is the price of that storage class."""
    if price.startswith("storage_gib_month:"):
        return sheet.storage_price(price.split(":", 1)[1])
    return getattr(sheet, price)


@dataclass(frozen=True)
class LineItem:
    """One resource's monthly cost in one category, as a baseline..ceiling range."""

    usage: Usage
    cost: MoneyRange

    @property
    def resource(self) -> str:
        return self.usage.resource


def price_usage(usage: Usage, sheet: PriceSheet) -> LineItem:
    per_unit = sum((amount * unit_price(sheet, price) for price, amount in usage.quantities.items()), Decimal(0))
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
        return {
            "sheet": self.sheet,
            "currency": "USD",
            "monthly": self.total().as_dict(),
            "by_category": {c: categories.get(c, MoneyRange()).as_dict() for c in CATEGORIES},
            "by_service": {s: amounts.as_dict() for s, amounts in sorted(self.grouped("service").items())},
        }


def price_objects(objects: Iterable[Mapping[str, Any]], sheet: PriceSheet, images: Iterable[ImageUsage] = ()) -> CostReport:
    """Usage then price: the whole pipeline for a set of objects."""
    return CostReport(sheet.name, tuple(price_usage(u, sheet) for u in usage_of(objects, sheet.billing, images)))
