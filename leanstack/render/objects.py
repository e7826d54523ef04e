"""What every rendered object shares: where it lives, its labels, and its header.

A `Scope` is the namespace objects go in plus the labels they all carry; `ServiceContext` and
`NamespaceContext` are the narrow inputs of the renderers (and of the components built on them),
made of the bound inputs of `leanstack.config.resolve`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Optional, Sequence

from leanstack.config.resolve import ContainerDefaults, Ingress, Placement, Workload
from leanstack.kube import labels
from leanstack.kube.manifest import API_VERSIONS


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
class ServiceContext:
    """Everything the renderers need to know about one service: its bound workload, where it runs,
    the ingress controller it admits when public, how long `up` awaits its workload and the nodes
    its pods may run on."""

    name: str
    scope: Scope
    spec: Workload
    ingress: Ingress = field(default_factory=Ingress)
    await_timeout_seconds: Optional[int] = None
    placement: Placement = field(default_factory=Placement)

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
    workloads: Sequence[Workload]
    limit_range: ContainerDefaults = field(default_factory=ContainerDefaults)
