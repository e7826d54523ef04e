"""`python -m worker`: BRPOP jobs from $QUEUE_NAME on $REDIS_URL until SIGTERM/SIGINT.

A job is a JSON object, e.g. {"id": "1", "op": "sum", "args": [1, 2]}; its result is
LPUSHed (JSON) to $DONE_KEY. An order from the api, {"id", "op": "order", "args": [item,
quantity, unit_price]}, is also written to Postgres (worker.store); while Postgres is unreachable
the job goes back to the queue, so none is lost. Every loop turn that reached Redis touches the
heartbeat file, which `python -m worker.health` checks.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import time
from decimal import Decimal

import psycopg
import redis

from .config import Config
from .leak import Leak
from .store import Store

log = logging.getLogger("worker")


def handle(job: dict, store: Store) -> dict:
    op = job.get("op")
    args = job.get("args", [])
    if op == "order":
        item, quantity, unit_price = args
        total = (Decimal(str(unit_price)) * int(quantity)).quantize(Decimal("0.01"))
        store.save_order(str(job["id"]), str(item), int(quantity), total)
        result = {"total": str(total)}
    elif op == "sum":
        result = sum(args)
    elif op == "upper":
        result = str(args[0]).upper() if args else ""
    elif op == "sleep":
        time.sleep(min(float(args[0]) if args else 0.1, 5.0))
        result = "slept"
    else:
        raise ValueError(f"unknown op {op!r}")
    return {"id": job.get("id"), "ok": True, "result": result}


def beat(path: str) -> None:
    # Atomic replace: the health check never reads a half-written file.
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        f.write(f"{time.time():.3f}\n")
    os.replace(tmp, path)


class Worker:
    def __init__(self, cfg: Config, client: redis.Redis | None = None, store: Store | None = None):
        self.cfg = cfg
        self.store = store or Store(cfg)
        self.r = client or redis.Redis.from_url(
            cfg.redis_url, socket_connect_timeout=3, socket_timeout=cfg.poll_timeout_s + 5,
            health_check_interval=30,
        )
        self.stopping = False
        self.processed = 0
        self.leak = Leak(cfg.test_leak_mib_per_s) if cfg.test_leak_mib_per_s else None

    def stop(self, signum: int, _frame=None) -> None:
        log.info("signal %s: finishing current job, then exiting", signal.Signals(signum).name)
        self.stopping = True

    def run_once(self) -> bool:
        if self.leak:
            self.leak.grow()
        item = self.r.brpop([self.cfg.queue], timeout=self.cfg.poll_timeout_s)
        beat(self.cfg.heartbeat_file)
        if item is None:
            return False
        _, raw = item
        try:
            result = handle(json.loads(raw), self.store)
        except psycopg.OperationalError:
            self.r.rpush(self.cfg.queue, raw)  # back at the head: BRPOP takes it first when Postgres is back
            raise
        except Exception as exc:  # noqa: BLE001 - a bad job must not kill the worker
            result = {"ok": False, "error": str(exc), "raw": raw.decode(errors="replace")}
            log.warning("job failed: %s", exc)
        self.r.lpush(self.cfg.done_key, json.dumps(result))
        self.processed += 1
        return True

    @staticmethod
    def wait(backend: str, exc: Exception, backoff: float) -> float:
        """Sleep `backoff` seconds after `backend` failed; the next, longer backoff."""
        log.warning("%s unavailable (%s); retrying in %.1fs", backend, " ".join(str(exc).split()), backoff)
        time.sleep(backoff)
        return min(backoff * 2, 10.0)

    def run(self) -> int:
        backoff = 0.5
        connected = False
        log.info("consuming %s (heartbeat %s)", self.cfg.queue, self.cfg.heartbeat_file)
        while not self.stopping:
            try:
                if not connected:
                    # Healthy as soon as Redis answers, not after the first BRPOP timeout.
                    self.r.ping()
                    beat(self.cfg.heartbeat_file)
                    connected = True
                    log.info("connected to redis")
                self.run_once()
                backoff = 0.5
            except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
                # No heartbeat while Redis is unreachable: health turns red after max age. A connect
                # that times out (packets dropped until the pod's network policy is programmed, seen
                # on the real node) is as passing as a refused one.
                connected = False
                backoff = self.wait("redis", exc, backoff)
            except psycopg.OperationalError as exc:
                backoff = self.wait("postgres", exc, backoff)
        log.info("stopped after %d jobs", self.processed)
        try:
            os.unlink(self.cfg.heartbeat_file)
        except FileNotFoundError:
            pass
        return 0


def main() -> int:
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stdout,
    )
    w = Worker(Config.from_env())
    signal.signal(signal.SIGTERM, w.stop)
    signal.signal(signal.SIGINT, w.stop)
    return w.run()


if __name__ == "__main__":
    sys.exit(main())
