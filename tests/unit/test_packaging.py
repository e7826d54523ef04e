"""The package works installed, not only from the checkout: it never locates itself on disk, it
declares every distribution it imports, and its ranges hold the versions requirements.lock pins.
tests/e2e/test_installed.py installs it into a fresh venv and runs it."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions

from packaging.requirements import Requirement

from tests.unit.conftest import ROOT

PACKAGE = ROOT / "leanstack"
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
# Modules that may import what an extra brings, beside the core dependencies.
EXTRA_USERS = {"scan": PACKAGE / "scan"}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared(requirements: list[str]) -> set[str]:
    return {canonical(Requirement(text).name) for text in requirements}


def third_party_imports(path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    names |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module}
    return {name.split(".")[0] for name in names} - set(sys.stdlib_module_names) - {"leanstack"}


def test_no_module_finds_files_through_its_own_location():
    # A checkout's layout is gone once installed; package data would be read with importlib.resources.
    offenders = sorted(str(path.relative_to(ROOT)) for path in PACKAGE.rglob("*.py")
                       if any(isinstance(node, ast.Name) and node.id == "__file__"
                              for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))))
    assert offenders == []


def test_every_imported_distribution_is_declared():
    distributions = packages_distributions()
    core = declared(PROJECT["dependencies"])
    missing = []
    for path in sorted(PACKAGE.rglob("*.py")):
        allowed = core | {name for extra, folder in EXTRA_USERS.items() if folder in path.parents
                          for name in declared(PROJECT["optional-dependencies"][extra])}
        for module in sorted(third_party_imports(path)):
            providers = {canonical(name) for name in distributions.get(module, [module])}
            if not providers & allowed:
                missing.append(f"{path.relative_to(ROOT)}: {module} ({', '.join(sorted(providers))})")
    assert missing == []


def test_declared_ranges_hold_the_locked_versions():
    locked = dict(re.findall(r"^([A-Za-z0-9._-]+)==(\S+)", (ROOT / "requirements.lock").read_text(encoding="utf-8"), re.MULTILINE))
    locked = {canonical(name): version for name, version in locked.items()}
    requirements = [Requirement(text) for texts in [PROJECT["dependencies"], *PROJECT["optional-dependencies"].values()]
                    for text in texts]
    outside = [f"{r} (locked: {locked.get(canonical(r.name), 'not in the lock')})" for r in requirements
               if canonical(r.name) not in locked or not r.specifier.contains(locked[canonical(r.name)])]
    assert outside == []
