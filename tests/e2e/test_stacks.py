"""The three real stacks preview cleanly with the policy pack, as CI and the main job run them."""

from __future__ import annotations

import json

import pytest
from pulumi import automation as auto

from bench.scratch import ROOT
from leanstack.costing.delta import op_name

pytestmark = pytest.mark.e2e


def preview_with_policies(project, stack: str, config_file) -> auto.PreviewResult:
    return project.stack(stack).preview(policy_packs=[str(ROOT / "policies")], policy_pack_configs=[str(config_file)])


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_stack_previews_with_every_mandatory_policy(project, stack):
    result = preview_with_policies(project, stack, ROOT / "policies" / "config" / f"{stack}.json")
    assert {op_name(op) for op in result.change_summary} == {"create"}
    assert "Loading policy packs...: done" in result.stdout


def test_a_policy_violation_stops_the_preview_and_names_the_resource(project, tmp_path):
    config = json.loads((ROOT / "policies" / "config" / "prod.json").read_text())
    config["volume-claim-cap"]["maxClaimSize"] = "1Gi"
    tight = tmp_path / "prod-tight.json"
    tight.write_text(json.dumps(config))
    with pytest.raises(auto.CommandError) as error:
        preview_with_policies(project, "prod", tight)
    text = str(error.value)
    assert "volume-claim-cap" in text and "postgres-data" in text and "mandatory" in text


def test_a_stack_over_its_cost_budget_previews_with_an_advisory_warning(project, tmp_path):
    config = json.loads((ROOT / "policies" / "config" / "prod.json").read_text())
    config["monthly-cost-budget"]["monthlyBudget"] = 30  # prod's baseline is 36.72 on the Autopilot sheet
    tight = tmp_path / "prod-budget.json"
    tight.write_text(json.dumps(config))
    result = preview_with_policies(project, "prod", tight)
    assert "monthly-cost-budget" in result.stdout and "above its budget of 30.00" in result.stdout
