"""Honest summary statistics across seeds: means with Student-t confidence intervals."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class Interval:
    """Mean of ``n`` independent values with a two-sided ``confidence`` interval."""

    mean: float
    low: float
    high: float
    n: int
    confidence: float = 0.95

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2.0

    def __str__(self) -> str:
        return f"{self.mean:.4g} ± {self.half_width:.2g} (n={self.n})"


def mean_ci(values, confidence: float = 0.95) -> Interval:
    """Student-t interval of the mean; one value gives an infinite interval, not a false one."""
    x = np.asarray(values, dtype=np.float64).ravel()
    if x.size == 0:
        raise ValueError("mean_ci needs at least one value")
    mean = float(x.mean())
    if x.size == 1:
        return Interval(mean, -np.inf, np.inf, 1, confidence)
    sem = float(x.std(ddof=1) / np.sqrt(x.size))
    half = float(stats.t.ppf(0.5 + confidence / 2.0, x.size - 1) * sem)
    return Interval(mean, mean - half, mean + half, int(x.size), confidence)
