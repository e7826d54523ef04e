"""What a service runs besides its one long-running container: a migration before each rollout,
work on a schedule, init containers and sidecars.

Each of them runs the service's image (or one it names) in the service's hardened pod, with its own
command and, where it needs a different size, its own resources.
"""

from __future__ import annotations

from typing import Annotated, Literal, Optional

from pydantic import AfterValidator, Field, model_validator

from leanstack.config.cron import CronError, parse_cron
from leanstack.config.fields import DnsLabel, ImageSpec, Resources, Strict

Command = list[Annotated[str, Field(min_length=1)]]


class Migration(Strict):
    """A Job run with every new image before the workload rolls (e.g. `manage.py migrate`); if it
    fails, `up` fails naming it and the running version stays."""

    command: Command = Field(min_length=1, description="What the Job runs, e.g. [python, manage.py, migrate].")
    args: Optional[list[str]] = Field(None, description="Its args.")
    timeout_seconds: int = Field(600, ge=30, le=86400, description="activeDeadlineSeconds: the Job fails after this long.")
    backoff_limit: int = Field(0, ge=0, le=10, description="Retries of a failed run; 0 so a half-applied migration is looked at, not re-run.")
    resources: Optional[Resources] = Field(None, description="The service's resources by default.")


def _cron(value: str) -> str:
    try:
        parse_cron(value)
    except CronError as error:
        raise ValueError(str(error)) from None
    return value


class Schedule(Strict):
    """A CronJob running the service's image with its own command, in the service's hardened pod."""

    schedule: Annotated[str, AfterValidator(_cron)] = Field(description="Cron schedule in UTC, e.g. \"0 3 * * *\" or @hourly.")
    command: Command = Field(min_length=1, description="What each run executes.")
    args: Optional[list[str]] = Field(None, description="Its args.")
    concurrency_policy: Literal["Forbid", "Replace"] = Field(
        "Forbid", description="A run still going when the next is due: Forbid skips the next, Replace stops the old "
                              "one (Allow is not offered: the quota could not bound overlapping runs).")
    successful_jobs_history_limit: int = Field(1, ge=0, le=10, description="Finished Jobs kept.")
    failed_jobs_history_limit: int = Field(3, ge=0, le=10, description="Failed Jobs kept (with their pods' logs).")
    starting_deadline_seconds: int = Field(300, ge=10, le=86400, description="A run that could not start this long after its time is skipped.")
    active_deadline_seconds: int = Field(3600, ge=10, le=604800, description="A run is stopped (failed) after this long.")
    backoff_limit: int = Field(0, ge=0, le=10, description="Retries of a failed run; the next scheduled run is the retry by default.")
    expected_run_seconds: int = Field(300, ge=1, le=604800, description="How long a run takes, for the cost estimate.")
    resources: Optional[Resources] = Field(None, description="The service's resources by default.")

    @model_validator(mode="after")
    def _expected_within_deadline(self) -> "Schedule":
        if self.expected_run_seconds > self.active_deadline_seconds:
            raise ValueError(f"expected_run_seconds {self.expected_run_seconds} is above active_deadline_seconds "
                             f"{self.active_deadline_seconds}, which stops every run before then")
        return self


class ExtraContainer(Strict):
    """An init container (runs to completion before the others start) or a sidecar (a native one:
    starts first and runs beside the main container), hardened like the main container and sized
    on its own. It sees only the pod's writable paths unless inherit_main gives it what the main
    container sees."""

    name: DnsLabel = Field(description="Container name, unique in the pod.")
    image: Optional[ImageSpec] = Field(None, description="ref or from; the service's own image by default.")
    command: Optional[Command] = Field(None, min_length=1, description="Its command; the image's entrypoint by default.")
    args: Optional[list[str]] = Field(None, description="Its args.")
    resources: Resources = Field(description="Its requests and limits (counted in the quota and the cost).")
    inherit_main: bool = Field(
        False, description="Also see what the main container sees: env, secret_env, config and secret files, storage, cache.")

    @model_validator(mode="after")
    def _no_build(self) -> "ExtraContainer":
        if self.image is not None and self.image.build is not None:
            raise ValueError("image.build is for services; build it as a service and use image.from, or a ref")
        return self
