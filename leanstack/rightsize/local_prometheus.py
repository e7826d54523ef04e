"""A throw-away Prometheus on 127.0.0.1 holding backfilled series, for tests and the bench.

Backfill goes through Prometheus' own path: OpenMetrics text, `promtool tsdb create-blocks-from
openmetrics`, blocks in the data dir, and only then the server starts (it loads blocks at start).
promtool re-parses its whole input for every 2 h block it writes, so one input file per 2 h window
keeps a 14-day backfill linear instead of 168 passes over everything. The server runs with no
scrape jobs (or the kubelet jobs of kubelet_scrape_config, for the real node) and is stopped by its pid. Needs `prometheus` and `promtool` (scripts/prometheus.sh).
"""

from __future__ import annotations

import bisect
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

import requests

BLOCK_SECONDS = 2 * 3600  # promtool's block range; windows aligned to it map to one block each
MINIMAL_CONFIG = "global:\n  scrape_interval: 1m\nscrape_configs: []\n"
KUBELET_JOBS = {"kubelet-cadvisor": "/metrics/cadvisor", "kubelet-resource": "/metrics/resource"}


def kubelet_scrape_config(node_ip: str, node_name: str, ca_file: Path, token_file: Path, interval_seconds: int) -> str:
    """Scrape jobs for one kubelet, straight at its port 10250: the ServiceAccount token needs only
    nodes/metrics (the apiserver's node proxy would need nodes/proxy, which also allows exec), and
    the kubelet's self-signed serving certificate is verified against its own file, for its name.
    JSON is YAML, so the paths need no quoting rules of ours."""
    jobs = [{
        "job_name": job, "metrics_path": path, "scheme": "https",
        "authorization": {"credentials_file": str(token_file)},
        "tls_config": {"ca_file": str(ca_file), "server_name": node_name},
        "static_configs": [{"targets": [f"{node_ip}:10250"], "labels": {"node": node_name}}],
    } for job, path in KUBELET_JOBS.items()]
    return json.dumps({"global": {"scrape_interval": f"{interval_seconds}s"}, "scrape_configs": jobs}, indent=1) + "\n"


@dataclass(frozen=True)
class Series:
    """One series to backfill: metric name, "counter" or "gauge", labels, samples sorted by time
    (unix seconds)."""

    name: str
    kind: str
    labels: dict[str, str]
    timestamps: Sequence[float]
    values: Sequence[float]


def _label_text(labels: dict[str, str]) -> str:
    return ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))


def _write_window(path: Path, series: Sequence[Series], start: float, end: float) -> int:
    """OpenMetrics text of the samples in [start, end); families grouped, as the format requires."""
    written = 0
    with path.open("w") as out:
        for name in dict.fromkeys(s.name for s in series):
            family = [s for s in series if s.name == name]
            out.write(f"# TYPE {name} {family[0].kind}\n")
            for one in family:
                first = bisect.bisect_left(one.timestamps, start)
                last = bisect.bisect_left(one.timestamps, end)
                prefix = f"{name}{{{_label_text(one.labels)}}} "
                out.writelines(f"{prefix}{one.values[i]!r} {one.timestamps[i]:.3f}\n" for i in range(first, last))
                written += last - first
        out.write("# EOF\n")
    return written


def backfill(series: Sequence[Series], data_dir: Path, promtool: str = "promtool", jobs: int = 2) -> int:
    """Write the series as TSDB blocks into data_dir (created if missing); returns the sample count."""
    data_dir.mkdir(parents=True, exist_ok=True)
    stamps = [t for s in series for t in (s.timestamps[:1] + s.timestamps[-1:])]
    if not stamps:
        return 0
    first_window = int(min(stamps) // BLOCK_SECONDS) * BLOCK_SECONDS
    samples = 0
    running: list[tuple[subprocess.Popen, Path]] = []
    with tempfile.TemporaryDirectory(prefix="openmetrics-") as scratch:
        for window in range(first_window, int(max(stamps)) + 1, BLOCK_SECONDS):
            path = Path(scratch) / f"{window}.om"
            count = _write_window(path, series, window, window + BLOCK_SECONDS)
            if not count:
                path.unlink()
                continue
            samples += count
            if len(running) >= jobs:
                _finish(*running.pop(0))
            command = [promtool, "tsdb", "create-blocks-from", "openmetrics", "--quiet", str(path), str(data_dir)]
            running.append((subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True), path))
        for process, path in running:
            _finish(process, path)
    return samples


def _finish(process: subprocess.Popen, path: Path) -> None:
    output, _ = process.communicate()
    path.unlink()
    if process.returncode:
        raise RuntimeError(f"promtool failed on {path.name}: {' '.join(output.split())[:500]}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LocalPrometheus:
    """`with LocalPrometheus(data_dir) as prometheus: requests.get(prometheus.url + ...)`."""

    def __init__(self, data_dir: Path, binary: str = "prometheus", port: Optional[int] = None,
                 config: str = MINIMAL_CONFIG):
        self.data_dir = Path(data_dir)
        self.config = config
        self.binary = binary
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: Optional[subprocess.Popen] = None

    def start(self, timeout: float = 90.0) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        config = self.data_dir.parent / f"prometheus-{self.port}.yml"
        config.write_text(self.config)
        self.log = self.data_dir.parent / f"prometheus-{self.port}.log"
        command = [
            self.binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={self.data_dir}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            # Backfilled history reaches back up to weeks; the default 15d would delete some of it.
            "--storage.tsdb.retention.time=60d",
        ]
        with self.log.open("w") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"prometheus exited with {self.process.returncode}: {self._log_tail()}")
            try:
                if requests.get(f"{self.url}/-/ready", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"prometheus not ready on {self.url} after {timeout:.0f}s: {self._log_tail()}")

    def _log_tail(self) -> str:
        return " | ".join(self.log.read_text().splitlines()[-5:])

    def stop(self, grace: float = 15.0) -> None:
        """SIGTERM our own pid, SIGKILL it if it lingers."""
        if self.process is None or self.process.poll() is not None:
            return
        os.kill(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(grace)
        except subprocess.TimeoutExpired:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def __enter__(self) -> "LocalPrometheus":
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
