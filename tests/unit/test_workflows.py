"""The CI workflows are valid GitHub Actions (actionlint, built by scripts/lint-tools.sh)."""

import os
import shutil
import subprocess
from pathlib import Path

from tests.unit.conftest import ROOT

ACTIONLINT = shutil.which("actionlint") or str(Path(os.environ.get("HOME", "~")) / ".cache/leanstack/tools/bin/actionlint")


def test_workflows_pass_actionlint():
    workflows = sorted(str(p) for p in (ROOT / ".github" / "workflows").glob("*.yml"))
    assert {Path(p).name for p in workflows} >= {"preview.yml", "deploy.yml"}
    assert Path(ACTIONLINT).exists(), "actionlint missing: run scripts/lint-tools.sh"
    result = subprocess.run([ACTIONLINT, *workflows], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_preview_comments_once_per_stack_with_least_privilege():
    text = (ROOT / ".github" / "workflows" / "preview.yml").read_text()
    assert "stack: [dev, staging, prod]" in text
    assert "pull-requests: write" in text and "permissions:\n  contents: read" in text
    assert "--policy-pack policies" in text and "--format comment" in text
    assert "group: preview-${{ github.event.pull_request.number }}" in text
