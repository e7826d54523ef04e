"""What every rendered object shares: where it lives, its labels, and its header.

A `Scope` is the namespace objects go in plus the labels they all carry; `ServiceContext` and
`NamespaceContext` are the narrow inputs of the renderers (and of the components built on them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Sequence

from leanstack.config.schema import LimitRangeDefaults, WorkloadSpec
from leanstack.kube import labels
from leanstack.kube.manifest import API_VERSIONS

# The kind each `workload` setting runs as.
WORKLOAD_KINDS = {"deployment": "Deployment", "statefulset": "StatefulSet"}
DEFAULT_INGRESS_NAMESPACE = "ingress-nginx"
DEFAULT_INGRESS_CLASS = "nginx"


@dataclass(frozen=True)
class Scope:
    """A namespace and the labels of everything in it.

    `environment` (dev, staging, prod) is written as a label the policies read; prod also spreads
    replicas across zones and nodes.
    """

    namespace: str
    labels: Mapping[str, str] = field(default_factory=dict)
    environment: Optional[str] = None

    def object_labels(self) -> dict[str, str]:
        own = {labels.MANAGED_BY: labels.MANAGER}
        if self.environment is not None:
            own[labels.ENVIRONMENT] = self.environment
        return {**self.labels, **own}

    def header(self, kind: str, name: str, service: Optional["ServiceContext"] = None) -> dict:
        """apiVersion, kind and metadata of an object in this namespace; a service's objects carry its labels."""
        object_labels = service.pod_labels() if service is not None else self.object_labels()
        return {"apiVersion": API_VERSIONS[kind], "kind": kind,
                "metadata": {"name": name, "namespace": self.namespace, "labels": object_labels}}


def selector_labels(service_name: str) -> dict[str, str]:
    """Stable selector of a service's serving pods; Deployment selectors are immutable, so keep this minimal."""
    return {labels.NAME: service_name}


def member_labels(service_name: str) -> dict[str, str]:
    """Selector of every pod of a service, its Jobs' too: what network policies admit and confine."""
    return {labels.SERVICE: service_name}


@dataclass(frozen=True)
class IngressSettings:
    """The cluster's ingress controller: public services admit its namespace and use its class.
    Only a controller that publishes an address in the Ingress status can be awaited."""

    namespace: str = DEFAULT_INGRESS_NAMESPACE
    class_name: str = DEFAULT_INGRESS_CLASS
    publishes_status: bool = False


@dataclass(frozen=True)
class Placement:
    """The nodes a service's pods may run on: node labels they require, taints they tolerate (each
    toleration a Kubernetes toleration object: key, operator, value, effect)."""

    node_selector: Mapping[str, str] = field(default_factory=dict)
    tolerations: Sequence[Mapping[str, str]] = ()


@dataclass(frozen=True)
class ServiceContext:
    """Everything the renderers need to know about one service.

    `peer_ports` holds the port of each service named in `spec.depends_on` (its egress targets);
    `await_timeout_seconds` bounds how long `up` waits for its workload to become ready;
    `config_data` holds the content of each of `spec.config_files`; `extra_images` the image of each
    sidecar or init container that names one (the others run the service's image).
    """

    name: str
    scope: Scope
    spec: WorkloadSpec
    peer_ports: Mapping[str, int] = field(default_factory=dict)
    ingress: IngressSettings = field(default_factory=IngressSettings)
    await_timeout_seconds: Optional[int] = None
    config_data: Mapping[str, str] = field(default_factory=dict)
    extra_images: Mapping[str, Any] = field(default_factory=dict)
    placement: Placement = field(default_factory=Placement)

    def __post_init__(self) -> None:
        missing = sorted(set(self.spec.depends_on) - set(self.peer_ports))
        if missing:
            raise ValueError(f"service {self.name}: peer_ports has no port for {', '.join(missing)} (named in depends_on)")
        unread = sorted(set(self.spec.config_files) - set(self.config_data))
        if unread:
            raise ValueError(f"service {self.name}: config_data has no content for {', '.join(unread)} (named in config_files)")

    def pod_labels(self) -> dict[str, str]:
        return {**self.scope.object_labels(), **selector_labels(self.name), **member_labels(self.name),
                labels.COMPONENT: self.spec.role}

    def task_labels(self, component: str) -> dict[str, str]:
        """Labels of a Job's pods: the service's network policy applies, its Service and PDB don't."""
        return {**self.scope.object_labels(), **member_labels(self.name), labels.COMPONENT: component}

    def header(self, kind: str, name: Optional[str] = None) -> dict:
        return self.scope.header(kind, name or self.name, self)

    @property
    def spread_across_zones(self) -> bool:
        return self.scope.environment == "prod" and self.spec.max_replicas >= 2


@dataclass(frozen=True)
class NamespaceContext:
    """A namespace and the workloads it will hold, which size its quota and limit range."""

    scope: Scope
    workloads: Sequence[WorkloadSpec]
    limit_range: LimitRangeDefaults = field(default_factory=LimitRangeDefaults)
