"""leanstack.config.resolve.plain: the plain data Pulumi's component provider host passes (camelCase
keys, numbers as floats, lists) binds into the frozen args a Python program writes, or fails with one
located line."""

from __future__ import annotations

import pulumi
import pytest

from leanstack.components.namespace import HardenedNamespaceArgs
from leanstack.components.offline import RecordingMocks
from leanstack.components.service import RightSizedService, RightSizedServiceArgs
from leanstack.config.resolve import Amounts, Placement, Probe, Probes, Resources, Toleration, Workload
from leanstack.config.resolve.plain import PlainValueError, bind
from leanstack import package

IMAGE = "registry.example/shop/api@sha256:" + "1" * 64
# As examples/yaml-consumer writes it, after the wire: numbers are floats.
PLAIN_WORKLOAD = {
    "port": 8080.0, "replicas": 2.0,
    "resources": {"requests": {"cpu": "100m", "memory": "128Mi", "ephemeralStorage": "64Mi"},
                  "limits": {"cpu": "250m", "memory": "256Mi", "ephemeralStorage": "256Mi"}},
    "probes": {"startup": {"http": {"path": "/health", "port": 8080.0}},
               "readiness": {"http": {"path": "/ready", "port": 8080.0}},
               "liveness": {"http": {"path": "/health", "port": 8080.0}}},
}
WORKLOAD = Workload(
    port=8080, replicas=2,
    resources=Resources(Amounts("100m", "128Mi", "64Mi"), Amounts("250m", "256Mi", "256Mi")),
    probes=Probes(Probe.http_get("/health", 8080), Probe.http_get("/ready", 8080), Probe.http_get("/health", 8080)),
)
KWOK = {"nodeSelector": {"type": "kwok"},
        "tolerations": [{"key": "kwok.x-k8s.io/node", "operator": "Exists", "effect": "NoSchedule"}]}


def test_plain_data_binds_into_the_args_a_python_program_writes():
    assert bind(Workload, PLAIN_WORKLOAD) == WORKLOAD
    assert bind(HardenedNamespaceArgs, {"name": "shop", "environment": "dev", "workloads": [PLAIN_WORKLOAD]}) == \
        HardenedNamespaceArgs(name="shop", environment="dev", workloads=(WORKLOAD,))
    assert bind(Placement, KWOK) == Placement({"type": "kwok"}, (Toleration("kwok.x-k8s.io/node", "Exists", None,
                                                                            "NoSchedule"),))


def test_left_out_and_null_inputs_take_the_python_default():
    bound = bind(Workload, {**PLAIN_WORKLOAD, "allowFrom": None})
    assert bound.allow_from == () and bound.role == "app" and bound.security == Workload(WORKLOAD.resources,
                                                                                           WORKLOAD.probes).security


def test_an_output_passes_where_the_field_takes_an_input():
    image = object()  # what an unknown Output is to this module: not plain data
    args = bind(RightSizedServiceArgs, {"namespace": "shop", "workload": WORKLOAD, "image": image})
    assert args.image is image and args.workload is WORKLOAD


@pytest.mark.parametrize("value, path, reason", [
    ({**PLAIN_WORKLOAD, "replicas": "two"}, "replicas", "expected an integer, got 'two' (str)"),
    ({**PLAIN_WORKLOAD, "replicas": 1.5}, "replicas", "expected an integer, got 1.5 (float)"),
    ({**PLAIN_WORKLOAD, "loadBalancer": 1.0}, "loadBalancer", "expected a boolean, got 1.0 (float)"),
    ({**PLAIN_WORKLOAD, "allowFrom": "web"}, "allowFrom", "expected a list, got 'web' (str)"),
    ({**PLAIN_WORKLOAD, "env": ["A=1"]}, "env", "expected a map, got ['A=1'] (list)"),
    ({**PLAIN_WORKLOAD, "peers": [{"name": "db", "port": "5432"}]}, "peers[0].port",
     "expected an integer, got '5432' (str)"),
    ({**PLAIN_WORKLOAD, "maxSurge": 1}, "maxSurge", "unknown key of Workload; allowed: resources, probes, role,"),
    ({"port": 8080}, "resources", "missing; Workload requires resources, probes"),
    ({**PLAIN_WORKLOAD, "probes": {**PLAIN_WORKLOAD["probes"], "startup": {}}}, "probes.startup",
     "a probe is exactly one of http, tcp or exec"),
])
def test_a_misfit_names_its_path_and_what_is_allowed(value, path, reason):
    with pytest.raises(PlainValueError) as raised:
        bind(Workload, value)
    assert raised.value.path == path and raised.value.reason.startswith(reason)
    assert str(raised.value).startswith(f"{path}: {reason}")


def kubernetes_inputs(build) -> list[dict]:
    mocks = RecordingMocks()
    pulumi.runtime.set_mocks(mocks, project="shop", stack="test", preview=False)
    pulumi.runtime.test(build)()
    return [(r.typ, r.name, r.inputs) for r in mocks.registered if r.typ.startswith("kubernetes:")]


def test_the_package_component_registers_what_the_python_component_does():
    placement = bind(Placement, KWOK)
    python = kubernetes_inputs(lambda: RightSizedService("api", RightSizedServiceArgs(
        namespace="shop", workload=WORKLOAD, image=IMAGE, environment="dev", placement=placement)))
    from_host = kubernetes_inputs(lambda: package.RightSizedService("api", {
        "namespace": "shop", "workload": PLAIN_WORKLOAD, "image": IMAGE, "environment": "dev", "placement": KWOK}))
    assert from_host == python and len(python) == 5
