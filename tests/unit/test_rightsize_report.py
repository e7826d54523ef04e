"""What `leanstack rightsize` prints about the evidence behind a recommendation."""

from __future__ import annotations

from leanstack.rightsize.model import Evidence
from leanstack.rightsize.report import evidence_cells

Mi = 2**20


def test_evidence_shows_observed_cpu_in_whole_millicores_and_memory_in_whole_mebibytes():
    evidence = Evidence(window_seconds=86400, step_seconds=300, pods=2, cpu_samples=300, memory_samples=298,
                        history_seconds=5.25 * 3600, cpu_p50=0.1234, cpu_p95=1.0, cpu_max=2.0006,
                        memory_p50=100.4 * Mi, memory_p95=1024 * Mi, memory_max=1536.6 * Mi, restarts=1, oom_kills=0)
    assert evidence_cells(evidence) == (
        "2", "300/298", "5.2h", "123m / 1000m / 2001m", "100Mi / 1024Mi / 1537Mi", "1", "0")
