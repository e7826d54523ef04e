"""Scheduled work's monthly runs and hours (costing.schedules): the stated assumption, by hand."""

from decimal import Decimal

import pytest

from leanstack.costing.schedules import monthly_hours, runs_per_month


@pytest.mark.parametrize("expression, runs", [
    ("@hourly", Decimal(720)),
    ("*/15 * * * *", Decimal(4 * 24 * 30)),
    ("0 3 * * *", Decimal(30)),
    ("0 9-17 * * mon-fri", Decimal(9 * 261 * 30) / 365),  # 261 weekdays in 2025
    ("0 3 * * 1", Decimal(52 * 30) / 365),
    ("0 0 1 * *", Decimal(12 * 30) / 365),
    ("0 0 1,15 * 0", Decimal((24 + 52 - 2) * 30) / 365),  # 1st/15th or a Sunday; 2 of the 24 are Sundays
    ("0 0 */2 * *", Decimal(186 * 30) / 365),  # odd days of each month: 16 x 7 + 15 x 4 + 14
])
def test_runs_per_month_are_the_days_of_2025_it_fires_on_scaled_to_30(expression, runs):
    assert runs_per_month(expression) == runs


def test_monthly_hours_are_runs_times_the_expected_run_length():
    cronjob = {"metadata": {"annotations": {"leanstack.dev/expected-run-seconds": "90"}}, "spec": {"schedule": "*/15 * * * *"}}
    assert monthly_hours(cronjob) == (Decimal(2880 * 90) / 3600, Decimal(2880), 90)
    assert monthly_hours({"spec": {"schedule": "0 3 * * *"}}) == (Decimal(30 * 300) / 3600, Decimal(30), 300)
    assert monthly_hours({"spec": {"schedule": "every day"}})[0] == 0
