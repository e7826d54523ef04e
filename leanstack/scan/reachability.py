"""Network policy reachability, checked by a tool that is not ours: cyclonus.

`probe_model` turns a stack into cyclonus's synthetic probe model (`cyclonus analyze --mode probe
--probe-path`): the stack's namespace with one pod per service, labelled as the rendered
Deployment/StatefulSet templates label their pods, an ingress controller pod in the stack's ingress
namespace, a kube-dns pod in kube-system and an outsider pod in a namespace of its own. Every pod
listens on every probed port (each service port on TCP and UDP, DNS on 53/UDP+TCP, one port nobody
declares), so a cell reads "would the policies let this through", whatever really listens.

`expected_table` computes what must be reachable from the stack config alone (allow_from,
depends_on, port, exposure, load_balancer, egress_cidrs), never from the rendered policies; a
connection needs the source's egress AND the destination's ingress:

- pods outside the stack namespace are unrestricted (no policy selects them);
- a stack pod sends only to its depends_on peers on their port/TCP, to kube-dns on 53/UDP+TCP,
  and to addresses in its egress_cidrs (any port);
- a stack pod accepts only on its own port/TCP, from the services in its allow_from, from the
  ingress namespace when public, and from any address when public behind a LoadBalancer.

Traffic from a pod to itself goes through the policies like any other (as cyclonus models it).
`parse_cyclonus` reads cyclonus's "Combined" tables back; `compare` lists the differences.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Iterable, Optional

from leanstack.config.schema import StackConfig
from leanstack.kube import labels
from leanstack.kube.manifest import WORKLOAD_KINDS

DNS_NAMESPACE = "kube-system"
DNS_PORT = 53
OUTSIDER_NAMESPACE = "leanstack-outsider"
UNDECLARED_PORT = 9999  # or the next port no service declares
POD_NETWORK = "10.0.0.0/24"  # kwok's default pod CIDR (docs/cluster.md)

ALLOWED, BLOCKED = ".", "X"


@dataclass(frozen=True)
class Probe:
    port: int
    protocol: str  # "TCP" | "UDP"

    def __str__(self) -> str:
        return f"{self.port}/{self.protocol}"


@dataclass(frozen=True)
class Pod:
    namespace: str
    name: str
    labels: dict = field(hash=False, compare=False)
    ip: str
    service: Optional[str] = None  # the stack service this pod belongs to; None for the others
    role: str = "service"  # service | ingress | dns | outsider

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass
class ProbeModel:
    namespaces: dict[str, dict[str, str]]
    pods: list[Pod]
    probes: list[Probe]

    def pod(self, key: str) -> Pod:
        return next(p for p in self.pods if p.key == key)

    def to_cyclonus(self) -> dict:
        """The JSON `cyclonus analyze --mode probe --probe-path` reads (SyntheticProbeConnectivityConfig)."""
        containers = [{"Name": f"p{p.port}-{p.protocol.lower()}", "Port": p.port, "Protocol": p.protocol,
                       "PortName": f"p{p.port}-{p.protocol.lower()}"} for p in self.probes]
        return {
            "Probes": [{"Port": p.port, "Protocol": p.protocol} for p in self.probes],
            "Resources": {
                "Namespaces": self.namespaces,
                "Pods": [{"Namespace": p.namespace, "Name": p.name, "Labels": p.labels, "IP": p.ip,
                          "Containers": containers} for p in self.pods],
            },
        }


# A reachability table: (source pod key, destination pod key, "port/PROTO") -> allowed.
Table = dict[tuple[str, str, str], bool]


def service_pod_labels(config: StackConfig, manifests: Iterable[dict]) -> dict[str, dict[str, str]]:
    """Each service's pod labels, from the pod template of its rendered Deployment/StatefulSet."""
    found: dict[str, dict[str, str]] = {}
    for manifest in manifests:
        if manifest.get("kind") not in WORKLOAD_KINDS.values():
            continue
        pod_labels = manifest["spec"]["template"]["metadata"].get("labels") or {}
        service = pod_labels.get(labels.SERVICE)
        if service in config.services:
            found[service] = dict(pod_labels)
    missing = sorted(set(config.services) - set(found))
    if missing:
        raise ValueError(f"no rendered Deployment/StatefulSet with pod label {labels.SERVICE} for: {', '.join(missing)}")
    return found


