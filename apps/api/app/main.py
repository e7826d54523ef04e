"""FastAPI sample service.

GET /health     liveness: 200 {"status": "ok"} while the process serves requests
GET /ready      readiness: 200 once startup finished, 503 while starting/stopping
GET /api/items  a small JSON list
"""

from __future__ import annotations

import os
import time
from contextlib import asynccontextmanager

from fastapi import FastAPI, Response

from . import __version__

ITEMS = [
    {"id": 1, "name": "alpha", "price": 1.5},
    {"id": 2, "name": "beta", "price": 2.25},
    {"id": 3, "name": "gamma", "price": 3.0},
]

_state = {"ready": False, "started": time.monotonic()}


@asynccontextmanager
async def lifespan(_: FastAPI):
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


@app.get("/health")
def health() -> dict:
    return {"status": "ok"}


@app.get("/ready")
def ready(response: Response) -> dict:
    if not _state["ready"]:
        response.status_code = 503
        return {"status": "starting"}
    return {"status": "ready", "uptime_s": round(time.monotonic() - _state["started"], 3)}


@app.get("/api/items")
def items() -> dict:
    return {"items": ITEMS, "count": len(ITEMS), "version": __version__}
