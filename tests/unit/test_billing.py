"""Billing models: vendors' worked examples (golden), then properties over generated pods."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings, strategies as st

from leanstack.costing.billing import (
    AutopilotRules, BillingError, ContainerResources, PodShape, bill_autopilot, bill_fargate,
    bill_requests, effective_requests, pod_shape,
)
from leanstack.costing.nodes import DaemonSetLoad, NodeType, allocatable, pack, pack_range, replicas
from leanstack.kube.quantities import GIB, MIB

D = Decimal


def one(cpu=None, memory=None, *, limits=None, name="app", ephemeral=None) -> PodShape:
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory), ("ephemeral-storage", ephemeral)) if v is not None}
    return PodShape((ContainerResources(name, requests, limits or {}),))


# --- golden: vendors' worked examples ---------------------------------------------------------------

def test_fargate_aws_example_1_vcpu_8_gb_becomes_2_vcpu_9_gb():
    # docs.aws.amazon.com/eks/latest/userguide/fargate-pod-configuration.html: "a request for 1 vCPU and
    # 8 GB memory will have 256 MB added ... and will provision a Fargate task with 2 vCPUs and 9 GB memory"
    billed = bill_fargate(one(D(1), 8 * GIB))
    assert (billed.cpu, billed.memory, billed.size) == (D(2), 9 * GIB, "2 vCPU/9 GB")
    assert any("256Mi" in a for a in billed.adjustments)


def test_fargate_no_requests_is_the_smallest_size():
    # same page: "If you don't specify a vCPU and memory combination, then the smallest available
    # combination is used (.25 vCPU and 0.5 GB memory)"
    billed = bill_fargate(one())
    assert (billed.cpu, billed.memory, billed.size) == (D("0.25"), GIB / 2, "0.25 vCPU/0.5 GB")


def test_fargate_uses_the_larger_of_init_and_running_and_rounds_up():
    pod = pod_shape({
        "containers": [{"name": "a", "resources": {"requests": {"cpu": "250m", "memory": "512Mi"}}},
                       {"name": "b", "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}}}],
        "initContainers": [{"name": "migrate", "resources": {"requests": {"cpu": "100m", "memory": "1500Mi"}}}],
    })
    billed = bill_fargate(pod)  # cpu 0.5; memory max(768Mi, 1500Mi) + 256Mi = 1756Mi -> 2 GB
    assert billed.size == "0.5 vCPU/2 GB"


def test_fargate_too_big_names_the_largest_size():
    with pytest.raises(BillingError, match="pod needs 20 vCPU, larger than the largest Fargate size 16 vCPU / 120 GB"):
        bill_fargate(one(D(20), GIB))
    with pytest.raises(BillingError, match="GB memory"):
        bill_fargate(one(D(1), 120 * GIB))


def test_fargate_ephemeral_storage_billed_beyond_the_included_20_gib():
    assert bill_fargate(one(D(1), GIB, ephemeral=30 * GIB)).ephemeral_storage == 10 * GIB
    assert bill_fargate(one(D(1), GIB, ephemeral=5 * GIB)).ephemeral_storage == 0
    with pytest.raises(BillingError, match="175Gi"):
        bill_fargate(one(D(1), GIB, ephemeral=176 * GIB))


def test_autopilot_ratio_example_200m_2gib_becomes_308m():
    # the reading of Google's autopilot-resource-requests example (page table not verifiable here)
    billed = bill_autopilot(one(D("0.2"), 2 * GIB))
    assert (billed.cpu, billed.memory, billed.size) == (D("0.308"), 2 * GIB, "308m/2Gi")
    assert billed.adjustments == ("cpu raised 200m -> 308m to keep the 1:6.5 ratio",)


def test_autopilot_defaults_minimums_and_memory_side_of_the_ratio():
    assert bill_autopilot(one()).size == "500m/2Gi"  # general-purpose defaults (verified on the page)
    assert bill_autopilot(one()).ephemeral_storage == GIB
    assert bill_autopilot(one(D("0.01"), 10 * MIB)).size == "50m/52Mi"
    billed = bill_autopilot(one(D(2), GIB))
    assert billed.size == "2/2Gi" and "1:1 ratio" in billed.adjustments[0]


def test_autopilot_limit_without_request_counts_as_request_and_bursting_limits_are_free():
    assert bill_autopilot(one(limits={"cpu": D(1), "memory": 2 * GIB})).size == "1/2Gi"
    assert bill_autopilot(one(D("0.5"), GIB, limits={"cpu": D(4), "memory": 8 * GIB})).size == "500m/1Gi"


def test_autopilot_above_a_configured_maximum_is_an_error():
    rules = AutopilotRules(max_cpu=D(30), max_memory=110 * GIB)
    with pytest.raises(BillingError, match="above Autopilot's maximum 30"):
        bill_autopilot(PodShape((ContainerResources("big", {"cpu": D(31), "memory": 40 * GIB}),), name="big"), rules)


def test_eks_m5_large_allocatable_from_bootstrap_formula():
    # amazon-eks-ami al2 bootstrap.sh: kube-reserved 11*29+255 = 574Mi, cpu 60m+10m, evictionHard 100Mi.
    # Nominal 8 GiB capacity; a real node reports less memory (the kernel keeps some).
    room = allocatable(NodeType("m5.large", D(2), D(8), 29, D("0.096")), "eks")
    assert (room.cpu, room.memory, room.pods) == (D("1.930"), (8192 - 574 - 100) * MIB, 29)


def test_gke_4_core_node_allocatable_cpu_is_3920m():
    # cloud.google.com/kubernetes-engine/docs/concepts/plan-node-sizes example output: cpu "4", allocatable 3920m
    room = allocatable(NodeType("e2-standard-4", D(4), D(16), 110, D("0.134")), "gke")
    assert room.cpu == D("3.92")
    assert room.memory == 16 * GIB - (D(1) + D("0.8") + D("0.8")) * GIB - 100 * MIB  # 25%/20%/10% tiers


def test_gke_small_machine_reserves_255_mib():
    assert allocatable(NodeType("tiny", D(1), D("0.75"), 8, D(0)), "gke").memory == D("0.75") * GIB - 355 * MIB


def test_daemonsets_reduce_allocatable_and_a_pod_that_fits_nowhere_is_named():
    node = NodeType("m5.large", D(2), D(8), 29, D("0.096"))
    room = allocatable(node, "eks", DaemonSetLoad(D("0.2"), 256 * MIB, 3))
    assert (room.cpu, room.pods) == (D("1.730"), 26)
    with pytest.raises(BillingError, match="huge"):
        pack([("huge", D(3), GIB), ("ok", D(1), GIB)], node, "eks")


def test_pack_picks_the_cheapest_total_and_reports_share():
    small = NodeType("small", D(2), D(8), 29, D("0.10"))
    large = NodeType("large", D(8), D(32), 58, D("0.50"))
    baseline, ceiling = pack_range(replicas("api", D(1), GIB, 2), replicas("api", D(1), GIB, 12), [small, large], "eks")
    assert (baseline.node_type, baseline.node_count, baseline.hourly_cost) == ("small", 2, D("0.20"))
    assert ceiling.node_type == "large" and ceiling.node_count == 2 and ceiling.hourly_cost == D("1.00")
    assert D(0) < ceiling.used_share["cpu"] <= 1


# --- requests model equals today's pod_hourly ---------------------------------------------------

def test_sidecars_follow_the_kubernetes_effective_request_rule():
    pod = pod_shape({
        "containers": [{"name": "app", "resources": {"requests": {"cpu": "500m"}}}],
        "initContainers": [
            {"name": "early", "resources": {"requests": {"cpu": "2"}}},
            {"name": "proxy", "restartPolicy": "Always", "resources": {"requests": {"cpu": "100m"}}},
            {"name": "late", "resources": {"requests": {"cpu": "1"}}},
        ],
    })
    assert (len(pod.sidecars), pod.sidecars_before) == (1, (0, 1))
    # max(app 500m + proxy 100m, early 2 + 0, late 1 + proxy 100m)
    assert effective_requests(pod)["cpu"] == D(2)
    assert bill_requests(pod).cpu == D(2)


quantities = st.one_of(st.none(), st.integers(1, 4000).map(lambda m: f"{m}m"), st.integers(1, 8192).map(lambda m: f"{m}Mi"))
container_specs = st.builds(
    lambda name, rc, rm, lc, lm: {"name": name, "resources": {
        "requests": {k: v for k, v in (("cpu", rc), ("memory", rm)) if v is not None},
        "limits": {k: v for k, v in (("cpu", lc), ("memory", lm)) if v is not None}}},
    st.text("abc", min_size=1, max_size=3), quantities, quantities, quantities, quantities)
pod_specs = st.fixed_dictionaries({"containers": st.lists(container_specs, min_size=1, max_size=4),
                                   "initContainers": st.lists(container_specs, max_size=2)})


def _plain_sum(spec) -> dict[str, Decimal]:
    """Today's rule written out: sum of containers (request, else limit), init containers by max."""
    from leanstack.kube.quantities import parse_quantity

    def billed(c, key):
        res = c["resources"]
        value = res["requests"].get(key, res["limits"].get(key))
        return parse_quantity(value) if value is not None else D(0)

    return {key: max([sum((billed(c, key) for c in spec["containers"]), D(0))]
                     + [billed(c, key) for c in spec["initContainers"]]) for key in ("cpu", "memory")}


