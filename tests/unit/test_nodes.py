"""The `nodes` billing model: pods packed onto a node pool, priced as nodes, shared out by requests."""

from decimal import Decimal

from hypothesis import given, settings, strategies as st

from leanstack.config.price_sheets import SHEETS, InstanceType, NodePool, PriceSheet
from leanstack.costing.delta import Step, cost_delta
from leanstack.costing.money import MoneyRange
from leanstack.costing.output import to_markdown
from leanstack.costing.price import price_objects
from tests.unit.test_costing import claim, deployment, hpa
from tests.unit.test_delta import DEP, urn

D = Decimal
# One round-number node: EKS keeps 60m + 10m cpu and 11 x 29 + 255 + 100 (eviction) = 674Mi memory,
# so 1930m / 7518Mi is allocatable; a 500m pod fits three times (cpu bound).
POOL = PriceSheet(
    name="pool", source="hand-made", date="2026-12-01", billing="nodes", cpu_core_hour=0, memory_gib_hour=0,
    instance_types=[InstanceType(name="n2", vcpu=2, memory_gib=8, max_pods=29, hourly=D("0.10"))],
    node_pool=NodePool(name="general", provider="eks", types=["n2"]),
    storage_gib_month={"default": D("0.10")},
)


def test_pool_costs_whole_nodes_and_workloads_pay_their_requests_share():
    report = price_objects([deployment("api", "500m", "512Mi"), hpa("api", 3, 6), claim("pg", "10Gi")], POOL)
    costs = report.by_resource()
    # 3 pods -> 1 node, 6 pods -> 2 nodes: 0.10 x 730 = 73.00 per node-month.
    assert costs["Deployment/shop/api"] + costs["NodePool/general"] == MoneyRange(D(73), D(146))
    share = (D("0.5") / D("1.93") + D(512) / D(7518)) / 2  # one pod's share of a node
    assert costs["Deployment/shop/api"] == MoneyRange(3 * share * 73, 6 * share * 73)
    assert costs["PersistentVolumeClaim/shop/pg"] == MoneyRange(D(1), D(1))
    (pool,) = [i for i in report.items if i.resource == "NodePool/general"]
    assert pool.usage.count == (1, 2)
    assert pool.usage.detail == "1-2 x n2 nodes (73.00-146.00 USD/month in all)"


def test_delta_shows_nodes_before_and_after_at_baseline_and_ceiling():
    hpa_type = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
    steps = [Step("same", urn(DEP, "api"), DEP, deployment("api", "500m", "512Mi"), deployment("api", "500m", "512Mi")),
             Step("update", urn(hpa_type, "api"), hpa_type, hpa("api", 3, 6), hpa("api", 4, 8))]
    report = cost_delta("dev", steps, POOL)
    rows = {row.resource: row for row in report.rows}
    nodes = rows["NodePool/general"]
    assert nodes.op == "update"
    assert nodes.resources_text() == ("1-2 x n2 nodes (73.00-146.00 USD/month in all) -> "
                                      "2-3 x n2 nodes (146.00-219.00 USD/month in all)")
    assert (report.old_total, report.new_total) == (MoneyRange(D(73), D(146)), MoneyRange(D(146), D(219)))
    assert "`NodePool/general`" in to_markdown(report)


def test_shipped_example_pool_picks_the_cheapest_type_per_end():
    report = price_objects([deployment("api", "1", "2Gi"), hpa("api", 2, 12)], SHEETS["eks-m6i-us-east-1"])
    (pool,) = [i for i in report.items if i.resource == "NodePool/general"]
    # Allocatable cpu after kube-reserved and the sheet's 125m DaemonSets: large 1805m (1 pod), xlarge
    # 3795m (3 pods), 2xlarge 7785m (7 pods). 2 pods: 1 xlarge = 2 large = 0.192/h, fewer nodes wins;
    # 12 pods: 2 x 2xlarge = 4 x xlarge = 0.768/h < 12 x large = 1.152/h.
    assert pool.usage.detail == "1 x m6i.xlarge - 2 x m6i.2xlarge nodes (140.16-560.64 USD/month in all)"
    assert report.total() == MoneyRange(D("0.192") * 730, D("0.768") * 730)


pod_sizes = st.lists(st.tuples(st.integers(10, 1900), st.integers(16, 7000), st.integers(1, 4), st.integers(0, 6)),
                     min_size=1, max_size=8)


@settings(max_examples=100, deadline=None)
@given(pod_sizes)
def test_workload_shares_never_exceed_the_nodes_cost(sizes):
    objects = []
    for i, (cpu, memory, low, extra) in enumerate(sizes):
        objects += [deployment(f"w{i}", f"{cpu}m", f"{memory}Mi"), hpa(f"w{i}", low, low + extra)]
    report = price_objects(objects, POOL)
    (pool,) = [i for i in report.items if i.resource == "NodePool/general"]
    nodes = MoneyRange(pool.usage.count[0] * D(73), pool.usage.count[1] * D(73))
    assert pool.cost.baseline >= 0 and pool.cost.ceiling >= 0
    assert abs(report.total().baseline - nodes.baseline) < D("1e-20")
    assert abs(report.total().ceiling - nodes.ceiling) < D("1e-20")
