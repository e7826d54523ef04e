"""Run with: pip install -r requirements.txt pytest && pytest apps/worker/tests

Uses a small in-memory stand-in for Redis, so no server is needed.
"""

import json
import os
import subprocess
import sys

from worker.__main__ import Worker, handle
from worker.config import Config, database_password


class FakeRedis:
    def __init__(self):
        self.lists = {}

    def brpop(self, keys, timeout=0):
        for k in keys:
            if self.lists.get(k):
                return k.encode(), self.lists[k].pop()
        return None

    def lpush(self, key, value):
        self.lists.setdefault(key, []).insert(0, value if isinstance(value, bytes) else value.encode())


def test_handle():
    assert handle({"id": "1", "op": "sum", "args": [1, 2, 3]})["result"] == 6
    assert handle({"op": "upper", "args": ["x"]})["result"] == "X"


def test_worker_and_health(tmp_path):
    hb = tmp_path / "hb"
    cfg = Config(heartbeat_file=str(hb))
    fake = FakeRedis()
    fake.lpush(cfg.queue, json.dumps({"id": "a", "op": "sum", "args": [2, 2]}))
    fake.lpush(cfg.queue, b"not json")
    w = Worker(cfg, client=fake)
    assert w.run_once() and w.run_once() and not w.run_once()
    done = [json.loads(x) for x in fake.lists[cfg.done_key]]
    assert {"id": "a", "ok": True, "result": 4} in done
    assert any(not d["ok"] for d in done)
    env = dict(os.environ, HEARTBEAT_FILE=str(hb))
    env["PYTHONPATH"] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    assert subprocess.run([sys.executable, "-m", "worker.health"], env=env).returncode == 0
    env["HEARTBEAT_MAX_AGE"] = "-1"
    assert subprocess.run([sys.executable, "-m", "worker.health"], env=env).returncode == 1
    # liveness asks with a longer max age than readiness
    assert subprocess.run([sys.executable, "-m", "worker.health", "--max-age", "120"], env=env).returncode == 0


def test_run_stops_on_signal(tmp_path):
    cfg = Config(heartbeat_file=str(tmp_path / "hb"))

    class OneShot(FakeRedis):
        def ping(self):
            assert (tmp_path / "hb").exists() is False
            return True

        def brpop(self, keys, timeout=0):
            w.stopping = True  # as if SIGTERM arrived while waiting
            return None

    w = Worker(cfg, client=OneShot())
    assert w.run() == 0 and w.processed == 0
    assert not (tmp_path / "hb").exists()  # heartbeat removed on exit


def test_the_database_password_comes_from_its_file_and_falls_back_to_the_env(tmp_path, monkeypatch):
    secret = tmp_path / "DATABASE_PASSWORD"
    secret.write_text("from-file\n")
    monkeypatch.setenv("DATABASE_PASSWORD_FILE", str(secret))
    assert Config.from_env().database_password == "from-file"
    env = {"DATABASE_PASSWORD": "from-env"}
    assert database_password(env) == "from-env"
    assert database_password({**env, "DATABASE_PASSWORD_FILE": str(secret)}) == "from-file"
    assert database_password({}) is None
    assert "from-file" not in repr(Config(database_password="from-file"))
