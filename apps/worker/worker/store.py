"""Where an order's job ends: a row of the api's orders table in Postgres (app.migrate creates it)."""

from __future__ import annotations

from decimal import Decimal
from typing import Optional

import psycopg

from .config import Config

# A job delivered twice (requeued after a lost connection) writes its row once.
INSERT = "INSERT INTO orders (id, item, quantity, total) VALUES (%s, %s, %s, %s) ON CONFLICT (id) DO NOTHING"


class Store:
    """One connection, opened on first use and again after it broke."""

    def __init__(self, cfg: Config):
        self.cfg = cfg
        self.conn: Optional[psycopg.Connection] = None

    def save_order(self, order_id: str, item: str, quantity: int, total: Decimal) -> None:
        if self.conn is None or self.conn.closed:
            cfg = self.cfg
            self.conn = psycopg.connect(host=cfg.database_host, port=cfg.database_port, user=cfg.database_user,
                                        dbname=cfg.database_name, password=cfg.database_password,
                                        connect_timeout=3, autocommit=True)
        try:
            self.conn.execute(INSERT, (order_id, item, quantity, total))
        except psycopg.OperationalError:
            self.conn.close()
            raise
