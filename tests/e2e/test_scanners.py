"""The independent scanners pass on what `pulumi up` really renders for every stack."""

from __future__ import annotations

import subprocess

import pytest

from bench.scratch import ROOT

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_rendered_stack_passes_checkov_kubernetes_validate_and_policies(project, stack):
    project.up(stack)
    rendered = project.directory / "rendered" / stack
    assert list(rendered.rglob("*.yaml")), "up rendered nothing"
    result = subprocess.run([str(ROOT / "scripts" / "scan.sh"), str(rendered)], capture_output=True, text=True,
                            timeout=600, cwd=project.directory)
    # scan.sh exits 1 on any failed check (checkov, kubernetes-validate, policies, hadolint)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
