"""Real servers for the apps' tests (`pytest apps/api/tests apps/worker/tests`): Debian's
postgresql-15 and redis-server (`apt-get install postgresql-15 redis-server`), each on a free
127.0.0.1 port in a temporary directory, stopped by their pid when the session ends. Postgres has
password (scram-sha-256) logins only and the api's migration applied, as in the stacks."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

APPS = Path(__file__).resolve().parent
PG_BIN = Path("/usr/lib/postgresql/15/bin")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def binary(path: str, package: str) -> str:
    found = shutil.which(path)
    if found is None:
        pytest.fail(f"{path} is missing: apt-get install {package}", pytrace=False)
    return found


def serve(argv: list[str], port: int, log: Path, **user) -> subprocess.Popen:
    """Start a server and wait until its port accepts connections."""
    process = subprocess.Popen(argv, stdout=log.open("w"), stderr=subprocess.STDOUT, **user)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{argv[0]} exited with {process.returncode}: {log.read_text()[-2000:]}", pytrace=False)
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    pytest.fail(f"{argv[0]} did not listen on 127.0.0.1:{port} within 30 s", pytrace=False)


def stop(process: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    process.send_signal(sig)
    process.wait(timeout=30)


@pytest.fixture(scope="session")
def postgres_env():
    """The DATABASE_* environment of a fresh Postgres whose orders table the api's migration made."""
    root = Path(tempfile.mkdtemp(prefix="leanstack-apps-pg-"))
    # initdb and postgres refuse to run as root: as root, they run as Debian's postgres user.
    user = {"user": "postgres", "group": "postgres", "extra_groups": []} if os.geteuid() == 0 else {}
    if user:
        shutil.chown(root, "postgres", "postgres")
    password_file = root / "password"
    password_file.write_text("apps-test-password\n")
    initdb = binary(str(PG_BIN / "initdb"), "postgresql-15")
    subprocess.run([initdb, "-D", str(root / "data"), "-U", "postgres", f"--pwfile={password_file}",
                    "--auth=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8"], check=True, capture_output=True, **user)
    port = free_port()
    server = serve([str(PG_BIN / "postgres"), "-D", str(root / "data"), "-p", str(port), "-k", str(root),
                    "-c", "listen_addresses=127.0.0.1"], port, root / "postgres.log", **user)
    env = {"DATABASE_HOST": "127.0.0.1", "DATABASE_PORT": str(port), "DATABASE_USER": "postgres",
           "DATABASE_NAME": "postgres", "DATABASE_PASSWORD_FILE": str(password_file)}
    try:
        migrate(env)
        yield env
    finally:
        stop(server, signal.SIGINT)  # postgres's fast shutdown
        shutil.rmtree(root, ignore_errors=True)


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
    """The URL of a fresh redis-server (no persistence)."""
    root = Path(tempfile.mkdtemp(prefix="leanstack-apps-redis-"))
    port = free_port()
    server = serve([binary("redis-server", "redis-server"), "--port", str(port), "--bind", "127.0.0.1",
                    "--save", "", "--appendonly", "no", "--dir", str(root)], port, root / "redis.log")
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        stop(server)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def redis_url(redis_server):
    """The redis-server, emptied for this test."""
    import redis

    with redis.Redis.from_url(redis_server) as client:
        client.flushall()
    return redis_server
