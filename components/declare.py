"""Register a Kubernetes object rendered by components.manifests, and remember the manifest.

Components keep the manifests they declared so the Platform can price exactly what it registers.
"""

from __future__ import annotations

from typing import Any, TypeVar

import pulumi

from components.manifests import as_args

R = TypeVar("R", bound=pulumi.CustomResource)


def declare(parent: pulumi.Resource, declared: list[dict], resource: type[R], name: str, manifest: dict, **options: Any) -> R:
    declared.append(manifest)
    return resource(name, **as_args(manifest), opts=pulumi.ResourceOptions(parent=parent, **options))
