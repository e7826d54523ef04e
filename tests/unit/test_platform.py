"""Platform: what one stack registers, how it is wired, and how it behaves in previews."""

from collections import Counter
from decimal import Decimal

import pulumi
import pytest

from leanstack.components.image import ImageOverBudget
from leanstack.costing.money import cents
from tests.unit.conftest import RecordingMocks, fake_digest, run_platform, small_stack, stack_config

COMPONENTS = {
    "leanstack:platform:Platform": 1,
    "leanstack:namespace:HardenedNamespace": 1,
    "leanstack:image:OptimizedImage": 3,
    "leanstack:service:RightSizedService": 5,
}


# What the dev stack registers (also what a first real preview must create, plus the Stack).
DEV_RESOURCES = {
    **COMPONENTS,
    "pulumi:providers:kubernetes": 1,
    "pulumi:providers:docker-build": 1,
    "docker-build:index:Image": 3,
    "kubernetes:core/v1:Namespace": 1,
    "kubernetes:core/v1:ResourceQuota": 11,  # one per cap
    "kubernetes:core/v1:LimitRange": 1,
    "kubernetes:networking.k8s.io/v1:NetworkPolicy": 2 + 5,
    "kubernetes:core/v1:ServiceAccount": 5,
    "kubernetes:core/v1:Secret": 3,
    "kubernetes:core/v1:PersistentVolumeClaim": 1,
    "kubernetes:apps/v1:Deployment": 5,
    "kubernetes:batch/v1:Job": 1,  # api's migration
    "kubernetes:core/v1:Service": 4,
    "kubernetes:networking.k8s.io/v1:Ingress": 2,
}


def counts(run) -> Counter:
    return Counter(run.types())


def test_dev_registers_exactly_the_expected_resources(dev):
    assert counts(dev) == DEV_RESOURCES


def test_prod_adds_autoscalers_and_disruption_budgets(prod, dev):
    difference = {typ: n - counts(dev).get(typ, 0) for typ, n in counts(prod).items() if n != counts(dev).get(typ, 0)}
    assert difference == {
        "kubernetes:autoscaling/v2:HorizontalPodAutoscaler": 3,
        "kubernetes:policy/v1:PodDisruptionBudget": 3,
    }


def test_every_kubernetes_object_uses_the_explicit_provider_and_the_stack_namespace(prod):
    for resource in prod.resources:
        if resource.typ.startswith("kubernetes:"):
            assert resource.provider and "pulumi:providers:kubernetes::shop-kubernetes" in resource.provider
            if resource.typ != "kubernetes:core/v1:Namespace":
                assert resource.inputs["metadata"]["namespace"] == "shop"
        if resource.typ == "docker-build:index:Image":
            assert "pulumi:providers:docker-build::shop-docker-build" in resource.provider


def test_kubernetes_provider_renders_manifests_when_no_cluster_is_named(dev):
    (provider,) = dev.of_type("pulumi:providers:kubernetes")
    assert provider.inputs["renderYamlToDirectory"] == "rendered/dev"


def test_built_images_are_pushed_to_the_registry_and_deployed_by_digest(dev):
    image = {r.name: r.inputs for r in dev.of_type("docker-build:index:Image")}["api-image"]
    assert image["tags"] == ["127.0.0.1:5000/leanstack/api:dev"]
    assert image["push"] is True
    assert image["builder"] == {"name": "leanstack"}
    assert image["context"] == {"location": "apps/api"}
    assert image["dockerfile"] == {"location": "apps/api/Dockerfile"}
    assert image["target"] == "runtime" and image["platforms"] == ["linux/amd64"]
    assert image["buildArgs"]["RUNTIME_BASE"] == "127.0.0.1:5000/leanstack/python:3.11-floor"
    assert image["cacheFrom"] == [{"registry": {"ref": "127.0.0.1:5000/leanstack/api:dev"}}]
    assert image["cacheTo"] == [{"inline": {}}]
    # The CA bundle reaches the build as a BuildKit secret, kept secret in state too.
    secrets = image["secrets"]
    assert secrets["4dabf18193072939515e22adb298388d"] == "1b47061264138c4ac30d75fd1eb44270"
    assert "BEGIN CERTIFICATE" in secrets["value"]["pip_cert"]
    assert image["buildOnPreview"] is False
    digest_ref = f"127.0.0.1:5000/leanstack/api:dev@{fake_digest('127.0.0.1:5000/leanstack/api:dev')}"
    deployed = dev.kind("apps/v1:Deployment")["api"]["spec"]["template"]["spec"]["containers"][0]["image"]
    assert deployed == digest_ref
    assert dev.outputs["images"]["api"] == digest_ref
    assert dev.outputs["images"]["postgres"].startswith("postgres:16.4-bookworm@sha256:")


