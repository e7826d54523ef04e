"""The policy pack as the Pulumi engine sees it: a process speaking the Analyzer gRPC protocol.

The pack is started the way the engine's Python language host starts it (`python -m pulumi.policy
<engine> policies`, which prints the port it serves on), then asked what the engine asks: its
policies, their config, and verdicts on single resources and on a whole stack.
"""

from __future__ import annotations

import json
import select
import subprocess
import sys

import grpc
import pytest
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import analyzer_pb2 as pb, analyzer_pb2_grpc as rpc

from leanstack.policies.pack import PACK_NAME
from leanstack.policies.rules import RULES
from tests.unit.conftest import ROOT

UNKNOWN_STRING = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # the engine's marker for a value not known in a preview
LEVELS = {"advisory": pb.ADVISORY, "mandatory": pb.MANDATORY, "disabled": pb.DISABLED}


@pytest.fixture(scope="module")
def analyzer():
    process = subprocess.Popen(
        [sys.executable, "-m", "pulumi.policy", "127.0.0.1:1", str(ROOT / "policies")],
        cwd=ROOT / "policies", stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        ready, _, _ = select.select([process.stdout], [], [], 60)  # a pack that never starts must not hang the suite
        port = process.stdout.readline().strip() if ready else ""
        assert port.isdigit(), process.stderr.read()
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        yield rpc.AnalyzerStub(channel)
        channel.close()
    finally:
        process.kill()
        process.wait(timeout=10)


def configure(analyzer, stack: str) -> None:
    """What the CLI sends for `--policy-pack-config policies/config/<stack>.json`."""
    config = json.loads((ROOT / "policies" / "config" / f"{stack}.json").read_text())
    request = pb.ConfigureAnalyzerRequest()
    for name, settings in config.items():
        if name == "all":
            continue
        entry = pb.PolicyConfig(enforcementLevel=LEVELS[settings.get("enforcementLevel", config["all"])])
        entry.properties.update({key: value for key, value in settings.items() if key != "enforcementLevel"})
        request.policyConfig[name].CopyFrom(entry)
    analyzer.Configure(request)


def properties(props: dict) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(props)
    return struct


def urn(resource_type: str, name: str) -> str:
    return f"urn:pulumi:prod::leanstack::{resource_type}::{name}"


def analyze(analyzer, resource_type: str, props: dict):
    request = pb.AnalyzeRequest(type=resource_type, properties=properties(props), urn=urn(resource_type, "x"), name="x")
    return list(analyzer.Analyze(request).diagnostics)


def test_the_engine_sees_every_rule_as_a_mandatory_policy_and_the_budget_as_advisory(analyzer):
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty())
    assert info.name == PACK_NAME
    policies = {policy.name: policy for policy in info.policies}
    assert set(policies) == {rule.name for rule in RULES} | {"namespace-default-deny", "monthly-cost-budget"}
    assert policies.pop("monthly-cost-budget").enforcementLevel == pb.ADVISORY
    assert {policy.enforcementLevel for policy in policies.values()} == {pb.MANDATORY}
    assert policies["namespace-default-deny"].policy_type == pb.POLICY_TYPE_STACK
    assert set(policies["volume-claim-cap"].configSchema.properties) == {"maxClaimSize"}


def test_a_violation_is_mandatory_and_names_the_fix(analyzer, stack_runs):
    configure(analyzer, "prod")
    deployment = stack_runs["prod"].kind("apps/v1:Deployment")["api"]
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    unpinned = {**deployment, "spec": {**deployment["spec"], "template": {**deployment["spec"]["template"], "spec": {
        **deployment["spec"]["template"]["spec"], "containers": [{**container, "image": "shop/api:1.0"}]}}}}
    assert analyze(analyzer, "kubernetes:apps/v1:Deployment", deployment) == []
    (diagnostic,) = analyze(analyzer, "kubernetes:apps/v1:Deployment", unpinned)
    assert diagnostic.policyName == "image-pinning" and diagnostic.enforcementLevel == pb.MANDATORY
    assert "Deployment shop/api: container api image shop/api:1.0 is not pinned by digest, required in prod" in diagnostic.message


def test_the_stack_cap_comes_from_the_policy_config(analyzer, stack_runs):
    claim = stack_runs["prod"].kind("core/v1:PersistentVolumeClaim")["postgres-data"]
    big = {**claim, "spec": {**claim["spec"], "resources": {"requests": {"storage": "3Gi"}}}}
    configure(analyzer, "prod")  # cap 20Gi
    assert analyze(analyzer, "kubernetes:core/v1:PersistentVolumeClaim", big) == []
    configure(analyzer, "dev")  # cap 2Gi
    (diagnostic,) = analyze(analyzer, "kubernetes:core/v1:PersistentVolumeClaim", big)
    assert "requests 3Gi of storage, above this stack's cap of 2Gi" in diagnostic.message


def test_a_value_unknown_during_preview_is_not_a_violation(analyzer, stack_runs):
    configure(analyzer, "prod")
    deployment = json.loads(json.dumps(stack_runs["prod"].kind("apps/v1:Deployment")["api"]))
    deployment["spec"]["template"]["spec"]["containers"][0]["image"] = UNKNOWN_STRING  # the digest before the build
    (diagnostic,) = analyze(analyzer, "kubernetes:apps/v1:Deployment", deployment)
    assert diagnostic.policyName == "image-pinning" and diagnostic.enforcementLevel == pb.ADVISORY
    assert "can't run policy 'image-pinning'" in diagnostic.message and "during preview" in diagnostic.message


def test_the_stack_policy_sees_every_namespace(analyzer, stack_runs):
    configure(analyzer, "prod")
    resources = [r for r in stack_runs["prod"].resources if r.typ.startswith("kubernetes:")]

    def analyze_stack(kept):
        request = pb.AnalyzeStackRequest(resources=[
            pb.AnalyzerResource(type=r.typ, properties=properties(r.inputs), urn=urn(r.typ, r.name), name=r.name) for r in kept
        ])
        return list(analyzer.AnalyzeStack(request).diagnostics)

    assert analyze_stack(resources) == []
    (diagnostic,) = analyze_stack([r for r in resources if r.name != "shop-default-deny"])
    assert diagnostic.policyName == "namespace-default-deny"
    assert diagnostic.urn == urn("kubernetes:core/v1:Namespace", "shop-ns")
    assert "Namespace shop: no NetworkPolicy denies all ingress and egress traffic" in diagnostic.message
