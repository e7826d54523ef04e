"""Run with: pip install -r requirements.txt pytest && pytest apps/worker/tests

The loop and health checks use a small in-memory stand-in for Redis; orders go to a real Postgres
and Redis on 127.0.0.1 (apps/conftest.py).
"""

import json
import os
import subprocess
import sys
import time
import uuid
from dataclasses import replace
from pathlib import Path

import psycopg
import pytest
import redis

from worker.__main__ import Worker, handle
from worker.config import Config, database_password
from worker.leak import MIB, Leak


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
    assert handle({"id": "1", "op": "sum", "args": [1, 2, 3]}, store=None)["result"] == 6
    assert handle({"op": "upper", "args": ["x"]}, store=None)["result"] == "X"


def database_config(postgres_env, **settings) -> Config:
    return Config(database_host="127.0.0.1", database_port=int(postgres_env["DATABASE_PORT"]),
                  database_password=Path(postgres_env["DATABASE_PASSWORD_FILE"]).read_text().strip(), **settings)


def test_an_order_is_priced_and_written_to_postgres_once(postgres_env, redis_url, tmp_path):
    cfg = database_config(postgres_env, redis_url=redis_url, heartbeat_file=str(tmp_path / "hb"))
    order_id = uuid.uuid4().hex
    client = redis.Redis.from_url(redis_url)
    job = json.dumps({"id": order_id, "op": "order", "args": ["gamma", 3, 3.0]})
    client.lpush(cfg.queue, job, job)  # delivered twice, e.g. requeued after a lost connection
    w = Worker(cfg)
    assert w.run_once() and w.run_once()
    assert json.loads(client.lindex(cfg.done_key, 0)) == {"id": order_id, "ok": True, "result": {"total": "9.00"}}
    with psycopg.connect(host="127.0.0.1", port=cfg.database_port, user="postgres", dbname="postgres",
                         password=cfg.database_password) as conn:
        rows = conn.execute("SELECT item, quantity, total FROM orders WHERE id = %s", (order_id,)).fetchall()
    assert [(item, quantity, str(total)) for item, quantity, total in rows] == [("gamma", 3, "9.00")]


def test_while_postgres_is_unreachable_an_order_goes_back_to_the_queue(postgres_env, redis_url, tmp_path):
    cfg = replace(database_config(postgres_env, redis_url=redis_url, heartbeat_file=str(tmp_path / "hb")),
                  database_port=1)  # nothing listens there
    client = redis.Redis.from_url(redis_url)
    job = json.dumps({"id": "lost?", "op": "order", "args": ["alpha", 1, 1.5]}).encode()
    client.lpush(cfg.queue, job)
    with pytest.raises(psycopg.OperationalError):  # Worker.run backs off, then takes the job again
        Worker(cfg).run_once()
    assert client.lrange(cfg.queue, 0, -1) == [job] and client.llen(cfg.done_key) == 0


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


def test_a_redis_that_times_out_or_refuses_is_waited_for_not_fatal(tmp_path, monkeypatch):
    cfg = Config(heartbeat_file=str(tmp_path / "hb"))
    failures = [redis.exceptions.TimeoutError("Timeout connecting to server"), redis.exceptions.ConnectionError("refused")]
    monkeypatch.setattr(time, "sleep", lambda seconds: None)

    class Late(FakeRedis):
        def ping(self):
            if failures:
                raise failures.pop(0)
            return True

        def brpop(self, keys, timeout=0):
            w.stopping = True
            return None

    w = Worker(cfg, client=Late())
    assert w.run() == 0 and failures == []


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


def test_the_test_only_leak_is_off_by_default_and_grows_at_its_rate():
    assert Worker(Config(), client=FakeRedis()).leak is None
    assert Config.from_env().test_leak_mib_per_s == 0.0
    now = [100.0]
    leak = Leak(4, clock=lambda: now[0])
    assert leak.grow() == 0
    now[0] += 2.5
    assert leak.grow() == 10 * MIB and len(leak.held[-1]) == 10 * MIB and not any(leak.held[-1][:4096])
    now[0] += 0.5
    assert leak.grow() == 12 * MIB
    with pytest.raises(ValueError, match="WORKER_TEST_LEAK_MIB_PER_S must be >= 0"):
        Leak(-1)
