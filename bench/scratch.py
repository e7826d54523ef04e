"""A scratch copy of the Pulumi project, for runs of the real engine that must not touch the clone
(end-to-end tests, benchmarks): the project files, plus the clone's .venv linked in."""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Stacks whose images are fake digests run on the local cluster's kwok nodes only: they select them
# and tolerate their taint (scripts/cluster.sh), and claim volumes of the class that binds without a
# node (nothing is mounted there); pods that must really run land on the real node.
ON_KWOK_NODES = {"node_selector": {"type": "kwok"},
                 "tolerations": [{"key": "kwok.x-k8s.io/node", "operator": "Exists", "effect": "NoSchedule"}]}
KWOK_STORAGE_CLASS = "kwok-hostpath"


def on_kwok_nodes(config: dict, kubeconfig: str) -> None:
    """Edit a stack's config mapping (keys without the project prefix) to run on the kwok nodes."""
    config["kubernetes"] = {**config.get("kubernetes", {}), "kubeconfig": kubeconfig, **ON_KWOK_NODES}
    for service in config["services"].values():
        if "storage" in service:
            service["storage"] = {**service["storage"], "storage_class": KWOK_STORAGE_CLASS}
# A prebuilt image ref per service ({} is its name): runs where nothing pulls (kwok, render mode), so
# runs not about images skip the builds.
PINNED = "registry.example/shop/{}@sha256:" + "1" * 64


def pin_images(config: dict, digest: str = PINNED) -> None:
    """Every service that builds (or runs another's build) runs a pinned prebuilt ref instead (or
    another digest, if already pinned)."""
    for name, service in config["services"].items():
        image = service["image"]
        if "build" in image or "from" in image or image.get("ref", "").startswith("registry.example/"):
            service["image"] = {"ref": digest.format(name)}


PROJECT_FILES = ["Pulumi.yaml", "Pulumi.dev.yaml", "Pulumi.staging.yaml", "Pulumi.prod.yaml", "__main__.py",
                 "apps", "examples"]  # the leanstack package comes from the clone: .venv has it installed (editable)


def scratch_project(directory: Path) -> Path:
    """Copy the project into `directory` (created) and return it."""
    directory.mkdir(parents=True)
    for name in PROJECT_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, directory / name, ignore=shutil.ignore_patterns("__pycache__", "tests"))
        else:
            shutil.copy2(source, directory / name)
    (directory / ".venv").symlink_to(ROOT / ".venv")
    return directory
