"""FastAPI sample service.

GET /health     liveness: 200 {"status": "ok"} while the process serves requests
GET /ready      readiness: 200 once startup finished, 503 while starting/stopping

The database password comes from the file DATABASE_PASSWORD_FILE names (a mounted Secret: the
value never sits in the environment), or from DATABASE_PASSWORD where no file is given.
GET /api/items  a small JSON list
"""

from __future__ import annotations

import os
import time
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Optional

from fastapi import FastAPI, Response

from . import __version__

ITEMS = [
    {"id": 1, "name": "alpha", "price": 1.5},
    {"id": 2, "name": "beta", "price": 2.25},
    {"id": 3, "name": "gamma", "price": 3.0},
]

_state = {"ready": False, "started": time.monotonic(), "database": False}


def database_password() -> Optional[str]:
    """The password in DATABASE_PASSWORD_FILE, else DATABASE_PASSWORD, else None."""
    path = os.environ.get("DATABASE_PASSWORD_FILE")
    if path:
        return Path(path).read_text(encoding="utf-8").rstrip("\n")
    return os.environ.get("DATABASE_PASSWORD")


@asynccontextmanager
async def lifespan(_: FastAPI):
    # Read once at startup: a named file that is missing fails the start, not a later request.
    _state["database"] = database_password() is not None
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
    return {"status": "ready", "uptime_s": round(time.monotonic() - _state["started"], 3),
            "database_configured": _state["database"]}


@app.get("/api/items")
def items() -> dict:
    return {"items": ITEMS, "count": len(ITEMS), "version": __version__}