@settings(max_examples=200, deadline=None)
@given(pod_specs)
def test_requests_model_equals_plain_sum(spec):
    billed = bill_requests(pod_shape(spec))
    assert {"cpu": billed.cpu, "memory": billed.memory} == _plain_sum(spec)


# --- properties ----------------------------------------------------------------------------------

cpus = st.integers(0, 16000).map(lambda m: D(m) / 1000)
memories = st.integers(0, 120 * 1024 - 256).map(lambda m: D(m) * MIB)


def _fits_fargate(cpu, memory):
    return cpu <= 16 and memory + 256 * MIB <= 120 * GIB


def _fits_autopilot(cpu, memory):
    """Within general-purpose's 30 vCPU maximum, also after the ratio raises cpu to memory / 6.5."""
    return max(cpu, memory / GIB / D("6.5")) <= 30


@settings(max_examples=200, deadline=None)
@given(cpus, memories)
def test_billed_covers_requested_in_every_model(cpu, memory):
    pod = one(cpu, memory)
    for bill in (bill_requests, bill_autopilot, bill_fargate):
        billed = bill(pod)
        assert billed.cpu >= cpu and billed.memory >= memory, bill.__name__


@settings(max_examples=200, deadline=None)
@given(cpus, memories, cpus, memories)
def test_more_requested_never_bills_less(cpu, memory, more_cpu, more_memory):
    small, big = one(cpu, memory), one(cpu + more_cpu, memory + more_memory)
    for bill in (bill_autopilot, bill_fargate):
        if bill is bill_fargate and not _fits_fargate(cpu + more_cpu, memory + more_memory):
            continue
        if bill is bill_autopilot and not _fits_autopilot(cpu + more_cpu, memory + more_memory):
            continue
        low, high = bill(small), bill(big)
        assert high.cpu >= low.cpu and high.memory >= low.memory, bill.__name__


