"""Reading Kubernetes objects the way the policy engine hands them over.

A policy sees a resource as its Pulumi type token (`kubernetes:apps/v1:Deployment`) and its
properties with Kubernetes field names (camelCase). During a preview the engine wraps them in
read-only Mapping/Sequence proxies that raise `UnknownValueError` on a value not known yet (an image
digest before the build); these helpers only use the Mapping/Sequence protocols, so that error
reaches the SDK, which reports "can't run during preview" instead of a false violation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Iterator, Optional

KUBERNETES = "kubernetes:"

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
