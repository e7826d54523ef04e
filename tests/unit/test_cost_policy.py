"""The advisory cost budget policy, on the objects of the shop fixture's prod stack (tests/unit/fixtures/shop)."""

import pytest
from pulumi_policy import EnforcementLevel

from leanstack.policies.cost_rules import over_budget
from leanstack.policies.pack import POLICIES


def prod_objects(prod):
    return [(r.typ, r.inputs) for r in prod.resources]


def test_a_stack_over_its_budget_gets_a_warning_with_the_numbers(prod):
    (message,) = over_budget(prod_objects(prod), {"monthlyBudget": 30, "priceSheet": "gke-autopilot-us-central1"})
    # Autopilot bills requests, not limits (docs/costing.md).
    assert message.startswith("the stack costs 36.72 USD/month at its baseline (86.07 at full scale, gke-autopilot-us-central1)")
    assert "above its budget of 30.00" in message


@pytest.mark.parametrize("config", [{"monthlyBudget": 250, "priceSheet": "gke-autopilot-us-central1"}, {}, None])
def test_within_budget_or_without_one_stays_quiet(prod, config):
    assert over_budget(prod_objects(prod), config) == []


def test_a_malformed_budget_is_an_error_not_a_pass(prod):
    with pytest.raises(ValueError, match="monthlyBudget 'lots' is not an amount in USD"):
        over_budget(prod_objects(prod), {"monthlyBudget": "lots"})


def test_the_budget_policy_is_advisory_and_every_other_policy_mandatory():
    levels = {policy.name: policy.enforcement_level for policy in POLICIES}
    assert levels.pop("monthly-cost-budget") == EnforcementLevel.ADVISORY
    assert set(levels.values()) == {EnforcementLevel.MANDATORY}
