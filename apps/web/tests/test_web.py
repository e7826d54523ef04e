"""Run with: pytest apps/web/tests (stdlib only)."""

import gzip
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_server(tmp_path):
    static = tmp_path / "static"
    shutil.copytree(ROOT / "static", static)
    (static / "style.css.gz").write_bytes(gzip.compress((static / "style.css").read_bytes()))
    port = free_port()
    env = dict(os.environ, PORT=str(port), HOST="127.0.0.1", STATIC_DIR=str(static), PYTHONPATH=str(ROOT))
    p = subprocess.Popen([sys.executable, "-m", "webserver"], env=env)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                with urllib.request.urlopen(base + "/health") as r:
                    assert r.status == 200
                break
            except OSError:
                time.sleep(0.05)
        with urllib.request.urlopen(base + "/") as r:
            assert b"leanstack" in r.read() and r.headers["X-Content-Type-Options"] == "nosniff"
        req = urllib.request.Request(base + "/style.css", headers={"Accept-Encoding": "gzip"})
        with urllib.request.urlopen(req) as r:
            assert r.headers["Content-Encoding"] == "gzip"
            assert gzip.decompress(r.read()) == (static / "style.css").read_bytes()
        try:
            urllib.request.urlopen(base + "/../../etc/passwd")
            raise AssertionError("expected 404")
        except urllib.error.HTTPError as e:
            assert e.code == 404
        env2 = dict(env)
        assert subprocess.run([sys.executable, "-m", "webserver.healthcheck"], env=env2).returncode == 0
    finally:
        p.terminate()
        assert p.wait(timeout=5) == 0
