"""Cron expressions as Kubernetes CronJobs read them: five fields or a macro, checked up front.

`minute hour day-of-month month day-of-week`, each `*`, a value, a range `a-b`, a step `*/n` or
`a-b/n`, or a comma list of those; months and weekdays also by name (jan, mon); 7 is Sunday too.
Macros: @yearly (@annually), @monthly, @weekly, @daily (@midnight), @hourly. As in cron, when both
day-of-month and day-of-week are restricted (neither starts with *), a day matches if either does.
"""

from __future__ import annotations

from dataclasses import dataclass

MACROS = {
    "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
}
FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day-of-month", 1, 31), ("month", 1, 12), ("day-of-week", 0, 7))
NAMES = {
    "month": {name: index + 1 for index, name in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split())},
    "day-of-week": {name: index for index, name in enumerate("sun mon tue wed thu fri sat".split())},
}
EXAMPLE = 'use five fields, minute hour day-of-month month day-of-week (e.g. "0 3 * * *"), or @daily, @hourly, ...'


class CronError(ValueError):
    pass


@dataclass(frozen=True)
class Cron:
    """The minutes, hours, days, months and weekdays (0 = Sunday) an expression fires on."""

    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    days_restricted: bool
    weekdays_restricted: bool

    def fires_on(self, day: int, month: int, weekday: int) -> bool:
        if month not in self.months:
            return False
        by_day, by_weekday = day in self.days, weekday in self.weekdays
        if self.days_restricted and self.weekdays_restricted:
            return by_day or by_weekday
        return by_day and by_weekday


def parse_cron(expression: str) -> Cron:
    text = " ".join(str(expression).split()).lower()
    fields = MACROS.get(text, text).split(" ")
    if len(fields) != 5:
        raise CronError(f"{expression!r} is not a cron schedule; {EXAMPLE}")
    values = [_field(part, *spec, expression) for part, spec in zip(fields, FIELDS)]
    weekdays = frozenset(day % 7 for day in values[4])
    # A field starting with * (*, */2) leaves the days to the other field, as robfig/cron (Kubernetes) reads it.
    return Cron(*values[:4], weekdays, not fields[2].startswith("*"), not fields[4].startswith("*"))


def _field(text: str, name: str, low: int, high: int, expression: str) -> frozenset[int]:
    found: set[int] = set()
    for item in text.split(","):
        span, _, step_text = item.partition("/")
        try:
            step = int(step_text) if step_text else 1
            if span == "*":
                start, stop = low, high
            else:
                first, _, last = span.partition("-")
                start = _value(first, name)
                stop = _value(last, name) if last else (high if step_text else start)
        except ValueError:
            raise CronError(f"{expression!r}: {name} {item!r} is not a value, range or step; {EXAMPLE}") from None
        if not (low <= start <= high and low <= stop <= high) or start > stop or step < 1:
            raise CronError(f"{expression!r}: {name} {item!r} is out of range {low}-{high}; {EXAMPLE}")
        found.update(range(start, stop + 1, step))
    return frozenset(found)


def _value(text: str, name: str) -> int:
    named = NAMES.get(name, {}).get(text)
    return named if named is not None else int(text)
