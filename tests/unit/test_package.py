"""The component package (leanstack.package, plugin/): its schema is the checked-in
docs/package-schema.json, so an args change shows up in review; what the host hands a component
binds into the same args a Python program writes (leanstack.config.resolve.plain)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pulumi.provider.experimental.component import ComponentProvider

from leanstack.package import COMPONENTS, NAME, VERSION
from tests.unit.conftest import ROOT

SCHEMA = ROOT / "docs" / "package-schema.json"
REGENERATE = "source scripts/toolchain-env.sh; pulumi package get-schema ./plugin > docs/package-schema.json"


def comparable(schema: Any, inner: bool = False) -> Any:
    """What the host infers and what `pulumi package get-schema` prints, alike: the CLI binds and
    re-serializes the schema, dropping the descriptions the host repeats on list items and map
    values, and writing an empty `config`."""
    if isinstance(schema, dict):
        return {key: comparable(value, key in ("items", "additionalProperties")) for key, value in schema.items()
                if not (inner and key == "description") and not (key == "config" and value == {})}
    if isinstance(schema, list):
        return [comparable(value) for value in schema]
    return schema


def test_the_inferred_schema_is_the_checked_in_one():
    inferred = json.loads(ComponentProvider(COMPONENTS, NAME, version=VERSION).schema)
    assert comparable(inferred) == comparable(json.loads(SCHEMA.read_text())), f"args changed? {REGENERATE}"


def test_the_package_ships_the_three_components_with_their_inputs_documented():
    schema = json.loads(SCHEMA.read_text())
    assert sorted(schema["resources"]) == [f"leanstack:index:{name}" for name in
                                           ("HardenedNamespace", "OptimizedImage", "RightSizedService")]
    for resource in schema["resources"].values():
        assert resource["isComponent"] and resource["description"]
        assert all(prop.get("description") for prop in resource["inputProperties"].values())


@pytest.mark.parametrize("component, required", [
    ("HardenedNamespace", ["name", "workloads"]),
    ("RightSizedService", ["image", "namespace", "workload"]),
    ("OptimizedImage", ["build", "repository", "service", "tag"]),
])
def test_only_inputs_without_a_default_are_required(component, required):
    schema = json.loads(SCHEMA.read_text())
    assert schema["resources"][f"leanstack:index:{component}"]["requiredInputs"] == required
    assert schema["types"]["leanstack:index:Workload"]["required"] == ["probes", "resources"]
