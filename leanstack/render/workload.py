"""A service's long-running workload (its pod comes from render.pod) and the objects it needs to run:
ServiceAccount without a token, the Secret of its secret env, the claim of its storage.
"""

from __future__ import annotations

from typing import Any, Optional

from leanstack.config.resolve import Workload
from leanstack.kube import labels, names
from leanstack.kube.manifest import WORKLOAD_KINDS
from leanstack.render import config_files
from leanstack.render.objects import ServiceContext, selector_labels
from leanstack.render.pod import pod_spec
from leanstack.render.sizing import ROLLING_SURGE, rolls_without_surge

REVISION_HISTORY = 5


def service_account(service: ServiceContext) -> dict:
    return {**service.header("ServiceAccount"), "automountServiceAccountToken": False}


def env_secret(service: ServiceContext, values: dict[str, Any]) -> dict:
    """The service's secret env vars; values are deploy-time secrets, never in config text."""
    return {**service.header("Secret", names.env_secret(service.name)), "type": "Opaque", "stringData": values}


def persistent_volume_claim(service: ServiceContext) -> Optional[dict]:
    """The claim of a Deployment with storage; None for one without (a StatefulSet has claim templates)."""
    if service.spec.storage is None or service.spec.stateful:
        return None
    return {**service.header("PersistentVolumeClaim", names.data_claim(service.name)), "spec": _claim_spec(service.spec)}


def _claim_spec(workload: Workload) -> dict:
    storage = workload.storage
    return {
        "accessModes": ["ReadWriteOnce"],
        "storageClassName": storage.storage_class,
        "resources": {"requests": {"storage": storage.size}},
    }


def workload_object(service: ServiceContext, image: Any) -> dict:
    """The Deployment or StatefulSet the service's `workload` names."""
    return stateful_set(service, image) if service.spec.stateful else deployment(service, image)


def deployment(service: ServiceContext, image: Any) -> dict:
    return _workload(service, WORKLOAD_KINDS["deployment"], image, {"strategy": _strategy(service.spec)})


def stateful_set(service: ServiceContext, image: Any) -> dict:
    """Pods started and replaced one at a time, each with its own claim; the claims outlive the
    StatefulSet and a scale-down (Retain), so deleting data always takes a deliberate step."""
    extra: dict[str, Any] = {
        "serviceName": names.headless_service(service.name),
        "podManagementPolicy": "OrderedReady",
        "updateStrategy": {"type": "RollingUpdate"},
        "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Retain"},
    }
    if service.spec.storage is not None:
        extra["volumeClaimTemplates"] = [{"metadata": {"name": "data"}, "spec": _claim_spec(service.spec)}]
    return _workload(service, WORKLOAD_KINDS["statefulset"], image, extra)


def _workload(service: ServiceContext, kind: str, image: Any, extra: dict) -> dict:
    workload = service.spec
    spec: dict[str, Any] = {
        "revisionHistoryLimit": REVISION_HISTORY,
        "selector": {"matchLabels": selector_labels(service.name)},
        **extra,
        "template": {"metadata": template_metadata(service), "spec": pod_spec(service, image)},
    }
    if workload.autoscaling is None:
        # With an HPA the replica count is left out: the HPA owns it, and server-side apply would fight it.
        spec["replicas"] = workload.min_replicas
    manifest = service.header(kind)
    if service.await_timeout_seconds is not None:
        manifest["metadata"]["annotations"] = {labels.AWAIT_TIMEOUT: str(service.await_timeout_seconds)}
    return {**manifest, "spec": spec}


def template_metadata(service: ServiceContext) -> dict:
    annotations = config_files.checksum(service)
    return {"labels": service.pod_labels(), **({"annotations": annotations} if annotations else {})}


def _strategy(service: Workload) -> dict:
    if rolls_without_surge(service):
        return {"type": "Recreate"}
    return {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": ROLLING_SURGE}}
