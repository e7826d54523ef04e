"""A bounded HTTP load generator for the local cluster's pods (tests/e2e/test_hpa.py).

Bounded twice, so it always stops by itself: at most `requests` requests and at most `duration`
seconds, whichever comes first. It aims only at a pod or Service address of this machine's cluster
(the pod and Service CIDRs of scripts/cluster-env.sh) and refuses anything else before sending a
byte. Standard library only: the tests run it with this machine's python3 inside a pod's network
namespace (`ip netns exec`), so the requests leave from that pod, as a caller's would.

    python3 -m tools.loadgen http://10.96.12.34:8080/health --requests 20000 --duration 60 --concurrency 8
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Callable, Optional
from urllib.parse import urlsplit

# The local cluster's networks (scripts/cluster-env.sh); nothing else is a target.
CLUSTER_NETWORKS = tuple(ipaddress.ip_network(os.environ.get(name, default)) for name, default in
                         (("LEANSTACK_POD_CIDR", "10.244.0.0/24"), ("LEANSTACK_SERVICE_CIDR", "10.96.0.0/16")))
MAX_REQUESTS = 1_000_000
MAX_DURATION = 600.0
MAX_CONCURRENCY = 64


class LoadError(ValueError):
    """A target or bound the generator refuses; nothing was sent."""


def check_target(url: str, networks=CLUSTER_NETWORKS) -> str:
    """The URL if it is http:// to an IPv4 address inside `networks`; LoadError otherwise."""
    parts = urlsplit(url)
    allowed = ", ".join(map(str, networks))
    if parts.scheme != "http":
        raise LoadError(f"target {url!r}: only http:// is allowed")
    try:
        address = ipaddress.ip_address(parts.hostname or "")
    except ValueError:
        raise LoadError(f"target {url!r}: the host must be a pod or Service IP address of the local cluster "
                        f"({allowed}), not a name") from None
    if not any(address in network for network in networks):
        raise LoadError(f"target {url!r}: {address} is outside the local cluster's networks ({allowed})")
    return url


def check_bounds(requests: int, duration: float, concurrency: int) -> None:
    if not 1 <= requests <= MAX_REQUESTS:
        raise LoadError(f"requests {requests}: allowed 1..{MAX_REQUESTS}")
    if not 0 < duration <= MAX_DURATION:
        raise LoadError(f"duration {duration}: allowed more than 0 and at most {MAX_DURATION:.0f} s")
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        raise LoadError(f"concurrency {concurrency}: allowed 1..{MAX_CONCURRENCY}")


@dataclass
class Result:
    sent: int = 0
    ok: int = 0
    errors: dict = field(default_factory=dict)
    seconds: float = 0.0

    def as_dict(self) -> dict:
        rate = self.sent / self.seconds if self.seconds else 0.0
        return {"sent": self.sent, "ok": self.ok, "errors": self.errors, "seconds": round(self.seconds, 3),
                "per_second": round(rate, 1)}


def http_get(url: str, timeout: float) -> int:
    """The status of one GET (the body is read so the connection is done with)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def run(url: str, requests: int, duration: float, concurrency: int, *, timeout: float = 5.0,
        get: Optional[Callable[[str, float], int]] = None, clock: Callable[[], float] = time.monotonic,
        networks=CLUSTER_NETWORKS) -> Result:
    """Send GETs to `url` from `concurrency` threads until `requests` were sent or `duration` passed."""
    check_target(url, networks)
    get = get or http_get
    check_bounds(requests, duration, concurrency)
    result, lock = Result(), threading.Lock()
    start = clock()
    deadline = start + duration

    def worker() -> None:
        while True:
            with lock:
                if result.sent >= requests or clock() >= deadline:
                    return
                result.sent += 1
            try:
                status = get(url, min(timeout, max(deadline - clock(), 0.001)))
                outcome = "ok" if 200 <= status < 300 else f"http {status}"
            except OSError as error:
                outcome = type(error).__name__
            with lock:
                if outcome == "ok":
                    result.ok += 1
                else:
                    result.errors[outcome] = result.errors.get(outcome, 0) + 1

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.seconds = clock() - start
    return result


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m tools.loadgen", description=__doc__.split("\n\n")[0])
    parser.add_argument("url", help="http://<pod or Service IP>:<port>/<path> of the local cluster")
    parser.add_argument("--requests", type=int, required=True, help=f"at most this many requests (1..{MAX_REQUESTS})")
    parser.add_argument("--duration", type=float, required=True, help=f"at most this many seconds (..{MAX_DURATION:.0f})")
    parser.add_argument("--concurrency", type=int, default=4, help=f"parallel requests (1..{MAX_CONCURRENCY})")
    args = parser.parse_args(argv)
    try:
        result = run(args.url, args.requests, args.duration, args.concurrency)
    except LoadError as error:
        print(f"loadgen: {error}", file=sys.stderr)
        return 2
    print(json.dumps(result.as_dict()))
    return 0