def namespace_labels(name: str, manifests: Iterable[dict] = ()) -> dict[str, str]:
    """A namespace's labels as the API server keeps them: the rendered ones + kubernetes.io/metadata.name."""
    rendered = next((m["metadata"].get("labels") or {} for m in manifests
                     if m.get("kind") == "Namespace" and m["metadata"]["name"] == name), {})
    return {**rendered, labels.NAMESPACE_NAME: name}


def probes_for(config: StackConfig) -> list[Probe]:
    ports = sorted({s.port for s in config.services.values() if s.port is not None})
    undeclared = UNDECLARED_PORT
    while undeclared in ports or undeclared == DNS_PORT:
        undeclared += 1
    probes = [Probe(DNS_PORT, "TCP"), Probe(DNS_PORT, "UDP")]
    probes += [Probe(port, proto) for port in ports for proto in ("TCP", "UDP")]
    probes.append(Probe(undeclared, "TCP"))
    return sorted(set(probes), key=lambda p: (p.port, p.protocol))


def probe_model(config: StackConfig, manifests: Iterable[dict]) -> ProbeModel:
    """The synthetic cluster cyclonus probes: the stack's pods (labels from the rendered workloads),
    an ingress controller pod, a kube-dns pod and an outsider pod, each with its own IP."""
    manifests = list(manifests)
    pod_labels = service_pod_labels(config, manifests)
    hosts = ipaddress.ip_network(POD_NETWORK).hosts()
    next(hosts)  # skip .1 (a gateway, by habit)
    pods = [Pod(config.namespace, name, pod_labels[name], str(next(hosts)), service=name)
            for name in sorted(config.services)]
    pods += [
        Pod(config.ingress_namespace, "ingress-controller",
            {"app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/component": "controller"},
            str(next(hosts)), role="ingress"),
        Pod(DNS_NAMESPACE, "kube-dns", {labels.DNS_APP: labels.DNS_APP_VALUE}, str(next(hosts)), role="dns"),
        Pod(OUTSIDER_NAMESPACE, "outsider", {"app": "outsider"}, str(next(hosts)), role="outsider"),
    ]
    namespaces = {config.namespace: namespace_labels(config.namespace, manifests)}
    for pod in pods:
        namespaces.setdefault(pod.namespace, namespace_labels(pod.namespace))
    return ProbeModel(namespaces, pods, probes_for(config))


def _in_any(ip: str, cidrs: Iterable[str]) -> bool:
    address = ipaddress.ip_address(ip)
    return any(address in ipaddress.ip_network(cidr, strict=False) for cidr in cidrs)


def egress_allowed(config: StackConfig, source: Pod, destination: Pod, probe: Probe) -> bool:
    if source.namespace != config.namespace:
        return True
    spec = config.services[source.service]
    if destination.role == "dns" and probe.port == DNS_PORT and probe.protocol in ("UDP", "TCP"):
        return True
    if destination.service is not None and destination.namespace == config.namespace and destination.service in spec.depends_on:
        peer = config.services[destination.service]
        if probe.protocol == "TCP" and probe.port == peer.port:
            return True
    return _in_any(destination.ip, spec.egress_cidrs)


def ingress_allowed(config: StackConfig, source: Pod, destination: Pod, probe: Probe) -> bool:
    if destination.namespace != config.namespace:
        return True
    spec = config.services[destination.service]
    if spec.port is None or probe.protocol != "TCP" or probe.port != spec.port:
        return False
    if source.namespace == config.namespace and source.service in spec.allow_from:
        return True
    if spec.exposure == "public":
        if source.namespace == config.ingress_namespace:
            return True
        if spec.load_balancer and _in_any(source.ip, ["0.0.0.0/0"]):
            return True
    return False


