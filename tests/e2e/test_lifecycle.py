"""The real engine, render mode: preview, up, change, bad config, destroy."""

from __future__ import annotations

from collections import Counter

import pytest
from pulumi import automation as auto

from leanstack.config.resolve import builds
from leanstack.config.stack_file import load_stack_file
from leanstack.costing.delta import op_name
from leanstack.costing.images import IMAGE_TYPE
from leanstack.kube import labels

from leanstack.render.pod import PROBE_PROFILES
from tests.unit.test_platform import DEV_RESOURCES

pytestmark = pytest.mark.e2e


def test_first_preview_creates_exactly_the_dev_stack_and_shows_its_cost(project):
    result, events = project.preview("dev")
    created = Counter({t: ops.count("create") for t, ops in events.ops().items()})
    # The unit tests' copy of the shop, plus the committed dev's layout Images: one per build on preview.
    layouts = sum(build.build_on_preview for build in builds(load_stack_file(project.directory / "Pulumi.dev.yaml"), {}).values())
    assert layouts == 3
    assert created == Counter({**DEV_RESOURCES, IMAGE_TYPE: DEV_RESOURCES[IMAGE_TYPE] + layouts, "pulumi:pulumi:Stack": 1})
    assert {op_name(op) for op in result.change_summary} == {"create"}
    cost = events.outputs["cost"]
    assert cost["sheet"] == "opencost-default" and float(cost["monthly"]["baseline"]) > 0


def test_up_renders_hardened_manifests_then_a_request_change_updates_one_deployment(project):
    project.up("dev")
    rendered = project.rendered("dev")
    api = rendered["Deployment/api"]
    pod = api["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert container["readinessProbe"]["periodSeconds"] == PROBE_PROFILES["fast"]["period"]
    assert "@sha256:" in container["image"]
    assert rendered["PersistentVolumeClaim/postgres-data"]["spec"]["resources"]["requests"]["storage"] == "1Gi"
    policy = rendered["NetworkPolicy/postgres"]["spec"]
    # Every pod of a service (its migration Job's too) carries leanstack.dev/service; policies select by it.
    assert [peer["podSelector"]["matchLabels"][labels.SERVICE] for peer in policy["ingress"][0]["from"]] == ["api", "worker"]
    assert rendered["NetworkPolicy/default-deny"]["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    assert rendered["Namespace/shop-dev"]["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"

    project.edit_config("dev", lambda c: c["services"]["worker"]["resources"]["requests"].update(cpu="75m"))
    _, events = project.preview("dev")
    # The one workload changes in place; the namespace quota, sized from every request, follows it.
    assert events.ops() == {"kubernetes:apps/v1:Deployment": ["update"], "kubernetes:core/v1:ResourceQuota": ["update"]}
    (changed,) = [s for s in events.steps if s.type == "kubernetes:apps/v1:Deployment" and op_name(s.op) == "update"]
    assert changed.urn.endswith("worker-deployment")
    project.up("dev")
    worker = project.rendered("dev")["Deployment/worker"]["spec"]["template"]["spec"]["containers"][0]
    assert worker["resources"]["requests"]["cpu"] == "75m"
    _, events = project.preview("dev")
    assert events.ops() == {}


def test_invalid_config_fails_the_preview_clearly_and_leaves_state_alone(project):
    project.up("dev")
    before = project.stack("dev").export_stack().deployment["resources"]

    def inverted_replica_range(config):
        api = config["services"]["api"]
        del api["replicas"]
        api["autoscaling"] = {"min_replicas": 5, "max_replicas": 3}

    project.edit_config("dev", inverted_replica_range)
    with pytest.raises(auto.CommandError) as error:
        project.preview("dev")
    assert "Pulumi.dev.yaml: services.api.autoscaling: min_replicas 5 > max_replicas 3" in str(error.value)
    with pytest.raises(auto.CommandError):
        project.up("dev")
    # A failed update rewrites the checkpoint's timestamp, nothing else.
    assert project.stack("dev").export_stack().deployment["resources"] == before


def test_destroy_leaves_nothing_in_state(project):
    project.up("dev")
    stack = project.stack("dev")
    stack.destroy()
    assert stack.export_stack().deployment.get("resources") in (None, [])
    assert not list((project.directory / "rendered" / "dev").rglob("*.yaml"))
