"""`leanstack rightsize --write` end to end: a real Prometheus holding backfilled usage of the prod
stack's services, the CLI in a subprocess, the stack file diff, and the cost delta of the change.

The usage is constant (api: two pods at 60m CPU and 200Mi each), so every expected figure follows
from the documented rules by hand; the expected cost is recomputed from the prod price sheet's unit
prices, not with the code under test. Needs scripts/prometheus.sh; the last test also needs the
Pulumi toolchain (scripts/setup).
"""

from __future__ import annotations

import difflib
import json
import math
import shutil
import subprocess
import sys
import time
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from leanstack.config.price_sheets import SHEETS
from leanstack.config.stack_file import load_stack_file
from leanstack.rightsize.local_prometheus import LocalPrometheus, Series, backfill

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
PROD = load_stack_file(ROOT / "Pulumi.prod.yaml")
Mi = 2**20
SCRAPE = 30
NOW = math.floor(time.time() / SCRAPE) * SCRAPE
WINDOW = "12h"


def pod_series(service: str, pod: str, cores: float, memory: int, begin: int) -> list[Series]:
    """A pod using `cores` CPU and `memory` bytes steadily from `begin` until now, scraped every 30 s."""
    stamps = list(range(begin, NOW + 1, SCRAPE))
    labels = {"namespace": PROD.namespace, "pod": pod, "container": service}
    return [
        Series("container_cpu_usage_seconds_total", "counter", labels, stamps, [1000.0 + cores * (s - begin) for s in stamps]),
        Series("container_memory_working_set_bytes", "gauge", labels, stamps, [float(memory)] * len(stamps)),
    ]


SERIES = [
    *pod_series("api", "api-7d9f-abcde", 0.06, 200 * Mi, NOW - 13 * 3600),
    *pod_series("api", "api-7d9f-fghij", 0.06, 200 * Mi, NOW - 13 * 3600),
    *pod_series("worker", "worker-5c4b-klmno", 0.02, 100 * Mi, NOW - 2 * 3600),  # deployed 2 h ago
]
# api (HPA 2-6 on CPU 70%, memory 80%): CPU request = p95 60m / 70% = 85.7m -> 90m; memory = max(peak
# 200Mi + 15%, p95 200Mi / 80%) = 250Mi -> 256Mi; CPU limit keeps the 2:1 ratio: 180m; memory limit =
# the request (>= peak + 15% = 240Mi); replicas: total 120m per 63m a pod -> min 2, peak x 1.2 -> max 3.
EXPECTED_DIFF = [
    "-        requests: {cpu: 250m, memory: 384Mi}",
    "-        limits: {cpu: 500m, memory: 512Mi}",
    "+        requests: {cpu: 90m, memory: 256Mi}",
    "+        limits: {cpu: 180m, memory: 256Mi}",
    "-        max_replicas: 6",
    "+        max_replicas: 3",
]


def expected_delta() -> dict[str, str]:
    """api's Deployment is the only object that bills differently: pods x (cpu, memory, the 64Mi
    ephemeral-storage request) at the sheet's hourly prices, 730 hours, 2 pods to 6 before, to 3 after."""
    sheet = SHEETS[PROD.cost.price_sheet]
    assert sheet.billing == "autopilot"  # both pod sizes are within Autopilot's minimums and ratio: billed as requested

    def pod(cpu: str, memory_gib: str) -> Decimal:
        return 730 * (Decimal(cpu) * sheet.cpu_core_hour + Decimal(memory_gib) * sheet.memory_gib_hour
                      + Decimal("0.0625") * sheet.ephemeral_gib_hour)

    old, new = pod("0.25", "0.375"), pod("0.09", "0.25")
    cents = lambda amount: str(amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
    return {"baseline": cents(2 * new - 2 * old), "ceiling": cents(3 * new - 6 * old)}


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory):
    if not (shutil.which("prometheus") and shutil.which("promtool")):
        pytest.fail("prometheus/promtool not installed: run scripts/prometheus.sh")
    data = tmp_path_factory.mktemp("prometheus") / "data"
    backfill(SERIES, data)
    with LocalPrometheus(data) as server:
        yield server


