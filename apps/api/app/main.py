"""FastAPI sample service: takes orders, the worker prices and stores them.

GET  /health           liveness: 200 {"status": "ok"} while the process serves requests
GET  /ready            readiness: 200 once started and Postgres and Redis both answer, else 503
GET  /api/items        the catalogue, a small JSON list
POST /api/orders       {"item": "alpha", "quantity": 2}: queues a job for the worker, 202 {"id": ...}
GET  /api/orders/{id}  the order the worker wrote to Postgres; 404 until it has

A job is the worker's queue format (worker/__main__.py): {"id", "op": "order", "args": [item,
quantity, unit_price]}, LPUSHed to $QUEUE_NAME (leanstack:jobs) on $REDIS_URL. Postgres settings
and the password file: app.db.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from contextlib import asynccontextmanager

import psycopg
import redis
from fastapi import FastAPI, HTTPException, Response
from pydantic import BaseModel, Field
from redis.backoff import NoBackoff
from redis.retry import Retry

from . import __version__
from .db import connect, database_password

ITEMS = [
    {"id": 1, "name": "alpha", "price": 1.5},
    {"id": 2, "name": "beta", "price": 2.25},
    {"id": 3, "name": "gamma", "price": 3.0},
]
PRICES = {item["name"]: item["price"] for item in ITEMS}
QUEUE = os.environ.get("QUEUE_NAME", "leanstack:jobs")

_state = {"ready": False, "started": time.monotonic(), "password": None}


def redis_client(url: str) -> redis.Redis:
    # Short timeouts and one try (not redis-py's three with backoff): the readiness probe gives up after 1 s.
    return redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5, retry=Retry(NoBackoff(), 0))


queue = redis_client(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))


@asynccontextmanager
async def lifespan(_: FastAPI):
    # Read once at startup: a named file that is missing fails the start, not a later request.
    _state["password"] = database_password()
    _state["ready"] = True
    try:
        yield
    finally:
        # Stop taking new traffic first: readiness goes 503 during shutdown.
        _state["ready"] = False


app = FastAPI(
    title="leanstack-api",
    version=__version__,
    lifespan=lifespan,
    # No interactive docs in production images unless asked for.
    docs_url="/docs" if os.environ.get("API_DOCS") == "1" else None,
    redoc_url=None,
    openapi_url="/openapi.json" if os.environ.get("API_DOCS") == "1" else None,
)


class Order(BaseModel):
    item: str = Field(description="A catalogue item's name (GET /api/items).")
    quantity: int = Field(ge=1, le=1000)


def _reaches_postgres() -> bool:
    try:
        with connect(_state["password"]) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.Error:
        return False


def _reaches_redis() -> bool:
    try:
        return bool(queue.ping())
    except redis.RedisError:
        return False


@app.get("/health")
def health() -> dict:
    return {"status": "ok"}


@app.get("/ready")
def ready(response: Response) -> dict:
    if not _state["ready"]:
        response.status_code = 503
        return {"status": "starting"}
    backends = {"postgres": _reaches_postgres(), "redis": _reaches_redis()}
    if not all(backends.values()):
        response.status_code = 503
        return {"status": "unavailable", **backends}
    return {"status": "ready", "uptime_s": round(time.monotonic() - _state["started"], 3), **backends}


@app.get("/api/items")
def items() -> dict:
    return {"items": ITEMS, "count": len(ITEMS), "version": __version__}


@app.post("/api/orders", status_code=202)
def place_order(order: Order) -> dict:
    if order.item not in PRICES:
        raise HTTPException(422, f"unknown item {order.item!r}; the catalogue has {', '.join(PRICES)}")
    order_id = uuid.uuid4().hex
    job = {"id": order_id, "op": "order", "args": [order.item, order.quantity, PRICES[order.item]]}
    try:
        queue.lpush(QUEUE, json.dumps(job))
    except redis.RedisError as exc:
        raise HTTPException(503, f"cannot queue the order: {exc}") from None
    return {"id": order_id, "status": "queued"}


@app.get("/api/orders/{order_id}")
def get_order(order_id: str) -> dict:
    try:
        with connect(_state["password"]) as conn:
            row = conn.execute("SELECT id, item, quantity, total, created_at FROM orders WHERE id = %s",
                               (order_id,)).fetchone()
    except psycopg.Error as exc:
        raise HTTPException(503, "cannot read the order: " + " ".join(str(exc).split())) from None
    if row is None:
        raise HTTPException(404, f"order {order_id} not found (not placed, or not processed yet)")
    return {"id": row[0], "item": row[1], "quantity": row[2], "total": str(row[3]), "created_at": row[4].isoformat()}
