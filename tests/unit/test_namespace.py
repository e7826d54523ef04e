"""HardenedNamespace: Pod Security, quota at the maximum footprint, defaults, default-deny.

Every case runs a small stack of its own (conftest.small_stack), so the numbers below are computed
by hand from it and editing a committed stack file changes none of them."""

import pytest

from tests.unit.conftest import SMALL_STACK, run_platform, small_stack


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
    hard = small.kind("core/v1:ResourceQuota")["quota"]["spec"]["hard"]
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
    hard = run.kind("core/v1:ResourceQuota")["quota"]["spec"]["hard"]
    assert (hard["requests.storage"], hard["persistentvolumeclaims"]) == ("0", "0")
    limits = run.kind("core/v1:LimitRange")["defaults"]["spec"]["limits"]
    assert [item["type"] for item in limits] == ["Container"]
