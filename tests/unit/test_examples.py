"""The example stacks (examples/*/Pulumi.<name>.yaml): valid without warnings, rendered objects that
pass the strict Kubernetes schemas and every policy rule, and a `cost` output that matches a hand
computation with the opencost-default sheet ($0.031611 per core-hour, $0.004237 per GiB-hour,
$0.04 per GiB-month of storage; 730 hours a month; CronJobs: runs per month x run length)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from leanstack.components.offline import write_manifests
from leanstack.config.lint import warnings
from leanstack.config.stack_file import load_stack_file
from leanstack.costing.money import cents
from leanstack.scan.scanners import check_policies, policy_config, validate_schemas
from tests.unit.conftest import ROOT, run_platform

EXAMPLES = {"django-celery": "staging", "llm-backend": "prod", "hpa-platform": "prod"}
CPU, MEMORY, STORAGE, HOURS = Decimal("0.031611"), Decimal("0.004237"), Decimal("0.04"), Decimal(730)


def example(name: str):
    return load_stack_file(ROOT / "examples" / name / f"Pulumi.{name}.yaml")


def pods(count: int, millicores: int, mebibytes: int, hours: Decimal = HOURS) -> Decimal:
    """What `count` pods of this size cost for `hours` a month."""
    return count * (Decimal(millicores) / 1000 * CPU + Decimal(mebibytes) / 1024 * MEMORY) * hours


def run_hours(runs_per_month: int, seconds: int) -> Decimal:
    return Decimal(runs_per_month * seconds) / 3600


# (baseline, ceiling) per service: pods x size (x hours), the schedules' runs, claims x GiB x price.
COSTS = {
    "django-celery": {
        "web": (pods(2, 250, 384) + pods(1, 100, 256, run_hours(30, 120)),  # + clearsessions, daily, 120 s
                pods(4, 250, 384) + pods(1, 100, 256, run_hours(30, 120))),
        "worker": (pods(2, 200, 320), pods(4, 200, 320)),
        "beat": (pods(1, 25, 128),) * 2,
        "postgres": (pods(1, 250, 512) + 5 * STORAGE,) * 2,
        "redis": (pods(1, 50, 128),) * 2,
    },
    "llm-backend": {
        "frontend": (pods(2, 50, 64), pods(4, 50, 64)),
        "api": (pods(2, 500, 512) + pods(1, 1000, 1024, run_hours(30, 1800)),  # + reindex, daily, 30 min
                pods(6, 500, 512) + pods(1, 1000, 1024, run_hours(30, 1800))),
        "mcp": (pods(2, 100, 128),) * 2,
        "dashboard": (pods(2, 50, 96),) * 2,
        "model-server": (pods(2, 2000, 6144),) * 2,  # the weights' init container (100m) is below the server's request
        "qdrant": (pods(3, 250, 1024) + 3 * 10 * STORAGE,) * 2,  # a 10Gi claim per replica
        "neo4j": (pods(1, 500, 2048) + 10 * STORAGE,) * 2,
    },
    "hpa-platform": {
        "gateway": (pods(2, 200, 256), pods(10, 200, 256)),
        "catalog": (pods(2, 250, 384), pods(6, 250, 384)),
        "orders": (pods(2, 250, 256), pods(8, 250, 256)),
        "payments": (pods(2, 100, 192), pods(4, 100, 192)),
        "notifications": (pods(2, 100, 128), pods(5, 100, 128)),
    },
}


@pytest.fixture(scope="module")
def runs():
    return {name: run_platform(example(name), name, project_dir=ROOT) for name in EXAMPLES}


@pytest.mark.parametrize("name", EXAMPLES)
def test_examples_validate_without_warnings(name):
    config = example(name)
    assert config.environment == EXAMPLES[name]
    assert warnings(config) == []


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_objects_pass_strict_schemas_and_every_policy(name, tmp_path):
    write_manifests(example(name), name, tmp_path, ROOT)
    config = policy_config(ROOT / "policies" / "config", EXAMPLES[name])
    failed = [result for result in validate_schemas(tmp_path) + check_policies(tmp_path, config) if not result.passed]
    assert failed == []
    # strict too (no policy config): what scripts/scan.sh applies to a rendered example
    assert [result for result in check_policies(tmp_path, {}) if not result.passed] == []


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_cost_matches_the_hand_computation(name, runs):
    cost = runs[name].outputs["cost"]
    expected = COSTS[name]
    assert cost["by_service"] == {service: {"baseline": f"{cents(low)}", "ceiling": f"{cents(high)}"}
                                  for service, (low, high) in sorted(expected.items())}
    low, high = (sum(pair[index] for pair in expected.values()) for index in (0, 1))
    assert cost["monthly"] == {"baseline": f"{cents(low)}", "ceiling": f"{cents(high)}"}


def test_the_examples_use_every_new_kind(runs):
    kinds = {resource.typ.rsplit(":", 1)[-1] for run in runs.values() for resource in run.resources}
    assert {"Job", "CronJob", "StatefulSet", "ConfigMap", "HorizontalPodAutoscaler"} <= kinds
    django = runs["django-celery"]
    assert len(django.of_type("docker-build:index:Image")) == 1
    images = django.outputs["images"]
    assert images["web"] == images["worker"] == images["beat"]
    public = {name for run in runs.values() for name, service in run.kind("core/v1:Service").items()
              if service["metadata"]["annotations"]["leanstack.dev/exposure"] == "public"}
    assert public == {"web", "frontend", "api", "dashboard", "gateway"}
