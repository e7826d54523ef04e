"""The django-celery shop's exec probes (examples/django-celery/app/shop/probe.py): standard library
only, so loaded from its file without Django or Celery; the broker check against a real Redis runs
on the real node (tests/e2e/test_django_example.py, every pod Ready)."""

from __future__ import annotations

import importlib.util
import os
import time

import pytest

from tests.unit.conftest import ROOT

spec = importlib.util.spec_from_file_location("shop_probe", ROOT / "examples/django-celery/app/shop/probe.py")
probe = importlib.util.module_from_spec(spec)
spec.loader.exec_module(probe)


def test_a_heartbeat_is_fresh_until_it_is_older_than_the_limit(tmp_path):
    beat = tmp_path / "heartbeat"
    assert not probe.fresh(str(beat), 60)
    beat.touch()
    assert probe.fresh(str(beat), 60)
    old = time.time() - 61
    os.utime(beat, (old, old))
    assert not probe.fresh(str(beat), 60)


@pytest.mark.parametrize("suffix", ["", ".db", ".dat"])
def test_beat_has_started_once_its_schedule_exists_under_any_dbm_name(tmp_path, suffix):
    schedule = tmp_path / "celerybeat-schedule"
    assert not probe.beat_started(str(schedule))
    (tmp_path / f"celerybeat-schedule{suffix}").touch()
    assert probe.beat_started(str(schedule))


def test_an_unknown_check_is_one_line_naming_the_choices():
    with pytest.raises(SystemExit) as failed:
        probe.check("nope")
    assert str(failed.value) == "shop.probe: unknown check 'nope'; choose web, broker, worker, worker-ready or beat"


def test_a_broker_that_does_not_listen_is_an_os_error():
    with pytest.raises(OSError):
        probe.broker_answers("redis://127.0.0.1:9/0", timeout=0.5)  # discard port: nothing listens
