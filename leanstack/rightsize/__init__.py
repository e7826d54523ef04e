"""Right-size a stack's services from their observed usage in Prometheus (`leanstack rightsize`).

Layers: metrics.py reads usage over the Prometheus HTTP API, strategies.py (pure) turns it into
requests, limits and HPA bounds, analyze.py ties the two together for the CLI.
"""

from leanstack.rightsize.analyze import analyze, parse_duration, parse_instant
from leanstack.rightsize.metrics import PrometheusClient, PrometheusError, aligned_end, fetch_usage
from leanstack.rightsize.model import Autoscaling, CurrentSpec, Evidence, Recommendation, Replicas, Resources, ServiceUsage
from leanstack.rightsize.strategies import STRATEGIES, Policy, recommend

__all__ = [
    "Autoscaling", "CurrentSpec", "Evidence", "Policy", "PrometheusClient", "PrometheusError", "Recommendation",
    "Replicas", "Resources", "STRATEGIES", "ServiceUsage", "aligned_end", "analyze", "fetch_usage", "parse_duration", "parse_instant", "recommend",
]
