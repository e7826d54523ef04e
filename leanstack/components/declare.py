"""Register a Kubernetes object rendered by leanstack.render, and remember the manifest.

Components keep the manifests they declared so the Platform can price exactly what it registers.
"""

from __future__ import annotations

import re
from typing import Any, Optional, TypeVar

import pulumi

R = TypeVar("R", bound=pulumi.CustomResource)


def as_args(manifest: dict) -> dict:
    """A manifest's top-level fields as Pulumi resource keyword arguments (snake_case).

    Nested values keep their Kubernetes field names; the SDK passes them through unchanged.
    """
    return {re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower(): value for key, value in manifest.items()}


def declare(parent: pulumi.Resource, declared: list[dict], resource: type[R], name: str,
            manifest: Optional[dict], **options: Any) -> Optional[R]:
    """Register `manifest` as a child of `parent`; a renderer's None (nothing to declare) registers nothing."""
    if manifest is None:
        return None
    declared.append(manifest)
    return resource(name, **as_args(manifest), opts=pulumi.ResourceOptions(parent=parent, **options))
