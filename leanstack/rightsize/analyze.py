"""The entry point the CLI calls: Prometheus URL + a stack's services in, recommendations out."""

from __future__ import annotations

import re
import time
from datetime import datetime, timezone
from typing import Mapping, Optional

from leanstack.rightsize.metrics import PrometheusClient, check_coverage, fetch_usage
from leanstack.rightsize.model import CurrentSpec, Recommendation
from leanstack.rightsize.strategies import Policy, recommend

_DURATION = re.compile(r"^(\d+)([smhdw])$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> float:
    """Prometheus-style durations for --window and --step: "14d", "6h", "5m", "30s"."""
    match = _DURATION.match(text.strip())
    if not match or int(match[1]) == 0:
        raise ValueError(f"{text!r} is not a duration: use a whole number with s, m, h, d or w, e.g. 14d or 5m")
    return int(match[1]) * _SECONDS[match[2]]


def parse_instant(text: Optional[str], now: Optional[float] = None) -> float:
    """--until: the evaluation time as Unix seconds; RFC 3339 (2026-12-02T03:00:00Z) or Unix seconds,
    now when absent. An explicit time makes two runs over the same data read the same samples."""
    if text is None:
        return time.time() if now is None else now
    try:
        return float(text)
    except ValueError:
        pass
    try:
        instant = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r} is not a time: use RFC 3339 (e.g. 2026-12-02T03:00:00Z) or Unix seconds") from None
    if instant.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone: add Z or an offset such as +01:00")
    return instant.astimezone(timezone.utc).timestamp()


def analyze(
    prometheus_url: str,
    namespace: str,
    services: Mapping[str, CurrentSpec],
    window_seconds: float = 14 * 86400,
    strategy: str = "krr",
    step_seconds: float = 300.0,
    end: Optional[float] = None,
    policy: Policy = Policy(),
) -> list[Recommendation]:
    """One Recommendation per service, in the order given. Raises PrometheusError (one line) when
    Prometheus cannot be asked, no service has samples or the window is longer than the data; a
    service with no or too little data gets a Recommendation whose `recommended` is None and whose
    reasons say why."""
    client = PrometheusClient(prometheus_url)
    usage = fetch_usage(client, namespace, list(services), window_seconds, step_seconds, end=end)
    check_coverage(client, namespace, usage)
    return [recommend(usage[name], spec, strategy, policy) for name, spec in services.items()]
