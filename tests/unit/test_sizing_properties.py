"""Properties of the two planners: the namespace footprint (render.sizing) and the node packer
(costing.nodes), over generated inputs rather than the stacks we ship."""

from __future__ import annotations

import math
from dataclasses import replace
from decimal import Decimal

from hypothesis import given, settings, strategies as st

from leanstack.config.resolve import (Amounts, Autoscaling, ExtraContainer, Migration, Probes, Resources, Schedule,
                                      Storage, Workload)
from leanstack.costing.nodes import DaemonSetLoad, NodeType, allocatable, pack, replicas
from leanstack.render.sizing import ROLLING_SURGE, footprint

D = Decimal


@st.composite
def resources(draw) -> Resources:
    cpu, memory, disk = draw(st.integers(1, 4000)), draw(st.integers(1, 8192)), draw(st.integers(1, 1024))
    more = st.integers(1, 4)
    return Resources(Amounts(f"{cpu}m", f"{memory}Mi", f"{disk}Mi"),
                     Amounts(f"{cpu * draw(more)}m", f"{memory * draw(more)}Mi", f"{disk * draw(more)}Mi"))


@st.composite
def workloads(draw) -> Workload:
    main = draw(resources())
    low = draw(st.integers(1, 5))
    scaled = draw(st.booleans())
    extras = st.lists(st.builds(ExtraContainer, name=st.just("extra"), resources=resources()), max_size=2)
    return Workload(
        resources=main, probes=Probes.http(8080), port=8080,
        kind=draw(st.sampled_from(["deployment", "statefulset"])),
        replicas=None if scaled else low,
        autoscaling=Autoscaling(low, low + draw(st.integers(0, 10))) if scaled else None,
        storage=draw(st.none() | st.builds(Storage, st.sampled_from(["1Gi", "500Mi"]), st.just("/data"))),
        sidecars=tuple(draw(extras)), init_containers=tuple(draw(extras)),
        migrate=draw(st.none() | st.builds(Migration, st.just(["migrate"]), resources())),
        schedules=tuple(draw(st.lists(st.builds(Schedule, st.just("nightly"), st.just("@daily"), st.just(["run"]),
                                                resources(), concurrency_policy=st.sampled_from(["Forbid", "Replace"])),
                                      max_size=2))),
    )


def pods_of(workload: Workload) -> int:
    surge = 0 if workload.storage is not None or workload.stateful else ROLLING_SURGE
    return workload.max_replicas + surge + sum(task.concurrent_runs for task in workload.tasks)


@settings(max_examples=60, deadline=None)
@given(st.lists(workloads(), max_size=4), st.lists(workloads(), max_size=4))
def test_the_footprint_of_two_sets_of_workloads_is_the_sum_of_theirs(first, second):
    both, one, other = footprint(first + second), footprint(first), footprint(second)
    assert both.requests == {key: one.requests[key] + other.requests[key] for key in both.requests}
    assert both.limits == {key: one.limits[key] + other.limits[key] for key in both.limits}
    assert (both.pods, both.storage, both.persistent_volume_claims) == (
        one.pods + other.pods, one.storage + other.storage, one.persistent_volume_claims + other.persistent_volume_claims)


@settings(max_examples=60, deadline=None)
@given(workloads())
def test_the_footprint_counts_every_pod_and_limits_cover_requests(workload):
    most = footprint([workload])
    assert most.pods == pods_of(workload)
    assert all(most.limits[key] >= most.requests[key] > 0 for key in most.requests)
    claims = 0 if workload.storage is None else (workload.max_replicas if workload.stateful else 1)
    assert most.persistent_volume_claims == claims


@settings(max_examples=60, deadline=None)
@given(workloads(), st.integers(1, 10))
def test_more_replicas_never_shrink_the_footprint(workload, more):
    low = workload.autoscaling.min_replicas if workload.autoscaling else workload.replicas
    bigger = replace(workload, replicas=None, autoscaling=Autoscaling(low, workload.max_replicas + more))
    small, large = footprint([workload]), footprint([bigger])
    assert all(large.requests[key] >= small.requests[key] and large.limits[key] >= small.limits[key] for key in small.requests)
    assert large.pods == small.pods + more


NODE = NodeType("n", D(4), D(16), 30, D("0.2"))
ROOM = allocatable(NODE, "eks")
pod_requests = st.lists(st.tuples(st.integers(1, int(ROOM.cpu * 1000)), st.integers(1, int(ROOM.memory // 2**20)),
                                  st.integers(1, 6)), min_size=1, max_size=8)


@settings(max_examples=100, deadline=None)
@given(pod_requests)
def test_packing_places_every_pod_once_within_each_nodes_room_and_needs_no_fewer_nodes_than_the_totals(sizes):
    pods = [pod for i, (cpu, memory, count) in enumerate(sizes)
            for pod in replicas(f"w{i}", D(cpu) / 1000, D(memory) * 2**20, count)]
    packing = pack(pods, NODE, "eks", DaemonSetLoad())
    placed = [name for node in packing.nodes for name in node]
    assert sorted(placed) == sorted(name for name, _, _ in pods)
    size = {name: (cpu, memory) for name, cpu, memory in pods}
    for node in packing.nodes:
        assert sum(size[name][0] for name in node) <= ROOM.cpu and sum(size[name][1] for name in node) <= ROOM.memory
        assert len(node) <= ROOM.pods
    lower = max(math.ceil(sum(c for _, c, _ in pods) / ROOM.cpu), math.ceil(sum(m for _, _, m in pods) / ROOM.memory),
                math.ceil(len(pods) / ROOM.pods))
    assert packing.node_count >= lower and packing.hourly_cost == packing.node_count * NODE.hourly
