"""Naive vs platform-exact monthly estimates of the sample stacks (docs/costing.md's table).

Naive is the old model: every sheet billed by requests, except Autopilot billed by limits (what the
pre-billing-model code did for it). Exact is the sheet's billing model (Fargate sizes, Autopilot
rules, packed nodes). Objects come from the stacks rendered under Pulumi mocks, as `leanstack render`.

    .venv/bin/python bench/costing_models.py
"""

from __future__ import annotations

import copy
from pathlib import Path

from leanstack.components.offline import run_platform
from leanstack.config.price_sheets import SHEETS
from leanstack.config.stack_file import load_stack_file, stack_file_name
from leanstack.costing.output import span
from leanstack.costing.price import price_objects

ROOT = Path(__file__).resolve().parents[1]
SHEET_NAMES = ("aws-eks-fargate-us-east-1", "gke-autopilot-us-central1", "eks-m6i-us-east-1")


def limits_as_requests(manifest: dict) -> dict:
    """The old Autopilot reading: a container is billed for its limits."""
    manifest = copy.deepcopy(manifest)
    spec = manifest.get("spec", {}).get("template", {}).get("spec", {})
    for container in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        resources = container.get("resources") or {}
        resources["requests"] = {**resources.get("requests", {}), **resources.get("limits", {})}
    return manifest


def estimates(objects: list[dict]) -> list[tuple[str, str, str]]:
    rows = []
    for name in SHEET_NAMES:
        sheet = SHEETS[name]
        exact = price_objects(objects, sheet).total()
        if sheet.billing == "nodes":
            rows.append((name, "n/a (no per-resource prices)", span(exact)))
            continue
        naive_objects = [limits_as_requests(o) for o in objects] if sheet.billing == "autopilot" else objects
        naive = price_objects(naive_objects, sheet.model_copy(update={"billing": "requests"})).total()
        rows.append((name, span(naive), span(exact)))
    return rows


def main() -> None:
    print("| stack | sheet | naive $/month (baseline–ceiling) | exact $/month (baseline–ceiling) |")
    print("|---|---|---:|---:|")
    for stack in ("dev", "staging", "prod"):
        config = load_stack_file(ROOT / stack_file_name(stack))
        for name, naive, exact in estimates(run_platform(config, stack).kubernetes_objects()):
            print(f"| {stack} | `{name}` | {naive} | {exact} |")


if __name__ == "__main__":
    main()
