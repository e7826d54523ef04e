"""The components in a program of your own (README.md's example, run as written): no stack file, just
their typed args and secure defaults."""

from __future__ import annotations

import pulumi
import pytest
from pulumi.provider.experimental.analyzer import Analyzer
from pulumi.runtime.mocks import MockMonitor

from leanstack.components.image import OptimizedImageArgs
from leanstack.components.namespace import HardenedNamespaceArgs
from leanstack.components.offline import RecordingMocks
from leanstack.components.service import RightSizedServiceArgs
from leanstack.config.resolve import Probe
from tests.unit.conftest import ROOT

def readme_example() -> str:
    """The code block of README.md's "Use the components in your own program"."""
    section = (ROOT / "README.md").read_text(encoding="utf-8").split("## Use the components in your own program", 1)[1]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


@pytest.fixture(scope="module")
def program() -> RecordingMocks:
    """README's example, run as it is written, under Pulumi mocks."""
    mocks = RecordingMocks()
    pulumi.runtime.set_mocks(mocks, project="shop", stack="test", preview=False, monitor=MockMonitor(mocks))
    pulumi.runtime.test(lambda: exec(readme_example(), {}))()
    return mocks


def registered(mocks: RecordingMocks, kind: str) -> dict:
    (resource,) = [r for r in mocks.registered if r.typ == f"kubernetes:{kind}"]
    return resource.inputs


def test_a_service_gets_hardened_pods_without_a_stack_file(program):
    deployment = registered(program, "apps/v1:Deployment")
    assert "replicas" not in deployment["spec"]  # the HPA owns it
    pod = deployment["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False and pod["securityContext"]["runAsNonRoot"] is True
    (container,) = pod["containers"]
    assert container["image"] == "registry.example.com/api@sha256:..."
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["resources"]["requests"] == {"cpu": "250m", "memory": "256Mi", "ephemeral-storage": "64Mi"}
    assert deployment["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "leanstack"
    assert "leanstack.dev/environment" not in deployment["metadata"]["labels"]  # no environment given


def test_the_network_policy_admits_only_declared_callers_and_reaches_only_declared_peers(program):
    (policy,) = [r.inputs for r in program.registered
                 if r.typ == "kubernetes:networking.k8s.io/v1:NetworkPolicy" and r.inputs["metadata"]["name"] == "api"]
    assert policy["spec"]["ingress"] == [{"from": [{"podSelector": {"matchLabels": {"leanstack.dev/service": "web"}}}],
                                          "ports": [{"protocol": "TCP", "port": 8080}]}]
    assert policy["spec"]["egress"] == [{"to": [{"podSelector": {"matchLabels": {"leanstack.dev/service": "db"}}}],
                                         "ports": [{"protocol": "TCP", "port": 5432}]}]


def test_the_namespace_quota_is_sized_from_the_workloads_it_holds(program):
    caps = {cap: value for r in program.registered if r.typ == "kubernetes:core/v1:ResourceQuota"
            for cap, value in r.inputs["spec"]["hard"].items()}
    # 4 replicas + 1 surge = 5 pods x 250m / 256Mi
    assert caps["requests.cpu"] == "1250m" and caps["requests.memory"] == "1280Mi"
    namespace = registered(program, "core/v1:Namespace")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def test_the_default_probes_ask_different_questions_over_http(program):
    (container,) = registered(program, "apps/v1:Deployment")["spec"]["template"]["spec"]["containers"]
    assert container["readinessProbe"]["httpGet"] == {"path": "/ready", "port": 8080, "scheme": "HTTP"}
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"


def test_a_probe_is_exactly_one_kind_of_check():
    assert str(Probe.command(["pg_isready", "-q"])) == "exec pg_isready -q"
    with pytest.raises(ValueError, match="exactly one of http, tcp or exec"):
        Probe()
    with pytest.raises(ValueError, match="exactly one of http, tcp or exec"):
        Probe(tcp=Probe.tcp_socket(5432).tcp, exec=Probe.command(["true"]).exec)


@pytest.mark.parametrize("args", [HardenedNamespaceArgs, RightSizedServiceArgs, OptimizedImageArgs])
def test_component_args_are_plain_types_a_component_provider_can_publish(args):
    # Pulumi's component provider host infers the package schema from these annotations; it refuses
    # unions other than Optional, callables and untyped containers.
    analyzer = Analyzer("leanstack")
    properties, _ = analyzer.analyze_type(args, is_component_output=False)
    nested = [prop for definition in analyzer.type_definitions.values() for prop in definition.properties.values()]
    undocumented = [name for name, prop in properties.items() if not prop.description]
    assert undocumented == [] and all(prop.description for prop in nested)
