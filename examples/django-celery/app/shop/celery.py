"""The Celery app, configured from Django's settings (CELERY_* names).

The worker proves its event loop turns by touching HEARTBEAT from the loop's own timer, and marks
READY once it consumes: the exec probes (shop.probe) read those files instead of importing Django and
Celery, which takes longer than a probe's timeout under the pod's CPU limit.
"""

from __future__ import annotations

import os
from pathlib import Path

from celery import Celery, bootsteps
from celery.signals import worker_ready, worker_shutdown

from shop.probe import HEARTBEAT, READY

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")

app = Celery("shop")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


class Heartbeat(bootsteps.StartStopStep):
    """Touches HEARTBEAT every few seconds from the consumer's timer: stale when the loop hangs."""

    requires = {"celery.worker.components:Timer"}

    def start(self, worker):
        Path(HEARTBEAT).touch()
        self.entry = worker.timer.call_repeatedly(5.0, Path(HEARTBEAT).touch)

    def stop(self, worker):
        self.entry.cancel()


app.steps["worker"].add(Heartbeat)


@worker_ready.connect
def mark_ready(**_):
    Path(READY).touch()


@worker_shutdown.connect
def unmark_ready(**_):
    Path(READY).unlink(missing_ok=True)
