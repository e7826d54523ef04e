"""Files for a service's containers: its config files (one ConfigMap) and secret files (one Secret).

Both are mounted read-only. Config files appear at their own paths (subPath mounts, which never
update in place: the `checksum/config` annotation on the pod template rolls the pods instead, so
every pod runs one known version). Secret files appear together in SECRET_FILES_DIR with mode 0400;
the kubelet gives them the pod's fsGroup and makes them group-readable, which lets the non-root
user read them and no one else. A secret's change reaches the mounted files within the kubelet's
sync period, without a restart.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Mapping, Optional

from leanstack.config.resolve import SECRET_FILES_DIR, Workload
from leanstack.kube import names
from leanstack.render.objects import ServiceContext

CHECKSUM = "checksum/config"
CONFIG_VOLUME, SECRET_VOLUME = "config-files", "secret-files"
CONFIG_MODE, SECRET_MODE = 0o444, 0o400


def config_map(context: ServiceContext) -> Optional[dict]:
    """The service's config files as a ConfigMap; None for a service without any."""
    if not context.spec.config_files:
        return None
    return {**context.header("ConfigMap", names.config_files(context.name)), "data": _contents(context.spec)}


def files_secret(context: ServiceContext, values: Mapping[str, Any]) -> Optional[dict]:
    """The service's secret files; `values` (by file name) are deploy-time secrets, never in config text."""
    if not context.spec.secret_files:
        return None
    return {**context.header("Secret", names.secret_files(context.name)), "type": "Opaque", "stringData": dict(values)}


def _contents(service: Workload) -> dict[str, str]:
    return {file.name: file.content for file in service.config_files}


def checksum(context: ServiceContext) -> dict[str, str]:
    """Pod template annotations that change exactly when a config file does."""
    if not context.spec.config_files:
        return {}
    text = json.dumps(dict(sorted(_contents(context.spec).items())), sort_keys=True)
    return {CHECKSUM: hashlib.sha256(text.encode()).hexdigest()}


def volumes(name: str, service: Workload) -> list[dict]:
    found = []
    if service.config_files:
        found.append({"name": CONFIG_VOLUME, "configMap": {"name": names.config_files(name), "defaultMode": CONFIG_MODE}})
    if service.secret_files:
        found.append({"name": SECRET_VOLUME, "secret": {"secretName": names.secret_files(name), "defaultMode": SECRET_MODE}})
    return found


def mounts(service: Workload) -> list[dict]:
    found = [{"name": CONFIG_VOLUME, "mountPath": file.path, "subPath": file.name, "readOnly": True}
             for file in sorted(service.config_files, key=lambda file: file.name)]
    if service.secret_files:
        found.append({"name": SECRET_VOLUME, "mountPath": SECRET_FILES_DIR, "readOnly": True})
    return found


def env(service: Workload) -> list[dict]:
    """`<NAME>_FILE` for each secret file: where the app reads it (the *_FILE convention of the official images)."""
    return [{"name": f"{file_name}_FILE", "value": f"{SECRET_FILES_DIR}/{file_name}"}
            for file_name in sorted(file.name for file in service.secret_files)]
