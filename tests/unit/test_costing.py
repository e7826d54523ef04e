"""The cost model, checked against numbers computed by hand with a round-number sheet."""

from decimal import Decimal

import pytest
from pydantic import ValidationError

from leanstack.config.price_sheets import SHEETS, PriceSheet
from leanstack.costing.money import MoneyRange
from leanstack.costing.price import price_objects
from leanstack.costing.models import Autopilot, BillingModel, Fargate, Nodes, billing_model
from leanstack.costing.usage import CPU_HOUR, ImageUsage, PriceKey

SHEET = PriceSheet(
    name="test", source="hand-made", date="2026-11-01",
    cpu_core_hour=Decimal("0.04"), memory_gib_hour=Decimal("0.005"), ephemeral_gib_hour=Decimal("0"),
    storage_gib_month={"standard": Decimal("0.10"), "default": Decimal("0.20")},
    load_balancer_hour=Decimal("0.025"), registry_gib_month=Decimal("0.10"), egress_gib=Decimal("0.09"),
)


def deployment(name, cpu, memory, replicas=None, limits=None, init=None):
    container = {"name": name, "resources": {"requests": {"cpu": cpu, "memory": memory}, **({"limits": limits} if limits else {})}}
    spec = {"template": {"spec": {"containers": [container], **({"initContainers": [init]} if init else {})}}}
    if replicas is not None:
        spec["replicas"] = replicas
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": "shop",
            "labels": {"app.kubernetes.io/name": name}}, "spec": spec}


def hpa(target, low, high):
    return {"kind": "HorizontalPodAutoscaler", "metadata": {"name": target, "namespace": "shop"},
            "spec": {"scaleTargetRef": {"kind": "Deployment", "name": target}, "minReplicas": low, "maxReplicas": high}}


def claim(name, size, storage_class="standard"):
    return {"kind": "PersistentVolumeClaim", "metadata": {"name": name, "namespace": "shop",
            "labels": {"app.kubernetes.io/name": "postgres"}},
            "spec": {"storageClassName": storage_class, "resources": {"requests": {"storage": size}}}}


def test_guide_right_sizing_before_and_after():
    before = price_objects([deployment("api", "500m", "512Mi"), hpa("api", 3, 6), claim("postgres-data", "10Gi")], SHEET)
    after = price_objects([deployment("api", "250m", "384Mi"), hpa("api", 2, 6), claim("postgres-data", "2Gi")], SHEET)
    # api pod: 0.5 x 0.04 + 0.5 x 0.005 = 0.0225/h = 16.425/month; after 0.25 x 0.04 + 0.375 x 0.005 = 0.011875/h = 8.66875
    assert before.by_resource() == {
        "Deployment/shop/api": MoneyRange(Decimal("49.275"), Decimal("98.55")),
        "PersistentVolumeClaim/shop/postgres-data": MoneyRange(Decimal("1.0"), Decimal("1.0")),
    }
    assert after.by_resource() == {
        "Deployment/shop/api": MoneyRange(Decimal("17.3375"), Decimal("52.0125")),
        "PersistentVolumeClaim/shop/postgres-data": MoneyRange(Decimal("0.2"), Decimal("0.2")),
    }
    assert after.total().baseline - before.total().baseline == Decimal("-32.7375")
    assert after.summary()["monthly"] == {"baseline": "17.54", "ceiling": "52.21"}


def test_fixed_replicas_and_the_default_of_one():
    report = price_objects([deployment("web", "100m", "128Mi", replicas=3), deployment("one", "100m", "128Mi")], SHEET)
    # 0.1 x 0.04 + 0.125 x 0.005 = 0.004625/h x 730 = 3.37625 per pod
    assert report.by_resource()["Deployment/shop/web"] == MoneyRange(Decimal("10.12875"), Decimal("10.12875"))
    assert report.by_resource()["Deployment/shop/one"] == MoneyRange(Decimal("3.37625"), Decimal("3.37625"))


def test_limits_above_requests_cost_nothing_on_request_billed_platforms():
    objects = [deployment("api", "250m", "256Mi", replicas=1, limits={"cpu": "1", "memory": "512Mi"})]
    requests_only = price_objects(objects, SHEET).total().baseline
    # Autopilot bills requests too (250m/256Mi is within its minimums and its 1:1..1:6.5 ratio).
    autopilot = price_objects(objects, SHEET.model_copy(update={"billing": "autopilot"})).total().baseline
    assert requests_only == autopilot == (Decimal("0.01") + Decimal("0.00125")) * 730


def test_a_missing_request_defaults_to_its_limit_and_init_containers_count_when_larger():
    objects = [deployment("job", None, "1Gi", replicas=1, limits={"cpu": "2"},
                          init={"name": "migrate", "resources": {"requests": {"cpu": "3", "memory": "256Mi"}}})]
    objects[0]["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"].pop("cpu")
    # cpu: max(limit 2 as request, init 3) = 3 cores; memory: max(1Gi, 256Mi) = 1Gi
    assert price_objects(objects, SHEET).total().baseline == (3 * Decimal("0.04") + Decimal("0.005")) * 730


