"""Real servers for the apps' tests: Debian's postgresql-15 and redis-server (`apt-get install
postgresql-15 redis-server`), each on a free 127.0.0.1 port in a temporary directory, stopped by
their pid on exit. Postgres has password (scram-sha-256) logins only, as in the stacks.

Used by apps/conftest.py (on the host) and by tests/e2e/test_app_tests_in_images.py, which starts
them on the host for the apps' suites running inside their images (`--network host`)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Iterator

import pytest

PG_BIN = Path("/usr/lib/postgresql/15/bin")
PASSWORD = "apps-test-password"


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


@contextlib.contextmanager
def postgres() -> Iterator[dict[str, str]]:
    """A fresh, empty Postgres: its DATABASE_* environment (user and database `postgres`; the
    password in DATABASE_PASSWORD_FILE, a file anyone may read, so that a container's user can)."""
    root = Path(tempfile.mkdtemp(prefix="leanstack-apps-pg-"))
    # initdb and postgres refuse to run as root: as root, they run as Debian's postgres user.
    user = {"user": "postgres", "group": "postgres", "extra_groups": []} if os.geteuid() == 0 else {}
    server = None
    try:
        if user:
            shutil.chown(root, "postgres", "postgres")
        password_file = root / "password"
        password_file.write_text(PASSWORD + "\n")
        password_file.chmod(0o644)
        initdb = binary(str(PG_BIN / "initdb"), "postgresql-15")
        subprocess.run([initdb, "-D", str(root / "data"), "-U", "postgres", f"--pwfile={password_file}",
                        "--auth=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8"], check=True, capture_output=True,
                       **user)
        port = free_port()
        server = serve([str(PG_BIN / "postgres"), "-D", str(root / "data"), "-p", str(port), "-k", str(root),
                        "-c", "listen_addresses=127.0.0.1"], port, root / "postgres.log", **user)
        yield {"DATABASE_HOST": "127.0.0.1", "DATABASE_PORT": str(port), "DATABASE_USER": "postgres",
               "DATABASE_NAME": "postgres", "DATABASE_PASSWORD_FILE": str(password_file)}
    finally:
        if server is not None:
            stop(server, signal.SIGINT)  # postgres's fast shutdown
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def redis() -> Iterator[str]:
    """A fresh redis-server (no persistence): its URL."""
    root = Path(tempfile.mkdtemp(prefix="leanstack-apps-redis-"))
    server = None
    try:
        port = free_port()
        server = serve([binary("redis-server", "redis-server"), "--port", str(port), "--bind", "127.0.0.1",
                        "--save", "", "--appendonly", "no", "--dir", str(root)], port, root / "redis.log")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        if server is not None:
            stop(server)
        shutil.rmtree(root, ignore_errors=True)
