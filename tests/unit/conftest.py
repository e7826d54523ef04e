"""One mock harness for every unit test (leanstack.components.offline): run the Platform under Pulumi
mocks, record what it registers, so assertions read exactly what the program asked the engine for."""

from __future__ import annotations

from pathlib import Path

import hypothesis  # noqa: F401  imported before any Pulumi event loop runs (CPython 3.11.7 AST recursion bug)
import pytest

from leanstack.components import offline
from leanstack.components.offline import ProgramRun, RecordingMocks, fake_digest  # noqa: F401  (shared by the tests)
from leanstack.config.schema import StackConfig
from leanstack.config.stack_file import load_stack_file

ROOT = Path(__file__).resolve().parents[2]
STACKS = ("dev", "staging", "prod")
TEST_SECRET = "unit-test-password"


def run_platform(config: StackConfig, stack: str, **options) -> ProgramRun:
    """The Platform for `config` under mocks, with TEST_SECRET as every secret."""
    return offline.run_platform(config, stack, secret=TEST_SECRET, **options)


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
