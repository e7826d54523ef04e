"""The django-celery example (examples/django-celery: a real Django + Celery shop on the floor base)
deployed by the real engine to the local cluster's real node, in its own namespace: the migrate Job
completes, web, worker, beat, postgres and redis are Ready, an order goes web -> redis -> worker ->
postgres -> web through the real pods, beat's periodic task is seen in the database, and a run of
the clearsessions CronJob completes.

Web and worker run one replica each here (no HPA): the shared node has two cores.
"""

from __future__ import annotations

import shutil

import pytest

from leanstack.kube import labels
from tests.e2e.conftest import make_project
from tests.e2e.live import unique_namespace, wait_for
from tests.e2e.node import NODE_NAME, http, point_at_real_node, port_forward

pytestmark = pytest.mark.e2e

STACK = "django-celery"
TICK_SECONDS = 5


def small_and_on_the_real_node(cluster, namespace: str):
    def edit(config: dict) -> None:
        point_at_real_node(config, cluster, namespace, await_timeout=300)
        for name in ("web", "worker"):
            service = config["services"][name]
            service.pop("autoscaling")
            service["replicas"] = 1
        config["services"]["beat"]["env"]["SHOP_TICK_SECONDS"] = str(TICK_SECONDS)
    return edit


@pytest.fixture(scope="module")
def shop(tmp_path_factory, cluster):
    project = make_project(tmp_path_factory.mktemp("django"))
    shutil.copy2(project.directory / "examples" / STACK / f"Pulumi.{STACK}.yaml", project.directory)
    namespace = unique_namespace("node-django")
    project.edit_config(STACK, small_and_on_the_real_node(cluster, namespace))
    try:
        project.up(STACK)
        yield namespace
    finally:
        project.stack(STACK).destroy()


def test_the_migration_completed_and_every_service_is_ready_on_the_real_node(shop, cluster):
    pods = cluster.get("pods", namespace=shop)
    migrations = [pod for pod in pods if pod["metadata"]["labels"].get("job-name", "").startswith("web-migrate")]
    assert [pod["status"]["phase"] for pod in migrations] == ["Succeeded"]
    running = {pod["metadata"]["labels"][labels.SERVICE]: pod for pod in pods
               if pod["status"].get("phase") == "Running" and labels.SERVICE in pod["metadata"]["labels"]}
    assert set(running) == {"web", "worker", "beat", "postgres", "redis"}
    for service, pod in running.items():
        assert pod["spec"]["nodeName"] == NODE_NAME, service
        assert all(s["ready"] for s in pod["status"]["containerStatuses"]), (service, pod["status"])
    # collectstatic ran in web's init container before gunicorn started.
    (init,) = running["web"]["status"]["initContainerStatuses"]
    assert init["state"]["terminated"]["exitCode"] == 0


def test_an_order_goes_from_web_through_redis_and_the_worker_to_postgres_and_back(shop, cluster):
    with port_forward(cluster, shop, "web", 8000) as base:
        status, placed = http(f"{base}/orders", {"item": "coffee", "quantity": 3})
        assert (status, placed["status"]) == (202, "pending")
        order = wait_for(lambda: (lambda s, b: b if s == 200 and b["status"] == "priced" else None)(
            *http(f"{base}/orders/{placed['id']}")), 60, "the worker to price the order")
        assert (order["item"], order["quantity"], order["total_cents"]) == ("coffee", 3, 3 * 899)
        assert order["worker"].startswith("celery@worker-")  # the worker pod's Celery node
        assert http(f"{base}/orders", {"item": "caviar", "quantity": 1})[0] == 400


def test_beats_periodic_task_reaches_the_database(shop, cluster):
    with port_forward(cluster, shop, "web", 8000) as base:
        first = wait_for(lambda: (lambda s, b: b["count"] if s == 200 and b["count"] else None)(*http(f"{base}/ticks")),
                         60, "a first tick")
        wait_for(lambda: http(f"{base}/ticks")[1].get("count", 0) > first, 6 * TICK_SECONDS, "the next tick")


def test_the_clearsessions_schedule_runs_to_completion_against_the_database(shop, cluster):
    """A run of the nightly CronJob, started now: Django's clearsessions reaches postgres (the
    schedule's pods pass web's network policy) and exits 0."""
    (cron,) = cluster.get("cronjobs", namespace=shop)
    name = cron["metadata"]["name"]
    cluster.kubectl("-n", shop, "create", "job", f"{name}-now", f"--from=cronjob/{name}")
    wait_for(lambda: cluster.get("job", f"{name}-now", shop)["status"].get("succeeded"), 120, f"{name}-now to succeed")
