"""`python -m worker.health [--max-age SECONDS]`: exit 0 if the worker's heartbeat is fresh, else 1.

Readiness uses the default age ($HEARTBEAT_MAX_AGE, 30 s); liveness passes a longer one, so a
worker cut off from Redis stops being ready long before it is restarted.

Exec probe for Kubernetes / Docker HEALTHCHECK; needs no curl, no network, no Redis
client: the worker loop touches $HEARTBEAT_FILE after every successful Redis call.
"""

from __future__ import annotations

import argparse
import os
import sys
import time


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m worker.health")
    parser.add_argument("--max-age", type=float, default=float(os.environ.get("HEARTBEAT_MAX_AGE", "30")),
                        help="oldest acceptable heartbeat, seconds")
    max_age = parser.parse_args(argv).max_age
    path = os.environ.get("HEARTBEAT_FILE", "/tmp/worker.heartbeat")
    try:
        with open(path) as f:
            age = time.time() - float(f.read().strip() or 0)
    except (OSError, ValueError) as exc:
        print(f"unhealthy: no heartbeat at {path}: {exc}", file=sys.stderr)
        return 1
    if age > max_age:
        print(f"unhealthy: heartbeat {age:.1f}s old (max {max_age:.0f}s)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
