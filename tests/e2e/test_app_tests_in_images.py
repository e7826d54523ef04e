"""The sample apps' own tests (apps/*/tests) pass inside each app's runtime image on the floor, under
the pod's hardening flags (issue 19: "the sample apps' tests pass in the container").

Each image is built as bench/images/floor.py builds its floor variant (apps/<app>/Dockerfile on
3.11-build and 3.11-floor). The code under test is the image's: /app (the WORKDIR, also first on
PYTHONPATH). From the work tree come, mounted read-only where they sit in the repository under
/apps, only the app's tests with apps/conftest.py and apps/testservers.py above them, plus the few
files a suite needs from beside its app (EXTRA). What the images lack to run a suite, pytest and
httpx (apps/test-requirements.txt, hash-pinned), is a host directory mounted read-only at /testlib.
Postgres and Redis run on the host (apps/testservers.py); apps/conftest.py takes them from
APPS_TEST_* and applies the api's migration from inside the container. The only change to the pod's
flags: `--network host` instead of `--network none`, for those two servers on 127.0.0.1.

A suite passes when pytest exits 0 and its summary is "N passed" (warnings allowed) with N the
number the same suite collects: nothing skipped, xfailed, deselected or in error.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from apps import testservers
from bench.images import floor, run
from tools import registry

pytestmark = pytest.mark.e2e

APPS = run.ROOT / "apps"
BASES = {"BUILD_BASE": run.BUILD_BASE, "RUNTIME_BASE": floor.BASES["floor"]}
HARDENED = ["--read-only", "--tmpfs", "/tmp", "--user", "10001", "--cap-drop", "ALL",
            "--security-opt", "no-new-privileges", "--network", "host"]
PASSWORD_FILE = "/run/secrets/apps-test-database-password"
# app -> what its suite needs from the work tree beside its tests, at the same place under /apps
EXTRA = {
    "api": ["worker/worker"],  # the order's round trip runs `python -m worker` (cwd apps/worker) as a process
    "worker": ["api/app"],  # postgres_env applies the api's migration (`python -m app.migrate`, cwd apps/api)
    "web": ["web/static"],  # test_server serves a copy of the site's sources
}
SUMMARY = re.compile(r"(\d+) passed(, \d+ warnings?)? in [\d.]+s( \(\d+:\d\d:\d\d\))?")


def engine_and_bases() -> None:
    """Skip without the engine or the bases (scripts/docker.sh, scripts/base-images.sh)."""
    if shutil.which("docker") is None or subprocess.run(["docker", "version"], capture_output=True).returncode != 0:
        pytest.skip("no Docker engine: run scripts/docker.sh")
    for ref in BASES.values():
        try:
            found = registry.digest(ref)
        except registry.RegistryError as error:
            pytest.skip(f"{error}: run scripts/docker.sh")
        if found is None:
            pytest.skip(f"{ref} is not in the registry: run scripts/base-images.sh")


@pytest.fixture(scope="module")
def servers():
    """Postgres and Redis on the host: the APPS_TEST_* environment for apps/conftest.py, and the
    password file to mount where that environment says."""
    for tool, package in ((testservers.PG_BIN / "postgres", "postgresql-15"), (Path("redis-server"), "redis-server")):
        if shutil.which(str(tool)) is None:
            pytest.skip(f"{tool} missing: apt-get install {package}")
    with testservers.postgres() as database, testservers.redis() as redis_url:
        env = {"APPS_TEST_DATABASE_PORT": database["DATABASE_PORT"], "APPS_TEST_DATABASE_PASSWORD_FILE": PASSWORD_FILE,
               "APPS_TEST_REDIS_URL": redis_url}
        yield env, Path(database["DATABASE_PASSWORD_FILE"])


@pytest.fixture(scope="module")
def testlib(tmp_path_factory) -> Path:
    """apps/test-requirements.txt installed into a directory uid 10001 can read."""
    target = tmp_path_factory.mktemp("testlib")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-deps",
                    "--require-hashes", "--target", str(target), "-r", str(APPS / "test-requirements.txt")], check=True)
    for directory, _, files in os.walk(target):  # pytest's temporary directories are private (0700)
        os.chmod(directory, os.stat(directory).st_mode | 0o555)
        for path in (os.path.join(directory, name) for name in files):
            if not os.path.islink(path):
                os.chmod(path, os.stat(path).st_mode | 0o444)
    return target


@pytest.fixture(scope="module")
def images():
    """app -> the tag of its runtime image on the floor, built on first use; removed at the end."""
    engine_and_bases()
    run.BUILD = run.builder()
    built: dict[str, str] = {}

    def image(app: str) -> str:
        if app not in built:
            tag = f"leanstack-apptests/{app}:floor"
            run.build(APPS / app, tag, BASES, no_cache=False)
            built[app] = tag
        return built[app]

    yield image
    for tag in built.values():
        run.sh(["docker", "rmi", tag], check=False)


def in_image(tag: str, app: str, servers, testlib: Path, *pytest_args: str) -> subprocess.CompletedProcess:
    """`python -m pytest ... /apps/<app>/tests` in the image, hardened, as uid 10001."""
    env, password_file = servers
    mounts = [(APPS / "conftest.py", "/apps/conftest.py"), (APPS / "testservers.py", "/apps/testservers.py"),
              (APPS / app / "tests", f"/apps/{app}/tests"), *((APPS / extra, f"/apps/{extra}") for extra in EXTRA[app]),
              (testlib, "/testlib"), (password_file, PASSWORD_FILE)]
    name = f"leanstack-apptests-{app}-{os.getpid()}"
    argv = ["docker", "run", "--rm", "--name", name, *HARDENED,
            *(f"--mount=type=bind,src={src},dst={dst},readonly" for src, dst in mounts),
            "--env=PYTHONPATH=/app:/testlib", *(f"--env={key}={value}" for key, value in env.items()),
            tag, "python3", "-m", "pytest", "-p", "no:cacheprovider", "-q", "--rootdir=/apps", *pytest_args,
            f"/apps/{app}/tests"]
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=600)
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True)  # after a timeout; gone already otherwise


@pytest.mark.parametrize("app", ["api", "worker", "web"])
def test_the_apps_own_tests_pass_in_its_image_on_the_floor_under_the_pods_hardening(app, images, servers, testlib):
    tag = images(app)
    collected = in_image(tag, app, servers, testlib, "--collect-only")
    assert collected.returncode == 0, collected.stdout[-3000:] + collected.stderr[-3000:]
    count = int(re.search(r"^(\d+) tests? collected", collected.stdout, re.M).group(1))
    start = time.monotonic()
    result = in_image(tag, app, servers, testlib)
    print(f"{app}: {result.stdout.strip().splitlines()[-1]} ({time.monotonic() - start:.1f} s with the container)")
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    summary = SUMMARY.fullmatch(result.stdout.strip().splitlines()[-1])
    assert summary and int(summary.group(1)) == count > 0, result.stdout[-3000:]
