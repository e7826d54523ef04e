"""The package works installed, away from the checkout: `pip install` of the repository's package into a
fresh venv (its declared dependencies resolved by pip, held to requirements.lock's versions), then
`leanstack --help` and `leanstack render` of an example stack from a project directory elsewhere,
which writes exactly what the checkout's own CLI writes for it. Needs the package index (or pip's
cache); no toolchain, since `render` runs the program under Pulumi mocks."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench.scratch import ROOT

pytestmark = pytest.mark.e2e

EXAMPLE = "llm-backend"  # reads a config file from the project, so the project directory really matters


def run(command: list, cwd: Path, env: dict, timeout: int = 120) -> subprocess.CompletedProcess:
    result = subprocess.run([str(part) for part in command], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{' '.join(map(str, command))}\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> Path:
    """A fresh venv with the package installed the ordinary way: build, resolve, install."""
    base = tmp_path_factory.mktemp("installed")
    # The build writes build/ and an egg-info next to its sources: a copy keeps them out of the checkout.
    source = base / "source"
    shutil.copytree(ROOT / "leanstack", source / "leanstack", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(ROOT / "pyproject.toml", source / "pyproject.toml")
    # pip refuses hashes in a constraints file; the pins alone make it resolve the tested versions.
    (base / "constraints.txt").write_text(
        "\n".join(re.findall(r"^[A-Za-z0-9._-]+==\S+", (ROOT / "requirements.lock").read_text(), re.MULTILINE)) + "\n")
    environment = clean_environment()
    run([sys.executable, "-m", "venv", base / "venv"], base, environment)
    run([base / "venv" / "bin" / "python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "--constraint", base / "constraints.txt", source], base, environment, timeout=1200)
    return base / "venv"


def clean_environment() -> dict:
    """The caller's environment minus whatever would let the checkout's package or venv leak in."""
    return {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}


@pytest.fixture
def project(tmp_path) -> Path:
    """The example laid out as examples/README.md tells a user: its stack file in the project directory."""
    directory = tmp_path / "project"
    shutil.copytree(ROOT / "examples" / EXAMPLE, directory / "examples" / EXAMPLE)
    shutil.copy2(ROOT / "examples" / EXAMPLE / f"Pulumi.{EXAMPLE}.yaml", directory)
    return directory


def test_the_installed_package_is_the_one_that_runs(venv, tmp_path):
    found = run([venv / "bin" / "python", "-c", "import leanstack; print(leanstack.__file__)"], tmp_path, clean_environment())
    assert Path(found.stdout.strip()).is_relative_to(venv)


def test_help_lists_every_command(venv, tmp_path):
    shown = run([venv / "bin" / "leanstack", "--help"], tmp_path, clean_environment()).stdout
    for command in ("cost", "render", "derive-stack", "rightsize", "images"):
        assert re.search(rf"^\W*{command}\b", shown, re.MULTILINE), (command, shown)


def test_render_from_the_project_directory_writes_what_the_checkout_renders(venv, project, tmp_path):
    run([venv / "bin" / "leanstack", "render", "--stack", EXAMPLE, "--out", "rendered"], project, clean_environment())
    run([sys.executable, "-m", "leanstack.cli", "render", "--stack", EXAMPLE, "--out", tmp_path / "checkout",
         "--work-dir", project], ROOT, clean_environment())
    installed = {path.name: path.read_text() for path in (project / "rendered" / "1-manifest").glob("*.yaml")}
    expected = {path.name: path.read_text() for path in (tmp_path / "checkout" / "1-manifest").glob("*.yaml")}
    assert len(expected) > 10 and any("prompts.yaml" in text for text in expected.values())
    assert installed == expected
