"""The component package (plugin/) from another language, with the real engine: `pulumi package
get-schema` prints the checked-in schema; examples/yaml-consumer, a Pulumi YAML program, adds the
package with `pulumi package add`, previews and deploys a hardened namespace plus one right-sized
service to the local cluster, and its objects are what the Python components declare for the same
inputs; bad input fails at preview, located, with nothing created."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pulumi
import pytest
import yaml

from bench.scratch import ON_KWOK_NODES, ROOT
from leanstack.components.namespace import HardenedNamespace, HardenedNamespaceArgs
from leanstack.components.offline import RecordingMocks, plain
from leanstack.components.service import RightSizedService, RightSizedServiceArgs
from leanstack.config.resolve import Amounts, Placement, Probe, Probes, Resources, Toleration, Workload
from tests.e2e.live import OTHER_DIGEST, Cluster, namespace_gone, unique_namespace, wait_for

pytestmark = pytest.mark.e2e

PLUGIN = ROOT / "plugin"
EXAMPLE = ROOT / "examples" / "yaml-consumer" / "Pulumi.yaml"
IMAGE = OTHER_DIGEST.format("api")
# examples/yaml-consumer's service, as a Python program writes it.
WORKLOAD = Workload(
    port=8080, replicas=2,
    resources=Resources(Amounts("100m", "128Mi", "64Mi"), Amounts("250m", "256Mi", "256Mi")),
    probes=Probes(Probe.http_get("/health", 8080), Probe.http_get("/ready", 8080), Probe.http_get("/health", 8080)),
)
KWOK = Placement(ON_KWOK_NODES["node_selector"], tuple(Toleration(**t) for t in ON_KWOK_NODES["tolerations"]))


class Consumer:
    """A scratch copy of examples/yaml-consumer without its `packages:` (the test adds it), with its
    own state backend and stack `e2e`."""

    def __init__(self, tmp_path: Path):
        self.directory = tmp_path / "yaml-consumer"
        self.directory.mkdir()
        added = "packages:\n  leanstack: ../../plugin\n"  # what `pulumi package add ../../plugin` wrote
        program = EXAMPLE.read_text()
        assert program.endswith(added)
        (self.directory / "Pulumi.yaml").write_text(program.removesuffix(added))
        (tmp_path / "state").mkdir()
        self.env = {**os.environ, "PULUMI_BACKEND_URL": f"file://{tmp_path / 'state'}",
                    "PULUMI_CONFIG_PASSPHRASE": "leanstack-local-only"}
        self.pulumi("stack", "init", "e2e")

    def pulumi(self, *args: str, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess:
        result = subprocess.run(["pulumi", *args], cwd=self.directory, env=self.env, capture_output=True, text=True,
                                timeout=timeout)
        if check:
            assert result.returncode == 0, f"pulumi {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
        return result

    def add_package(self) -> None:
        self.pulumi("package", "add", str(PLUGIN))
        assert yaml.safe_load((self.directory / "Pulumi.yaml").read_text())["packages"] == {"leanstack": str(PLUGIN)}

    def configure(self, cluster: Cluster, namespace: str) -> None:
        config = {"namespace": namespace, "kubeconfig": str(cluster.kubeconfig), "image": IMAGE,
                  "nodeSelector": ON_KWOK_NODES["node_selector"], "tolerations": ON_KWOK_NODES["tolerations"]}
        stack_file = {"config": {f"yaml-consumer:{key}": value for key, value in config.items()}}
        (self.directory / "Pulumi.e2e.yaml").write_text(yaml.safe_dump(stack_file))

    def edit(self, old: str, new: str) -> None:
        path = self.directory / "Pulumi.yaml"
        text = path.read_text()
        assert old in text
        path.write_text(text.replace(old, new, 1))

    def resources(self) -> list[dict]:
        return json.loads(self.pulumi("stack", "export").stdout)["deployment"].get("resources") or []


def python_objects(namespace: str) -> dict[tuple[str, str], dict]:
    """What the Python components register for the example's inputs (Pulumi mocks): (type, name) -> inputs."""
    mocks = RecordingMocks()
    pulumi.runtime.set_mocks(mocks, project="yaml-consumer", stack="e2e", preview=False)

    def program():
        shop = HardenedNamespace("shop", HardenedNamespaceArgs(name=namespace, workloads=[WORKLOAD], environment="dev"))
        RightSizedService("api", RightSizedServiceArgs(namespace=namespace, workload=WORKLOAD, image=IMAGE,
                                                       environment="dev", placement=KWOK),
                          opts=pulumi.ResourceOptions(depends_on=[shop]))

    pulumi.runtime.test(program)()
    return {(r.typ, r.name): plain(r.inputs) for r in mocks.registered if r.typ.startswith("kubernetes:")}


