"""HardenedNamespace: Pod Security, quota at the maximum footprint, defaults, default-deny.

Every case runs a small stack of its own (conftest.small_stack), so the numbers below are computed
by hand from it and editing a committed stack file changes none of them."""

import pytest

from leanstack.render.namespace import caps_in_force, lowered_caps
from tests.unit.conftest import SMALL_STACK, RecordingMocks, run_platform, small_stack


@pytest.fixture(scope="module")
def small():
    return run_platform(small_stack(), "small")


def test_namespace_enforces_restricted_pod_security(small):
    labels = small.kind("core/v1:Namespace")["small"]["metadata"]["labels"]
    for mode in ("enforce", "audit", "warn"):
        assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted"
        assert labels[f"pod-security.kubernetes.io/{mode}-version"] == "v1.30"


def test_the_quota_is_the_hand_computed_maximum_footprint(small):
    # api: 6 replicas + 1 rolling surge + 1 migration pod = 8 pods of 250m/384Mi (limits 500m/512Mi);
    # db: 1 pod of 100m/256Mi (limits 500m/1Gi), no surge (its volume means Recreate).
    # Every container requests 64Mi and is limited to 256Mi of ephemeral storage by default.
    hard = small.quota_caps()
    assert hard == {
        "requests.cpu": "2100m",                 # 8 x 250m + 100m
        "requests.memory": "3328Mi",             # 8 x 384Mi + 256Mi
        "requests.ephemeral-storage": "576Mi",   # 9 x 64Mi
        "limits.cpu": "4500m",                   # 8 x 500m + 500m
        "limits.memory": "5Gi",                  # 8 x 512Mi + 1Gi
        "limits.ephemeral-storage": "2304Mi",    # 9 x 256Mi
        "pods": "9",
        "requests.storage": "2Gi",
        "persistentvolumeclaims": "1",
        "services.loadbalancers": "0",
        "services.nodeports": "0",
    }


def test_limit_range_defaults_and_caps_containers_at_the_largest_declared_limits(small):
    container, claim = small.kind("core/v1:LimitRange")["defaults"]["spec"]["limits"]
    assert container["default"] == {"cpu": "250m", "memory": "256Mi", "ephemeral-storage": "256Mi"}
    assert container["defaultRequest"] == {"cpu": "50m", "memory": "64Mi", "ephemeral-storage": "64Mi"}
    assert container["max"] == {"cpu": "500m", "memory": "1Gi", "ephemeral-storage": "256Mi"}
    assert claim == {"type": "PersistentVolumeClaim", "max": {"storage": "2Gi"}}


def test_defaults_above_every_declared_limit_are_capped_at_the_largest_one():
    # right-sized small: no container may use more than 48Mi, below the 256Mi/64Mi defaults
    small_services = {name: {**service, "resources": {"requests": {"cpu": "10m", "memory": "32Mi"},
                                                      "limits": {"cpu": "40m", "memory": "48Mi"}}}
                      for name, service in SMALL_STACK["services"].items()}
    run = run_platform(small_stack(services=small_services), "small")
    container = run.kind("core/v1:LimitRange")["defaults"]["spec"]["limits"][0]
    assert container["max"] == {"cpu": "40m", "memory": "48Mi", "ephemeral-storage": "256Mi"}
    assert container["default"] == {"cpu": "40m", "memory": "48Mi", "ephemeral-storage": "256Mi"}
    assert container["defaultRequest"] == {"cpu": "40m", "memory": "48Mi", "ephemeral-storage": "64Mi"}


