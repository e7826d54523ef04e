"""The components in a program of your own: no stack file, just their typed args and secure defaults."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s
import pytest
from pulumi.runtime.mocks import MockMonitor

from leanstack.components.namespace import HardenedNamespace, HardenedNamespaceArgs
from leanstack.components.offline import RecordingMocks
from leanstack.components.service import RightSizedService, RightSizedServiceArgs
from leanstack.config.schema import Autoscaling, Limits, Requests, Resources, WorkloadSpec

IMAGE = "registry.example.com/shop/api@sha256:" + "b" * 64
API = WorkloadSpec(
    port=8080,
    resources=Resources(requests=Requests(cpu="250m", memory="256Mi"), limits=Limits(cpu="1", memory="512Mi")),
    autoscaling=Autoscaling(min_replicas=2, max_replicas=4),
    allow_from=["web"],
    depends_on=["db"],
)


@pytest.fixture(scope="module")
def program() -> RecordingMocks:
    mocks = RecordingMocks()
    pulumi.runtime.set_mocks(mocks, project="shop", stack="test", preview=False, monitor=MockMonitor(mocks))

    @pulumi.runtime.test
    def run():
        provider = k8s.Provider("cluster", render_yaml_to_directory="unused")
        namespace = HardenedNamespace("shop", HardenedNamespaceArgs(name="shop", workloads=[API]),
                                      opts=pulumi.ResourceOptions(providers=[provider]))
        api = RightSizedService("api", RightSizedServiceArgs(namespace="shop", workload=API, image=IMAGE,
                                                             peer_ports={"db": 5432}),
                                opts=pulumi.ResourceOptions(providers=[provider], depends_on=[namespace]))
        assert api.service is not None and api.autoscaler is not None
        return pulumi.Output.all(namespace.name, api.deployment_name, api.image)

    run()
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
    assert container["image"] == IMAGE
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
    quota = registered(program, "core/v1:ResourceQuota")
    # 4 replicas + 1 surge = 5 pods x 250m / 256Mi
    assert quota["spec"]["hard"]["requests.cpu"] == "1250m" and quota["spec"]["hard"]["requests.memory"] == "1280Mi"
    namespace = registered(program, "core/v1:Namespace")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def test_a_peer_without_a_port_is_refused_with_its_name():
    with pytest.raises(ValueError, match="peer_ports has no port for db"):
        RightSizedServiceArgs(namespace="shop", workload=API, image=IMAGE).context("api")
