"""Percentiles and the JSON lines every scenario prints."""

from __future__ import annotations

import json
import statistics
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Metric:
    scenario: str
    metric: str
    value: float
    unit: str

    def json_line(self) -> str:
        return json.dumps(asdict(self))


def percentile(samples: list[float], fraction: float) -> float:
    """The `fraction` quantile (0.95 for p95), linear between the closest ranks."""
    if not samples:
        raise ValueError("no samples")
    if len(samples) == 1:
        return samples[0]
    ordered = sorted(samples)
    position = fraction * (len(ordered) - 1)
    lower = int(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def median(samples: list[float]) -> float:
    return statistics.median(samples)
