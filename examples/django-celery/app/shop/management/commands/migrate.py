"""Django's `migrate`, after waiting for the database to accept connections.

The migrate Job starts with each new image, possibly before postgres is Ready (a fresh stack creates
both at once); Django's own command fails at once, and the Job's retries back off for minutes.
"""

from __future__ import annotations

import os
import time

from django.core.management.commands.migrate import Command as Migrate
from django.db import connection
from django.db.utils import OperationalError


class Command(Migrate):
    def handle(self, *args, **options):
        deadline = time.monotonic() + float(os.environ.get("DATABASE_WAIT_SECONDS", "120"))
        while True:
            try:
                connection.ensure_connection()
                break
            except OperationalError as error:
                if time.monotonic() > deadline:
                    raise
                self.stderr.write(f"waiting for the database: {str(error).strip().splitlines()[0]}")
                time.sleep(2)
        return super().handle(*args, **options)
