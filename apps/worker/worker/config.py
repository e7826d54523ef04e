"""Settings from the environment (12-factor)."""

from __future__ import annotations

import os
from dataclasses import dataclass


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
        )
