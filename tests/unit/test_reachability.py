"""The expected reachability table (leanstack.scan.reachability), on a small hand-made stack, and the
parsing of cyclonus's probe output. The e2e test (tests/e2e/test_reachability.py) runs cyclonus."""

from __future__ import annotations

import pytest

from leanstack.config.schema import StackConfig
from leanstack.scan import reachability as r

IMAGE = "busybox:1.36@sha256:" + "0" * 64
RESOURCES = {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"cpu": "20m", "memory": "32Mi"}}


def service(**fields) -> dict:
    return {"image": {"ref": IMAGE}, "resources": RESOURCES, "security": {"run_as_user": 1000},
            "probes": {"type": "tcp"} if "port" in fields else {"type": "exec", "command": ["true"]}, **fields}


CONFIG = StackConfig.model_validate({
    "environment": "dev",
    "namespace": "small",
    "services": {
        # public behind a LoadBalancer: the ingress namespace and any address may call it
        "gw": service(port=8000, exposure="public", load_balancer=True, depends_on=["db"]),
        "db": service(role="database", port=5432, allow_from=["gw", "job"]),
        # no port; egress to the pod network by CIDR (any port), and to db
        "job": service(role="worker", depends_on=["db"], egress_cidrs=["10.0.0.0/24"]),
        # admits gw, but gw does not depend on it: ingress alone opens nothing
        "lone": service(port=7000, allow_from=["gw"]),
        # public without a LoadBalancer: only the ingress namespace
        "site": service(role="web", port=8080, exposure="public"),
    },
})


def workload(name: str, kind: str = "Deployment") -> dict:
    return {"kind": kind, "metadata": {"name": name},
            "spec": {"template": {"metadata": {"labels": {"app.kubernetes.io/name": name, "leanstack.dev/service": name}}}}}


MANIFESTS = [{"kind": "Namespace", "metadata": {"name": "small", "labels": {"team": "t"}}},
             *(workload(name) for name in ("gw", "db", "job", "lone")), workload("site", "StatefulSet")]


@pytest.fixture(scope="module")
def model() -> r.ProbeModel:
    return r.probe_model(CONFIG, MANIFESTS)


@pytest.fixture(scope="module")
def table(model) -> r.Table:
    return r.expected_table(CONFIG, model)


def allowed(table, source, destination, probe) -> bool:
    return table[(source, destination, probe)]


def test_model_pods_labels_namespaces_and_probes(model):
    keys = [pod.key for pod in model.pods]
    assert keys == ["small/db", "small/gw", "small/job", "small/lone", "small/site", "ingress-nginx/ingress-controller",
                    "kube-system/kube-dns", "leanstack-outsider/outsider"]
    assert model.pod("small/site").labels == {"app.kubernetes.io/name": "site", "leanstack.dev/service": "site"}
    assert model.pod("kube-system/kube-dns").labels == {"k8s-app": "kube-dns"}
    assert model.namespaces["small"] == {"team": "t", "kubernetes.io/metadata.name": "small"}
    assert model.namespaces["ingress-nginx"] == {"kubernetes.io/metadata.name": "ingress-nginx"}
    assert len({pod.ip for pod in model.pods}) == len(model.pods)
    assert [str(p) for p in model.probes] == ["53/TCP", "53/UDP", "5432/TCP", "5432/UDP", "7000/TCP", "7000/UDP",
                                              "8000/TCP", "8000/UDP", "8080/TCP", "8080/UDP", "9999/TCP"]
    cyclonus = model.to_cyclonus()
    assert cyclonus["Probes"][0] == {"Port": 53, "Protocol": "TCP"}
    (pod,) = [p for p in cyclonus["Resources"]["Pods"] if p["Name"] == "gw"]
    assert {(c["Port"], c["Protocol"]) for c in pod["Containers"]} == {(p.port, p.protocol) for p in model.probes}


def test_a_service_without_a_rendered_workload_is_an_error():
    with pytest.raises(ValueError, match="lone"):
        r.probe_model(CONFIG, [m for m in MANIFESTS if m["metadata"]["name"] != "lone"])


def test_database_only_from_declared_callers_on_its_port(table):
    assert allowed(table, "small/gw", "small/db", "5432/TCP")
    assert allowed(table, "small/job", "small/db", "5432/TCP")
    assert not allowed(table, "small/gw", "small/db", "5432/UDP")      # port declared on TCP only
    assert not allowed(table, "small/job", "small/db", "5432/UDP")     # job's CIDR egress, db's ingress says no
    assert not allowed(table, "small/gw", "small/db", "9999/TCP")
    for source in ("small/site", "small/lone", "ingress-nginx/ingress-controller", "leanstack-outsider/outsider",
                   "kube-system/kube-dns", "small/db"):
        assert not allowed(table, source, "small/db", "5432/TCP"), source


