"""The hardened, right-sized pod of a service and the objects it needs to run.

Security defaults (design.md): non-root with fixed IDs, RuntimeDefault seccomp, no service account
token, no privilege escalation, read-only root filesystem with emptyDirs for the paths that must be
writable, all capabilities dropped. Only `services.<name>.security` loosens them, by name.
"""

from __future__ import annotations

from typing import Any, Optional

from components.config import WRITABLE_PATH_SIZE, ServiceSpec, StackConfig
from components.manifests import header, metadata, selector_labels
from components.sizing import RESOURCE_KEYS, ROLLING_SURGE, rolls_without_surge

# Seconds. Startup gets failureThreshold x period to come up; liveness runs at half the
# readiness rate, so a slow moment takes a pod out of rotation long before it is restarted.
PROBE_PROFILES = {
    "fast": {"startup_period": 2, "startup_failures": 30, "period": 5, "timeout": 1, "failures": 3},
    "standard": {"startup_period": 5, "startup_failures": 24, "period": 10, "timeout": 2, "failures": 3},
    "slow": {"startup_period": 10, "startup_failures": 30, "period": 15, "timeout": 5, "failures": 4},
}
TERMINATION_GRACE_SECONDS = 30
REVISION_HISTORY = 5


def service_account(config: StackConfig, name: str) -> dict:
    return {**header("ServiceAccount", config, name, name), "automountServiceAccountToken": False}


def secret_name(name: str) -> str:
    return f"{name}-env"


def env_secret(config: StackConfig, name: str, values: dict[str, Any]) -> dict:
    """The service's secret env vars; values are deploy-time secrets, never in config text."""
    return {**header("Secret", config, secret_name(name), name), "type": "Opaque", "stringData": values}


def persistent_volume_claim(config: StackConfig, name: str) -> dict:
    storage = config.services[name].storage
    assert storage is not None
    return {
        **header("PersistentVolumeClaim", config, f"{name}-data", name),
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "storageClassName": storage.storage_class,
            "resources": {"requests": {"storage": storage.size}},
        },
    }


def deployment(config: StackConfig, name: str, image: Any) -> dict:
    service = config.services[name]
    spec: dict[str, Any] = {
        "revisionHistoryLimit": REVISION_HISTORY,
        "selector": {"matchLabels": selector_labels(name)},
        "strategy": _strategy(service),
        "template": {"metadata": {"labels": metadata(config, name, name)["labels"]}, "spec": pod_spec(config, name, image)},
    }
    if service.autoscaling is None:
        # With an HPA the replica count is left out: the HPA owns it, and server-side apply would fight it.
        spec["replicas"] = service.min_replicas
    return {**header("Deployment", config, name, name), "spec": spec}


def _strategy(service: ServiceSpec) -> dict:
    if rolls_without_surge(service):
        return {"type": "Recreate"}
    return {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": ROLLING_SURGE}}


def pod_spec(config: StackConfig, name: str, image: Any) -> dict:
    service = config.services[name]
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
        "containers": [container(config, name, image)],
        "volumes": _volumes(name, service),
    }
    if config.environment == "prod" and service.max_replicas >= 2:
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


def container(config: StackConfig, name: str, image: Any) -> dict:
    service = config.services[name]
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
            {"name": env, "valueFrom": {"secretKeyRef": {"name": secret_name(name), "key": env}}}
            for env in sorted(service.secret_env)
        ],
    }
    if service.port is not None:
        result["ports"] = [{"name": port_name(service), "containerPort": service.port, "protocol": "TCP"}]
    result.update(probes(service))
    return result


def port_name(service: ServiceSpec) -> str:
    return "http" if service.probes.type == "http" and service.role in ("app", "web") else "tcp"


def probes(service: ServiceSpec) -> dict:
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


def _probe_action(service: ServiceSpec, path: Optional[str]) -> dict:
    probes = service.probes
    if probes.type == "exec":
        return {"exec": {"command": list(probes.command or [])}}
    if probes.type == "tcp":
        return {"tcpSocket": {"port": service.probe_port}}
    return {"httpGet": {"path": path, "port": service.probe_port, "scheme": "HTTP"}}


def _writable_paths(service: ServiceSpec) -> list[str]:
    return ["/tmp", *service.security.extra_writable_paths]


def _mounts(name: str, service: ServiceSpec) -> list[tuple[str, str]]:
    mounts = [(f"writable-{index}", path) for index, path in enumerate(_writable_paths(service))]
    if service.storage is not None:
        mounts.append(("data", service.storage.mount_path))
    if service.cache is not None:
        mounts.append(("cache", service.cache.mount_path))
    return mounts


def _volumes(name: str, service: ServiceSpec) -> list[dict]:
    volumes = [
        {"name": f"writable-{index}", "emptyDir": {"sizeLimit": WRITABLE_PATH_SIZE}}
        for index, _ in enumerate(_writable_paths(service))
    ]
    if service.storage is not None:
        volumes.append({"name": "data", "persistentVolumeClaim": {"claimName": f"{name}-data"}})
    if service.cache is not None:
        empty_dir = {"sizeLimit": service.cache.size_limit}
        if service.cache.medium == "memory":
            empty_dir["medium"] = "Memory"
        volumes.append({"name": "cache", "emptyDir": empty_dir})
    return volumes
