"""The advisory cost guardrail: warn when a stack's monthly baseline exceeds its budget.

A policy sees the objects a preview would produce, not the ones deployed, so it can judge the
stack's cost but not its increase; the increase gate is `leanstack cost --fail-above`, which reads
both sides of every step from the engine.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Optional

from leanstack.config.price_sheets import DEFAULT_SHEET, SHEETS
from leanstack.costing.budget import Budget, BudgetError
from leanstack.costing.money import money
from leanstack.costing.price import price_objects

BUDGET_SCHEMA = {
    "type": "object",
    "properties": {
        "monthlyBudget": {"type": "number", "minimum": 0, "description": "USD per month (baseline) before a warning."},
        "priceSheet": {"type": "string", "enum": sorted(SHEETS), "default": DEFAULT_SHEET},
    },
}


def over_budget(resources: Iterable[tuple[str, Mapping[str, Any]]], config: Optional[Mapping[str, Any]]) -> list[str]:
    """A warning when the priced Kubernetes objects cost more per month than `monthlyBudget`."""
    config = config or {}
    if config.get("monthlyBudget") is None:
        return []
    try:
        budget = Budget.parse(config["monthlyBudget"])
    except BudgetError:
        budget = None
    if budget is None or budget.percent:
        raise ValueError(f"policy config monthlyBudget {config['monthlyBudget']!r} is not an amount in USD")
    sheet = SHEETS[config.get("priceSheet", DEFAULT_SHEET)]
    objects = [props for resource_type, props in resources if resource_type.startswith("kubernetes:")]
    total = price_objects(objects, sheet).total()
    if not budget.exceeded_by(total.baseline, total.baseline):
        return []
    return [
        f"the stack costs {money(total.baseline)} USD/month at its baseline ({money(total.ceiling)} at full scale, "
        f"{sheet.name}), above its budget of {money(budget.amount)}; right-size requests or raise monthlyBudget "
        f"in the policy config"
    ]