def test_all_traffic_is_denied_unless_admitted_and_dns_is_the_only_shared_egress(small):
    policies = small.kind("networking.k8s.io/v1:NetworkPolicy")
    assert policies["default-deny"]["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    dns = policies["allow-dns"]["spec"]
    assert dns["policyTypes"] == ["Egress"] and "ingress" not in dns
    (rule,) = dns["egress"]
    assert rule["to"] == [{
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
        "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
    }]
    assert {(p["protocol"], p["port"]) for p in rule["ports"]} == {("UDP", 53), ("TCP", 53)}


def test_a_stack_without_volumes_or_load_balancers_gets_zero_quota_for_them():
    db = {key: value for key, value in SMALL_STACK["services"]["db"].items() if key != "storage"}
    run = run_platform(small_stack(services={**SMALL_STACK["services"], "db": db}), "small")
    hard = run.quota_caps()
    assert (hard["requests.storage"], hard["persistentvolumeclaims"]) == ("0", "0")
    limits = run.kind("core/v1:LimitRange")["defaults"]["spec"]["limits"]
    assert [item["type"] for item in limits] == ["Container"]


# --- the quota around a rollout: caps that grow go first, caps that shrink wait for the workloads ---

def test_each_cap_is_a_quota_of_its_own(small):
    quotas = small.kind("core/v1:ResourceQuota")
    assert {name: list(quota["spec"]["hard"]) for name, quota in quotas.items()} == {
        f"quota-{cap.replace('.', '-')}": [cap] for cap in small.quota_caps()}


def test_the_caps_in_force_are_the_smallest_of_every_quota_and_only_lower_ones_are_lowered():
    live = caps_in_force([{"requests.cpu": "64", "pods": "3"}, {"requests.cpu": "4500m"}, {}])
    assert live == {"requests.cpu": "4500m", "pods": "3"}
    new = {"requests.cpu": "4.5", "pods": "2", "limits.cpu": "1", "requests.storage": "0"}
    # 4.5 == 4500m holds, 2 < 3 shrinks, limits.cpu has no quota in force yet (a new cap: it goes first)
    assert lowered_caps(new, live) == {"pods"}
    assert lowered_caps(new, {}) == set()


CLUSTER = {"kubernetes": {"kubeconfig": "/tmp/kubeconfig", "context": "local"}}


def rollout_order(live: dict[str, str]):
    """The small stack over a namespace whose quota caps are `live`: (caps applied before the
    workloads, caps applied after), read from the registered dependencies."""
    run = run_platform(small_stack(**CLUSTER), "small", read_live_caps=lambda *_: live)
    quotas = {r.name.removeprefix("small-quota-"): r.name for r in run.resources if r.name.startswith("small-quota-")}
    workloads = ["api", "db"]  # the RightSizedService components: their children wait for them
    first = {cap for cap, name in quotas.items()
             if all(any(dep.endswith(f"::{name}") for dep in run.dependencies[w]) for w in workloads)}
    after = {cap for cap, name in quotas.items()
             if all(any(dep.endswith(f"::{w}-deployment") for dep in run.dependencies[name]) for w in workloads)}
    return first, after, run


def test_a_shrinking_cap_is_lowered_only_after_every_workload_rolled_and_a_growing_one_first():
    caps = run_platform(small_stack(), "small").quota_caps()
    # As a failed rollout of a 64-cpu pod leaves it, with memory limits smaller than now.
    live = {**caps, "requests.cpu": "64", "limits.memory": "1Gi"}
    first, after, run = rollout_order(live)
    assert after == {"requests-cpu"}
    assert first == {cap.replace(".", "-") for cap in caps} - {"requests-cpu"}
    assert run.quota_caps() == caps  # the same caps in the end


def test_a_new_namespace_or_an_unchanged_one_applies_every_cap_before_the_workloads():
    caps = run_platform(small_stack(), "small").quota_caps()
    for live in ({}, caps):
        first, after, _ = rollout_order(live)
        assert (len(first), after) == (len(caps), set())


def test_render_mode_reads_no_cluster_and_a_cluster_target_reads_its_namespace():
    def refuse(*_):
        raise AssertionError("render mode read a cluster")

    run_platform(small_stack(), "small", read_live_caps=refuse)
    asked = []
    run_platform(small_stack(**CLUSTER), "small", read_live_caps=lambda *where: asked.append(where) or {})
    assert asked == [("/tmp/kubeconfig", "local", "small")]


def test_a_cluster_that_cannot_be_read_stops_the_program_with_one_line_before_anything_is_applied():
    def unreachable(*_):
        raise ConnectionError("Max retries exceeded with url: /api/v1/namespaces/small/resourcequotas\nmore detail")

    mocks = RecordingMocks()
    with pytest.raises(Exception) as stopped:
        run_platform(small_stack(**CLUSTER), "small", read_live_caps=unreachable, mocks=mocks)
    assert not [r for r in mocks.registered if r.typ.startswith("kubernetes:core") or r.typ.startswith("kubernetes:apps")]
    assert str(stopped.value) == ("Pulumi.small.yaml: kubernetes: cannot read the quota in force in namespace small "
                                  "(the rollout order depends on it): Max retries exceeded with url: "
                                  "/api/v1/namespaces/small/resourcequotas")