def rightsize(prometheus, work_dir: Path, *options: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "-m", "leanstack.cli", "rightsize", "--stack", "prod",
         "--prometheus", prometheus.url, "--window", WINDOW, "--until", str(NOW), "--work-dir", str(work_dir), *options],
        capture_output=True, text=True, timeout=600, cwd=work_dir,
    )


def diff(before: str, after: str) -> list[str]:
    return [line.rstrip("\n") for line in difflib.unified_diff(before.splitlines(True), after.splitlines(True), n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def test_write_changes_exactly_the_recommended_values_and_prices_the_change(prometheus, tmp_path):
    for name in ("Pulumi.yaml", "Pulumi.prod.yaml"):
        shutil.copy(ROOT / name, tmp_path / name)
    before = (tmp_path / "Pulumi.prod.yaml").read_text()

    dry = rightsize(prometheus, tmp_path, "--format", "json")
    assert dry.returncode == 0, dry.stderr
    assert (tmp_path / "Pulumi.prod.yaml").read_text() == before  # without --write nothing is written

    result = rightsize(prometheus, tmp_path, "--format", "json", "--write")
    assert result.returncode == 0, result.stderr
    after = (tmp_path / "Pulumi.prod.yaml").read_text()
    assert diff(before, after) == EXPECTED_DIFF
    assert [line for line in after.splitlines() if "#" in line] == [line for line in before.splitlines() if "#" in line]

    report = json.loads(result.stdout)
    assert report == json.loads(dry.stdout)  # the dry run priced exactly the change --write made
    by_service = {r["service"]: r for r in report["recommendations"]}
    assert by_service["api"]["recommended"] == {"cpu_request": "90m", "cpu_limit": "180m",
                                                "memory_request": "256Mi", "memory_limit": "256Mi"}
    assert by_service["api"]["recommended_replicas"] == {"min_replicas": 2, "max_replicas": 3}
    assert by_service["api"]["evidence"]["pods"] == 2
    assert by_service["worker"]["recommended"] is None
    assert by_service["worker"]["reasons"][0].startswith("not enough history")
    for service in ("web", "postgres", "redis"):
        assert by_service[service]["recommended"] is None
        assert by_service[service]["reasons"][0].startswith("no samples")
    assert [f"{c['path']}: {c['old']} -> {c['new']}" for c in report["changes"]] == [
        "services.api.resources.requests.cpu: 250m -> 90m",
        "services.api.resources.requests.memory: 384Mi -> 256Mi",
        "services.api.resources.limits.cpu: 500m -> 180m",
        "services.api.resources.limits.memory: 512Mi -> 256Mi",
        "services.api.autoscaling.max_replicas: 6 -> 3",
    ]
    delta = report["cost_delta"]
    assert delta["total"]["delta"] == expected_delta()
    assert {row["resource"] for row in delta["resources"] if row["op"] != "same"} >= {
        "Deployment/shop/api", "HorizontalPodAutoscaler/shop/api"}

    again = rightsize(prometheus, tmp_path, "--format", "markdown", "--write")
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "Pulumi.prod.yaml").read_text() == after  # right-sized values are stable
    assert "Pulumi.prod.yaml: nothing to change" in again.stdout


PINNED = "registry.example/shop/{}@sha256:" + "0" * 64


def test_a_real_preview_shows_the_same_cost_delta(prometheus, project):
    if shutil.which("pulumi") is None:
        pytest.fail("pulumi not on PATH: run scripts/setup, then source scripts/toolchain-env.sh")

    def prebuilt(config: dict) -> None:  # pinned images keep this test about cost, not image builds
        for name, service in config["services"].items():
            if "build" in service["image"]:
                service["image"] = {"ref": PINNED.format(name)}

    project.edit_config("prod", prebuilt)
    project.up("prod")
    result = rightsize(prometheus, project.directory, "--format", "json", "--write")
    assert result.returncode == 0, result.stderr
    rightsized = json.loads(result.stdout)["cost_delta"]["total"]
    assert rightsized["delta"] == expected_delta()

    preview = subprocess.run(
        [sys.executable, "-m", "leanstack.cli", "cost", "--stack", "prod", "--work-dir", str(project.directory),
         "--format", "json"], env=project.env, capture_output=True, text=True, timeout=600, cwd=ROOT,
    )
    assert preview.returncode == 0, preview.stderr
    assert json.loads(preview.stdout)["total"] == rightsized
