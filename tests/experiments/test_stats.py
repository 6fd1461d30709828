"""Across-seed statistics: stratified bootstrap intervals, P(improvement), curves."""

from __future__ import annotations

import numpy as np
import pytest

from gaidrl.experiments.stats import (
    AGGREGATES,
    Interval,
    aggregate_intervals,
    bootstrap_interval,
    curve_intervals,
    iqm,
    mean_ci,
    probability_of_improvement,
    relative_improvement,
)


def test_bootstrap_interval_of_mean_covers_true_mean():
    # The percentile bootstrap undercovers a little at n=30 (nominal 0.95, typically ~0.93),
    # hence the lenient lower bound; an interval that covers far less (or always) is a bug.
    rng = np.random.default_rng(12345)
    hits = 0
    for rep in range(200):
        values = rng.normal(1.0, 2.0, size=30)
        iv = bootstrap_interval(values, "mean", n_resamples=500, seed=rep)
        assert iv.low <= iv.mean <= iv.high
        hits += iv.low <= 1.0 <= iv.high
    assert 0.88 <= hits / 200 <= 0.99


def test_iqm_is_mean_of_middle_half():
    values = np.array([100.0, 3.0, -50.0, 4.0, 5.0, 6.0, 1.0, 200.0])  # middle half: 3, 4, 5, 6
    assert iqm(values) == pytest.approx(4.5)
    assert AGGREGATES["iqm"](values, -1) == pytest.approx(4.5)
    table = np.arange(24.0).reshape(3, 8) ** 2
    assert np.allclose(iqm(table, axis=1), table[:, 2:6].mean(axis=1))


def test_mean_and_median_aggregates_match_numpy():
    x = np.random.default_rng(0).normal(size=(4, 7))
    assert np.allclose(AGGREGATES["mean"](x, 0), np.mean(x, axis=0))
    assert np.allclose(AGGREGATES["median"](x, -1), np.median(x, axis=-1))


def test_point_estimate_pools_all_seeds_of_all_tasks():
    scores = {"a": [1.0, 2.0, 3.0], "b": [10.0, 20.0]}
    iv = bootstrap_interval(scores, "mean", n_resamples=200)
    assert iv.mean == pytest.approx(np.mean([1, 2, 3, 10, 20]))
    assert iv.n == 5 and iv.confidence == 0.95
    assert iv.low < iv.mean < iv.high


def test_stratified_constant_tasks_give_exact_interval():
    # A pooled (unstratified) bootstrap would draw e.g. 7 seeds from b and 3 from a: mean 7.
    iv = bootstrap_interval({"a": np.zeros(5), "b": np.full(5, 10.0)}, "mean")
    assert (iv.mean, iv.low, iv.high) == (5.0, 5.0, 5.0)


def test_stratified_resamples_never_mix_tasks():
    # Each resample mean is (mean of a* + mean of b*) / 2 with a*, b* drawn within their task, so
    # it lies within these bounds; a pooled bootstrap would reach ~30 or ~70.
    rng = np.random.default_rng(3)
    a, b = rng.uniform(0.0, 1.0, 5), rng.uniform(100.0, 101.0, 5)
    iv = bootstrap_interval({"a": a, "b": b}, "mean", n_resamples=2000)
    assert (a.min() + b.min()) / 2 <= iv.low < iv.high <= (a.max() + b.max()) / 2
    assert iv.high - iv.low > 0.05  # it did resample


def test_bootstrap_is_reproducible_and_seeded():
    x = np.random.default_rng(5).normal(size=12)
    assert bootstrap_interval(x, seed=1) == bootstrap_interval(x, seed=1)
    assert bootstrap_interval(x, seed=1) != bootstrap_interval(x, seed=2)


def test_aggregate_intervals_returns_each_aggregate():
    x = np.random.default_rng(6).normal(size=16)
    out = aggregate_intervals({"t": x}, n_resamples=300)
    assert list(out) == ["mean", "median", "iqm"]
    assert out["median"].mean == pytest.approx(np.median(x))
    assert out["iqm"] == bootstrap_interval({"t": x}, "iqm", n_resamples=300)
    assert all(isinstance(iv, Interval) and iv.n == 16 for iv in out.values())


def test_one_value_task_gives_infinite_interval():
    iv = bootstrap_interval({"a": [1.0, 2.0, 3.0], "b": [4.0]}, "mean")
    assert iv.mean == pytest.approx(2.5) and iv.n == 4
    assert (iv.low, iv.high) == (-np.inf, np.inf)
    assert bootstrap_interval([7.0]).low == mean_ci([7.0]).low == -np.inf
    p = probability_of_improvement({"t": [1.0, 2.0]}, {"t": [0.0]})
    assert p.mean == 1.0 and np.isinf(p.low) and np.isinf(p.high)
    _, low, high = curve_intervals(np.ones((1, 4)))
    assert np.all(np.isneginf(low)) and np.all(np.isposinf(high))


