"""Exec probes that start in milliseconds: the standard library only, no Django, no Celery.

  python -m shop.probe web               gunicorn answers /health on 127.0.0.1:8000 (the image's HEALTHCHECK)
  python -m shop.probe broker            the broker (CELERY_BROKER_URL, redis) answers PING
  python -m shop.probe worker            the worker's loop touched HEARTBEAT within STALE_SECONDS
  python -m shop.probe worker-ready      ... and it consumes (READY) and the broker answers
  python -m shop.probe beat              beat's schedule file exists (it writes it on start)

`celery -A shop status` / `inspect ping` import Django and Celery first: several seconds under a
500m (beat: 100m) CPU limit, past the 5 s probe timeout (measured in docs/images.md).
"""

from __future__ import annotations

import os
import socket
import sys
import time
from urllib.parse import urlsplit
from urllib.request import urlopen

HEARTBEAT = "/tmp/celery-worker-heartbeat"
READY = "/tmp/celery-worker-ready"
STALE_SECONDS = 60
BEAT_SCHEDULE = "/tmp/celerybeat-schedule"


def broker_answers(url: str, timeout: float = 2.0) -> bool:
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port or 6379), timeout=timeout) as sock:
        sock.sendall(b"PING\r\n")
        return sock.recv(64).startswith(b"+PONG")


def fresh(path: str, seconds: float) -> bool:
    try:
        return time.time() - os.stat(path).st_mtime < seconds
    except FileNotFoundError:
        return False


def beat_started(schedule: str) -> bool:
    # shelve picks a dbm module; dbm.dumb adds .dat/.dir to the name.
    return any(os.path.exists(schedule + suffix) for suffix in ("", ".db", ".dat"))


def check(kind: str) -> bool:
    broker = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
    if kind == "web":
        with urlopen("http://127.0.0.1:8000/health", timeout=2) as response:
            return response.status == 200
    if kind == "broker":
        return broker_answers(broker)
    if kind == "worker":
        return fresh(HEARTBEAT, STALE_SECONDS)
    if kind == "worker-ready":
        return fresh(HEARTBEAT, STALE_SECONDS) and os.path.exists(READY) and broker_answers(broker)
    if kind == "beat":
        return beat_started(BEAT_SCHEDULE)
    raise SystemExit(f"shop.probe: unknown check {kind!r}; choose web, broker, worker, worker-ready or beat")


if __name__ == "__main__":
    try:
        ok = check(sys.argv[1] if len(sys.argv) > 1 else "")
    except OSError as error:
        print(f"shop.probe: {error}", file=sys.stderr)
        ok = False
    sys.exit(0 if ok else 1)
