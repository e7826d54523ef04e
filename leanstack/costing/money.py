"""Money as exact Decimals, and the baseline..ceiling range every cost is (HPA min..max replicas)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Iterable

HOURS_PER_MONTH = Decimal(730)
ZERO = Decimal(0)


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def money(amount: Decimal) -> str:
    return f"{cents(amount):.2f}"


@dataclass(frozen=True)
class MoneyRange:
    """A monthly amount at the baseline (fewest replicas) and the ceiling (most replicas)."""

    baseline: Decimal = ZERO
    ceiling: Decimal = ZERO

    @classmethod
    def fixed(cls, amount: Decimal) -> "MoneyRange":
        return cls(amount, amount)

    @classmethod
    def total(cls, ranges: Iterable["MoneyRange"]) -> "MoneyRange":
        result = cls()
        for amount in ranges:
            result = result + amount
        return result

    def __add__(self, other: "MoneyRange") -> "MoneyRange":
        return MoneyRange(self.baseline + other.baseline, self.ceiling + other.ceiling)

    def __sub__(self, other: "MoneyRange") -> "MoneyRange":
        return MoneyRange(self.baseline - other.baseline, self.ceiling - other.ceiling)

    def is_zero(self) -> bool:
        return self.baseline == ZERO and self.ceiling == ZERO

    def as_dict(self) -> dict[str, str]:
        """For outputs and json: cents as strings, so previews diff cleanly."""
        return {"baseline": money(self.baseline), "ceiling": money(self.ceiling)}
