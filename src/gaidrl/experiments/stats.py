"""Honest summary statistics across seeds.

``mean_ci``: a Student-t interval of a mean. The rest compares RL variants across seeds in the
style of rliable (Agarwal et al., 2021): robust aggregates (IQM, median) with stratified bootstrap
intervals, probability of improvement and relative improvement, all resampled by
``scipy.stats.bootstrap`` rather than by hand.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
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


# --- Across-seed comparisons of RL variants (rliable style, Agarwal et al. 2021) -----------------
#
# ``scores`` maps a task (e.g. one env preset) to a 1-D array of one variant's values over seeds
# (runs). Intervals come from a *stratified* percentile bootstrap: seeds are resampled within each
# task independently, never across tasks, so a hard task's low scores cannot stand in for an easy
# task's. All resampling is done by ``scipy.stats.bootstrap``: each task is passed as its own
# sample with ``paired=False``, which is exactly per-task resampling.

Aggregate = Callable[[np.ndarray, int], np.ndarray]

_ONE_TASK = "<one task>"
# Largest number of floats one vectorized batch of resamples may hold (bounds memory use).
_MAX_BATCH_ELEMENTS = 2_000_000
# scipy 1.15 renamed bootstrap's ``random_state`` to ``rng`` (SPEC 7); use what this scipy has.
_RNG_KEYWORD = "rng" if "rng" in inspect.signature(stats.bootstrap).parameters else "random_state"


def iqm(values: ArrayLike, axis: int | None = -1) -> np.ndarray:
    """Interquartile mean: mean of the middle half of the values.

    Robust to a few outlier seeds, yet far less noisy than the median; rliable's recommended
    aggregate for a handful of runs.
    """
    return stats.trim_mean(np.asarray(values, dtype=np.float64), 0.25, axis=axis)


def _mean(values: ArrayLike, axis: int | None = -1) -> np.ndarray:
    return np.mean(values, axis=axis)


def _median(values: ArrayLike, axis: int | None = -1) -> np.ndarray:
    return np.median(values, axis=axis)


AGGREGATES: dict[str, Aggregate] = {"mean": _mean, "median": _median, "iqm": iqm}


def _aggregate_fn(name: str) -> Aggregate:
    try:
        return AGGREGATES[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown aggregate {name!r}; allowed: {', '.join(sorted(AGGREGATES))}"
        ) from None


def _check_settings(confidence: float, n_resamples: int) -> None:
    if not (isinstance(confidence, (int, float, np.floating)) and 0.0 < confidence < 1.0):
        raise ValueError(f"confidence must be a number strictly in (0, 1); got {confidence!r}")
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, (int, np.integer)):
        raise ValueError(f"n_resamples must be a positive integer; got {n_resamples!r}")
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be a positive integer; got {n_resamples}")


def _as_tasks(scores: Mapping[str, ArrayLike] | ArrayLike, what: str) -> dict[str, np.ndarray]:
    """Task name -> finite 1-D float array over seeds; a plain array is one task."""
    if isinstance(scores, Mapping):
        if not scores:
            raise ValueError(f"{what} is an empty mapping; give task name -> values over seeds")
        items = list(scores.items())
    else:
        items = [(_ONE_TASK, scores)]
    tasks: dict[str, np.ndarray] = {}
    for name, values in items:
        label = what if name == _ONE_TASK else f"{what}[{name!r}]"
        x = np.asarray(values, dtype=np.float64)
        if x.ndim == 0:
            x = x.reshape(1)
        if x.ndim != 1:
            raise ValueError(
                f"{label} has shape {x.shape}; each task needs a 1-D array of values over seeds"
            )
        if x.size == 0:
            raise ValueError(f"{label} is empty; each task needs at least one seed's value")
        if not np.all(np.isfinite(x)):
            raise ValueError(f"{label} has non-finite values (NaN or inf); only finite are allowed")
        tasks[name] = x
    return tasks


def _matched_tasks(
    x_scores: Mapping[str, ArrayLike] | ArrayLike, y_scores: Mapping[str, ArrayLike] | ArrayLike
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """X's and Y's per-task arrays in the same task order; both must cover the same tasks."""
    x_tasks = _as_tasks(x_scores, "x_scores")
    y_tasks = _as_tasks(y_scores, "y_scores")
    if x_tasks.keys() != y_tasks.keys():
        only_x = [k for k in x_tasks if k not in y_tasks]
        only_y = [k for k in y_tasks if k not in x_tasks]
        raise ValueError(
            "x_scores and y_scores must cover the same tasks; "
            f"missing from y_scores: {only_x}, missing from x_scores: {only_y}"
        )
    return list(x_tasks.values()), [y_tasks[k] for k in x_tasks]


def _all_constant(samples: Sequence[np.ndarray]) -> bool:
    return all(np.ptp(s) == 0 for s in samples)


def _percentile_bootstrap(
    samples: Sequence[np.ndarray],
    statistic: Callable[..., np.ndarray],
    *,
    confidence: float,
    n_resamples: int,
    seed: int | np.random.Generator | None,
    cost_per_resample: int,
    axis: int = -1,
) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval of ``statistic`` with each sample resampled on its own (stratified).

    A bound that comes out NaN (e.g. a ratio whose denominator is 0 in some resamples) is widened
    to infinity: an honest "unknown" rather than scipy's warning and a NaN.
    """
    batch = max(1, min(n_resamples, _MAX_BATCH_ELEMENTS // max(1, cost_per_resample)))
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        # scipy warns about "BCa" whenever a quantile is NaN, even for method='percentile'.
        warnings.simplefilter("ignore", stats.DegenerateDataWarning)
        result = stats.bootstrap(
            tuple(samples),
            statistic,
            n_resamples=n_resamples,
            batch=batch,
            vectorized=True,
            paired=False,
            axis=axis,
            confidence_level=confidence,
            method="percentile",
            **{_RNG_KEYWORD: np.random.default_rng(seed)},
        )
    low = np.asarray(result.confidence_interval.low, dtype=np.float64)
    high = np.asarray(result.confidence_interval.high, dtype=np.float64)
    return np.where(np.isnan(low), -np.inf, low), np.where(np.isnan(high), np.inf, high)


def _pooled(agg: Aggregate) -> Callable[..., np.ndarray]:
    """Vectorized statistic: ``agg`` over all tasks' (resampled) seeds pooled together."""

    def statistic(*tasks: np.ndarray, axis: int = -1) -> np.ndarray:
        return agg(np.concatenate(tasks, axis=axis), axis)

    return statistic


def bootstrap_interval(
    scores: Mapping[str, ArrayLike] | ArrayLike,
    aggregate: str = "iqm",
    confidence: float = 0.95,
    n_resamples: int = 2000,
    seed: int | np.random.Generator | None = 0,
) -> Interval:
    """``aggregate`` over all seeds of all tasks, with a stratified percentile bootstrap interval.

    A task with a single seed says nothing about spread, so the interval is then (-inf, inf) as in
    ``mean_ci``; if every task's seeds agree exactly, every resample does too and the interval has
    zero width. ``Interval.mean`` holds the aggregate (median / IQM too); ``n`` counts all seeds.
    """
    agg = _aggregate_fn(aggregate)
    _check_settings(confidence, n_resamples)
    tasks = list(_as_tasks(scores, "scores").values())
    pooled = np.concatenate(tasks)
    point = float(agg(pooled, -1))
    n = int(pooled.size)
    if min(t.size for t in tasks) < 2:
        return Interval(point, -np.inf, np.inf, n, confidence)
    if _all_constant(tasks):
        return Interval(point, point, point, n, confidence)
    low, high = _percentile_bootstrap(
        tasks,
        _pooled(agg),
        confidence=confidence,
        n_resamples=n_resamples,
        seed=seed,
        cost_per_resample=n,
    )
    return Interval(point, float(low), float(high), n, confidence)


def aggregate_intervals(
    scores: Mapping[str, ArrayLike] | ArrayLike,
    aggregates: Sequence[str] = ("mean", "median", "iqm"),
    *,
    confidence: float = 0.95,
    n_resamples: int = 2000,
    seed: int | np.random.Generator | None = 0,
) -> dict[str, Interval]:
    """``bootstrap_interval`` for several aggregates at once (rliable's usual table row)."""
    if isinstance(aggregates, str):
        aggregates = (aggregates,)
    for name in aggregates:
        _aggregate_fn(name)
    return {
        name: bootstrap_interval(scores, name, confidence, n_resamples, seed) for name in aggregates
    }


def _prob_x_above_y(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Mann-Whitney P(x > y) + P(x = y) / 2 over all seed pairs, along the last axes."""
    xs, ys = x[..., :, None], y[..., None, :]
    return np.mean(xs > ys, axis=(-2, -1)) + 0.5 * np.mean(xs == ys, axis=(-2, -1))


def probability_of_improvement(
    x_scores: Mapping[str, ArrayLike] | ArrayLike,
    y_scores: Mapping[str, ArrayLike] | ArrayLike,
    confidence: float = 0.95,
    n_resamples: int = 2000,
    seed: int | np.random.Generator | None = 0,
) -> Interval:
    """P(X > Y): chance a random run of X beats a random run of Y on a task, averaged over tasks.

    Unlike a difference of means it ignores score scales and needs no normalisation, and 0.5 means
    "no difference" (rliable). The interval resamples X's and Y's seeds independently within each
    task. ``n`` counts X's seeds.
    """
    _check_settings(confidence, n_resamples)
    xs, ys = _matched_tasks(x_scores, y_scores)
    point = float(np.mean([_prob_x_above_y(x, y) for x, y in zip(xs, ys, strict=True)]))
    n_tasks = len(xs)

    def statistic(*samples: np.ndarray, axis: int = -1) -> np.ndarray:
        samples = tuple(np.moveaxis(s, axis, -1) for s in samples)
        per_task = [
            _prob_x_above_y(x, y) for x, y in zip(samples[:n_tasks], samples[n_tasks:], strict=True)
        ]
        return np.mean(per_task, axis=0)

    cost = sum(x.size * y.size for x, y in zip(xs, ys, strict=True))
    return _two_sample_interval(point, xs, ys, statistic, confidence, n_resamples, seed, cost)


def _two_sample_interval(
    point: float,
    xs: list[np.ndarray],
    ys: list[np.ndarray],
    statistic: Callable[..., np.ndarray],
    confidence: float,
    n_resamples: int,
    seed: int | np.random.Generator | None,
    cost_per_resample: int,
) -> Interval:
    """A comparison's interval: X's and Y's seeds resampled independently within each task
    (infinite with a single seed anywhere, zero-width when every task's seeds agree)."""
    n = int(sum(x.size for x in xs))
    if min(s.size for s in xs + ys) < 2:
        return Interval(point, -np.inf, np.inf, n, confidence)
    if _all_constant(xs + ys):
        return Interval(point, point, point, n, confidence)
    low, high = _percentile_bootstrap(
        xs + ys,
        statistic,
        confidence=confidence,
        n_resamples=n_resamples,
        seed=seed,
        cost_per_resample=cost_per_resample,
    )
    return Interval(point, float(low), float(high), n, confidence)


def relative_improvement(
    x_scores: Mapping[str, ArrayLike] | ArrayLike,
    y_scores: Mapping[str, ArrayLike] | ArrayLike,
    aggregate: str = "mean",
    confidence: float = 0.95,
    n_resamples: int = 2000,
    seed: int | np.random.Generator | None = 0,
) -> Interval:
    """(agg(X) - agg(Y)) / |agg(Y)|, the aggregates pooling all seeds of all tasks.

    "X is 10% better than Y" with an interval from resampling X's and Y's seeds independently
    within each task. Resamples where agg(Y) is 0 make the ratio unbounded, which widens the
    interval to infinity rather than hiding it. ``n`` counts X's seeds.
    """
    agg = _aggregate_fn(aggregate)
    _check_settings(confidence, n_resamples)
    xs, ys = _matched_tasks(x_scores, y_scores)
    x_agg = float(agg(np.concatenate(xs), -1))
    y_agg = float(agg(np.concatenate(ys), -1))
    if y_agg == 0.0:
        raise ValueError(
            f"relative improvement is undefined: the {aggregate} of y_scores is 0, so dividing by "
            "|agg(Y)| is a division by zero; compare differences or use probability_of_improvement"
        )
    point = (x_agg - y_agg) / abs(y_agg)
    n_tasks = len(xs)

    def statistic(*samples: np.ndarray, axis: int = -1) -> np.ndarray:
        x_star = agg(np.concatenate(samples[:n_tasks], axis=axis), axis)
        y_star = agg(np.concatenate(samples[n_tasks:], axis=axis), axis)
        return (x_star - y_star) / np.abs(y_star)

    cost = sum(s.size for s in xs + ys)
    return _two_sample_interval(point, xs, ys, statistic, confidence, n_resamples, seed, cost)


def curve_intervals(
    curves: ArrayLike,
    aggregate: str = "iqm",
    confidence: float = 0.95,
    n_resamples: int = 1000,
    seed: int | np.random.Generator | None = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-step ``aggregate`` of learning curves over seeds and its bootstrap interval.

    ``curves`` has shape (seeds, steps), one task; returns (point, low, high), each of shape
    (steps,). All steps are bootstrapped in one vectorized call with the same seed resamples, so
    the bands are those of whole-seed resampling. With one seed the bands are infinite.
    """
    agg = _aggregate_fn(aggregate)
    _check_settings(confidence, n_resamples)
    c = np.asarray(curves, dtype=np.float64)
    if c.ndim != 2:
        raise ValueError(
            f"curves must have shape (seeds, steps); got shape {c.shape} "
            "(one seed's curve: use curves.reshape(1, -1))"
        )
    if c.size == 0:
        raise ValueError(f"curves is empty (shape {c.shape}); need at least one seed and one step")
    if np.isnan(c).any():
        raise ValueError(
            "curves contain NaN: all seeds' curves must share their evaluation steps "
            "(interpolate or truncate them to common steps first)"
        )
    if not np.all(np.isfinite(c)):
        raise ValueError("curves contain inf; only finite values are allowed")
    point = np.asarray(agg(c, 0), dtype=np.float64)
    if c.shape[0] < 2:
        return point, np.full_like(point, -np.inf), np.full_like(point, np.inf)

    def statistic(x: np.ndarray, axis: int = -1) -> np.ndarray:
        return agg(x, axis)

    low, high = _percentile_bootstrap(
        (c,),
        statistic,
        confidence=confidence,
        n_resamples=n_resamples,
        seed=seed,
        cost_per_resample=c.size,
        axis=0,
    )
    return point, low, high
