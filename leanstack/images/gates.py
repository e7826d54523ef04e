"""dive's CI rules evaluated against a report, as dive's runtime/ci/rules.go does: fail when the
efficiency is below `lowestEfficiency`, the wasted bytes above `highestWastedBytes`, or the user
wasted ratio above `highestUserWastedPercent`; a disabled rule is skipped."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from leanstack.config import image_rules
from leanstack.config.resolve import ImageRules
from leanstack.images.report import ImageReport
from leanstack.kube.quantities import parse_quantity


@dataclass(frozen=True)
class RuleResult:
    rule: str  # dive's name, as the stack file writes it
    status: str  # pass, fail or skip
    value: float
    threshold: Optional[float]
    message: str


def _alias(field: str) -> str:
    """dive's name of a rule, as the stack file writes it."""
    return image_rules.ImageRules.model_fields[field].alias or field


def evaluate(report: ImageReport, rules: ImageRules) -> list[RuleResult]:
    found = report.efficiency
    wasted_limit = None if rules.highest_wasted_bytes is None else float(parse_quantity(rules.highest_wasted_bytes))
    checks = [
        ("lowest_efficiency", found.score, rules.lowest_efficiency, found.score < (rules.lowest_efficiency or 0),
         "efficiency {value:.4f} is below {threshold}"),
        ("highest_wasted_bytes", float(found.wasted_bytes), wasted_limit,
         wasted_limit is not None and found.wasted_bytes > wasted_limit, "wasted bytes {value:.0f} are above {threshold:.0f}"),
        ("highest_user_wasted_percent", found.user_wasted_percent, rules.highest_user_wasted_percent,
         rules.highest_user_wasted_percent is not None and found.user_wasted_percent > rules.highest_user_wasted_percent,
         "user wasted ratio {value:.4f} is above {threshold}"),
    ]
    results = []
    for field, value, threshold, failed, text in checks:
        status = "skip" if threshold is None else "fail" if failed else "pass"
        results.append(RuleResult(_alias(field), status, value, threshold,
                                  text.format(value=value, threshold=threshold) if failed else ""))
    return results


def failures(results: list[RuleResult]) -> list[RuleResult]:
    return [result for result in results if result.status == "fail"]
