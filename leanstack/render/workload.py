"""The hardened, right-sized pod of a service and the objects it needs to run.

Security defaults (design.md): non-root with fixed IDs, RuntimeDefault seccomp, no service account
token, no privilege escalation, read-only root filesystem with emptyDirs for the paths that must be
writable, all capabilities dropped. Only the workload's `security` settings loosen them, by name.
"""

from __future__ import annotations

from typing import Any, Optional

from leanstack.config.schema import WRITABLE_PATH_SIZE, WorkloadSpec
from leanstack.kube import labels, names
from leanstack.render.objects import ServiceContext, selector_labels
from leanstack.render.sizing import RESOURCE_KEYS, ROLLING_SURGE, rolls_without_surge

# Seconds. Startup gets failureThreshold x period to come up; liveness runs at half the
# readiness rate, so a slow moment takes a pod out of rotation long before it is restarted.
PROBE_PROFILES = {
    "fast": {"startup_period": 2, "startup_failures": 30, "period": 5, "timeout": 1, "failures": 3},
    "standard": {"startup_period": 5, "startup_failures": 24, "period": 10, "timeout": 2, "failures": 3},
    "slow": {"startup_period": 10, "startup_failures": 30, "period": 15, "timeout": 5, "failures": 4},
}
TERMINATION_GRACE_SECONDS = 30
REVISION_HISTORY = 5


def service_account(service: ServiceContext) -> dict:
    return {**service.header("ServiceAccount"), "automountServiceAccountToken": False}


def env_secret(service: ServiceContext, values: dict[str, Any]) -> dict:
    """The service's secret env vars; values are deploy-time secrets, never in config text."""
    return {**service.header("Secret", names.env_secret(service.name)), "type": "Opaque", "stringData": values}


def persistent_volume_claim(service: ServiceContext) -> Optional[dict]:
    """The claim of a service with storage; None for one without."""
    storage = service.spec.storage
    if storage is None:
        return None
    return {
        **service.header("PersistentVolumeClaim", names.data_claim(service.name)),
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "storageClassName": storage.storage_class,
            "resources": {"requests": {"storage": storage.size}},
        },
    }


def deployment(service: ServiceContext, image: Any) -> dict:
    workload = service.spec
    spec: dict[str, Any] = {
        "revisionHistoryLimit": REVISION_HISTORY,
        "selector": {"matchLabels": selector_labels(service.name)},
        "strategy": _strategy(workload),
        "template": {"metadata": {"labels": service.pod_labels()}, "spec": pod_spec(service, image)},
    }
    if workload.autoscaling is None:
        # With an HPA the replica count is left out: the HPA owns it, and server-side apply would fight it.
        spec["replicas"] = workload.min_replicas
    manifest = service.header("Deployment")
    if service.await_timeout_seconds is not None:
        manifest["metadata"]["annotations"] = {labels.AWAIT_TIMEOUT: str(service.await_timeout_seconds)}
    return {**manifest, "spec": spec}


def _strategy(service: WorkloadSpec) -> dict:
    if rolls_without_surge(service):
        return {"type": "Recreate"}
    return {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": ROLLING_SURGE}}


def pod_spec(context: ServiceContext, image: Any) -> dict:
    name, service = context.name, context.spec
    security = service.security
    spec: dict[str, Any] = {
        "serviceAccountName": name,
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "terminationGracePeriodSeconds": TERMINATION_GRACE_SECONDS,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": security.run_as_user,
            "runAsGroup": security.run_as_group,
            "fsGroup": security.fs_group,
            "fsGroupChangePolicy": "OnRootMismatch",
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [container(context, image)],
        "volumes": _volumes(name, service),
    }
    if context.spread_across_zones:
        spec["topologySpreadConstraints"] = [
            {
                "maxSkew": 1,
                "topologyKey": key,
                "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": {"matchLabels": selector_labels(name)},
            }
            for key in ("topology.kubernetes.io/zone", "kubernetes.io/hostname")
        ]
    return spec


def container(context: ServiceContext, image: Any) -> dict:
    name, service = context.name, context.spec
    result: dict[str, Any] = {
        "name": name,
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "resources": {
            kind: {RESOURCE_KEYS[key]: getattr(getattr(service.resources, kind), key) for key in RESOURCE_KEYS}
            for kind in ("requests", "limits")
        },
        "securityContext": {
            "runAsNonRoot": True,
            "allowPrivilegeEscalation": False,
            "privileged": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [{"name": volume, "mountPath": path} for volume, path in _mounts(name, service)],
        "env": [{"name": key, "value": value} for key, value in sorted(service.env.items())]
        + [
            {"name": env, "valueFrom": {"secretKeyRef": {"name": names.env_secret(name), "key": env}}}
            for env in sorted(service.secret_env)
        ],
    }
    for key in ("command", "args"):
        if getattr(service, key) is not None:
            result[key] = list(getattr(service, key))
    if service.port is not None:
        result["ports"] = [{"name": port_name(service), "containerPort": service.port, "protocol": "TCP"}]
    result.update(probes(service))
    return result


def port_name(service: WorkloadSpec) -> str:
    return "http" if service.probes.type == "http" and service.role in ("app", "web") else "tcp"


def probes(service: WorkloadSpec) -> dict:
    timing = PROBE_PROFILES[service.probes.profile]
    common = {"timeoutSeconds": timing["timeout"], "failureThreshold": timing["failures"]}
    return {
        "startupProbe": {
            **_probe_action(service, service.probes.startup_path),
            "periodSeconds": timing["startup_period"],
            "timeoutSeconds": timing["timeout"],
            "failureThreshold": timing["startup_failures"],
        },
        "readinessProbe": {**_probe_action(service, service.probes.readiness_path), "periodSeconds": timing["period"], **common},
        "livenessProbe": {**_probe_action(service, service.probes.liveness_path), "periodSeconds": timing["period"] * 2, **common},
    }


def _probe_action(service: WorkloadSpec, path: Optional[str]) -> dict:
    probes = service.probes
    if probes.type == "exec":
        return {"exec": {"command": list(probes.command or [])}}
    if probes.type == "tcp":
        return {"tcpSocket": {"port": service.probe_port}}
    return {"httpGet": {"path": path, "port": service.probe_port, "scheme": "HTTP"}}


def _mounts(name: str, service: WorkloadSpec) -> list[tuple[str, str]]:
    mounts = [(f"writable-{index}", path) for index, path in enumerate(service.writable_paths)]
    if service.storage is not None:
        mounts.append(("data", service.storage.mount_path))
    if service.cache is not None:
        mounts.append(("cache", service.cache.mount_path))
    return mounts


def _volumes(name: str, service: WorkloadSpec) -> list[dict]:
    volumes = [
        {"name": f"writable-{index}", "emptyDir": {"sizeLimit": WRITABLE_PATH_SIZE}}
        for index, _ in enumerate(service.writable_paths)
    ]
    if service.storage is not None:
        volumes.append({"name": "data", "persistentVolumeClaim": {"claimName": names.data_claim(name)}})
    if service.cache is not None:
        empty_dir = {"sizeLimit": service.cache.size_limit}
        if service.cache.medium == "memory":
            empty_dir["medium"] = "Memory"
        volumes.append({"name": "cache", "emptyDir": empty_dir})
    return volumes
