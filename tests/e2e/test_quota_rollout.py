"""Shrinking never deadlocks on the quota (issue #20, point 4), on the real node: the dev stack's
worker is shrunk (a) after a rollout that failed (a 64-cpu pod left Pending) and (b) at 3 replicas,
where the old pods alone fill the lowered cap. Each time the caps that shrink are lowered only once
the workloads have rolled (leanstack.render.namespace.lowered_caps), so a plain `up` converges, no
pod is refused for quota, and the caps in force end as declared.
"""

from __future__ import annotations

import calendar
import json
import time
from decimal import Decimal

import pytest
from pulumi import automation as auto

from leanstack.kube.quantities import parse_quantity
from tests.e2e.conftest import make_project
from tests.e2e.live import Cluster, unique_namespace, wait_for
from tests.e2e.node import point_at_real_node
from tests.e2e.test_live_cluster import changes, declared, failed_creates, preview, quantities_equal, rolled_out

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def dev(tmp_path_factory, cluster):
    """A scratch dev stack bound for the real node, in a namespace of its own; nothing deployed yet."""
    project = make_project(tmp_path_factory.mktemp("quota"))
    namespace = unique_namespace("quota-shrink")
    project.edit_config("dev", lambda config: point_at_real_node(config, cluster, namespace))
    yield project, namespace
    project.stack("dev").destroy()


def worker(replicas: int, requests: dict, limits: dict, await_timeout: int = 300):
    def change(config: dict) -> None:
        config["kubernetes"]["await_timeout_seconds"] = await_timeout
        config["services"]["worker"].update(replicas=replicas, resources={"requests": requests, "limits": limits})
    return change


def quota_field(cluster: Cluster, namespace: str, field: str) -> dict[str, str]:
    """cap -> spec.hard (field "spec") or status.used ("status") over the namespace's quotas (one per cap)."""
    return {cap: value for quota in cluster.get("resourcequotas", namespace=namespace)
            for cap, value in quota[field]["hard" if field == "spec" else "used"].items()}


def declared_caps(project) -> dict[str, str]:
    """The caps the stack file sizes (leanstack render)."""
    return {cap: value for key, quota in declared(project, "dev").items() if key.startswith("ResourceQuota/")
            for cap, value in quota["spec"]["hard"].items()}


def lowering_first_would_refuse(cluster: Cluster, namespace: str, project, pod: dict[str, str]) -> None:
    """What the namespace holds now plus one new pod (`pod`: cap -> amount) is over the lowered caps:
    had they been lowered before the rollout, that pod would have been refused, a deadlock."""
    used, lowered = quota_field(cluster, namespace, "status"), declared_caps(project)
    for cap, amount in pod.items():
        assert parse_quantity(used[cap]) + parse_quantity(amount) > parse_quantity(lowered[cap]) > Decimal(0), cap


def quota_refusals(cluster: Cluster, namespace: str) -> list[str]:
    return [m for m in failed_creates(cluster, namespace) if m.startswith("worker-") and "exceeded quota" in m]


def converged(project, cluster: Cluster, namespace: str, replicas: int) -> None:
    """Every worker pod is of the new template, the caps in force are the declared ones, and a
    refreshing preview is empty."""
    wait_for(rolled_out(cluster, namespace, {"worker": replicas}), 60, f"{replicas} new worker pods available")
    assert quantities_equal(quota_field(cluster, namespace, "spec"), declared_caps(project))
    _, events = preview(project, "dev", refresh=True)
    assert changes(events) == {}


def lowered_after_the_rollout(cluster: Cluster, namespace: str, caps: set[str]) -> None:
    """Each lowered cap was last written when (or after) the worker's rollout completed."""
    available = next(c for c in cluster.get("deployment", "worker", namespace)["status"]["conditions"]
                     if c["type"] == "Progressing")
    rolled = calendar.timegm(time.strptime(available["lastUpdateTime"], "%Y-%m-%dT%H:%M:%SZ"))
    listed = cluster.kubectl("get", "resourcequotas", "-n", namespace, "--show-managed-fields", "-o", "json")
    for quota in json.loads(listed.stdout)["items"]:
        if set(quota["spec"]["hard"]) & caps:
            written = max(calendar.timegm(time.strptime(f["time"], "%Y-%m-%dT%H:%M:%SZ"))
                          for f in quota["metadata"]["managedFields"] if f.get("subresource") != "status")
            assert written >= rolled, (quota["metadata"]["name"], written, rolled)


def test_a_shrink_after_a_failed_rollout_converges_with_a_plain_up(dev, cluster):
    project, namespace = dev
    # The first rollout of a worker no node can hold: its pod stays Pending, no older pod is there to
    # keep (the deployment controller would scale a Pending pod of an older template down first), and
    # `up` fails once the await gives up.
    project.edit_config("dev", worker(1, {"cpu": "64", "memory": "128Mi"}, {"cpu": "64", "memory": "192Mi"},
                                      await_timeout=60))
    started = time.monotonic()
    with pytest.raises(auto.CommandError) as failed:
        project.up("dev")
    failed_after = time.monotonic() - started
    assert "worker" in str(failed.value), str(failed.value)[-3000:]
    pending = [p for p in cluster.get("pods", namespace=namespace, selector="app.kubernetes.io/name=worker")
               if p["status"]["phase"] == "Pending"]
    assert pending, "the 64-cpu pod is Pending"

    # The fix: a size that fits. The Pending pod still counts against the quota, so the cpu caps may
    # only be lowered once the fixed pod has replaced it.
    project.edit_config("dev", worker(1, {"cpu": "100m", "memory": "128Mi"}, {"cpu": "200m", "memory": "192Mi"}))
    lowering_first_would_refuse(cluster, namespace, project, {"requests.cpu": "100m", "limits.cpu": "200m"})
    started = time.monotonic()
    project.up("dev")
    fixed_after = time.monotonic() - started
    print(f"\nfailed rollout: up failed after {failed_after:.1f} s; the shrinking up converged in {fixed_after:.1f} s")
    assert not quota_refusals(cluster, namespace)
    converged(project, cluster, namespace, 1)
    lowered_after_the_rollout(cluster, namespace, {"requests.cpu", "limits.cpu"})


def test_a_shrink_at_three_replicas_converges_though_the_old_pods_fill_the_lowered_cap(dev, cluster):
    project, namespace = dev
    big = {"requests": {"cpu": "50m", "memory": "1Gi"}, "limits": {"cpu": "200m", "memory": "1Gi"}}
    small = {"requests": {"cpu": "50m", "memory": "128Mi"}, "limits": {"cpu": "200m", "memory": "192Mi"}}
    project.edit_config("dev", worker(3, **big))
    started = time.monotonic()
    project.up("dev")
    print(f"\nscaled to 3 x 1Gi in {time.monotonic() - started:.1f} s")
    wait_for(rolled_out(cluster, namespace, {"worker": 3}), 60, "3 worker pods of 1Gi available")

    project.edit_config("dev", worker(3, **small))
    # The three old pods still count until they are replaced.
    lowering_first_would_refuse(cluster, namespace, project, {"requests.memory": small["requests"]["memory"],
                                                               "limits.memory": small["limits"]["memory"]})
    started = time.monotonic()
    project.up("dev")
    print(f"shrink at 3 replicas: up converged in {time.monotonic() - started:.1f} s")
    assert not quota_refusals(cluster, namespace)
    converged(project, cluster, namespace, 3)
    lowered_after_the_rollout(cluster, namespace, {"requests.memory", "limits.memory"})
