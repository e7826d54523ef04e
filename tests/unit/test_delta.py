"""The preview delta: steps with old and new inputs, priced side by side."""

from decimal import Decimal

import pytest

from leanstack.costing.budget import Budget, BudgetError
from leanstack.costing.delta import cost_delta
from leanstack.costing.steps import Step
from leanstack.costing.money import MoneyRange
from leanstack.costing.output import to_json, to_markdown
from tests.unit.test_costing import SHEET, claim, deployment, hpa

DEP = "kubernetes:apps/v1:Deployment"


def urn(typ, name):
    return f"urn:pulumi:dev::leanstack::leanstack:platform:Platform${typ}::{name}"


def guide_change_steps():
    return [
        Step("same", urn(DEP, "api-deployment"), DEP, deployment("api", "500m", "512Mi"), deployment("api", "500m", "512Mi")),
        Step("update", urn("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "api-hpa"), "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
             hpa("api", 3, 6), hpa("api", 2, 6)),
        Step("update", urn(DEP, "worker-deployment"), DEP, deployment("worker", "200m", "256Mi", replicas=2),
             deployment("worker", "100m", "256Mi", replicas=2)),
        Step("create-replacement", urn("kubernetes:core/v1:PersistentVolumeClaim", "pg-data"), "kubernetes:core/v1:PersistentVolumeClaim",
             claim("postgres-data", "10Gi"), claim("postgres-data", "2Gi")),
        Step("replace", urn("kubernetes:core/v1:PersistentVolumeClaim", "pg-data"), "kubernetes:core/v1:PersistentVolumeClaim",
             claim("postgres-data", "10Gi"), claim("postgres-data", "2Gi")),
        Step("delete-replaced", urn("kubernetes:core/v1:PersistentVolumeClaim", "pg-data"), "kubernetes:core/v1:PersistentVolumeClaim",
             claim("postgres-data", "10Gi"), None),
        Step("create", urn(DEP, "cron-deployment"), DEP, None, deployment("cron", "50m", "64Mi", replicas=1)),
        Step("delete", urn(DEP, "legacy-deployment"), DEP, deployment("legacy", "1", "1Gi", replicas=1), None),
        Step("same", urn("kubernetes:core/v1:ServiceAccount", "api-sa"), "kubernetes:core/v1:ServiceAccount",
             {"kind": "ServiceAccount"}, {"kind": "ServiceAccount"}),
        Step("create", "urn:pulumi:dev::leanstack::pulumi:providers:kubernetes::k8s", "pulumi:providers:kubernetes", None, {}),
    ]


def test_each_resource_shows_old_new_and_delta():
    report = cost_delta("dev", guide_change_steps(), SHEET, {"same": 2, "update": 2, "replace": 1, "create": 2, "delete": 1})
    rows = {row.resource: row for row in report.rows}
    # Changed steps always show; unchanged ones only when they cost something.
    assert set(rows) == {"Deployment/shop/api", "Deployment/shop/worker", "PersistentVolumeClaim/shop/postgres-data",
                         "Deployment/shop/cron", "Deployment/shop/legacy", "HorizontalPodAutoscaler/shop/api"}
    # The api Deployment is unchanged, but the HPA's minReplicas 3 -> 2 lowers its baseline.
    api = rows["Deployment/shop/api"]
    assert (api.op, api.old, api.new) == ("same", MoneyRange(Decimal("49.275"), Decimal("98.55")), MoneyRange(Decimal("32.85"), Decimal("98.55")))
    # worker: 2 pods x 0.1 cores less x 0.04 x 730 = 5.84 less (13.505 -> 7.665)
    assert rows["Deployment/shop/worker"].delta == MoneyRange(Decimal("-5.84"), Decimal("-5.84"))
    pvc = rows["PersistentVolumeClaim/shop/postgres-data"]
    assert (pvc.op, pvc.old.baseline, pvc.new.baseline) == ("replace", Decimal("1.0"), Decimal("0.2"))
    assert rows["Deployment/shop/cron"].old.is_zero() and rows["Deployment/shop/legacy"].new.is_zero()
    # legacy: 1 x 0.04 + 1 x 0.005 = 0.045/h = 32.85; cron: 0.05 x 0.04 + 0.0625 x 0.005 = 0.0023125/h = 1.688125
    expected = -Decimal("16.425") - Decimal("5.84") - Decimal("0.8") + Decimal("1.688125") - Decimal("32.85")
    assert report.delta.baseline == expected == Decimal("42.403125") - Decimal("96.63")


def exceeds(report, budget: str) -> bool:
    return Budget.parse(budget).exceeded_by(report.delta.baseline, report.old_total.baseline)


def test_budget_check_accepts_percentages_and_amounts():
    report = cost_delta("dev", guide_change_steps(), SHEET)
    assert not exceeds(report, "0%") and not exceeds(report, "0")
    growth = cost_delta("dev", [Step("create", urn(DEP, "x"), DEP, None, deployment("x", "1", "1Gi", replicas=1))], SHEET)
    assert exceeds(growth, "10") and not exceeds(growth, "40") and exceeds(growth, "5%")


@pytest.mark.parametrize("text", ["lots", "-5", "-5%", "NaN", "inf", ""])
def test_a_budget_that_is_not_a_percentage_or_an_amount_is_refused(text):
    with pytest.raises(BudgetError, match="use a percentage like 10% or an amount in USD like 50"):
        Budget.parse(text)


def test_markdown_snapshot():
    report = cost_delta("dev", guide_change_steps(), SHEET, {"same": 2, "update": 2, "replace": 1, "create": 2, "delete": 1})
    assert to_markdown(report) == """### leanstack cost delta: `dev`

Resources: +2 created, ~2 updated, +-1 replaced, -1 deleted, 2 unchanged

| op | resource | billed resources | old $/month | new $/month | delta |
|---|---|---|---:|---:|---:|
| - delete | `Deployment/shop/legacy` | 1 x 1/1Gi -> – | 32.85 | 0.00 | -32.85 |
|   same | `Deployment/shop/api` | 3-6 x 500m/512Mi -> 2-6 x 500m/512Mi | 49.28–98.55 | 32.85–98.55 | -16.43 (ceiling 0.00) |
| ~ update | `Deployment/shop/worker` | 2 x 200m/256Mi -> 2 x 100m/256Mi | 13.51 | 7.67 | -5.84 |
| + create | `Deployment/shop/cron` | – -> 1 x 50m/64Mi | 0.00 | 1.69 | +1.69 |
| +- replace | `PersistentVolumeClaim/shop/postgres-data` | 10Gi standard -> 2Gi standard | 1.00 | 0.20 | -0.80 |

Not listed: 1 resource(s) that cost nothing before or after (1 update); --all lists them.

| monthly total | old | new | delta |
|---|---:|---:|---:|
| baseline | 96.63 | 42.40 | -54.23 |
| ceiling | 145.91 | 108.10 | -37.80 |

Prices: `test`, USD per month (730 hours); ranges are HPA minReplicas–maxReplicas.

**Warnings**

- PersistentVolumeClaim/shop/postgres-data shrinks from 10Gi to 2Gi: the replacement deletes the volume and its data; migrate the data to a new, smaller claim instead
"""
    assert '"delta": {\n      "baseline": "-54.23"' in to_json(report)


def test_shrinking_a_claim_in_place_is_flagged_before_apply():
    pvc = "kubernetes:core/v1:PersistentVolumeClaim"
    grow = Step("update", urn(pvc, "a"), pvc, claim("a", "1Gi"), claim("a", "2Gi"))
    shrink = Step("update", urn(pvc, "b"), pvc, claim("b", "10Gi"), claim("b", "2Gi"))
    report = cost_delta("dev", [grow, shrink], SHEET)
    assert report.warnings == (
        "PersistentVolumeClaim/shop/b shrinks from 10Gi to 2Gi: Kubernetes refuses to shrink a claim, so this "
        "update fails on a cluster; migrate the data to a new, smaller claim instead",
    )
    assert '"warnings": [\n    "PersistentVolumeClaim/shop/b shrinks' in to_json(report)
