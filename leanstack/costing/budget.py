"""A cost budget, parsed in one place: "10%" (of the old monthly baseline) or "50" (USD)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation


class BudgetError(ValueError):
    pass


@dataclass(frozen=True)
class Budget:
    amount: Decimal
    percent: bool
    text: str

    @classmethod
    def parse(cls, text: object) -> "Budget":
        raw = str(text).strip()
        number = raw.removesuffix("%")
        try:
            amount = Decimal(number)
        except InvalidOperation:
            amount = Decimal(-1)
        if not amount.is_finite() or amount < 0:
            raise BudgetError(f"{text!r}: use a percentage like 10% or an amount in USD like 50")
        return cls(amount, raw.endswith("%"), raw)

    def exceeded_by(self, increase: Decimal, old_total: Decimal) -> bool:
        """Does `increase` (USD per month) exceed this budget, given the old monthly total?"""
        if not self.percent:
            return increase > self.amount
        if old_total == 0:
            return increase > 0
        return increase * 100 / old_total > self.amount

    def __str__(self) -> str:
        return self.text
