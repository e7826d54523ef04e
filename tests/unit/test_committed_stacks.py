"""The committed stack files (Pulumi.dev.yaml, Pulumi.staging.yaml, Pulumi.prod.yaml), checked generically.

The only unit tests that read the committed stacks. They assert properties any valid edit keeps (the file
validates, names its own environment, draws no warning, fits its price sheet, renders hardened objects that pass
every policy) and never a number from those files: change replicas, sizes or autoscaling within what the schema
and policies allow and these still pass. Every other unit test reads its own fixtures (tests/unit/fixtures/,
conftest.small_stack); the committed stacks' rendered output is checked end to end by tests/e2e.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest

from leanstack.config.lint import warnings
from leanstack.config.schema import StackConfig
from leanstack.config.stack_file import load_stack_file
from leanstack.costing.checks import platform_problems
from leanstack.policies.pack import POLICIES, SCHEMAS
from leanstack.policies.rules import RULES
from tests.unit.conftest import ROOT, ProgramRun, run_platform
from tests.unit.test_policies import assert_passes_every_policy
from tests.unit.test_service import assert_hardened

COMMITTED_STACKS = ("dev", "staging", "prod")


def committed(stack: str) -> StackConfig:
    return load_stack_file(ROOT / f"Pulumi.{stack}.yaml")


def policy_config(stack: str) -> dict:
    return json.loads((ROOT / "policies" / "config" / f"{stack}.json").read_text())


@pytest.fixture(scope="module")
def committed_runs() -> dict[str, ProgramRun]:
    """Each committed stack, run once under mocks."""
    return {stack: run_platform(committed(stack), stack) for stack in COMMITTED_STACKS}


@pytest.mark.parametrize("stack", COMMITTED_STACKS)
def test_a_committed_stack_validates_and_names_its_own_environment(stack):
    config = committed(stack)
    assert config.environment == stack
    assert config.services


@pytest.mark.parametrize("stack", COMMITTED_STACKS)
def test_a_committed_stack_draws_no_warning_and_fits_its_price_sheet(stack):
    config = committed(stack)
    assert warnings(config) == []
    assert platform_problems(config).errors == ()


def test_the_committed_stacks_run_the_same_services():
    names = {stack: sorted(committed(stack).services) for stack in COMMITTED_STACKS}
    assert len({tuple(services) for services in names.values()}) == 1, names


@pytest.mark.parametrize("stack", COMMITTED_STACKS)
def test_a_committed_stack_renders_hardened_workloads(committed_runs, stack):
    assert_hardened(committed_runs[stack])


@pytest.mark.parametrize("stack", COMMITTED_STACKS)
def test_a_committed_stack_passes_every_policy(committed_runs, stack):
    assert_passes_every_policy(committed_runs[stack], policy_config(stack))


@pytest.mark.parametrize("stack", COMMITTED_STACKS)
def test_policy_config_files_match_the_pack_and_the_stack(stack):
    config = policy_config(stack)
    by_name = {policy.name: policy for policy in POLICIES}
    assert config.pop("all") == "mandatory"
    for name, settings in config.items():
        assert name in by_name, f"{stack}.json configures unknown policy {name}"
        properties = {key: value for key, value in settings.items() if key != "enforcementLevel"}
        schema = {"type": "object", "properties": by_name[name].config_schema.properties, "additionalProperties": False}
        jsonschema.validate(properties, schema)
        expected = "advisory" if name == "monthly-cost-budget" else "mandatory"
        assert settings.get("enforcementLevel", "mandatory") == expected
        if "environment" in properties:
            assert properties["environment"] == committed(stack).environment
    assert set(SCHEMAS) == {key for rule in RULES for key in rule.config}


def test_no_other_unit_test_reads_a_committed_stack():
    """Other unit tests read tests/unit/fixtures or build their stack in code, so an edit to a committed stack
    (replicas, sizes, a new service) can only fail a test here."""
    committed_path = re.compile(r"""ROOT\s*/\s*f?["']Pulumi\.""")
    here = Path(__file__).resolve()
    readers = [path.name for path in here.parent.rglob("*.py") if path != here and committed_path.search(path.read_text())]
    assert readers == []
