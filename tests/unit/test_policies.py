"""Guardrail rules (leanstack.policies.rules, .stack_rules) as specifications.

Each case starts from an object the program really renders (leanstack.render, a small prod stack
of the tests' own: conftest.small_stack), which passes every rule, changes one thing, and names the message the change must produce. The
shop fixture stacks (tests/unit/fixtures/shop), as registered under the mock harness, must pass every policy with
their environment's config; so must the committed stacks (test_committed_stacks.py).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from leanstack.components.platform import namespace_args
from leanstack.kube import labels
from leanstack.policies.rules import RULES
from leanstack.render import namespace as namespaces, network, scaling, workload
from leanstack.policies.settings import Settings
from leanstack.policies.stack_rules import namespace_default_deny
from tests.unit.conftest import ROOT, SHOP_STACKS, SMALL_STACK, resolved, service_context, small_stack

SMALL = small_stack()
IMAGE = "127.0.0.1:5000/leanstack/api@sha256:" + "a" * 64
SMALL_NAMESPACE = namespace_args(resolved(SMALL, IMAGE), {}).context()


def service(name: str, config=SMALL):
    """The renderers' context of one service of the small prod stack, as the Platform maps it."""
    return service_context(config, name, IMAGE)

DEPLOYMENT, HPA, PVC = "kubernetes:apps/v1:Deployment", "kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "kubernetes:core/v1:PersistentVolumeClaim"
NAMESPACE, SERVICE, NETPOL = "kubernetes:core/v1:Namespace", "kubernetes:core/v1:Service", "kubernetes:networking.k8s.io/v1:NetworkPolicy"
STATEFULSET, JOB = "kubernetes:apps/v1:StatefulSet", "kubernetes:batch/v1:Job"
DEV, STAGING, PROD = Settings("dev"), Settings("staging"), Settings("prod")
POD = ("spec", "template", "spec")
CONTAINER = POD + ("containers", 0)
DELETE = object()
RULE = {rule.name: rule for rule in RULES}


def deployment() -> dict:
    return workload.deployment(service("api"), IMAGE)


def base(resource_type: str) -> dict:
    """A compliant object of each governed kind, straight from the program's renderers."""
    return {
        DEPLOYMENT: deployment,
        HPA: lambda: scaling.horizontal_pod_autoscaler(service("api")),
        PVC: lambda: workload.persistent_volume_claim(service("db")),
        NAMESPACE: lambda: namespaces.namespace(SMALL_NAMESPACE),
        SERVICE: lambda: network.service(service("db")),  # internal: ClusterIP only
    }[resource_type]()


def changed(obj: dict, *edits: tuple[tuple, Any]) -> dict:
    """A deep copy of obj with each (path, value) set, or removed when value is DELETE."""
    obj = copy.deepcopy(obj)
    for path, value in edits:
        *parents, last = path
        target = obj
        for key in parents:
            target = target[key] if isinstance(target, list) else target.setdefault(key, {})
        if value is DELETE:
            del target[last]
        else:
            target[last] = value
    return obj


def sc(*field: str) -> tuple:
    return CONTAINER + ("securityContext", *field)


def pod_sc(*field: str) -> tuple:
    return POD + ("securityContext", *field)


def case(rule: str, resource_type: str, edits: list, settings: Settings, expected: str | None, id: str):
    """expected: a fragment of the one message the change produces; None: the change still passes."""
    return pytest.param(rule, resource_type, edits, settings, expected, id=f"{rule}: {id}")


