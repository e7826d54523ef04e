"""The example stacks preview with the policy pack and render objects the scanners pass, as
examples/README.md tells a user to run them: the stack file copied next to Pulumi.yaml."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from bench.scratch import ROOT
from leanstack.costing.delta import op_name
from tests.e2e.test_stacks import preview_with_policies

pytestmark = pytest.mark.e2e

EXAMPLES = {"django-celery": "staging", "llm-backend": "prod", "hpa-platform": "prod"}


def with_example(project, name: str):
    shutil.copy2(project.directory / "examples" / name / f"Pulumi.{name}.yaml", project.directory)
    return project


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_previews_with_every_mandatory_policy(project, name):
    result = preview_with_policies(with_example(project, name), name,
                                   ROOT / "policies" / "config" / f"{EXAMPLES[name]}.json")
    assert {op_name(op) for op in result.change_summary} == {"create"}
    assert "Loading policy packs...: done" in result.stdout


@pytest.mark.parametrize("name", EXAMPLES)
def test_rendered_example_passes_the_scanners(project, name):
    with_example(project, name).up(name)
    rendered = project.directory / "rendered" / name
    kinds = {path.name.split("-")[1] for path in rendered.rglob("*.yaml")}
    assert {"statefulset", "cronjob"} & kinds or name == "hpa-platform"
    result = subprocess.run([str(ROOT / "scripts" / "scan.sh"), str(rendered)], capture_output=True, text=True,
                            timeout=600, cwd=project.directory)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