def test_public_services(table, model):
    assert allowed(table, "ingress-nginx/ingress-controller", "small/site", "8080/TCP")
    assert not allowed(table, "leanstack-outsider/outsider", "small/site", "8080/TCP")
    assert not allowed(table, "ingress-nginx/ingress-controller", "small/site", "8000/TCP")
    # load_balancer: any address, so every pod whose egress lets it out
    for pod in model.pods:
        expected = pod.namespace != "small" or pod.key == "small/job"  # job: egress by CIDR
        assert allowed(table, pod.key, "small/gw", "8000/TCP") is expected, pod.key
    assert not allowed(table, "leanstack-outsider/outsider", "small/gw", "8080/TCP")


def test_admitting_a_caller_that_does_not_depend_on_you_opens_nothing(table):
    assert not allowed(table, "small/gw", "small/lone", "7000/TCP")
    assert not any(ok for (source, destination, _), ok in table.items() if destination == "small/lone")


def test_dns_and_egress(table, model):
    for pod in model.pods:
        for probe in ("53/UDP", "53/TCP"):
            assert allowed(table, pod.key, "kube-system/kube-dns", probe), (pod.key, probe)
        if pod.namespace == "small" and pod.key != "small/job":
            assert not allowed(table, pod.key, "kube-system/kube-dns", "8080/TCP")
            assert not allowed(table, pod.key, "leanstack-outsider/outsider", "8080/TCP")
    # egress_cidrs: anywhere in the CIDR, any port, where the other side has no policy
    assert allowed(table, "small/job", "leanstack-outsider/outsider", "9999/TCP")
    assert allowed(table, "small/job", "kube-system/kube-dns", "5432/UDP")
    # pods without policies are unrestricted
    assert allowed(table, "leanstack-outsider/outsider", "ingress-nginx/ingress-controller", "9999/TCP")


def test_counts_and_summary(table, model):
    n = len(model.pods) ** 2 * len(model.probes)
    assert r.counts(table)["cells"] == n
    lines = r.allowed_connections(table, "small")
    assert "small/gw -> small/db on 5432/TCP" in lines
    assert all("small/" in line for line in lines)
    assert r.counts(table)["allowed"] == sum(table.values())


OUTPUT = """probe:
Ingress:
+-----+-----+-----+
|     | A/X | B/Y |
+-----+-----+-----+
| a/x | X   | X   |
| b/y | X   | X   |
+-----+-----+-----+

Combined:
+-----+-----+-----+
|     | A/X | B/Y |
+-----+-----+-----+
| a/x | .   | X   |
| b/y | X   | .   |
+-----+-----+-----+



Ingress:
+-----+-----+-----+
|     | A/X | B/Y |
+-----+-----+-----+
| a/x | .   | .   |
| b/y | .   | .   |
+-----+-----+-----+

Combined:
+-----+-----+-----+
|     | A/X | B/Y |
+-----+-----+-----+
| a/x | X   | .   |
| b/y | .   | X   |
+-----+-----+-----+



Combined:
+--+
|  |
+--+
"""


def tiny_model() -> r.ProbeModel:
    pods = [r.Pod("a", "x", {}, "10.0.0.2"), r.Pod("b", "y", {}, "10.0.0.3")]
    return r.ProbeModel({"a": {}, "b": {}}, pods, [r.Probe(80, "TCP"), r.Probe(81, "TCP")])


def test_parse_cyclonus_reads_one_combined_table_per_probe():
    table = r.parse_cyclonus(OUTPUT, tiny_model())
    assert table == {("a/x", "a/x", "80/TCP"): True, ("a/x", "b/y", "80/TCP"): False,
                     ("b/y", "a/x", "80/TCP"): False, ("b/y", "b/y", "80/TCP"): True,
                     ("a/x", "a/x", "81/TCP"): False, ("a/x", "b/y", "81/TCP"): True,
                     ("b/y", "a/x", "81/TCP"): True, ("b/y", "b/y", "81/TCP"): False}
    expected = dict(table)
    expected[("a/x", "b/y", "81/TCP")] = False
    assert r.compare(expected, table) == ["a/x -> b/y on 81/TCP: expected denied, cyclonus says allowed"]
    assert r.compare(table, table) == []


def test_parse_cyclonus_refuses_unprobed_cells_and_missing_tables():
    with pytest.raises(ValueError, match="could not probe a/x -> b/y on 80/TCP: 'N'"):
        r.parse_cyclonus(OUTPUT.replace("| a/x | .   | X   |", "| a/x | .   | N   |"), tiny_model())
    with pytest.raises(ValueError, match="expected one per probe"):
        r.parse_cyclonus(OUTPUT.split("Ingress:")[0] + OUTPUT.split("Ingress:")[1], tiny_model())
