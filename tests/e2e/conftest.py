"""End-to-end harness: the real Pulumi engine on a scratch copy of the project, one fresh local
file backend per test project, manifests rendered to the copy's rendered/<stack>/."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml
from pulumi import automation as auto

from bench.scratch import scratch_project
from leanstack.costing.delta import op_name



@dataclass
class Events:
    """What one engine run reported: every step, and the stack's outputs."""

    steps: list[Any] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)

    def __call__(self, event: auto.EngineEvent) -> None:
        if event.resource_pre_event is not None:
            self.steps.append(event.resource_pre_event.metadata)
        if event.res_outputs_event is not None and event.res_outputs_event.metadata.type == "pulumi:pulumi:Stack":
            new = event.res_outputs_event.metadata.new
            self.outputs = dict(new.outputs or {}) if new else {}

    def ops(self) -> dict[str, list[str]]:
        """Resource type -> ops, for the steps that are not `same`."""
        result: dict[str, list[str]] = {}
        for step in self.steps:
            op = op_name(step.op)
            if op != "same":
                result.setdefault(step.type, []).append(op)
        return result


@dataclass
class Project:
    directory: Path
    env: dict[str, str]

    def stack(self, name: str) -> auto.Stack:
        return auto.create_or_select_stack(
            stack_name=name, work_dir=str(self.directory), opts=auto.LocalWorkspaceOptions(env_vars=self.env)
        )

    def preview(self, name: str) -> tuple[auto.PreviewResult, Events]:
        events = Events()
        return self.stack(name).preview(on_event=events), events

    def up(self, name: str) -> tuple[auto.UpResult, Events]:
        events = Events()
        return self.stack(name).up(on_event=events), events

    def edit_config(self, name: str, change: Callable[[dict], None]) -> None:
        """Change the `config:` mapping of Pulumi.<name>.yaml in place (keys without the project prefix)."""
        path = self.directory / f"Pulumi.{name}.yaml"
        document = yaml.safe_load(path.read_text())
        ours = {key.split(":", 1)[1]: value for key, value in document["config"].items()}
        change(ours)
        document["config"] = {f"leanstack:{key}": value for key, value in ours.items()}
        path.write_text(yaml.safe_dump(document, sort_keys=False))

    def rendered(self, name: str) -> dict[str, dict]:
        """Rendered manifests of a stack by kind/name."""
        manifests = {}
        for path in sorted((self.directory / "rendered" / name).rglob("*.yaml")):
            for document in yaml.safe_load_all(path.read_text()):
                if document:
                    manifests[f"{document['kind']}/{document['metadata']['name']}"] = document
        return manifests


@pytest.fixture
def project(tmp_path: Path) -> Project:
    """A scratch copy of the project with its own empty state backend."""
    return make_project(tmp_path)


def make_project(tmp_path: Path) -> Project:
    """A scratch copy of the project in tmp_path/project, with its own empty state backend in tmp_path/state."""
    directory = scratch_project(tmp_path / "project")
    state = tmp_path / "state"
    state.mkdir()
    env = {
        **{key: value for key, value in os.environ.items() if key.startswith(("PULUMI_", "PATH", "HOME", "DOCKER_"))},
        "PULUMI_BACKEND_URL": f"file://{state}",
        "PULUMI_CONFIG_PASSPHRASE": os.environ.get("PULUMI_CONFIG_PASSPHRASE", "leanstack-local-only"),
    }
    return Project(directory, env)


@pytest.fixture(scope="session")
def cluster():
    """The local cluster (tests/e2e/live.py): `scripts/cluster.sh up` once per session, left running;
    the namespaces the tests make are deleted before and after the session."""
    from tests.e2e.live import delete_test_namespaces, start_cluster
    live = start_cluster()
    delete_test_namespaces(live)
    yield live
    delete_test_namespaces(live)
