"""The values that flow between the layers of `leanstack rightsize`.

metrics.py turns Prometheus answers into `ServiceUsage`; strategies.py turns a `ServiceUsage` plus
the service's `CurrentSpec` into a `Recommendation`. Everything here is plain data, so the
strategies stay pure and the CLI can render or serialise (`dataclasses.asdict`) the results.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from typing import Optional


@dataclass(frozen=True)
class PodSeries:
    """One pod's samples of one metric: parallel arrays of unix seconds and values.

    Arrays of doubles, not lists of tuples: 100 services x 14 days of samples stay ~10x smaller.
    """

    timestamps: array
    values: array


@dataclass(frozen=True)
class ServiceUsage:
    """What Prometheus showed for one service's container over the window.

    cpu_cores: per pod, the average CPU usage over each step (rate of the usage counter).
    memory_bytes: per pod, the highest working set within each step (max_over_time).
    restarts / oom_kills: increases of the restart counter within the window, and those of them
    whose termination reason was OOMKilled; last_oom_at is when the last one was seen;
    restart_source: where those came from ("kube-state-metrics", else "kubelet": see metrics.py).
    dropped_samples: NaN/Inf samples Prometheus returned, left out of every figure.
    """

    service: str
    namespace: str
    window_start: float
    window_end: float
    step_seconds: float
    cpu_cores: dict[str, PodSeries] = field(default_factory=dict)
    memory_bytes: dict[str, PodSeries] = field(default_factory=dict)
    restarts: int = 0
    oom_kills: int = 0
    last_oom_at: Optional[float] = None
    dropped_samples: int = 0
    restart_source: str = "kube-state-metrics"


@dataclass(frozen=True)
class Autoscaling:
    """The service's HPA as configured: replica bounds and utilization targets in percent."""

    min_replicas: int
    max_replicas: int
    cpu_utilization: Optional[int] = None
    memory_utilization: Optional[int] = None


@dataclass(frozen=True)
class Resources:
    """Requests and limits as Kubernetes quantity strings ("250m", "384Mi")."""

    cpu_request: str
    cpu_limit: str
    memory_request: str
    memory_limit: str


@dataclass(frozen=True)
class CurrentSpec:
    """What the stack file declares today for one service."""

    resources: Resources
    autoscaling: Optional[Autoscaling] = None
    exec_probes: bool = False
    """A probe runs a command in the container (Probes.runs_commands)."""


@dataclass(frozen=True)
class Replicas:
    min_replicas: int
    max_replicas: int


@dataclass(frozen=True)
class Evidence:
    """The observations behind a recommendation (or behind declining to make one).

    CPU figures in cores, memory in bytes; percentiles pool every pod's step samples and use the
    inclusive definition of stats.percentile. total_cpu_* is the sum over pods per step (the load
    an HPA spreads); history_seconds spans the first to the last CPU sample.
    """

    window_seconds: float
    step_seconds: float
    pods: int
    cpu_samples: int
    memory_samples: int
    history_seconds: float
    cpu_p50: float = 0.0
    cpu_p95: float = 0.0
    cpu_max: float = 0.0
    memory_p50: float = 0.0
    memory_p95: float = 0.0
    memory_max: float = 0.0
    total_cpu_p50: float = 0.0
    total_cpu_max: float = 0.0
    restarts: int = 0
    oom_kills: int = 0
    dropped_samples: int = 0
    restart_source: str = "kube-state-metrics"


@dataclass(frozen=True)
class Recommendation:
    """One service's outcome. `recommended` is None when the service is left alone; `reasons`
    then says why (e.g. not enough history), and otherwise explains how each figure was reached."""

    service: str
    strategy: str
    current: Resources
    recommended: Optional[Resources]
    evidence: Evidence
    reasons: tuple[str, ...]
    current_replicas: Optional[Replicas] = None
    recommended_replicas: Optional[Replicas] = None