def without_empty_lists(value):
    """Registered inputs as the state keeps them: without the empty lists the component passed
    (`ingress: []`, `env: []`), which the engine leaves out of a resource's inputs (mocks keep them)."""
    if isinstance(value, dict):
        return {key: without_empty_lists(item) for key, item in value.items() if item != []}
    if isinstance(value, list):
        return [without_empty_lists(item) for item in value]
    return value


def test_get_schema_prints_the_checked_in_schema(tmp_path):
    result = subprocess.run(["pulumi", "package", "get-schema", str(PLUGIN)], cwd=tmp_path, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == json.loads((ROOT / "docs" / "package-schema.json").read_text()), \
        "the package schema changed: pulumi package get-schema ./plugin > docs/package-schema.json, and review it"


def test_a_yaml_program_deploys_the_components_as_python_declares_them(cluster, tmp_path):
    consumer = Consumer(tmp_path)
    consumer.add_package()
    namespace = unique_namespace("yaml")
    consumer.configure(cluster, namespace)

    preview = json.loads(consumer.pulumi("preview", "--json").stdout)
    planned = {(step["newState"]["type"], step["urn"].split("::")[-1]) for step in preview["steps"]}
    assert {step["op"] for step in preview["steps"]} == {"create"}
    assert {("leanstack:namespace:HardenedNamespace", "shop"), ("leanstack:service:RightSizedService", "api"),
            ("kubernetes:apps/v1:Deployment", "api-deployment")} <= planned

    try:
        consumer.pulumi("up", "--yes", "--skip-preview")
        state = {(r["type"], r["urn"].split("::")[-1]): plain(r["inputs"]) for r in consumer.resources()
                 if r["type"].startswith("kubernetes:")}
        expected = {key: without_empty_lists(inputs) for key, inputs in python_objects(namespace).items()}
        assert sorted(state) == sorted(expected)
        assert state == expected
        for manifest in expected.values():  # and each is in the cluster
            scope = None if manifest["kind"] == "Namespace" else namespace
            assert cluster.get(manifest["kind"], manifest["metadata"]["name"], scope) is not None, manifest["kind"]
        deployment = cluster.get("deployment", "api", namespace)
        assert deployment["status"].get("availableReplicas") == 2
    finally:
        consumer.pulumi("destroy", "--yes", "--skip-preview")
    wait_for(namespace_gone(cluster, namespace), 120, f"namespace {namespace} deleted")


@pytest.mark.parametrize("old, new, expected", [
    ("    replicas: 2\n", "    replicas: two\n",
     ["leanstack:index:RightSizedService is not assignable", "replicas: Cannot assign type 'string' to type 'integer'"]),
    ("    replicas: 2\n", "    replicas: 2\n    maxSurge: 1\n",
     ["Property maxSurge does not exist on 'leanstack:index:Workload'", "Existing properties are: "]),
    ("      environment: dev\n", "      environment: dev\n      replica: 3\n",
     ["Property replica does not exist on 'leanstack:index:HardenedNamespace'",
      "Existing properties are: "]),
    # Passes the YAML type check (each kind of check is optional): the package's own binding refuses it
    # (shop's copy of the workload is bound first; api depends on shop).
    ("      startup: {http: {path: /health, port: 8080}}\n", "      startup: {}\n",
     ["leanstack:index:HardenedNamespace resource 'shop' has a problem",
      "workloads[0].probes.startup: a probe is exactly one of http, tcp or exec"]),
], ids=["wrong-type", "unknown-nested-key", "unknown-key", "broken-invariant"])
def test_bad_input_from_yaml_fails_at_preview_located_and_creates_nothing(cluster, tmp_path, old, new, expected):
    consumer = Consumer(tmp_path)
    consumer.add_package()
    namespace = unique_namespace("yaml-bad")
    consumer.configure(cluster, namespace)
    consumer.edit(old, new)
    result = consumer.pulumi("preview", check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    for line in expected:
        assert line in output, output
    up = consumer.pulumi("up", "--yes", "--skip-preview", check=False)
    assert up.returncode != 0
    assert [r["type"] for r in consumer.resources() if r["type"].startswith("kubernetes:")] == []
    assert cluster.get("namespace", namespace) is None
