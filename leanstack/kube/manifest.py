"""The one way leanstack reads a Kubernetes object: renderers' dicts, rendered YAML files, preview
inputs and the objects the policy engine hands over.

A policy sees a resource as its Pulumi type token (`kubernetes:apps/v1:Deployment`) and its
properties with Kubernetes field names (camelCase). During a preview the engine wraps them in
read-only Mapping/Sequence proxies that raise `UnknownValueError` on a value not known yet (an image
digest before the build); these helpers only use the Mapping/Sequence protocols, so that error
reaches the SDK, which reports "can't run during preview" instead of a false violation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Iterator, Optional

from leanstack.kube import labels

KUBERNETES = "kubernetes:"

API_VERSIONS = {
    "Namespace": "v1", "ResourceQuota": "v1", "LimitRange": "v1", "ServiceAccount": "v1", "Secret": "v1",
    "ConfigMap": "v1", "PersistentVolumeClaim": "v1", "Service": "v1", "Deployment": "apps/v1",
    "StatefulSet": "apps/v1", "Job": "batch/v1", "CronJob": "batch/v1",
    "HorizontalPodAutoscaler": "autoscaling/v2", "PodDisruptionBudget": "policy/v1",
    "NetworkPolicy": "networking.k8s.io/v1", "Ingress": "networking.k8s.io/v1",
}

# The kind each `workload` setting of a service runs as: the long-running workloads leanstack renders.
WORKLOAD_KINDS = {"deployment": "Deployment", "statefulset": "StatefulSet"}
# Kinds whose spec holds a pod template, and where that pod spec lives.
POD_SPEC_PATHS = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "ReplicationController": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
# Workloads that run until stopped; a Job's pod runs to completion and has nothing to probe.
LONG_RUNNING = {"Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController"}


def kind_of(resource_type: str) -> Optional[str]:
    """`kubernetes:apps/v1:Deployment` -> `Deployment`; None for anything not from the Kubernetes provider."""
    if not resource_type.startswith(KUBERNETES):
        return None
    return resource_type.rsplit(":", 1)[-1]


def dig(value: Any, *path: str) -> Any:
    """The value at `path` inside nested mappings, or None where a step is missing."""
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def items(value: Any) -> list:
    """A list field as a list; absent or malformed fields read as empty."""
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        return list(value)
    return []


def describe(resource_type: str, props: Mapping) -> str:
    """How messages name a resource: `Deployment shop/api`, `Namespace shop`."""
    kind = kind_of(resource_type) or resource_type
    name = dig(props, "metadata", "name") or "<unnamed>"
    namespace = dig(props, "metadata", "namespace")
    return f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"


def pod_spec(resource_type: str, props: Mapping) -> tuple[Optional[Mapping], str]:
    """The pod spec of a pod-bearing object and its field path, or (None, "") for other kinds."""
    path = POD_SPEC_PATHS.get(kind_of(resource_type) or "")
    if path is None:
        return None, ""
    spec = dig(props, *path)
    return (spec if isinstance(spec, Mapping) else {}), ".".join(path)


def containers(pod: Mapping, path: str, include_init: bool = True) -> Iterator[tuple[str, Mapping, str]]:
    """(name, container, field path) for every container of a pod spec, init containers first."""
    fields = ("initContainers", "containers") if include_init else ("containers",)
    for field in fields:
        for index, container in enumerate(items(pod.get(field))):
            if isinstance(container, Mapping):
                name = container.get("name") or f"#{index}"
                yield name, container, f"{path}.{field}[{name}]"


def mapping(value: Any) -> Mapping:
    """A mapping field as a mapping; absent or malformed fields read as empty."""
    return value if isinstance(value, Mapping) else {}


def resource_type(manifest: Mapping) -> str:
    """The Pulumi type token of a manifest: apps/v1 Deployment -> `kubernetes:apps/v1:Deployment`
    (core objects: v1 -> core/v1)."""
    api_version = str(manifest.get("apiVersion", ""))
    return f"{KUBERNETES}{api_version if '/' in api_version else 'core/' + api_version}:{manifest.get('kind')}"


def resource_id(manifest: Mapping) -> str:
    """`Deployment/shop/api`: how reports name an object."""
    name, namespace = dig(manifest, "metadata", "name"), dig(manifest, "metadata", "namespace")
    return f"{manifest.get('kind')}/{namespace + '/' if namespace else ''}{name}"


def service_of(manifest: Mapping) -> str:
    """The service an object belongs to: its app.kubernetes.io/name label, else its own name."""
    return dig(manifest, "metadata", "labels", labels.NAME) or dig(manifest, "metadata", "name") or "?"


def claim_size(claim: Mapping) -> str:
    """Requested storage of a claim (or claim template), "0" when it states none."""
    return str(dig(claim, "spec", "resources", "requests", "storage") or "0")