def test_storage_classes_load_balancers_and_images():
    lb = {"kind": "Service", "metadata": {"name": "edge", "namespace": "shop"}, "spec": {"type": "LoadBalancer"}}
    report = price_objects(
        [claim("a", "5Gi", "standard"), claim("b", "512Mi", "fast-ssd"), lb],
        SHEET,
        images=[ImageUsage("api", size_bytes=150 * 2**20, pulls_per_month=200, service="api")],
    )
    by = report.by_resource()
    assert by["PersistentVolumeClaim/shop/a"].baseline == Decimal("0.5")
    assert by["PersistentVolumeClaim/shop/b"].baseline == Decimal("0.1")  # unknown class -> default 0.20
    assert by["Service/shop/edge"].baseline == Decimal("18.25")
    categories = report.grouped("category")
    # 150Mi = 0.146484375Gi: stored 0.0146484375; 200 pulls x 0.146484375 x 0.09 = 2.63671875
    assert categories["registry"].baseline == Decimal("0.0146484375")
    assert categories["network"].baseline == Decimal("18.25") + Decimal("2.63671875")


def test_summary_groups_by_category_and_service():
    summary = price_objects([deployment("api", "500m", "512Mi"), hpa("api", 3, 6), claim("postgres-data", "10Gi")], SHEET).summary()
    assert summary["by_category"] == {
        "compute": {"baseline": "49.28", "ceiling": "98.55"},
        "storage": {"baseline": "1.00", "ceiling": "1.00"},
        "network": {"baseline": "0.00", "ceiling": "0.00"},
        "registry": {"baseline": "0.00", "ceiling": "0.00"},
    }
    assert set(summary["by_service"]) == {"api", "postgres"}


def test_shipped_sheets_name_their_source_and_date():
    assert set(SHEETS) == {"aws-eks-fargate-us-east-1", "eks-m6i-us-east-1", "gke-autopilot-us-central1", "opencost-default"}
    for sheet in SHEETS.values():
        assert sheet.source and sheet.date
        if sheet.billing == "nodes":  # priced per node, not per resource
            assert all(t.hourly > 0 for t in sheet.instance_types) and sheet.node_pool.types
        else:
            assert sheet.cpu_core_hour > 0 and sheet.memory_gib_hour > 0


@pytest.mark.parametrize("change, message", [
    ({"cpu_core_hour": "-0.01"}, "greater than or equal to 0"),
    ({"memory_gib_hour": None}, "Decimal input should be"),
    ({"billing": "nodes"}, "billing nodes needs node_pool"),
    ({"node_pool": {"name": "p", "provider": "eks", "types": ["m6i.large"]}}, "only used with billing nodes"),
    ({"billing": "nodes", "node_pool": {"name": "p", "provider": "eks", "types": ["m9.huge"]}}, "m9.huge not in instance_types"),
])
def test_negative_or_missing_prices_are_rejected(change, message):
    data = {**SHEET.model_dump(), **change}
    with pytest.raises(ValidationError, match=message):
        PriceSheet.model_validate(data)


def test_cluster_fee_is_a_labelled_line_only_when_a_share_is_set():
    fee_sheet = SHEET.model_copy(update={"cluster_fee_hour": Decimal("0.10")})
    objects = [deployment("api", "500m", "512Mi")]
    assert "cluster" not in price_objects(objects, fee_sheet).summary()["by_category"]
    report = price_objects(objects, fee_sheet, cluster_fee_share=Decimal("0.25"))
    # 0.10/h x 730 h x 0.25 = 18.25
    assert report.by_resource()["Cluster/test"] == MoneyRange(Decimal("18.25"), Decimal("18.25"))
    assert report.summary()["by_category"]["cluster"] == {"baseline": "18.25", "ceiling": "18.25"}
    (fee,) = [i for i in report.items if i.resource == "Cluster/test"]
    assert fee.usage.detail == "cluster fee, 0.25 share"


def test_a_price_key_names_a_sheet_price_and_storage_falls_back_to_the_default_class():
    assert CPU_HOUR.of(SHEET) == Decimal("0.04")
    assert PriceKey.storage("standard").of(SHEET) == Decimal("0.10")
    assert PriceKey.storage("premium-rwo").of(SHEET) == Decimal("0.20")
    for wrong in (lambda: PriceKey("cpu_hour"), lambda: PriceKey("storage_gib_month"), lambda: PriceKey("cpu_core_hour", "ssd")):
        with pytest.raises(ValueError, match="no sheet price"):
            wrong()


def test_each_shipped_sheet_gets_the_billing_model_it_names_once():
    models = {name: billing_model(sheet) for name, sheet in SHEETS.items()}
    assert {name: model.name for name, model in models.items()} == {name: sheet.billing for name, sheet in SHEETS.items()}
    expected = {"requests": BillingModel, "fargate": Fargate, "autopilot": Autopilot, "nodes": Nodes}
    assert all(type(model) is expected[model.name] for model in models.values())
    assert [model.packs_nodes for model in models.values()] == [sheet.billing == "nodes" for sheet in SHEETS.values()]