CASES = [
    case("container-resources", DEPLOYMENT, [(CONTAINER + ("resources", "limits", "memory"), DELETE)], PROD, "no memory limit; set spec.template.spec.containers[api].resources.limits.memory", "no memory limit"),
    case("container-resources", DEPLOYMENT, [(CONTAINER + ("resources", "requests", "cpu"), DELETE)], PROD, "no cpu request", "no cpu request"),
    case("container-resources", DEPLOYMENT, [(CONTAINER + ("resources", "limits", "cpu"), "100m")], PROD, "limits.cpu 100m is below requests.cpu 250m", "limit below request"),
    case("container-resources", DEPLOYMENT, [(CONTAINER + ("resources", "limits", "memory"), "lots")], PROD, "'lots' is not a Kubernetes quantity", "unparsable quantity"),
    case("container-resources", DEPLOYMENT, [(POD + ("initContainers",), [{"name": "migrate", "image": IMAGE, "resources": {"requests": {"memory": "64Mi"}, "limits": {"cpu": "100m", "memory": "64Mi"}}}])], PROD,
         "container migrate has no cpu request; set spec.template.spec.initContainers[migrate].resources.requests.cpu", "init containers too"),
    case("container-resources", DEPLOYMENT, [(CONTAINER + ("resources", "limits", "cpu"), "250m")], PROD, None, "limit equal to request"),
    case("run-as-non-root", DEPLOYMENT, [(pod_sc("runAsNonRoot"), DELETE), (sc("runAsNonRoot"), DELETE)], PROD, "may run as root; set spec.template.spec.securityContext.runAsNonRoot: true", "not asserted anywhere"),
    case("run-as-non-root", DEPLOYMENT, [(sc("runAsNonRoot"), False)], PROD, "container api may run as root", "container overrides the pod"),
    case("run-as-non-root", DEPLOYMENT, [(sc("runAsUser"), 0)], PROD, "runs as UID 0", "UID 0"),
    case("run-as-non-root", DEPLOYMENT, [(sc("runAsNonRoot"), DELETE)], PROD, None, "pod level is enough"),
    case("no-privilege-escalation", DEPLOYMENT, [(sc("allowPrivilegeEscalation"), True)], PROD, "may gain privileges", "escalation allowed"),
    case("no-privilege-escalation", DEPLOYMENT, [(sc("allowPrivilegeEscalation"), DELETE)], PROD, "allowPrivilegeEscalation: false", "escalation unset"),
    case("no-privilege-escalation", DEPLOYMENT, [(sc("privileged"), True)], PROD, "is privileged", "privileged"),
    case("read-only-root-filesystem", DEPLOYMENT, [(sc("readOnlyRootFilesystem"), False)], PROD, "readOnlyRootFilesystem: true", "writable root"),
    case("drop-all-capabilities", DEPLOYMENT, [(sc("capabilities", "drop"), ["NET_RAW"])], PROD, "capabilities.drop: [ALL]", "drops only some"),
    case("drop-all-capabilities", DEPLOYMENT, [(sc("capabilities", "add"), ["SYS_ADMIN"])], PROD, "adds capabilities SYS_ADMIN", "adds one back"),
    case("drop-all-capabilities", DEPLOYMENT, [(sc("capabilities", "add"), ["NET_BIND_SERVICE"])], PROD, None, "NET_BIND_SERVICE allowed"),
    case("seccomp-runtime-default", DEPLOYMENT, [(pod_sc("seccompProfile"), DELETE)], PROD, "seccompProfile.type: RuntimeDefault", "no profile"),
    case("seccomp-runtime-default", DEPLOYMENT, [(pod_sc("seccompProfile", "type"), "Unconfined")], PROD, "without the RuntimeDefault", "unconfined"),
    case("seccomp-runtime-default", DEPLOYMENT, [(pod_sc("seccompProfile"), DELETE), (sc("seccompProfile"), {"type": "RuntimeDefault"})], PROD, None, "container level is enough"),
    case("container-probes", DEPLOYMENT, [(CONTAINER + ("startupProbe",), DELETE)], PROD, "has no startupProbe; set spec.template.spec.containers[api].startupProbe", "no startup probe"),
    case("container-probes", DEPLOYMENT, [(CONTAINER + ("readinessProbe",), DELETE)], PROD, "has no readinessProbe", "no readiness probe"),
    case("container-probes", DEPLOYMENT, [(CONTAINER + ("livenessProbe",), DELETE)], PROD, "has no livenessProbe", "no liveness probe"),
    case("image-pinning", DEPLOYMENT, [(CONTAINER + ("image",), "nginx:latest")], DEV, "uses latest", "latest tag, even in dev"),
    case("image-pinning", DEPLOYMENT, [(CONTAINER + ("image",), "nginx")], DEV, "uses latest (named or implied)", "no tag means latest"),
    case("image-pinning", DEPLOYMENT, [(CONTAINER + ("image",), "nginx:latest@sha256:" + "b" * 64)], DEV, "uses latest", "latest tag with digest"),
    case("image-pinning", DEPLOYMENT, [(CONTAINER + ("image",), "nginx:1.27")], PROD, "not pinned by digest, required in prod", "tag only in prod"),
    case("image-pinning", DEPLOYMENT, [(CONTAINER + ("image",), "127.0.0.1:5000/api:1.27"), (("metadata", "labels", "leanstack.dev/environment"), "dev")], DEV, None, "tag only in dev"),
    case("image-pinning", DEPLOYMENT, [(CONTAINER + ("image",), "nginx:1.27")], DEV, "required in prod", "prod label beats a dev config"),
    case("image-pinning", DEPLOYMENT, [(CONTAINER + ("image",), "127.0.0.1:5000/api@sha256:" + "c" * 64)], PROD, None, "registry port is not a tag"),
    case("autoscaler-replicas", HPA, [(("spec", "minReplicas"), 5), (("spec", "maxReplicas"), 3)], DEV, "spec.minReplicas 5 > spec.maxReplicas 3", "min above max"),
    case("autoscaler-replicas", HPA, [(("spec", "minReplicas"), 1)], PROD, "spec.minReplicas 1 in prod; set it to at least 2", "one replica in prod"),
    case("autoscaler-replicas", HPA, [(("spec", "minReplicas"), DELETE)], PROD, "spec.minReplicas 1 in prod", "default minimum in prod"),
    case("autoscaler-replicas", HPA, [(("spec", "minReplicas"), 1), (("metadata", "labels", "leanstack.dev/environment"), "staging")], STAGING, None, "one replica in staging"),
    case("volume-claim-cap", PVC, [], Settings("dev", "1Gi"), "requests 2Gi of storage, above this stack's cap of 1Gi", "over the cap"),
    case("volume-claim-cap", PVC, [], Settings("dev", "2Gi"), None, "exactly the cap"),
    case("volume-claim-cap", PVC, [(("spec", "resources"), DELETE)], PROD, "requests no storage size", "no size"),
    case("namespace-pod-security", NAMESPACE, [(("metadata", "labels", "pod-security.kubernetes.io/enforce"), "baseline")], PROD, "enforce is 'baseline'; set metadata.labels.pod-security.kubernetes.io/enforce: restricted", "baseline"),
    case("namespace-pod-security", NAMESPACE, [(("metadata", "labels", "pod-security.kubernetes.io/warn"), DELETE)], PROD, "pod-security.kubernetes.io/warn: restricted", "no warn label"),
    case("public-exposure-only", SERVICE, [(("spec", "type"), "LoadBalancer")], PROD, "spec.type LoadBalancer exposes a service not declared public", "undeclared LoadBalancer"),
    case("public-exposure-only", SERVICE, [(("spec", "type"), "NodePort")], PROD, "NodePort", "undeclared NodePort"),
    case("public-exposure-only", SERVICE, [(("spec", "type"), "LoadBalancer"), (("metadata", "annotations", labels.EXPOSURE), "public")], PROD, None, "declared public"),
]


