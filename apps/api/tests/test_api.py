"""Run with: pip install -r requirements.txt httpx pytest && pytest apps/api/tests

Against a real Postgres and Redis on 127.0.0.1 (apps/conftest.py); the worker runs as its own process.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app import main
from app.db import database_password

WORKER = Path(__file__).resolve().parents[2] / "worker"


@pytest.fixture
def client(monkeypatch, postgres_env, redis_url):
    for key, value in postgres_env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(main, "queue", main.redis_client(redis_url))
    with TestClient(main.app) as test_client:
        yield test_client


def test_endpoints(client):
    r = client.get("/health")
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    r = client.get("/ready")
    assert r.status_code == 200 and r.json()["status"] == "ready"
    assert r.json()["postgres"] is True and r.json()["redis"] is True
    r = client.get("/api/items")
    assert r.status_code == 200 and r.json()["count"] == 3
    assert client.get("/docs").status_code == 404


def test_an_order_goes_through_redis_and_the_worker_into_postgres_and_reads_back(client, postgres_env, redis_url, tmp_path):
    placed = client.post("/api/orders", json={"item": "beta", "quantity": 4})
    assert placed.status_code == 202 and placed.json()["status"] == "queued"
    order_id = placed.json()["id"]
    job = json.loads(main.queue.lindex(main.QUEUE, 0))
    assert job == {"id": order_id, "op": "order", "args": ["beta", 4, 2.25]}  # the worker's queue format
    assert client.get(f"/api/orders/{order_id}").status_code == 404  # not processed yet
    env = {**os.environ, **postgres_env, "REDIS_URL": redis_url, "HEARTBEAT_FILE": str(tmp_path / "hb")}
    worker = subprocess.Popen([sys.executable, "-m", "worker"], cwd=WORKER, env=env)
    try:
        deadline = time.monotonic() + 20
        while (r := client.get(f"/api/orders/{order_id}")).status_code == 404 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        worker.terminate()
        assert worker.wait(timeout=10) == 0
    assert r.status_code == 200, r.text
    assert {k: v for k, v in r.json().items() if k != "created_at"} == {"id": order_id, "item": "beta", "quantity": 4,
                                                                         "total": "9.00"}


@pytest.mark.parametrize("body", [{"item": "delta", "quantity": 1}, {"item": "alpha", "quantity": 0}, {"item": "alpha"}])
def test_a_bad_order_is_refused_and_queues_nothing(client, body):
    r = client.post("/api/orders", json=body)
    assert r.status_code == 422
    assert main.queue.llen(main.QUEUE) == 0


def test_without_redis_or_postgres_the_api_is_not_ready_and_an_order_is_refused(client, monkeypatch):
    monkeypatch.setattr(main, "queue", main.redis_client("redis://127.0.0.1:1/0"))
    r = client.get("/ready")
    assert r.status_code == 503 and r.json() == {"status": "unavailable", "postgres": True, "redis": False}
    assert client.post("/api/orders", json={"item": "alpha", "quantity": 1}).status_code == 503
    monkeypatch.setenv("DATABASE_PORT", "1")
    assert client.get("/ready").json()["postgres"] is False
    assert client.get("/api/orders/x").status_code == 503


def test_the_migration_can_run_again(postgres_env, run_migration):
    assert "table orders is in place" in run_migration(postgres_env).stderr


def test_a_migration_that_cannot_reach_postgres_fails_in_one_line(postgres_env):
    env = {**os.environ, **postgres_env, "DATABASE_PORT": "1", "MIGRATE_WAIT": "0"}
    result = subprocess.run([sys.executable, "-m", "app.migrate"], cwd=Path(main.__file__).parents[1], env=env,
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith("migrate: cannot reach postgres: connection failed:") and "port 1 failed" in line


def test_the_database_password_comes_from_its_file_and_falls_back_to_the_env(tmp_path, monkeypatch):
    secret = tmp_path / "DATABASE_PASSWORD"
    secret.write_text("from-file\n")
    monkeypatch.delenv("DATABASE_PASSWORD_FILE", raising=False)
    monkeypatch.setenv("DATABASE_PASSWORD", "from-env")
    assert database_password() == "from-env"
    monkeypatch.setenv("DATABASE_PASSWORD_FILE", str(secret))
    assert database_password() == "from-file"
    monkeypatch.delenv("DATABASE_PASSWORD_FILE")
    monkeypatch.delenv("DATABASE_PASSWORD")
    assert database_password() is None
