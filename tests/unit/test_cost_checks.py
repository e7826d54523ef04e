"""Platform-aware checks before pricing: one line per problem, `<stack file>: <key path>: <message>`."""

from leanstack.config.errors import ConfigError
from leanstack.config.stack_file import validate_config
from leanstack.costing.checks import platform_problems, pod_of
from leanstack.costing.models import billing_model
from leanstack.costing.usage import usage_of
from tests.unit.conftest import SMALL_STACK, run_platform, small_stack
from tests.unit.test_config import with_change

# Each case's own stack: one api, its resources and the price sheet set per case (with_change paths).
API_ONLY = {
    "leanstack:environment": "prod",
    "leanstack:namespace": "costs",
    "leanstack:services": {"api": {
        "image": {"ref": "registry.example.com/api@sha256:" + "a" * 64},
        "port": 8080,
        "resources": {"requests": {"cpu": "250m", "memory": "384Mi"}, "limits": {"cpu": "500m", "memory": "512Mi"}},
        "autoscaling": {"min_replicas": 2, "max_replicas": 6},
    }},
}


def checked(changes):
    values = API_ONLY
    for path, value in changes:
        values = with_change(values, path, value)
    config = validate_config(values, set(), "Pulumi.prod.yaml")
    result = platform_problems(config)
    lines = lambda problems: str(ConfigError("Pulumi.prod.yaml", problems)).splitlines() if problems else []
    return lines(result.errors), lines(result.warnings)


def sheet(name, strict=False):
    return ("cost", {"price_sheet": name, "strict": strict})


def test_fargate_warns_when_limits_differ_from_requests_and_strict_makes_it_an_error():
    errors, warnings = checked([sheet("aws-eks-fargate-us-east-1")])
    assert errors == []
    assert ("Pulumi.prod.yaml: services.api.resources.limits: cpu, memory limits differ from requests: Fargate sizes "
            "and bills the pod by requests, so capacity above them is not reserved; set limits equal to requests") in warnings
    strict_errors, strict_warnings = checked([sheet("aws-eks-fargate-us-east-1", strict=True)])
    assert strict_errors == warnings and strict_warnings == []


def test_a_pod_larger_than_the_largest_fargate_size_is_an_error_naming_the_key():
    errors, _ = checked([sheet("aws-eks-fargate-us-east-1"),
                         ("services.api.resources", {"requests": {"cpu": "1", "memory": "130Gi"},
                                                     "limits": {"cpu": "1", "memory": "130Gi"}})])
    assert errors == ["Pulumi.prod.yaml: services.api.resources.requests.memory: 130Gi does not fit "
                      "the largest Fargate size 16 vCPU / 120 GB"]


def test_autopilot_shows_the_requests_it_raises():
    _, warnings = checked([sheet("gke-autopilot-us-central1"),
                           ("services.api.resources", {"requests": {"cpu": "200m", "memory": "2Gi"},
                                                       "limits": {"cpu": "500m", "memory": "2Gi"}})])
    assert ("Pulumi.prod.yaml: services.api.resources.requests: Autopilot bills 308m/2Gi: "
            "cpu raised 200m -> 308m to keep the 1:6.5 ratio") in warnings


def test_autopilot_maximum_and_node_allocatable_are_errors():
    huge = ("services.api.resources", {"requests": {"cpu": "31", "memory": "40Gi"}, "limits": {"cpu": "31", "memory": "40Gi"}})
    errors, _ = checked([sheet("gke-autopilot-us-central1"), huge])
    assert errors == ["Pulumi.prod.yaml: services.api.resources.requests.cpu: 31 does not fit Autopilot's general-purpose maximum"]
    errors, _ = checked([sheet("eks-m6i-us-east-1"), huge])
    # m6i.2xlarge: 8 cores - 90m reserved - 125m DaemonSets; 32Gi - (11 x 58 + 255)Mi - 100Mi eviction
    assert errors == [
        "Pulumi.prod.yaml: services.api.resources.requests.cpu: 31 does not fit the largest node allocatable (m6i.2xlarge: 7785m cpu, 31775Mi)",
        "Pulumi.prod.yaml: services.api.resources.requests.memory: 40Gi does not fit the largest node allocatable (m6i.2xlarge: 7785m cpu, 31775Mi)",
    ]


def test_requests_sheet_has_no_platform_limits():
    assert checked([sheet("opencost-default")]) == ([], [])


def test_the_platform_check_sizes_the_pod_the_bill_prices_sidecars_and_init_containers_included():
    # The main container fits Fargate's largest size (16 vCPU); with its 2-vCPU sidecar the pod does
    # not, so Fargate would refuse it and the bill could not size it: the check says so up front.
    resources = {"requests": {"cpu": "15", "memory": "30Gi"}, "limits": {"cpu": "15", "memory": "30Gi"}}
    sidecar = {"name": "proxy", "resources": {"requests": {"cpu": "2", "memory": "1Gi"}, "limits": {"cpu": "2", "memory": "1Gi"}}}
    errors, _ = checked([sheet("aws-eks-fargate-us-east-1"), ("services.api.resources", resources),
                         ("services.api.sidecars", [sidecar])])
    assert errors == ["Pulumi.prod.yaml: services.api.resources.requests.cpu: 17 (the pod's, with its sidecars and init "
                      "containers) does not fit the largest Fargate size 16 vCPU / 120 GB"]


def test_autopilot_warns_about_the_pod_it_bills_not_only_the_main_container():
    # 200m/2Gi alone keeps the ratio only once cpu is raised to 308m; an init container does not run
    # beside it, so the effective request (and what Autopilot raises) stays the main container's.
    init = {"name": "wait", "resources": {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "1Gi"}}}
    _, warnings = checked([sheet("gke-autopilot-us-central1"),
                           ("services.api.resources", {"requests": {"cpu": "200m", "memory": "2Gi"},
                                                       "limits": {"cpu": "500m", "memory": "2Gi"}}),
                           ("services.api.init_containers", [init])])
    assert not any(line.startswith("Pulumi.prod.yaml: services.api.resources.requests: Autopilot bills 308m") for line in warnings)


def test_the_fargate_check_and_the_fargate_bill_size_the_same_pod_with_a_sidecar_and_an_init_container():
    # effective cpu max(250m + 500m, 2 + 500m) = 2500m -> 4 vCPU; memory max(384Mi + 1Gi, 256Mi + 1Gi) + 256Mi
    # = 1664Mi -> 8 GB. Without the sidecar the check would size 2 vCPU / 4 GB while the bill prices 4 / 8.
    fixed = lambda cpu, memory: {"requests": {"cpu": cpu, "memory": memory}, "limits": {"cpu": cpu, "memory": memory}}
    sidecar = {"name": "proxy", "image": {"ref": "registry.example.com/proxy@sha256:" + "c" * 64},
               "command": ["proxy"], "resources": fixed("500m", "1Gi")}
    init = {"name": "warm", "command": ["warm"], "inherit_main": True, "resources": fixed("2", "256Mi")}
    api = {**SMALL_STACK["services"]["api"], "sidecars": [sidecar], "init_containers": [init]}
    config = small_stack(services={**SMALL_STACK["services"], "api": api}, cost={"price_sheet": "aws-eks-fargate-us-east-1"})
    model = billing_model(config.cost.sheet())
    checked = model.bill(pod_of("api", config.services["api"]))
    (billed,) = [usage.pod for usage in usage_of(run_platform(config, "small").kubernetes_objects(), model)
                 if usage.resource == "Deployment/small/api"]
    assert checked == billed and billed.size == "4 vCPU/8 GB"
