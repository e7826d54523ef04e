"""Bad config gets one clear line per problem: stack file, key path, what is allowed."""

from __future__ import annotations

import copy
import json
from typing import Any

import pulumi
import pytest
import yaml
from pulumi.runtime.mocks import MockMonitor

from leanstack.components.platform import Platform, PlatformArgs, config_from_engine
from leanstack.config.stack_file import ConfigError, load_stack_file, validate_config
from tests.unit.conftest import SHOP_STACKS, RecordingMocks, shop_file

DELETE = object()


def stack_values(stack: str) -> dict[str, Any]:
    """The config values of the unit tests' own shop stack file (dev or prod), as load_stack_file reads them."""
    return yaml.safe_load(shop_file(stack).read_text())["config"]


def secret_keys(values: dict[str, Any]) -> set[str]:
    return {key for key, value in values.items() if isinstance(value, dict) and set(value) == {"secure"}}


def with_change(values: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """Copy of stack config values with `leanstack:<path>` (dotted) set, or deleted with DELETE."""
    changed = copy.deepcopy(values)
    top, *rest = path.split(".")
    node = changed
    keys = [f"leanstack:{top}", *rest]
    for key in keys[:-1]:
        node = node[key]
    if value is DELETE:
        del node[keys[-1]]
    else:
        node[keys[-1]] = value
    return changed


def changed_values(stack: str, changes: list[tuple[str, Any]]) -> dict[str, Any]:
    values = stack_values(stack)
    for path, value in changes:
        values = with_change(values, path, value)
    return values


def errors_for(stack: str, changes: list[tuple[str, Any]]) -> str:
    values = changed_values(stack, changes)
    with pytest.raises(ConfigError) as error:
        validate_config(values, secret_keys(values), f"Pulumi.{stack}.yaml")
    return str(error.value)


BAD_CONFIG = [
    pytest.param("prod", [("services.api.autoscaling.min_replicas", 5), ("services.api.autoscaling.max_replicas", 3)],
                 "Pulumi.prod.yaml: services.api.autoscaling: min_replicas 5 > max_replicas 3", id="min-above-max"),
    pytest.param("dev", [("services.api.replica", 2)],
                 "Pulumi.dev.yaml: services.api.replica: unknown key 'replica'; allowed keys: allow_from, args, autoscaling,",
                 id="unknown-service-key"),
    pytest.param("dev", [("servces", {})],
                 "Pulumi.dev.yaml: servces: unknown key 'servces'; allowed keys: cost, environment, image_builder, ingress_class,", id="unknown-top-key"),
    pytest.param("dev", [("services.api.resources.requests.cpu", "250x")],
                 "Pulumi.dev.yaml: services.api.resources.requests.cpu: '250x' is not a Kubernetes quantity: use a number",
                 id="malformed-quantity"),
    pytest.param("dev", [("services.api.resources.requests.memory", "-1Gi")],
                 "Pulumi.dev.yaml: services.api.resources.requests.memory: '-1Gi' is negative", id="negative-quantity"),
    pytest.param("dev", [("services.api.resources.limits.cpu", "")],
                 "Pulumi.dev.yaml: services.api.resources.limits.cpu: must not be empty", id="empty-quantity"),
    pytest.param("dev", [("services.api.resources.limits.memory", "128Mi")],
                 "Pulumi.dev.yaml: services.api.resources.limits.memory: 128Mi is below requests.memory 192Mi "
                 "(limits must be >= requests)", id="limit-below-request"),
    pytest.param("dev", [("services.postgres.storage.size", "0")],
                 "Pulumi.dev.yaml: services.postgres.storage.size: '0' is zero; use a positive quantity", id="zero-size"),
    pytest.param("dev", [("services.api.replicas", 0)],
                 "Pulumi.dev.yaml: services.api.replicas: 0 is out of range; must be >= 1", id="zero-replicas"),
    pytest.param("dev", [("services.redis.cache.size_limit", "-1Gi")],
                 "Pulumi.dev.yaml: services.redis.cache.size_limit: '-1Gi' is negative", id="negative-cache"),
    pytest.param("dev", [("services.postgres.allow_from", ["api", "billing"])],
                 "Pulumi.dev.yaml: services.postgres.allow_from: unknown service 'billing'; "
                 "declared services: api, postgres, redis, web, worker", id="unknown-caller"),
    pytest.param("dev", [("services.api.depends_on", ["postgres", "redis", "search"])],
                 "Pulumi.dev.yaml: services.api.depends_on: unknown service 'search'", id="unknown-dependency"),
    pytest.param("dev", [("services.redis.allow_from", ["api"])],
                 "Pulumi.dev.yaml: services.worker.depends_on: redis does not admit worker; add worker to "
                 "services.redis.allow_from", id="dependency-not-admitted"),
    pytest.param("dev", [("services.postgres.exposure", "public")],
                 "Pulumi.dev.yaml: services.postgres.exposure: a database must stay internal", id="public-database"),
    pytest.param("dev", [("services.api.resources", DELETE)],
                 "Pulumi.dev.yaml: services.api.resources: required key is missing", id="missing-resources"),
    pytest.param("dev", [("namespace", DELETE)],
                 "Pulumi.dev.yaml: namespace: required key is missing", id="missing-namespace"),
    pytest.param("dev", [("services.api.port", "http")],
                 "Pulumi.dev.yaml: services.api.port: expected an integer, got str 'http'", id="wrong-type-port"),
    pytest.param("dev", [("services.api.replicas", "two")],
                 "Pulumi.dev.yaml: services.api.replicas: expected an integer, got str 'two'", id="wrong-type-replicas"),
    pytest.param("dev", [("services", ["api"])],
                 "Pulumi.dev.yaml: services: expected a mapping, got list ['api']", id="wrong-type-services"),
    pytest.param("dev", [("environment", "production")],
                 "Pulumi.dev.yaml: environment: 'production' is not allowed; use one of 'dev', 'staging' or 'prod'",
                 id="unknown-environment"),
    pytest.param("dev", [("namespace", "Shop_Dev")],
                 "Pulumi.dev.yaml: namespace: 'Shop_Dev' is not allowed; use a lowercase DNS label", id="bad-namespace"),
    pytest.param("dev", [("services.postgres.image.ref", "postgres:16")],
                 "Pulumi.dev.yaml: services.postgres.image: ref 'postgres:16' is not pinned by digest", id="unpinned-image"),
    pytest.param("dev", [("services.postgres.image.ref", "postgres:latest@sha256:" + "a" * 64)],
                 "uses the tag latest; drop the tag and keep the digest", id="latest-tag"),
    pytest.param("dev", [("services.api.egress_cidrs", ["10.0.0.1"])],
                 'services.api.egress_cidrs.0: CIDR mask is missing in \'10.0.0.1\'; did you mean "10.0.0.1/32"?',
                 id="cidr-without-mask"),
    pytest.param("dev", [("services.api.replicas", DELETE),
                         ("services.api.autoscaling", {"min_replicas": 1, "max_replicas": 2})],
                 "", id="autoscaling-replaces-replicas-is-valid"),
    pytest.param("dev", [("services.api.autoscaling", {"min_replicas": 1, "max_replicas": 2})],
                 "Pulumi.dev.yaml: services.api.replicas: set either replicas or autoscaling, not both", id="replicas-and-hpa"),
    pytest.param("dev", [("services.postgres.replicas", 2)],
                 "services.postgres.storage: storage is a ReadWriteOnce volume: run it with 1 replica", id="replicated-volume"),
    pytest.param("dev", [("services.redis.resources.limits.ephemeral_storage", "256Mi")],
                 "services.redis.resources.limits.ephemeral_storage: 256Mi cannot hold the pod's disk emptyDirs "
                 "(64Mi + 256Mi); raise it above 320Mi", id="cache-exceeds-ephemeral-limit"),
    pytest.param("dev", [("services.api.env", {"2FA": "on"})],
                 "services.api.env.2FA: '2FA' is not allowed; use an environment variable name", id="bad-env-name"),
    pytest.param("dev", [("cost", {"price_sheet": "aws"})],
                 "Pulumi.dev.yaml: cost: unknown price sheet 'aws'; use one of aws-eks-fargate-us-east-1, eks-m6i-us-east-1, "
                 "gke-autopilot-us-central1, opencost-default, or custom with custom_sheet", id="unknown-price-sheet"),
    pytest.param("dev", [("cost", {"price_sheet": "custom", "custom_sheet": {
                     "name": "mine", "source": "our contract", "date": "2026-11-01", "cpu_core_hour": "-0.01",
                     "memory_gib_hour": "0.004", "storage_gib_month": {"default": "0.1"}}})],
                 "Pulumi.dev.yaml: cost.custom_sheet.cpu_core_hour: '-0.01' is out of range; must be >= 0",
                 id="negative-price"),
    pytest.param("dev", [("cost", {"price_sheet": "custom", "custom_sheet": {
                     "name": "mine", "source": "our contract", "date": "2026-11-01", "cpu_core_hour": "0.03",
                     "storage_gib_month": {"default": "0.1"}}})],
                 "Pulumi.dev.yaml: cost.custom_sheet.memory_gib_hour: required key is missing", id="missing-price"),
    pytest.param("dev", [("kubernetes", {"kubeconfig": "/k", "tolerations": [{"key": "kwok.x-k8s.io/node", "operator": "Exists",
                                                                           "value": "fake"}]})],
                 "Pulumi.dev.yaml: kubernetes.tolerations.0: operator Exists takes no value", id="toleration-value-with-exists"),
    pytest.param("dev", [("kubernetes", {"kubeconfig": "/k", "tolerations": [{"key": "a", "effect": "NoRun"}]})],
                 "Pulumi.dev.yaml: kubernetes.tolerations.0.effect: 'NoRun' is not allowed; use one of", id="bad-toleration-effect"),
    pytest.param("dev", [("services.api.probes.startup_path", "health")],
                 'services.api.probes.startup_path: \'health\' is not an HTTP path; did you mean "/health"?', id="probe-path"),
]


@pytest.mark.parametrize("stack, changes, message", BAD_CONFIG)
def test_bad_config_names_file_key_path_and_what_is_allowed(stack, changes, message):
    if not message:  # a control case: the change alone is valid
        values = changed_values(stack, changes)
        validate_config(values, secret_keys(values), f"Pulumi.{stack}.yaml")
        return
    assert message in errors_for(stack, changes)


def test_every_problem_of_one_workload_is_its_own_line_at_its_own_key_path():
    lines = errors_for("dev", [("services.postgres.exposure", "public"), ("services.postgres.replicas", 2),
                               ("services.api.resources.limits", {"cpu": "10m", "memory": "16Mi"})]).splitlines()
    assert [line.split(": ")[1] for line in lines] == [
        "services.api.resources.limits.cpu", "services.api.resources.limits.memory",
        "services.postgres.exposure", "services.postgres.storage"]


def test_every_problem_is_reported_at_once():
    text = errors_for("dev", [("services.api.port", "http"), ("services.web.replicas", 0), ("colour", "blue")])
    assert [line.split(": ")[1] for line in text.splitlines()] == ["colour", "services.api.port", "services.web.replicas"]


def test_secret_env_must_name_a_secret_config_key():
    values = stack_values("dev")
    values["leanstack:postgresPassword"] = "hunter2"
    with pytest.raises(ConfigError) as error:
        validate_config(values, set(), "Pulumi.dev.yaml")
    assert ("Pulumi.dev.yaml: services.api.secret_files.DATABASE_PASSWORD: config key 'postgresPassword' is stored in "
            "plain text; set it with pulumi config set --secret leanstack:postgresPassword") in str(error.value)
    del values["leanstack:postgresPassword"]
    with pytest.raises(ConfigError, match="secret config key 'postgresPassword' is not set; run: pulumi config set --secret"):
        validate_config(values, set(), "Pulumi.dev.yaml")


def test_duplicate_service_names_are_rejected(tmp_path):
    text = shop_file("dev").read_text()
    duplicated = text.replace("    worker:\n", "    api:\n", 1)
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text(duplicated)
    with pytest.raises(ConfigError) as error:
        load_stack_file(path)
    line = duplicated.splitlines().index("    api:", duplicated.splitlines().index("    api:") + 1) + 1
    assert str(error.value) == f"Pulumi.dev.yaml: services.api: duplicate key 'api' (line {line}); each key may appear once"


def test_unparsable_stack_file_names_the_line(tmp_path):
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text("config:\n  leanstack:namespace: [unclosed\n")
    with pytest.raises(ConfigError, match=r"^Pulumi.dev.yaml: line \d+: not valid YAML"):
        load_stack_file(path)


@pytest.mark.parametrize("stack", SHOP_STACKS)
def test_the_shop_fixture_files_are_valid(stack):
    config = load_stack_file(shop_file(stack))
    assert config.environment == stack
    assert set(config.services) == {"api", "worker", "web", "postgres", "redis"}


def test_invalid_config_registers_no_resource_at_all():
    mocks = RecordingMocks()
    pulumi.runtime.set_mocks(mocks, project="leanstack", stack="dev", preview=True, monitor=MockMonitor(mocks))
    values = with_change(stack_values("dev"), "services.api.resources.requests.cpu", "250x")
    keys = sorted(secret_keys(values))
    pulumi.runtime.set_all_config({k: "x" if k in keys else _encoded(v) for k, v in values.items()}, keys)

    @pulumi.runtime.test
    def program():
        config = config_from_engine()
        Platform(config.namespace, PlatformArgs(config=config, stack="dev"))

    with pytest.raises(pulumi.RunError, match="services.api.resources.requests.cpu: '250x' is not a Kubernetes quantity"):
        program()
    assert mocks.registered == []


def _encoded(value: Any) -> str:
    """The engine hands object config to the program as JSON text."""
    return value if isinstance(value, str) else json.dumps(value)
