"""The CI workflows are valid GitHub Actions (actionlint, built by scripts/lint-tools.sh), pin every
action they use by commit, install Pulumi at versions.env's versions, and run the scripts a developer runs."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

from tests.unit.conftest import ROOT
from tools.versions import read

ACTIONLINT = shutil.which("actionlint") or str(Path(os.environ.get("HOME", "~")) / ".cache/leanstack/tools/bin/actionlint")
GITHUB = ROOT / ".github"
WORKFLOWS = sorted((GITHUB / "workflows").glob("*.yml"))
# The workflows and the local (composite) actions they use: both may name remote actions.
FILES = WORKFLOWS + sorted((GITHUB / "actions").glob("*/action.yml"))
# A remote action by full commit, its tag after it (so an update tool and a reader know the release).
PINNED = re.compile(r"[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40} # v\d+(\.\d+)*")
USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(.*?)\s*$")


def pin_problem(uses: str) -> str | None:
    """Why a `uses:` value (with its comment) is not allowed, or None."""
    if uses.startswith("./.github/"):
        return None  # this repository's own actions and reusable workflows, at the same commit
    if PINNED.fullmatch(uses):
        return None
    return f"{uses!r}: pin a remote action as owner/repo@<40-hex commit> # vX.Y.Z"


def steps(node: Any) -> Iterator[dict[str, Any]]:
    """Every mapping in a parsed workflow or action (jobs, steps), depth first."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from steps(value)
    elif isinstance(node, list):
        for value in node:
            yield from steps(value)


def parsed(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def test_workflows_pass_actionlint():
    assert {p.name for p in WORKFLOWS} >= {"preview.yml", "deploy.yml", "deploy-stack.yml"}
    assert Path(ACTIONLINT).exists(), "actionlint missing: run scripts/lint-tools.sh"
    result = subprocess.run([ACTIONLINT, *map(str, WORKFLOWS)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("uses, allowed", [
    ("actions/checkout@de0fac2e4500dabe0009e67214ff5f5447ce83dd # v6.0.2", True),
    ("github/codeql-action/init@de0fac2e4500dabe0009e67214ff5f5447ce83dd # v3", True),
    ("./.github/actions/setup", True),
    ("./.github/workflows/deploy-stack.yml", True),
    ("actions/checkout@v4", False),
    ("actions/checkout@main", False),
    ("actions/checkout@de0fac2e # v6.0.2", False),
    ("actions/checkout@de0fac2e4500dabe0009e67214ff5f5447ce83dd", False),
    ("actions/checkout@de0fac2e4500dabe0009e67214ff5f5447ce83dd # latest", False),
    ("actions/checkout@DE0FAC2E4500DABE0009E67214FF5F5447CE83DD # v6.0.2", False),
    ("docker://alpine:3.20", False),
])
def test_the_pin_rule_takes_full_commits_with_their_tag_and_local_actions(uses, allowed):
    assert (pin_problem(uses) is None) == allowed


def test_every_action_used_is_pinned_by_commit_with_its_tag():
    found, problems = 0, []
    for path in FILES:
        lines = [m.group(1) for m in map(USES_LINE.match, path.read_text().splitlines()) if m]
        # Every `uses` key of the parsed file is on a line of its own, so the line check sees them all.
        assert len(lines) == sum("uses" in node for node in steps(parsed(path))), path.name
        found += len(lines)
        problems += [f"{path.relative_to(ROOT)}: {p}" for p in map(pin_problem, lines) if p]
    assert found >= 5 and problems == []


def setup_steps() -> list[dict[str, Any]]:
    return parsed(GITHUB / "actions" / "setup" / "action.yml")["runs"]["steps"]


def test_ci_installs_pulumi_and_the_plugins_at_versions_env_versions():
    names = [step.get("uses", "").partition("@")[0] or step.get("run", "") for step in setup_steps()]
    loads, cli = names.index("python3 -m tools.versions versions.env >> \"$GITHUB_ENV\""), names.index("pulumi/actions")
    plugins = names.index("scripts/plugins.sh")
    assert loads < cli < plugins
    assert setup_steps()[cli]["with"] == {"pulumi-version": "${{ env.LEANSTACK_PULUMI_VERSION }}"}
    script = (ROOT / "scripts" / "plugins.sh").read_text()
    assert 'install resource kubernetes "$LEANSTACK_K8S_VERSION"' in script
    assert 'install resource docker-build "$LEANSTACK_DOCKER_BUILD_VERSION"' in script
    # No version typed a second time anywhere in CI: versions.env is the one place to change.
    text = "".join(path.read_text() for path in FILES)
    assert [v for v in read(ROOT / "versions.env").values() if v in text] == []


def runs(path: Path) -> list[str]:
    return [node["run"] for node in steps(parsed(path)) if "run" in node]


def test_ci_runs_the_scripts_a_developer_runs_not_its_own_commands():
    for path in WORKFLOWS:
        for run in runs(path):
            assert "scripts/" in run, (path.name, run)
            assert not re.search(r"(^|[\s;&|])(pulumi|leanstack|\.venv/bin/\S+|gh)\s", run), (path.name, run)
    every = [run for path in FILES for run in runs(path)]
    assert not any("scripts/toolchain.sh" in run for run in every), "CI installs Pulumi; the Go-module build is the offline fallback"
    assert {"scripts/test --unit", 'scripts/stack.sh preview "$STACK"', 'scripts/stack.sh up "$STACK"'} <= set(every)


def test_preview_comments_once_per_stack_with_least_privilege():
    text = (GITHUB / "workflows" / "preview.yml").read_text()
    assert "stack: [dev, staging, prod]" in text
    assert "pull-requests: write" in text and "permissions:\n  contents: read" in text
    assert "--format comment" in text and 'scripts/pr-comment.sh "$PR" "$STACK"' in text
    assert "group: preview-${{ github.event.pull_request.number }}" in text
    assert "--policy-pack policies --policy-pack-config" in (ROOT / "scripts" / "stack.sh").read_text()
