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


def run_cost(project, *options: str, stack: str = "prod") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "leanstack.cli", "cost", "--stack", stack, "--work-dir", str(project.directory), *options],
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


# The same right-sizing on the platform sheets; each api pod also requests 64Mi ephemeral storage.
PLATFORM_EXPECTED = {
    # Fargate: 500m/512Mi + 256Mi -> 0.5 vCPU / 1 GB = 0.5 x 0.04048 + 1 x 0.004445 = 0.024685/h = 18.02005/month
    # (x3 = 54.06, x6 = 108.12); 250m/384Mi + 256Mi -> 0.25 vCPU / 1 GB = 0.014565/h = 10.63245 (x2 = 21.26,
    # x6 = 63.79); ephemeral storage within the included 20 GiB. gp volume "standard" 0.08/GiB-month.
    "aws-eks-fargate-us-east-1": ({"baseline": "54.06", "ceiling": "108.12"}, {"baseline": "21.26", "ceiling": "63.79"},
                                  ("0.80", "0.16", "-0.64")),
    # Autopilot: 500m/512Mi is within the minimums and the 1:1..1:6.5 ratio, billed as requested:
    # 0.5 x 0.0445 + 0.5 x 0.0049225 + 0.0625 x 0.0000548 = 0.0247146750/h = 18.04171275/month (x3 = 54.13,
    # x6 = 108.25); 250m/384Mi: 0.0129743625/h = 9.47128463 (x2 = 18.94, x6 = 56.83). PD standard 0.04.
    "gke-autopilot-us-central1": ({"baseline": "54.13", "ceiling": "108.25"}, {"baseline": "18.94", "ceiling": "56.83"},
                                  ("0.40", "0.08", "-0.32")),
}


@pytest.mark.parametrize("sheet", sorted(PLATFORM_EXPECTED))
def test_right_sizing_on_platform_sheets(project, sheet):
    def on_sheet(config: dict) -> None:
        oversized(config)
        config["cost"] = {"price_sheet": sheet}

    project.edit_config("prod", on_sheet)
    project.up("prod")
    project.edit_config("prod", right_sized)

    result = run_cost(project, "--format", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["sheet"] == sheet
    rows = {row["resource"]: row for row in report["resources"]}
    old, new, volume = PLATFORM_EXPECTED[sheet]
    api = rows["Deployment/shop/api"]
    assert (api["old"], api["new"]) == (old, new)
    claim = rows["PersistentVolumeClaim/shop/postgres-data"]
    assert (claim["old"]["baseline"], claim["new"]["baseline"], claim["delta"]["baseline"]) == volume


def test_the_cost_of_a_stack_never_initialised_creates_it_and_prices_everything_as_new(project):
    """The preview starts before anything else; the engine's "no such stack" (exit 6) makes us create it."""
    project.edit_config("prod", oversized)
    (project.directory / "Pulumi.qa.yaml").write_text((project.directory / "Pulumi.prod.yaml").read_text())
    result = run_cost(project, "--format", "json", stack="qa")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert set(report["counts"]) == {"create"} and report["total"]["old"]["baseline"] == "0.00"
    assert float(report["total"]["new"]["baseline"]) > 0
    stacks = subprocess.run(["pulumi", "stack", "ls", "--json"], cwd=project.directory, env=project.env,
                            capture_output=True, text=True, check=True).stdout
    assert "qa" in {entry["name"] for entry in json.loads(stacks)}
