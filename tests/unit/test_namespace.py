"""HardenedNamespace: Pod Security, quota at the maximum footprint, defaults, default-deny."""

from tests.unit.conftest import run_platform, stack_config


def test_namespace_enforces_restricted_pod_security(prod):
    labels = prod.kind("core/v1:Namespace")["shop"]["metadata"]["labels"]
    for mode in ("enforce", "audit", "warn"):
        assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted"
        assert labels[f"pod-security.kubernetes.io/{mode}-version"] == "v1.30"


def test_prod_quota_is_the_hand_computed_maximum_footprint(prod):
    # Peak pods = max replicas + 1 rolling surge: api 6+1, worker 4+1, web 4+1, redis 1+1;
    # postgres 1 (its volume means Recreate, no surge); api's migration Job 1 (api's size).
    hard = prod.kind("core/v1:ResourceQuota")["quota"]["spec"]["hard"]
    assert hard == {
        "requests.cpu": "2825m",              # 8x250m + 5x100m + 5x25m + 1x100m + 2x50m
        "requests.memory": "4784Mi",          # 8x384 + 5x192 + 5x48 + 256 + 2x128
        "requests.ephemeral-storage": "1344Mi",  # 21 pods x 64Mi
        "limits.cpu": "6650m",                # 8x500m + 5x250m + 5x100m + 500m + 2x200m
        "limits.memory": "6752Mi",            # 8x512 + 5x256 + 5x96 + 512 + 2x192
        "limits.ephemeral-storage": "7424Mi",  # 18x256Mi + 256Mi + 2x1280Mi
        "pods": "21",
        "requests.storage": "2Gi",
        "persistentvolumeclaims": "1",
        "services.loadbalancers": "0",
        "services.nodeports": "0",
    }


def test_limit_range_defaults_and_caps_containers_at_the_largest_declared_limits(prod):
    limits = prod.kind("core/v1:LimitRange")["defaults"]["spec"]["limits"]
    container, claim = limits
    assert container["default"] == {"cpu": "250m", "memory": "256Mi", "ephemeral-storage": "256Mi"}
    assert container["defaultRequest"] == {"cpu": "50m", "memory": "64Mi", "ephemeral-storage": "64Mi"}
    assert container["max"] == {"cpu": "500m", "memory": "512Mi", "ephemeral-storage": "1280Mi"}
    assert claim == {"type": "PersistentVolumeClaim", "max": {"storage": "2Gi"}}


def test_all_traffic_is_denied_unless_admitted_and_dns_is_the_only_shared_egress(dev):
    policies = dev.kind("networking.k8s.io/v1:NetworkPolicy")
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
    config = stack_config("dev")
    services = {name: spec for name, spec in config.services.items() if name not in ("postgres",)}
    services["api"] = services["api"].model_copy(update={"depends_on": ["redis"]})
    services["worker"] = services["worker"].model_copy(update={"depends_on": ["redis"]})
    services["redis"] = services["redis"].model_copy(update={"allow_from": ["api", "worker"]})
    run = run_platform(config.model_copy(update={"services": services}), "dev")
    hard = run.kind("core/v1:ResourceQuota")["quota"]["spec"]["hard"]
    assert (hard["requests.storage"], hard["persistentvolumeclaims"]) == ("0", "0")
    limits = run.kind("core/v1:LimitRange")["defaults"]["spec"]["limits"]
    assert [item["type"] for item in limits] == ["Container"]
