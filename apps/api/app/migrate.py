"""`python -m app.migrate`: create the orders table if it is missing (idempotent: the migration Job
may run again for the same image), waiting up to $MIGRATE_WAIT seconds (120) for Postgres to accept
connections, since the Job can start before the database is ready. Exit 0 when the table exists."""

from __future__ import annotations

import os
import sys
import time

import psycopg

from .db import SCHEMA, connect, database_password


def main() -> int:
    deadline = time.monotonic() + float(os.environ.get("MIGRATE_WAIT", "120"))
    password = database_password()
    waiting = False
    while True:
        try:
            with connect(password) as conn:
                conn.execute(SCHEMA)
            print("migrate: table orders is in place", file=sys.stderr)
            return 0
        except psycopg.OperationalError as exc:
            reason = " ".join(str(exc).split())  # libpq's message spans lines
            if time.monotonic() > deadline:
                print(f"migrate: cannot reach postgres: {reason}", file=sys.stderr)
                return 1
            if not waiting:  # the Job's log says what it waits for
                print(f"migrate: waiting for postgres: {reason}", file=sys.stderr)
                waiting = True
            time.sleep(2)


if __name__ == "__main__":
    sys.exit(main())