def test_all_equal_values_give_zero_width_interval():
    iv = bootstrap_interval({"a": [0.3] * 4, "b": [0.3] * 6}, "iqm")
    assert iv.low == iv.high == iv.mean == pytest.approx(0.3)


def test_probability_of_improvement_basic_properties():
    rng = np.random.default_rng(7)
    y = {"a": rng.normal(0.0, 1.0, 8), "b": rng.normal(50.0, 5.0, 6)}
    above = {"a": y["a"] + 10.0, "b": y["b"] + 100.0}
    assert probability_of_improvement(above, y, n_resamples=300).mean == 1.0

    same = probability_of_improvement(y, y, n_resamples=300)
    assert same.mean == pytest.approx(0.5)
    assert same.low < 0.5 < same.high

    x = {"a": rng.normal(0.5, 1.0, 8), "b": rng.normal(52.0, 5.0, 6)}
    p_xy = probability_of_improvement(x, y, n_resamples=500)
    p_yx = probability_of_improvement(y, x, n_resamples=500)
    assert p_xy.mean == pytest.approx(1.0 - p_yx.mean)
    assert p_xy.low <= p_xy.mean <= p_xy.high
    assert 0.0 <= p_xy.low < p_xy.high <= 1.0
    assert p_xy.n == 14


def test_probability_of_improvement_counts_ties_half_and_averages_tasks():
    # task a: pairs (1>0, 1=1, 2>0, 2>1) -> (3 + 0.5) / 4; task b: X below Y -> 0.
    p = probability_of_improvement(
        {"a": [1.0, 2.0], "b": [0.0, 0.0]}, {"a": [0.0, 1.0], "b": [1, 2]}
    )
    assert p.mean == pytest.approx((3.5 / 4 + 0.0) / 2)


def test_probability_of_improvement_names_missing_tasks():
    with pytest.raises(ValueError, match="'c'"):
        probability_of_improvement({"a": [1, 2], "c": [1, 2]}, {"a": [1, 2], "b": [1, 2]})


def test_relative_improvement_of_scaled_scores():
    y = {"a": np.random.default_rng(8).uniform(1.0, 3.0, 10), "b": np.linspace(5.0, 9.0, 7)}
    x = {k: 1.1 * v for k, v in y.items()}
    iv = relative_improvement(x, y, n_resamples=1000)
    assert iv.mean == pytest.approx(0.1)
    assert iv.low < 0.1 < iv.high
    assert relative_improvement(x, y, "iqm", n_resamples=200).mean == pytest.approx(0.1)


def test_relative_improvement_refuses_zero_baseline():
    with pytest.raises(ValueError, match="division by zero"):
        relative_improvement([1.0, 2.0], [-1.0, 1.0])


def test_curve_intervals_shapes_and_order():
    rng = np.random.default_rng(9)
    curves = rng.normal(size=(6, 50)).cumsum(axis=1)
    point, low, high = curve_intervals(curves, n_resamples=300)
    assert point.shape == low.shape == high.shape == (50,)
    assert np.allclose(point, iqm(curves, axis=0))
    assert np.all(low <= point) and np.all(point <= high)
    assert np.all(high - low > 0)
    # The per-step bootstrap matches bootstrapping one step on its own.
    one = bootstrap_interval(curves[:, 10], "mean", n_resamples=300, seed=4)
    mean_point, _, _ = curve_intervals(curves, "mean", n_resamples=300, seed=4)
    assert mean_point[10] == pytest.approx(one.mean)


def test_curve_intervals_refuse_nan_and_bad_shape():
    curves = np.ones((3, 5))
    curves[1, 4] = np.nan
    with pytest.raises(ValueError, match="evaluation steps"):
        curve_intervals(curves)
    with pytest.raises(ValueError, match="seeds, steps"):
        curve_intervals(np.ones(5))


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [
        ({"scores": []}, "empty"),
        ({"scores": {}}, "empty"),
        ({"scores": {"a": []}}, "'a'"),
        ({"scores": {"a": [1.0, np.nan]}}, "non-finite"),
        ({"scores": [1.0, np.inf]}, "non-finite"),
        ({"scores": np.ones((2, 3))}, "1-D"),
        ({"scores": [1.0, 2.0], "confidence": 1.0}, "confidence"),
        ({"scores": [1.0, 2.0], "confidence": 0.0}, "confidence"),
        ({"scores": [1.0, 2.0], "aggregate": "max"}, "iqm"),
        ({"scores": [1.0, 2.0], "n_resamples": 0}, "n_resamples"),
    ],
)
def test_bad_input_raises_informative_value_error(kwargs, word):
    with pytest.raises(ValueError, match=word):
        bootstrap_interval(**kwargs)


def test_bad_input_in_comparisons_raises():
    with pytest.raises(ValueError, match="allowed"):
        relative_improvement([1, 2], [1, 2], aggregate="mode")
    with pytest.raises(ValueError, match="confidence"):
        probability_of_improvement([1, 2], [1, 2], confidence=95)
    with pytest.raises(ValueError, match="allowed"):
        aggregate_intervals([1, 2], aggregates=("mean", "best"))
