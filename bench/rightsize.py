"""How long `leanstack rightsize` takes on 100 services x 14 days of 30 s samples (target: < 30 s
and < 500 MiB), and how that splits between Prometheus queries and analysis.

Backfills a local Prometheus (cAdvisor CPU counter and working set every 30 s, kube-state-metrics
restart counter and OOM flag every 2 min, one pod per service), starts it on 127.0.0.1, then
analyses in a child process so its peak RSS is the analysis alone, not the data generation.

    scripts/prometheus.sh && .venv/bin/python bench/rightsize.py [--services 100] [--days 14] [--step 5m]
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import tempfile
import time
from array import array
from pathlib import Path

from leanstack.rightsize import CurrentSpec, PrometheusClient, Resources, fetch_usage, parse_duration, recommend
from leanstack.rightsize.local_prometheus import LocalPrometheus, Series, backfill

NAMESPACE = "bench"
SCRAPE = 30
KSM_SCRAPE = 120
Mi = 2**20


def generate(services: int, end: int, days: int) -> list[Series]:
    """Per service: a daily CPU cycle with a per-service base, and a sawtooth working set."""
    start = end - days * 86400
    stamps = array("d", range(start, end + 1, SCRAPE))
    ksm_stamps = array("d", range(start, end + 1, KSM_SCRAPE))
    result = []
    for index in range(services):
        name = f"svc{index:03d}"
        labels = {"namespace": NAMESPACE, "pod": f"{name}-6f7d8-abcde", "container": name}
        base = 0.02 + 0.01 * (index % 40)
        counter, memory, total = array("d"), array("d"), 0.0
        for t in stamps:
            total += base * (1.2 + math.sin(2 * math.pi * t / 86400)) * SCRAPE
            counter.append(total)
            memory.append(float((64 + index % 200) * Mi + (int(t) % 21600) * 512))
        result += [
            Series("container_cpu_usage_seconds_total", "counter", labels, stamps, counter),
            Series("container_memory_working_set_bytes", "gauge", labels, stamps, memory),
            Series("kube_pod_container_status_restarts_total", "counter", labels, ksm_stamps, array("d", [0.0]) * len(ksm_stamps)),
            Series("kube_pod_container_status_last_terminated_reason", "gauge", dict(labels, reason="OOMKilled"),
                   ksm_stamps, array("d", [0.0]) * len(ksm_stamps)),
        ]
    return result


def analyse(url: str, services: int, days: int, step: float, end: int) -> dict:
    """Runs in the child: query, then recommend; returns timings and peak RSS."""
    names = [f"svc{index:03d}" for index in range(services)]
    spec = CurrentSpec(Resources("250m", "500m", "256Mi", "512Mi"))
    began = time.perf_counter()
    usage = fetch_usage(PrometheusClient(url), NAMESPACE, names, days * 86400, step, end=end)
    queried = time.perf_counter()
    recommendations = [recommend(usage[name], spec, "krr") for name in names]
    recommendations += [recommend(usage[name], spec, "vpa") for name in names]
    analysed = time.perf_counter()
    return {
        "query_seconds": queried - began,
        "analysis_seconds": analysed - queried,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "recommended": sum(r.recommended is not None for r in recommendations),
        "samples": sum(r.evidence.cpu_samples + r.evidence.memory_samples for r in recommendations[:services]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=100)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--step", default="5m", help="query step (the analysis resolution)")
    parser.add_argument("--child", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--end", type=int, help=argparse.SUPPRESS)
    options = parser.parse_args()
    step = parse_duration(options.step)
    if options.child:
        print(json.dumps(analyse(options.child, options.services, options.days, step, options.end)))
        return

    end = math.floor(time.time() / 300) * 300 - 600
    with tempfile.TemporaryDirectory(prefix="bench-rightsize-") as scratch:
        began = time.perf_counter()
        series = generate(options.services, end, options.days)
        generated = time.perf_counter()
        samples = backfill(series, Path(scratch) / "data")
        backfilled = time.perf_counter()
        del series
        with LocalPrometheus(Path(scratch) / "data") as prometheus:
            started = time.perf_counter()
            child = subprocess.run(
                [sys.executable, __file__, "--child", prometheus.url, "--services", str(options.services),
                 "--days", str(options.days), "--step", options.step, "--end", str(end)],
                check=True, capture_output=True, text=True,
            )
            wall = time.perf_counter() - started
    result = json.loads(child.stdout)
    total = result["query_seconds"] + result["analysis_seconds"]
    print(f"data: {options.services} services x {options.days} d, {samples:,} raw samples backfilled")
    print(f"generate {generated - began:.1f} s, backfill (promtool) {backfilled - generated:.1f} s")
    print(f"rightsize at step {options.step}: {wall:.1f} s wall (child process incl. start-up), "
          f"peak RSS {result['peak_rss_mib']:.0f} MiB; {result['samples']:,} step samples")
    print(f"  queries  {result['query_seconds']:.1f} s ({100 * result['query_seconds'] / total:.0f}%)")
    print(f"  analysis {result['analysis_seconds']:.1f} s ({100 * result['analysis_seconds'] / total:.0f}%) "
          f"for krr + vpa, {result['recommended']} recommendations")


if __name__ == "__main__":
    main()
