"""The advisory cost guardrail: warn when a stack's monthly baseline exceeds its budget.

A policy sees the objects a preview would produce, not the ones deployed, so it can judge the
stack's cost but not its increase; the increase gate is `leanstack cost --fail-above`, which reads
both sides of every step from the engine.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any, Iterable, Mapping, Optional

from costing.model import money, price_objects
from costing.sheets import DEFAULT_SHEET, SHEETS

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
        budget = Decimal(str(config["monthlyBudget"]))
    except InvalidOperation:
        raise ValueError(f"policy config monthlyBudget {config['monthlyBudget']!r} is not a number") from None
    sheet = SHEETS[config.get("priceSheet", DEFAULT_SHEET)]
    objects = [props for resource_type, props in resources if resource_type.startswith("kubernetes:")]
    baseline, ceiling = price_objects(objects, sheet).total()
    if baseline <= budget:
        return []
    return [
        f"the stack costs {money(baseline)} USD/month at its baseline ({money(ceiling)} at full scale, "
        f"{sheet.name}), above its budget of {money(budget)}; right-size requests or raise monthlyBudget "
        f"in the policy config"
    ]
