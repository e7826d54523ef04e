"""One mock harness for every unit test: run the Platform under Pulumi mocks, record what it registers.

Mocks return a resource's inputs as its state (plus a digest for built images), so assertions read
exactly what the program asked the engine for.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import pulumi
import hypothesis  # noqa: F401  imported before any Pulumi event loop runs (CPython 3.11.7 AST recursion bug)
import pytest
from pulumi.runtime.mocks import MockMonitor, MockResourceArgs

from components.config import StackConfig
from components.platform import Platform, PlatformArgs
from components.stack_file import load_stack_file

ROOT = Path(__file__).resolve().parents[2]
STACKS = ("dev", "staging", "prod")
TEST_SECRET = "unit-test-password"


def fake_digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


class RecordingMocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.registered: list[MockResourceArgs] = []

    def new_resource(self, args: MockResourceArgs):
        self.registered.append(args)
        state = dict(args.inputs)
        if args.typ == "docker-build:index:Image":
            (tag,) = args.inputs["tags"]
            state["digest"] = fake_digest(tag)
            state["ref"] = f"{tag}@{state['digest']}"
        return f"{args.name}-id", state

    def call(self, args):
        return {}


@dataclass
class ProgramRun:
    """What one program run registered, in order."""

    resources: list[MockResourceArgs]
    outputs: dict[str, Any] = field(default_factory=dict)

    def of_type(self, typ: str) -> list[MockResourceArgs]:
        return [r for r in self.resources if r.typ == typ]

    def kind(self, kind: str) -> dict[str, dict]:
        """Kubernetes objects of one kind by metadata.name, e.g. run.kind("apps/v1:Deployment")."""
        return {r.inputs["metadata"]["name"]: r.inputs for r in self.of_type(f"kubernetes:{kind}")}

    def types(self) -> list[str]:
        return sorted(r.typ for r in self.resources)


def run_platform(config: StackConfig, stack: str, preview: bool = False,
                 image_sizes: Optional[dict[str, int]] = None, mocks: Optional[RecordingMocks] = None) -> ProgramRun:
    """Build the Platform for `config` under mocks and wait for every output.

    Images measure 50Mi unless `image_sizes` (bytes by service) says otherwise.
    """
    mocks = mocks or RecordingMocks()
    pulumi.runtime.set_mocks(mocks, project="leanstack", stack=stack, preview=preview, monitor=MockMonitor(mocks))
    secret_keys = [f"leanstack:{key}" for key in config.secret_keys()]
    pulumi.runtime.set_all_config({key: TEST_SECRET for key in secret_keys}, secret_keys)
    run = ProgramRun(mocks.registered)

    @pulumi.runtime.test
    def program():
        platform = Platform(
            config.namespace,
            PlatformArgs(config=config, stack=stack, measure_image_size=lambda ref: (image_sizes or {}).get(ref.split("/")[-1].split(":")[0], 50 << 20)),
        )
        images = pulumi.Output.all(**{name: s.image for name, s in platform.services.items()})
        run.outputs["cost"] = platform.cost
        return pulumi.Output.all(platform.namespace, images, platform.image_cost).apply(
            lambda values: run.outputs.update(namespace=values[0], images=values[1], image_cost=values[2]))

    program()
    return run


def stack_config(stack: str) -> StackConfig:
    return load_stack_file(ROOT / f"Pulumi.{stack}.yaml")


@pytest.fixture(scope="session")
def stack_runs() -> dict[str, ProgramRun]:
    """Each real stack file, run once under mocks and shared by every test that reads it."""
    return {stack: run_platform(stack_config(stack), stack) for stack in STACKS}


@pytest.fixture(scope="session")
def dev(stack_runs) -> ProgramRun:
    return stack_runs["dev"]


@pytest.fixture(scope="session")
def prod(stack_runs) -> ProgramRun:
    return stack_runs["prod"]
