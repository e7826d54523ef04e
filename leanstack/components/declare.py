"""Register a Kubernetes object rendered by leanstack.render, and remember the manifest.

Components keep the manifests they declared so the Platform can price exactly what it registers.
"""

from __future__ import annotations

import re
from typing import Any, Optional, TypeVar

import pulumi

from leanstack.kube import labels

R = TypeVar("R", bound=pulumi.CustomResource)


def as_args(manifest: dict) -> dict:
    """A manifest's top-level fields as Pulumi resource keyword arguments (snake_case).

    Nested values keep their Kubernetes field names; the SDK passes them through unchanged.
    """
    return {re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower(): value for key, value in manifest.items()}


def owned(manifest: dict) -> dict:
    """The manifest as the program applies it: it owns every field it declares, so server-side apply
    takes back a field someone changed with kubectl (drift) instead of failing on the conflict."""
    metadata = manifest["metadata"]
    annotations = {**(metadata.get("annotations") or {}), labels.PATCH_FORCE: "true"}
    return {**manifest, "metadata": {**metadata, "annotations": annotations}}


def declare(parent: pulumi.Resource, declared: list[dict], resource: type[R], name: str,
            manifest: Optional[dict], **options: Any) -> Optional[R]:
    """Register `manifest` as a child of `parent`; a renderer's None (nothing to declare) registers nothing."""
    if manifest is None:
        return None
    declared.append(manifest)
    return resource(name, **as_args(owned(manifest)), opts=pulumi.ResourceOptions(parent=parent, **options))
