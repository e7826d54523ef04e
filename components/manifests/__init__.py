"""Pure renderers: validated config in, Kubernetes objects (plain dicts, API field names) out.

Nothing here imports Pulumi, so policies, the cost model and tests read the exact objects the
components register. Values that only exist at deploy time (an image digest, a secret) are passed
in as opaque arguments and placed where they belong.
"""

from __future__ import annotations

import re

from components.config import StackConfig

MANAGED_BY = {"app.kubernetes.io/managed-by": "leanstack"}


def stack_labels(config: StackConfig) -> dict[str, str]:
    return {**config.labels, **MANAGED_BY, "leanstack.dev/environment": config.environment}


def selector_labels(service_name: str) -> dict[str, str]:
    """Stable pod selector of a service; Deployment selectors are immutable, so keep this minimal."""
    return {"app.kubernetes.io/name": service_name}


def metadata(config: StackConfig, name: str, service_name: str | None = None, **extra: dict) -> dict:
    labels = stack_labels(config)
    if service_name is not None:
        labels = {**labels, **selector_labels(service_name), "app.kubernetes.io/component": config.services[service_name].role}
    return {"name": name, "namespace": config.namespace, "labels": labels, **extra}


API_VERSIONS = {
    "Namespace": "v1", "ResourceQuota": "v1", "LimitRange": "v1", "ServiceAccount": "v1", "Secret": "v1",
    "PersistentVolumeClaim": "v1", "Service": "v1", "Deployment": "apps/v1",
    "HorizontalPodAutoscaler": "autoscaling/v2", "PodDisruptionBudget": "policy/v1",
    "NetworkPolicy": "networking.k8s.io/v1", "Ingress": "networking.k8s.io/v1",
}


def header(kind: str, config: StackConfig, name: str, service_name: str | None = None) -> dict:
    """apiVersion, kind and metadata of an object in the stack's namespace."""
    return {"apiVersion": API_VERSIONS[kind], "kind": kind, "metadata": metadata(config, name, service_name)}


def as_args(manifest: dict) -> dict:
    """A manifest's top-level fields as Pulumi resource keyword arguments (snake_case).

    Nested values keep their Kubernetes field names; the SDK passes them through unchanged.
    """
    return {re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower(): value for key, value in manifest.items()}
