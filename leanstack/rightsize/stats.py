"""The two percentile definitions the strategies use, and rounding to clean quantities.

- `percentile`: linear interpolation between closest ranks, rank = p * (n - 1). This is what
  Prometheus' quantile_over_time computes (so KRR's server-side p95 and ours agree), and it equals
  `statistics.quantiles(data, n=100, method="inclusive")`.
- `weighted_percentile`: the smallest value whose cumulative weight reaches p * total weight, the
  rule of the VPA recommender's histogram Percentile (util/histogram.go), applied to exact values
  instead of 5%-wide buckets (VPA then reports the bucket's end, up to 5% above the value).
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Sequence

# rate() and float sums leave values like 0.20000000000000004; within this relative distance of a
# step boundary a value counts as on it, so float noise never adds a whole step.
ROUNDING_TOLERANCE = 1e-9


def percentile(values: Sequence[float], p: float) -> float:
    """Inclusive percentile of unsorted values, p in [0, 1]; 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = p * (len(ordered) - 1)
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def weighted_percentile(values: Sequence[float], weights: Sequence[float], p: float) -> float:
    """Smallest value v with sum(weights of values <= v) >= p * sum(weights); 0.0 for no values."""
    if not values:
        return 0.0
    pairs = sorted(zip(values, weights))
    threshold = p * sum(weights)
    cumulative = 0.0
    for value, weight in pairs:
        cumulative += weight
        if cumulative >= threshold:
            return value
    return pairs[-1][0]


def ceil_to_step(amount: float, step: int) -> int:
    """Round a non-negative amount up to a whole multiple of step (both in the same unit)."""
    steps = amount / step
    return math.ceil(steps - ROUNDING_TOLERANCE * max(1.0, steps)) * step


def ceil_count(amount: float) -> int:
    """math.ceil that ignores float noise just above a whole number."""
    return math.ceil(amount - ROUNDING_TOLERANCE * max(1.0, amount))


def millicores(cores: float, step_millicores: int) -> Decimal:
    """Cores rounded up to step_millicores, as exact Decimal cores."""
    return Decimal(ceil_to_step(cores * 1000, step_millicores)) / 1000
