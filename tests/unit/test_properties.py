"""Properties that hold for every valid stack config, not just the three we ship."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leanstack.config.schema import StackConfig
from leanstack.kube.quantities import parse_quantity
from tests.unit.conftest import run_platform

NAMES = ["api", "worker", "web", "db", "cache", "search", "billing"]
IMAGE = "registry.example/app@sha256:" + "0" * 64


@st.composite
def amounts(draw, unit: str, low: int, high: int):
    request = draw(st.integers(low, high))
    limit = request * draw(st.integers(1, 4))
    return f"{request}{unit}", f"{limit}{unit}"


@st.composite
def services(draw):
    names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=5, unique=True))
    result = {}
    for name in names:
        cpu, cpu_limit = draw(amounts("m", 10, 2000))
        memory, memory_limit = draw(amounts("Mi", 16, 4096))
        service: dict = {
            "image": {"ref": IMAGE},
            "port": draw(st.integers(1024, 65535)),
            "resources": {"requests": {"cpu": cpu, "memory": memory},
                          "limits": {"cpu": cpu_limit, "memory": memory_limit}},
            "exposure": draw(st.sampled_from(["internal", "public"])),
            "probes": {"type": draw(st.sampled_from(["http", "tcp"])), "profile": draw(st.sampled_from(["fast", "standard", "slow"]))},
            "security": {"run_as_user": draw(st.integers(1, 65535))},
        }
        if draw(st.booleans()):
            low = draw(st.integers(1, 10))
            service["autoscaling"] = {"min_replicas": low, "max_replicas": low + draw(st.integers(0, 10))}
        else:
            service["replicas"] = draw(st.integers(1, 10))
        result[name] = service
    # Random call graph; every dependency is admitted by its target.
    for name in names:
        callees = draw(st.lists(st.sampled_from(names), unique=True, max_size=3))
        result[name]["depends_on"] = [c for c in callees if c != name]
    for name in names:
        result[name]["allow_from"] = [caller for caller in names if name in result[caller]["depends_on"]]
    # A single-replica service may keep data on a volume.
    for name in names:
        if result[name].get("replicas") == 1 and draw(st.booleans()):
            result[name]["storage"] = {"size": f"{draw(st.integers(1, 100))}Gi", "mount_path": "/data"}
    return result


@st.composite
def stack_configs(draw) -> StackConfig:
    return StackConfig.model_validate({
        "environment": draw(st.sampled_from(["dev", "staging", "prod"])),
        "namespace": "generated",
        "services": draw(services()),
    })


def container_of(deployment: dict) -> dict:
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return container


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config=stack_configs())
def test_generated_stacks_keep_every_guarantee(config):
    run = run_platform(config, config.environment)
    deployments = run.kind("apps/v1:Deployment")
    hpas = run.kind("autoscaling/v2:HorizontalPodAutoscaler")
    policies = run.kind("networking.k8s.io/v1:NetworkPolicy")
    quota = run.quota_caps()

    assert set(deployments) == set(config.services)
    for name, deployment in deployments.items():
        container = container_of(deployment)
        resources = container["resources"]
        for key in ("cpu", "memory", "ephemeral-storage"):
            assert parse_quantity(resources["limits"][key]) >= parse_quantity(resources["requests"][key])
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] != 0
        assert container["securityContext"]["runAsNonRoot"] is True
        assert policies[name]["spec"]["podSelector"] == {"matchLabels": {"leanstack.dev/service": name}}
    for hpa in hpas.values():
        assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]

    for kind in ("requests", "limits"):
        for key in ("cpu", "memory"):
            footprint = sum(
                (parse_quantity(container_of(d)["resources"][kind][key])
                 * Decimal(hpas[n]["spec"]["maxReplicas"] if n in hpas else d["spec"]["replicas"])
                 for n, d in deployments.items()),
                Decimal(0),
            )
            assert parse_quantity(quota[f"{kind}.{key}"]) >= footprint