@settings(max_examples=200, deadline=None)
@given(cpus.filter(lambda c: c > 0), memories.filter(lambda m: m > 0))
def test_autopilot_result_is_within_minimums_and_ratio(cpu, memory):
    billed = bill_autopilot(one(cpu, memory))
    assert billed.cpu >= D("0.05") and billed.memory >= 52 * MIB
    assert billed.cpu * GIB <= billed.memory <= billed.cpu * D("6.5") * GIB


pods = st.lists(st.tuples(st.integers(1, 1900), st.integers(1, 7000)), max_size=40).map(
    lambda sizes: [(f"p{i}", D(c) / 1000, D(m) * MIB) for i, (c, m) in enumerate(sizes)])


@settings(max_examples=200, deadline=None)
@given(pods)
def test_packing_never_overfills_a_node(pod_list):
    node = NodeType("m5.large", D(2), D(8), 29, D("0.096"))
    packing = pack(pod_list, node, "eks")
    room, by_name = packing.allocatable, {p[0]: p for p in pod_list}
    assert sorted(n for node_pods in packing.nodes for n in node_pods) == sorted(by_name)
    for node_pods in packing.nodes:
        assert 0 < len(node_pods) <= room.pods
        assert sum((by_name[n][1] for n in node_pods), D(0)) <= room.cpu
        assert sum((by_name[n][2] for n in node_pods), D(0)) <= room.memory
    assert packing.hourly_cost == packing.node_count * node.hourly