def test_an_image_over_budget_fails_before_its_workload_is_registered():
    mocks = RecordingMocks()
    with pytest.raises(ImageOverBudget) as error:
        run_platform(stack_config("dev"), "dev", image_sizes={"api": 200 << 20}, mocks=mocks)
    registered = {r.name for r in mocks.registered}
    assert "api-image" in registered and "api-deployment" not in registered
    assert str(error.value).startswith("image 127.0.0.1:5000/leanstack/api:dev@sha256:")
    assert "of service api is 200.0Mi, over its size budget 150Mi (services.api.image.build.size_budget)" in str(error.value)


def test_preview_with_unknown_digests_still_registers_every_workload():
    run = run_platform(stack_config("prod"), "prod", preview=True)
    assert len(run.of_type("kubernetes:apps/v1:Deployment")) == 5
    assert run.outputs["images"]["redis"].startswith("redis:7.4-bookworm@sha256:")


def test_components_parent_their_children(prod):
    monitor_urns = [r.name for r in prod.resources]
    assert "api-deployment" in monitor_urns and "shop-quota-requests-cpu" in monitor_urns


def test_cost_output_prices_what_the_stack_registers():
    cost = run_platform(small_stack(cost={"price_sheet": "gke-autopilot-us-central1"}), "small").outputs["cost"]
    assert cost["sheet"] == "gke-autopilot-us-central1" and cost["currency"] == "USD"
    assert set(cost["by_service"]) == {"api", "db"}
    assert set(cost["by_category"]) == {"compute", "storage", "network", "registry"}
    # db: one pod billed at its requests (Autopilot bills requests; 100m/256Mi is within its
    # minimums and ratio): 0.1 cpu x 0.0445 + 0.25Gi x 0.0049225 + 64Mi ephemeral x 0.0000548 per hour,
    # x 730; plus 2Gi standard PD x 0.04.
    pod = (Decimal("0.1") * Decimal("0.0445") + Decimal("0.25") * Decimal("0.0049225")
           + Decimal("0.0625") * Decimal("0.0000548")) * 730
    expected = cents(pod + 2 * Decimal("0.04"))
    assert cost["by_service"]["db"] == {"baseline": str(expected), "ceiling": str(expected)}
    low, high = (Decimal(cost["monthly"][k]) for k in ("baseline", "ceiling"))
    assert Decimal(0) < low < high


def test_an_unreadable_build_secret_names_the_key_path_before_anything_is_registered(tmp_path):
    config = stack_config("dev")
    api = config.services["api"]
    build = api.image.build.model_copy(update={"secret_files": {"pip_cert": str(tmp_path / "missing.pem")}})
    services = {**config.services, "api": api.model_copy(update={"image": api.image.model_copy(update={"build": build})})}
    mocks = RecordingMocks()
    with pytest.raises(pulumi.RunError, match=r"Pulumi.dev.yaml: services.api.image.build.secret_files.pip_cert: "
                                              r"cannot read .*missing.pem: No such file"):
        run_platform(config.model_copy(update={"services": services}), "dev", mocks=mocks)
    assert [r.typ for r in mocks.registered] == ["leanstack:platform:Platform"]


def test_built_images_are_priced_once_measured(prod):
    # 3 built images of 50Mi (the harness's size), 300 pulls a month each, GKE sheet:
    # storage 50/1024 GiB x 0.10 = 0.0048828125; transfer 300 x 50/1024 GiB x 0.12 = 1.7578125 per image.
    image_cost = prod.outputs["image_cost"]
    assert image_cost["by_category"]["registry"] == {"baseline": "0.01", "ceiling": "0.01"}
    assert image_cost["by_category"]["network"] == {"baseline": "5.27", "ceiling": "5.27"}
    assert set(image_cost["by_service"]) == {"api", "worker", "web"}
    assert image_cost["by_service"]["api"] == {"baseline": "1.76", "ceiling": "1.76"}
