"""Real servers for the apps' tests (`pytest apps/api/tests apps/worker/tests`).

By default the session starts its own (apps/testservers.py: Debian's postgresql-15 and redis-server
on free 127.0.0.1 ports, stopped when the session ends). With these set, it uses servers someone
else started instead (tests/e2e/test_app_tests_in_images.py, for the suites inside the images):
  APPS_TEST_DATABASE_PORT           a Postgres on 127.0.0.1 (user and database `postgres`) ...
  APPS_TEST_DATABASE_PASSWORD_FILE  ... and the file holding its password (both, or neither)
  APPS_TEST_REDIS_URL               a redis-server the tests may empty
Either way the api's migration is applied (`python -m app.migrate`), as in the stacks."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

import testservers

APPS = Path(__file__).resolve().parent
DATABASE_SWITCH = ("APPS_TEST_DATABASE_PORT", "APPS_TEST_DATABASE_PASSWORD_FILE")


@contextlib.contextmanager
def given_postgres() -> Iterator[dict[str, str]]:
    port, password_file = (os.environ.get(name) for name in DATABASE_SWITCH)
    if not (port and password_file):
        missing = [name for name in DATABASE_SWITCH if not os.environ.get(name)]
        pytest.fail(f"{' and '.join(DATABASE_SWITCH)} go together: {', '.join(missing)} is not set", pytrace=False)
    yield {"DATABASE_HOST": "127.0.0.1", "DATABASE_PORT": port, "DATABASE_USER": "postgres",
           "DATABASE_NAME": "postgres", "DATABASE_PASSWORD_FILE": password_file}


@pytest.fixture(scope="session")
def postgres_env():
    """The DATABASE_* environment of a Postgres whose orders table the api's migration made."""
    given = any(os.environ.get(name) for name in DATABASE_SWITCH)
    with given_postgres() if given else testservers.postgres() as env:
        migrate(env)
        yield env


def migrate(env: dict[str, str]) -> subprocess.CompletedProcess:
    """`python -m app.migrate` as the api's migration Job runs it."""
    result = subprocess.run([sys.executable, "-m", "app.migrate"], cwd=APPS / "api", env={**os.environ, **env},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result


@pytest.fixture
def run_migration():
    return migrate


@pytest.fixture(scope="session")
def redis_server():
    """The URL of a redis-server (a fresh one without persistence, unless APPS_TEST_REDIS_URL names one)."""
    if os.environ.get("APPS_TEST_REDIS_URL"):
        yield os.environ["APPS_TEST_REDIS_URL"]
        return
    with testservers.redis() as url:
        yield url


@pytest.fixture
def redis_url(redis_server):
    """The redis-server, emptied for this test."""
    import redis

    with redis.Redis.from_url(redis_server) as client:
        client.flushall()
    return redis_server
