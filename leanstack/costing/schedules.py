"""What scheduled work is billed for: its pod, for as long as its runs take in a month.

A CronJob costs (runs per month) x (expected seconds per run) of its pod. Runs per month is an
assumption, stated here once: the runs per day the expression fires (minutes x hours), times the
days of an average 30-day month it fires on, i.e. the days of the common year 2025 it fires on
x 30 / 365. So @hourly runs 720 times, "0 3 * * *" 30, "0 3 * * 1" (52 Mondays) 4.27 and
"0 0 1 * *" 0.99 times a month. The run length comes from the CronJob's
`leanstack.dev/expected-run-seconds` annotation (the schedule's expected_run_seconds), 300 s when
absent. A migration Job runs once per new image; how often that is is unknown, so it is not priced.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any, Mapping

from leanstack.config.cron import CronError, parse_cron
from leanstack.kube import labels
from leanstack.kube.manifest import dig

REFERENCE_YEAR = 2025
DAYS_PER_MONTH = 30
DEFAULT_RUN_SECONDS = 300
SECONDS_PER_HOUR = 3600


def runs_per_month(expression: str) -> Decimal:
    cron = parse_cron(expression)
    start = datetime.date(REFERENCE_YEAR, 1, 1)
    days = [start + datetime.timedelta(days=offset) for offset in range(365)]
    # isoweekday: Monday 1 .. Sunday 7; cron: Sunday 0
    firing = sum(1 for day in days if cron.fires_on(day.day, day.month, day.isoweekday() % 7))
    return Decimal(len(cron.minutes) * len(cron.hours) * firing * DAYS_PER_MONTH) / Decimal(365)


def run_seconds(manifest: Mapping[str, Any]) -> int:
    text = dig(manifest, "metadata", "annotations", labels.EXPECTED_RUN_SECONDS)
    try:
        return int(text) if text is not None else DEFAULT_RUN_SECONDS
    except (TypeError, ValueError):
        return DEFAULT_RUN_SECONDS


def monthly_hours(manifest: Mapping[str, Any]) -> tuple[Decimal, Decimal, int]:
    """(pod hours per month, runs per month, seconds per run) of a CronJob; an unreadable schedule
    (a manifest leanstack did not write) bills nothing rather than a guess."""
    try:
        runs = runs_per_month(str(dig(manifest, "spec", "schedule") or ""))
    except CronError:
        runs = Decimal(0)
    seconds = run_seconds(manifest)
    return runs * seconds / SECONDS_PER_HOUR, runs, seconds
