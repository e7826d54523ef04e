"""A service's run-to-completion work: the migration Job each new image runs before the rollout,
and a CronJob per schedule.

The Job's pod is the service's own (render.pod) with the migration's command and size, so it has the
same hardening, env, files and network policy; it does not carry the serving pods' name label, so
no Service, PDB or HPA counts it.

How `up` treats it (pulumi-kubernetes 4.x, provider/pkg/await/job.go and provider/pkg/provider/diff.go):
- the provider awaits a Job until its Complete condition, fails at once on a Failed condition
  (backoffLimit or activeDeadlineSeconds exceeded) and otherwise after `pulumi.com/timeoutSeconds`
  (default 10 minutes); the error names the Job and its pods' failures, and every resource that
  depends on the Job (the service's workload) is left as it was;
- a change to `.spec.template` replaces a Job, deleting first when the name stays the same, so no
  replaceOnChanges/deleteBeforeReplace option is needed; a new image gets a new name anyway
  (kube.names.migration_job), which creates the new Job and deletes the old one after it;
- `pulumi.com/replaceUnready` makes the next `up` replace (re-run) a Job the last one left failed.
A CronJob is not awaited beyond its creation; its runs are the cluster's business.
"""

from __future__ import annotations

from typing import Any, Optional

from leanstack.kube import labels, names
from leanstack.render.objects import ServiceContext
from leanstack.render.pod import pod_spec

# The Job's own deadline fails it first, with its reason; the provider gives up a minute later.
AWAIT_MARGIN_SECONDS = 60
# A finished Job (and its pod's logs) stays a day, then the cluster deletes it. A `pulumi refresh`
# after that forgets it and the next `up` runs the migration again, so migrations must be idempotent
# (Django's, Alembic's and Flyway's are).
FINISHED_TTL_SECONDS = 86400


def migration_job(context: ServiceContext, image: Any, name: Any) -> Optional[dict]:
    """The migration Job of `image` named `name` (kube.names.migration_job of the image); None without one."""
    migrate = context.spec.migrate
    if migrate is None:
        return None
    manifest = context.header("Job", name)
    manifest["metadata"]["annotations"] = {
        labels.AWAIT_TIMEOUT: str(migrate.timeout_seconds + AWAIT_MARGIN_SECONDS),
        labels.REPLACE_UNREADY: "true",
    }
    return {
        **manifest,
        "spec": {
            "backoffLimit": migrate.backoff_limit,
            "activeDeadlineSeconds": migrate.timeout_seconds,
            "ttlSecondsAfterFinished": FINISHED_TTL_SECONDS,
            "template": {"metadata": {"labels": context.task_labels("migration")}, "spec": pod_spec(context, image, migrate)},
        },
    }


def cron_jobs(context: ServiceContext, image: Any) -> dict[str, dict]:
    """The CronJob of each of the service's schedules, by schedule name. Finished Jobs are cleaned
    up by the history limits (a TTL would delete the history they keep)."""
    found = {}
    for schedule in context.spec.schedules:
        name = schedule.name
        manifest = context.header("CronJob", names.cron_job(context.name, name))
        # What a run is expected to take: the cost estimate prices runs per month x this (costing.schedules).
        manifest["metadata"]["annotations"] = {labels.EXPECTED_RUN_SECONDS: str(schedule.expected_run_seconds)}
        pod_labels = context.task_labels("schedule")
        found[name] = {
            **manifest,
            "spec": {
                "schedule": schedule.schedule,
                "concurrencyPolicy": schedule.concurrency_policy,
                "startingDeadlineSeconds": schedule.starting_deadline_seconds,
                "successfulJobsHistoryLimit": schedule.successful_jobs_history_limit,
                "failedJobsHistoryLimit": schedule.failed_jobs_history_limit,
                "jobTemplate": {
                    "metadata": {"labels": pod_labels},
                    "spec": {
                        "backoffLimit": schedule.backoff_limit,
                        "activeDeadlineSeconds": schedule.active_deadline_seconds,
                        "template": {"metadata": {"labels": pod_labels}, "spec": pod_spec(context, image, schedule)},
                    },
                },
            },
        }
    return found
