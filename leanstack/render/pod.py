"""The hardened, right-sized pod of a service: what its Deployment runs, and its Jobs with their own command.

Security defaults (docs/security.md shows them per stack): non-root with fixed IDs, RuntimeDefault seccomp, no service account
token, no privilege escalation, read-only root filesystem with emptyDirs for the paths that must be
writable, all capabilities dropped. Only the workload's `security` settings loosen them, by name.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, Optional, Union

from leanstack.config.resolve import WRITABLE_PATH_SIZE, Migration, Probe, Resources, Schedule, Workload
from leanstack.kube import names
from leanstack.kube.quantities import RESOURCE_KEYS
from leanstack.render import config_files
from leanstack.render.objects import ServiceContext, selector_labels

# Seconds. Startup gets failureThreshold x period to come up; liveness runs at half the
# readiness rate, so a slow moment takes a pod out of rotation long before it is restarted.
PROBE_PROFILES = {
    "fast": {"startup_period": 2, "startup_failures": 30, "period": 5, "timeout": 1, "failures": 3},
    "standard": {"startup_period": 5, "startup_failures": 24, "period": 10, "timeout": 2, "failures": 3},
    "slow": {"startup_period": 10, "startup_failures": 30, "period": 15, "timeout": 5, "failures": 4},
}
TERMINATION_GRACE_SECONDS = 30
CONTAINER_SECURITY = {
    "runAsNonRoot": True,
    "allowPrivilegeEscalation": False,
    "privileged": False,
    "readOnlyRootFilesystem": True,
    "capabilities": {"drop": ["ALL"]},
}


# A run-to-completion process of a service (its migration, a scheduled job): the service's pod and
# image with the task's own name, command, args and size; no ports, no probes, never restarted in place.
Task = Union[Migration, Schedule]


def pod_spec(context: ServiceContext, image: Any, task: Optional[Task] = None) -> dict:
    """The service's pod; with a task, the pod of one of its Jobs (same hardening, volumes and env)."""
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
        "containers": [container(context, image, task)],
        "volumes": _volumes(name, service),
    }
    if service.extra_containers:
        spec["initContainers"] = init_containers(context, image)
    if context.placement.node_selector:
        spec["nodeSelector"] = dict(context.placement.node_selector)
    if context.placement.tolerations:
        spec["tolerations"] = [{key: value for key, value in asdict(toleration).items() if value is not None}
                               for toleration in context.placement.tolerations]
    if task is not None:
        spec["restartPolicy"] = "Never"  # a failed run fails the Job (its backoffLimit retries in a new pod)
    elif context.spread_across_zones:
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


def resource_amounts(resources: Resources) -> dict:
    return {kind: {RESOURCE_KEYS[key]: getattr(getattr(resources, kind), key) for key in RESOURCE_KEYS}
            for kind in ("requests", "limits")}


def container(context: ServiceContext, image: Any, task: Optional[Task] = None) -> dict:
    name, service = context.name, context.spec
    result = _hardened(task.name if task else name, image, task.resources if task else service.resources, task or service,
                       _main_mounts(service), _env(name, service))
    if task is None:
        if service.port is not None:
            result["ports"] = [{"name": port_name(service), "containerPort": service.port, "protocol": "TCP"}]
        result.update(probes(service))
    return result


def init_containers(context: ServiceContext, image: Any) -> list[dict]:
    """Sidecars (restartPolicy Always: native sidecars, started first and stopped last), then init containers."""
    service = context.spec
    found = []
    for extra in service.extra_containers:  # sidecars first
        shared = extra.inherit_main
        found.append(_hardened(extra.name, image if extra.image is None else extra.image, extra.resources, extra,
                               _main_mounts(service) if shared else _scratch_mounts(service),
                               _env(context.name, service) if shared else []))
    for sidecar in found[:len(service.sidecars)]:
        sidecar["restartPolicy"] = "Always"
    return found


def _hardened(name: str, image: Any, resources: Resources, process: Any, mounts: list[dict], env: list[dict]) -> dict:
    """A container with the hardened defaults; `process` has the command and args (None: the image's)."""
    result: dict[str, Any] = {
        "name": name,
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "resources": resource_amounts(resources),
        "securityContext": dict(CONTAINER_SECURITY),
        "volumeMounts": mounts,
        "env": env,
    }
    for key in ("command", "args"):
        value = getattr(process, key)
        if value is not None:
            result[key] = list(value)
    return result


def _env(name: str, service: Workload) -> list[dict]:
    return ([{"name": key, "value": value} for key, value in sorted(service.env.items())]
            + [{"name": env, "valueFrom": {"secretKeyRef": {"name": names.env_secret(name), "key": env}}}
               for env in sorted(secret.name for secret in service.secret_env)]
            + config_files.env(service))


def port_name(service: Workload) -> str:
    """http for an app or web that is checked over HTTP (its startup probe: the others may run a command)."""
    return "http" if service.probes.startup.http is not None and service.role in ("app", "web") else "tcp"


def probes(service: Workload) -> dict:
    timing = PROBE_PROFILES[service.probes.profile]
    common = {"timeoutSeconds": timing["timeout"], "failureThreshold": timing["failures"]}
    return {
        "startupProbe": {
            **_probe_action(service.probes.startup),
            "periodSeconds": timing["startup_period"],
            "timeoutSeconds": timing["timeout"],
            "failureThreshold": timing["startup_failures"],
        },
        "readinessProbe": {**_probe_action(service.probes.readiness), "periodSeconds": timing["period"], **common},
        "livenessProbe": {**_probe_action(service.probes.liveness), "periodSeconds": timing["period"] * 2, **common},
    }


def _probe_action(probe: Probe) -> dict:
    if probe.exec is not None:
        return {"exec": {"command": list(probe.exec.command)}}
    if probe.tcp is not None:
        return {"tcpSocket": {"port": probe.tcp.port}}
    return {"httpGet": {"path": probe.http.path, "port": probe.http.port, "scheme": "HTTP"}}


def _scratch_mounts(service: Workload) -> list[dict]:
    return [{"name": f"writable-{index}", "mountPath": path} for index, path in enumerate(service.security.writable_paths)]


def _main_mounts(service: Workload) -> list[dict]:
    mounts = _scratch_mounts(service)
    if service.storage is not None:
        mounts.append({"name": "data", "mountPath": service.storage.mount_path})
    if service.cache is not None:
        mounts.append({"name": "cache", "mountPath": service.cache.mount_path})
    return mounts + config_files.mounts(service)


def _volumes(name: str, service: Workload) -> list[dict]:
    volumes = [
        {"name": f"writable-{index}", "emptyDir": {"sizeLimit": WRITABLE_PATH_SIZE}}
        for index, _ in enumerate(service.security.writable_paths)
    ]
    if service.storage is not None and not service.stateful:  # a StatefulSet's comes from its claim template
        volumes.append({"name": "data", "persistentVolumeClaim": {"claimName": names.data_claim(name)}})
    if service.cache is not None:
        empty_dir = {"sizeLimit": service.cache.size_limit}
        if service.cache.medium == "memory":
            empty_dir["medium"] = "Memory"
        volumes.append({"name": "cache", "emptyDir": empty_dir})
    return volumes + config_files.volumes(name, service)
