"""One mock harness for every unit test (leanstack.components.offline): run the Platform under Pulumi
mocks, record what it registers, so assertions read exactly what the program asked the engine for."""

from __future__ import annotations

from pathlib import Path

import hypothesis  # noqa: F401  imported before any Pulumi event loop runs (CPython 3.11.7 AST recursion bug)
import pytest

from leanstack.components import offline
from leanstack.components.platform import service_args
from leanstack.components.offline import ProgramRun, RecordingMocks, fake_digest  # noqa: F401  (shared by the tests)
from leanstack.config.files import read_config_files
from leanstack.config.resolve import Stack, resolve
from leanstack.config.schema import StackConfig
from leanstack.config.stack_file import load_stack_file
from leanstack.render.objects import ServiceContext

ROOT = Path(__file__).resolve().parents[2]
# Stack files the unit tests own (tests/unit/fixtures/shop/Pulumi.<stack>.yaml): the shop's five services as a dev
# and a prod stack. Unit tests read these, never the committed Pulumi.<stack>.yaml, so editing a committed stack
# cannot break a unit test; the committed stacks are checked generically in test_committed_stacks.py.
SHOP = Path(__file__).resolve().parent / "fixtures" / "shop"
SHOP_STACKS = ("dev", "prod")
TEST_SECRET = "unit-test-password"


def run_platform(config: StackConfig, stack: str, **options) -> ProgramRun:
    """The Platform for `config` under mocks, with TEST_SECRET as every secret."""
    return offline.run_platform(config, stack, secret=TEST_SECRET, **options)


def resolved(config: StackConfig, image: str) -> Stack:
    """`config` bound as the Platform binds it, with `image` as every built image and TEST_SECRET as every secret."""
    built = {name: image for name, spec in config.services.items() if spec.image.build}
    return resolve(config, built, read_config_files(config.services, ROOT, "Pulumi.test.yaml"), lambda key: TEST_SECRET)


def service_context(config: StackConfig, name: str, image: str) -> ServiceContext:
    """The renderers' context of one service of `config`, as the Platform maps it."""
    stack = resolved(config, image)
    (service,) = [service for service in stack.services if service.name == name]
    return service_args(stack, service).context(name)


def small_stack(**changes) -> StackConfig:
    """A small stack of our own, not a committed one: a public, autoscaled api with a migration,
    behind which a database with a volume. `changes` replace top-level keys (e.g. services=...)."""
    return StackConfig.model_validate({**SMALL_STACK, **changes})


SMALL_STACK = {
    "environment": "prod",
    "namespace": "small",
    "services": {
        "api": {
            "image": {"ref": "registry.example.com/api@sha256:" + "a" * 64},
            "port": 8080,
            "resources": {"requests": {"cpu": "250m", "memory": "384Mi"}, "limits": {"cpu": "500m", "memory": "512Mi"}},
            "autoscaling": {"min_replicas": 2, "max_replicas": 6},
            "exposure": "public",
            "host": "api.small.example.com",
            "migrate": {"command": ["migrate"]},
            "depends_on": ["db"],
        },
        "db": {
            "role": "database",
            "image": {"ref": "registry.example.com/db@sha256:" + "b" * 64},
            "port": 5432,
            "resources": {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"cpu": "500m", "memory": "1Gi"}},
            "probes": {"type": "tcp"},
            "storage": {"size": "2Gi", "mount_path": "/var/lib/data"},
            "allow_from": ["api"],
        },
    },
}


def shop_file(stack: str) -> Path:
    """The unit tests' own shop stack file for `stack` (dev or prod), not the committed one."""
    return SHOP / f"Pulumi.{stack}.yaml"


def stack_config(stack: str) -> StackConfig:
    """The unit tests' own shop stack `stack` (dev or prod), validated."""
    return load_stack_file(shop_file(stack))


@pytest.fixture(scope="session")
def stack_runs() -> dict[str, ProgramRun]:
    """Each shop fixture stack, run once under mocks and shared by every test that reads it."""
    return {stack: run_platform(stack_config(stack), stack) for stack in SHOP_STACKS}


@pytest.fixture(scope="session")
def dev(stack_runs) -> ProgramRun:
    return stack_runs["dev"]


@pytest.fixture(scope="session")
def prod(stack_runs) -> ProgramRun:
    return stack_runs["prod"]
