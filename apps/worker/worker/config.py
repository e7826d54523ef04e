"""Settings from the environment (12-factor).

Postgres: DATABASE_HOST (127.0.0.1), DATABASE_PORT (5432), DATABASE_USER and DATABASE_NAME (postgres).
The database password comes from the file DATABASE_PASSWORD_FILE names (a mounted Secret: the
value never sits in the environment), or from DATABASE_PASSWORD where no file is given.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional


@dataclass(frozen=True)
class Config:
    redis_url: str = "redis://127.0.0.1:6379/0"
    queue: str = "leanstack:jobs"
    done_key: str = "leanstack:done"
    # BRPOP timeout: also bounds how long a SIGTERM waits for the loop to notice.
    poll_timeout_s: int = 1
    heartbeat_file: str = "/tmp/worker.heartbeat"
    # Health fails when the heartbeat is older than this.
    heartbeat_max_age_s: float = 30.0
    database_host: str = "127.0.0.1"
    database_port: int = 5432
    database_user: str = "postgres"
    database_name: str = "postgres"
    database_password: Optional[str] = field(default=None, repr=False)
    # Test-only (worker.leak): 0 leaks nothing.
    test_leak_mib_per_s: float = 0.0

    @classmethod
    def from_env(cls) -> "Config":
        env = os.environ
        return cls(
            redis_url=env.get("REDIS_URL", cls.redis_url),
            queue=env.get("QUEUE_NAME", cls.queue),
            done_key=env.get("DONE_KEY", cls.done_key),
            poll_timeout_s=int(env.get("POLL_TIMEOUT", cls.poll_timeout_s)),
            heartbeat_file=env.get("HEARTBEAT_FILE", cls.heartbeat_file),
            heartbeat_max_age_s=float(env.get("HEARTBEAT_MAX_AGE", cls.heartbeat_max_age_s)),
            database_host=env.get("DATABASE_HOST", cls.database_host),
            database_port=int(env.get("DATABASE_PORT", cls.database_port)),
            database_user=env.get("DATABASE_USER", cls.database_user),
            database_name=env.get("DATABASE_NAME", cls.database_name),
            database_password=database_password(env),
            test_leak_mib_per_s=float(env.get("WORKER_TEST_LEAK_MIB_PER_S", cls.test_leak_mib_per_s)),
        )


def database_password(env: Mapping[str, str]) -> Optional[str]:
    """The password in DATABASE_PASSWORD_FILE, else DATABASE_PASSWORD, else None."""
    path = env.get("DATABASE_PASSWORD_FILE")
    if path:
        return Path(path).read_text(encoding="utf-8").rstrip("\n")
    return env.get("DATABASE_PASSWORD")