def expected_table(config: StackConfig, model: ProbeModel) -> Table:
    """What the stack config says must be reachable, for every pair of model pods and every probe."""
    return {
        (source.key, destination.key, str(probe)):
            egress_allowed(config, source, destination, probe) and ingress_allowed(config, source, destination, probe)
        for probe in model.probes for source in model.pods for destination in model.pods
    }


_ROW = re.compile(r"^\|(.*)\|\s*$")


def _cells(line: str) -> Optional[list[str]]:
    match = _ROW.match(line.strip())
    return [cell.strip() for cell in match.group(1).split("|")] if match else None


def parse_combined_tables(output: str) -> list[dict[tuple[str, str], str]]:
    """Every "Combined:" table in cyclonus's probe output, in order: (from, to) -> mark."""
    tables = []
    for block in output.split("Combined:")[1:]:
        lines = []
        for line in block.strip().splitlines():  # the table right after "Combined:", up to the first other line
            if not line.strip().startswith(("+", "|")):
                break
            lines.append(line)
        rows = [cells for cells in map(_cells, lines) if cells is not None]
        if len(rows) <= 1:
            tables.append({})  # no pods (the trailing probe of pods read from a cluster: none here)
            continue
        header, body = rows[0], rows[1:]
        froms = [row[0] for row in body]
        # tablewriter upper-cases the header; its columns are the same sorted pods as the rows
        if [h.lower() for h in header[1:]] != [f.lower() for f in froms]:
            raise ValueError(f"cyclonus table header {header[1:]} does not match its rows {froms}")
        tables.append({(row[0], to): mark for row in body for to, mark in zip(froms, row[1:])})
    return tables


def parse_cyclonus(output: str, model: ProbeModel) -> Table:
    """cyclonus's verdicts for the model, one Combined table per probe (in the model's probe order)."""
    tables = parse_combined_tables(output)
    if len(tables) < len(model.probes):
        raise ValueError(f"cyclonus printed {len(tables)} Combined tables, expected one per probe ({len(model.probes)})")
    keys = {pod.key for pod in model.pods}
    table: Table = {}
    for probe, cells in zip(model.probes, tables):
        if {k for pair in cells for k in pair} != keys:
            raise ValueError(f"cyclonus's table for {probe} has pods {sorted({k for pair in cells for k in pair})}, not {sorted(keys)}")
        for (source, destination), mark in cells.items():
            if mark not in (ALLOWED, BLOCKED):
                raise ValueError(f"cyclonus could not probe {source} -> {destination} on {probe}: {mark!r}")
            table[(source, destination, str(probe))] = mark == ALLOWED
    return table


def compare(expected: Table, actual: Table) -> list[str]:
    """One line per cell that differs (or is missing on one side); empty when the tables agree."""
    problems = []
    for key in sorted(set(expected) | set(actual)):
        want, got = expected.get(key), actual.get(key)
        if want != got:
            verdict = {True: "allowed", False: "denied", None: "missing"}
            problems.append(f"{key[0]} -> {key[1]} on {key[2]}: expected {verdict[want]}, cyclonus says {verdict[got]}")
    return problems


def counts(table: Table) -> dict[str, int]:
    allowed = sum(table.values())
    return {"cells": len(table), "allowed": allowed, "denied": len(table) - allowed}


def allowed_connections(table: Table, namespace: Optional[str] = None) -> list[str]:
    """The allowed cells, one line each, sorted; with `namespace`, only those to or from it."""
    touches = lambda *keys: namespace is None or any(k.split("/", 1)[0] == namespace for k in keys)
    return [f"{source} -> {destination} on {probe}" for (source, destination, probe), ok in sorted(table.items())
            if ok and touches(source, destination)]