@pytest.mark.parametrize("rule, resource_type, edits, settings, expected", CASES)
def test_each_rule_names_the_object_and_the_fix(rule, resource_type, edits, settings, expected):
    messages = RULE[rule].check(resource_type, changed(base(resource_type), *edits), settings)
    if expected is None:
        assert messages == []
    else:
        (message,) = messages
        assert expected in message
        assert message.startswith(("Deployment small/api:", "HorizontalPodAutoscaler small/api:", "PersistentVolumeClaim small/db-data:",
                                   "Namespace small:", "Service small/db:"))


@pytest.mark.parametrize("resource_type", [DEPLOYMENT, HPA, PVC, NAMESPACE, SERVICE])
@pytest.mark.parametrize("settings", [DEV, PROD], ids=["dev", "prod"])
def test_the_programs_own_objects_pass_every_rule(resource_type, settings):
    for rule in RULES:
        assert rule.check(resource_type, base(resource_type), settings) == [], rule.name


def test_every_rule_has_a_failing_case():
    assert {param.values[0] for param in CASES if param.values[4] is not None} == set(RULE)


def test_rules_leave_kinds_they_do_not_govern_alone():
    job = {"metadata": {"name": "once"}, "spec": {"template": {"spec": deployment()["spec"]["template"]["spec"]}}}
    job = changed(job, (("spec", "template", "spec", "containers", 0, "startupProbe"), DELETE))
    assert RULE["container-probes"].check(JOB, job, PROD) == []  # a Job runs to completion: nothing to probe
    for rule in RULES:
        assert rule.check("docker:index/image:Image", {"imageName": "api:latest"}, PROD) == []


def test_a_load_balancer_the_stack_declares_public_passes():
    api = {**SMALL_STACK["services"]["api"], "load_balancer": True}
    manifest = network.service(service("api", small_stack(services={**SMALL_STACK["services"], "api": api})))
    assert manifest["spec"]["type"] == "LoadBalancer"
    assert RULE["public-exposure-only"].check(SERVICE, manifest, PROD) == []


def test_statefulset_claim_templates_are_capped_too():
    template = {"metadata": {"name": "data"}, "spec": {"resources": {"requests": {"storage": "50Gi"}}}}
    statefulset = {"metadata": {"name": "db", "namespace": "shop"}, "spec": {"volumeClaimTemplates": [template]}}
    (message,) = RULE["volume-claim-cap"].check(STATEFULSET, statefulset, Settings("prod", "20Gi"))
    assert message.startswith("StatefulSet shop/db: spec.volumeClaimTemplates[0] requests 50Gi")


