"""`leanstack cost` on a real preview: the guide's right-sizing change, priced per resource."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
SNAPSHOT = Path(__file__).parent / "snapshots" / "cost_delta_prod.md"
PINNED = "registry.example/shop/{}@sha256:" + "0" * 64


def oversized(config: dict) -> None:
    """Before right-sizing: the guide's 500m/512Mi main app from 3 replicas, a 10Gi database volume."""
    config["cost"] = {"price_sheet": "opencost-default"}
    for name, service in config["services"].items():
        if "build" in service["image"]:  # prebuilt images keep this test about cost, not builds
            service["image"] = {"ref": PINNED.format(name)}
    api = config["services"]["api"]
    api["resources"]["requests"].update(cpu="500m", memory="512Mi")
    api["autoscaling"]["min_replicas"] = 3
    config["services"]["postgres"]["storage"]["size"] = "10Gi"


def right_sized(config: dict) -> None:
    api = config["services"]["api"]
    api["resources"]["requests"].update(cpu="250m", memory="384Mi")
    api["autoscaling"]["min_replicas"] = 2
    config["services"]["postgres"]["storage"]["size"] = "2Gi"


def run_cost(project, *options: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "leanstack.cli", "cost", "--stack", "prod", "--work-dir", str(project.directory), *options],
        env=project.env, capture_output=True, text=True, timeout=600, cwd=Path(__file__).resolve().parents[2],
    )


def test_right_sizing_shows_exact_per_resource_and_total_deltas(project):
    project.edit_config("prod", oversized)
    project.up("prod")
    project.edit_config("prod", right_sized)

    result = run_cost(project, "--format", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    rows = {row["resource"]: row for row in report["resources"]}
    # OpenCost default sheet: cpu 0.031611/core-h, memory 0.004237/GiB-h, storage 0.04/GiB-month; 730 h.
    # api pod 500m/512Mi = 13.08452/month (x3 = 39.25, x6 = 78.51); 250m/384Mi = 6.92888625 (x2 = 13.86, x6 = 41.57)
    api = rows["Deployment/shop/api"]
    assert api["old"] == {"baseline": "39.25", "ceiling": "78.51"}
    assert api["new"] == {"baseline": "13.86", "ceiling": "41.57"}
    assert api["delta"] == {"baseline": "-25.40", "ceiling": "-36.93"}
    assert api["op"] == "update"
    assert rows["HorizontalPodAutoscaler/shop/api"]["op"] == "update"
    volume = rows["PersistentVolumeClaim/shop/postgres-data"]
    assert (volume["old"]["baseline"], volume["new"]["baseline"], volume["delta"]["baseline"]) == ("0.40", "0.08", "-0.32")
    assert report["total"]["delta"] == {"baseline": "-25.72", "ceiling": "-37.25"}
    assert report["counts"].get("update", 0) >= 2 and report["counts"].get("create", 0) == 0
    # A real cluster refuses the 10Gi -> 2Gi shrink the render accepts: the report says so before apply.
    (warning,) = report["warnings"]
    assert warning.startswith("PersistentVolumeClaim/shop/postgres-data shrinks from 10Gi to 2Gi")

    markdown = run_cost(project, "--format", "markdown")
    assert markdown.returncode == 0, markdown.stderr
    if os.environ.get("LEANSTACK_UPDATE_SNAPSHOTS"):  # review the diff before committing it
        SNAPSHOT.write_text(markdown.stdout)
    assert markdown.stdout == SNAPSHOT.read_text()
    # The PR comment body (what .github/workflows/preview.yml posts) is that markdown behind its marker.
    comment = run_cost(project, "--format", "comment")
    assert comment.stdout == "<!-- leanstack-preview:prod -->\n" + SNAPSHOT.read_text()


def test_budget_gate_fails_a_preview_that_raises_the_bill(project):
    project.edit_config("prod", lambda config: (oversized(config), right_sized(config)))
    project.up("prod")
    project.edit_config("prod", oversized)  # undoing the right-sizing costs money again
    result = run_cost(project, "--format", "json", "--fail-above", "5%")
    assert result.returncode == 3
    assert "above the budget 5%" in result.stderr
