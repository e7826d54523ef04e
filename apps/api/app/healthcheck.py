"""`python -m app.healthcheck [PATH]`: exit 0 if http://127.0.0.1:$PORT/PATH answers 200.

For Docker HEALTHCHECK / Kubernetes exec probes in images without curl.
"""

import os
import sys
import urllib.request


def main(argv: list[str]) -> int:
    path = argv[1] if len(argv) > 1 else "/health"
    url = f"http://127.0.0.1:{os.environ.get('PORT', '8080')}{path}"
    try:
        with urllib.request.urlopen(url, timeout=float(os.environ.get("HEALTH_TIMEOUT", "2"))) as r:
            return 0 if r.status == 200 else 1
    except Exception as exc:  # noqa: BLE001 - any failure means unhealthy
        print(f"unhealthy: {url}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