# The stack-level rule: every namespace has a default-deny NetworkPolicy.

def stack_objects() -> list[tuple[str, dict]]:
    return [
        (NAMESPACE, namespaces.namespace(SMALL_NAMESPACE)),
        (NETPOL, namespaces.default_deny(SMALL_NAMESPACE)),
        (NETPOL, namespaces.allow_dns(SMALL_NAMESPACE)),
        (DEPLOYMENT, deployment()),
    ]


def deny(direction: str) -> dict:
    return {"metadata": {"name": f"deny-{direction.lower()}", "namespace": "small"},
            "spec": {"podSelector": {}, "policyTypes": [direction]}}


@pytest.mark.parametrize("objects, expected", [
    pytest.param(stack_objects(), [], id="program's namespace"),
    pytest.param([o for o in stack_objects() if o[1]["metadata"]["name"] != "default-deny"],
                 [("small", "Namespace small: no NetworkPolicy denies all ingress and egress traffic; add one with podSelector: {}")],
                 id="no default deny"),
    pytest.param([o for o in stack_objects() if o[1]["metadata"]["name"] != "default-deny"] + [(NETPOL, deny("Ingress"))],
                 [("small", "Namespace small: no NetworkPolicy denies all egress traffic; add one with podSelector: {}, policyTypes: [Ingress, Egress] and no rules")],
                 id="ingress only"),
    pytest.param([o for o in stack_objects() if o[1]["metadata"]["name"] != "default-deny"] + [(NETPOL, deny("Ingress")), (NETPOL, deny("Egress"))],
                 [], id="two one-way policies"),
    pytest.param([(NAMESPACE, namespaces.namespace(SMALL_NAMESPACE)), (NETPOL, changed(namespaces.default_deny(SMALL_NAMESPACE), (("spec", "podSelector"), {"matchLabels": {"app": "x"}})))],
                 [("small", "Namespace small: no NetworkPolicy denies all ingress and egress traffic; add one with podSelector: {}")],
                 id="a deny that selects some pods only"),
    pytest.param(stack_objects() + [(DEPLOYMENT, changed(deployment(), (("metadata", "namespace"), "elsewhere")))],
                 [("elsewhere", "Namespace elsewhere: no NetworkPolicy denies all ingress and egress traffic; add one with podSelector: {}")],
                 id="workload in a namespace made elsewhere"),
])
def test_every_namespace_denies_traffic_by_default(objects, expected):
    problems = namespace_default_deny(objects)
    assert [(namespace, message[: len(want)]) for (namespace, message), (_, want) in zip(problems, expected)] == expected
    assert len(problems) == len(expected)


# The shop fixture stacks, with the committed policy config of their environment
# (the committed stacks: test_committed_stacks.py).

def policy_config(stack: str) -> dict:
    return json.loads((ROOT / "policies" / "config" / f"{stack}.json").read_text())


def assert_passes_every_policy(run, config: dict) -> None:
    checked = 0
    for rule in RULES:
        settings = Settings.from_config(config.get(rule.name))
        for resource in run.resources:
            assert rule.check(resource.typ, resource.inputs, settings) == [], (rule.name, resource.name)
            checked += resource.typ.startswith("kubernetes:")
    assert checked >= 20 * len(RULES)
    assert namespace_default_deny((r.typ, r.inputs) for r in run.resources) == []


@pytest.mark.parametrize("stack", SHOP_STACKS)
def test_the_shop_stacks_pass_every_policy(stack_runs, stack):
    assert_passes_every_policy(stack_runs[stack], policy_config(stack))


def test_missing_or_bad_settings_read_strictly():
    assert Settings.from_config(None) == Settings("prod", "10Gi")
    with pytest.raises(ValueError, match="environment 'production' is not one of dev, staging, prod"):
        Settings.from_config({"environment": "production"})
    with pytest.raises(ValueError, match="maxClaimSize"):
        Settings.from_config({"maxClaimSize": "2GB"})


def test_policy_project_file_runs_the_pack_in_the_project_venv():
    import yaml

    project = yaml.safe_load((ROOT / "policies" / "PulumiPolicy.yaml").read_text())
    assert project["runtime"]["name"] == "python"
    venv = ROOT / "policies" / project["runtime"]["options"]["virtualenv"]
    assert venv.resolve() == (ROOT / ".venv").resolve()
    assert Path(ROOT / "policies" / "__main__.py").stat().st_size < 1500  # thin: the rules live elsewhere
