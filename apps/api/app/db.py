"""Postgres for the api and its migration (psycopg 3), configured from the environment:

DATABASE_HOST (127.0.0.1), DATABASE_PORT (5432), DATABASE_USER and DATABASE_NAME (postgres). The
password comes from the file DATABASE_PASSWORD_FILE names (a mounted Secret: the value never sits in
the environment), or from DATABASE_PASSWORD where no file is given.

The orders table is the api's (app.migrate creates it); the worker writes its rows.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import psycopg

SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (
    id text PRIMARY KEY,
    item text NOT NULL,
    quantity integer NOT NULL CHECK (quantity > 0),
    total numeric(12, 2) NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
)"""


def database_password() -> Optional[str]:
    """The password in DATABASE_PASSWORD_FILE, else DATABASE_PASSWORD, else None."""
    path = os.environ.get("DATABASE_PASSWORD_FILE")
    if path:
        return Path(path).read_text(encoding="utf-8").rstrip("\n")
    return os.environ.get("DATABASE_PASSWORD")


def connect(password: Optional[str], timeout_s: int = 2) -> psycopg.Connection:
    """A new autocommit connection (libpq's shortest connect timeout is 2 s)."""
    env = os.environ
    return psycopg.connect(host=env.get("DATABASE_HOST", "127.0.0.1"), port=int(env.get("DATABASE_PORT", "5432")),
                           user=env.get("DATABASE_USER", "postgres"), dbname=env.get("DATABASE_NAME", "postgres"),
                           password=password, connect_timeout=timeout_s, autocommit=True)
