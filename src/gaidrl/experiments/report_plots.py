"""The report's figures, drawn with matplotlib's object API (no pyplot state, no display)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from gaidrl.experiments import stats
from gaidrl.experiments.results import SweepResults

REFERENCE_STYLE = {"random": "#999999", "heuristic": "#4c72b0", "planner": "#937860",
                   "oracle": "#dd8452"}  # fmt: skip
RESAMPLES = 1000


def _colours(n: int) -> list:
    """Distinct colours: tab10 up to 10, tab20 beyond (no two lines share one up to 20)."""
    from matplotlib import colormaps

    cmap = colormaps["tab10" if n <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(n)]


def _curve_values(results: SweepResults, variant: str, task: str, per_step: bool):
    """(steps, (seeds, steps) values) of a variant's finished trials on a task, cut to the
    evaluation steps they all share; None without curves."""
    curves = []
    for trial in results.done(variant, task):
        ret = trial.curve("return_mean")
        if ret is None:
            continue
        steps, values = ret
        if per_step:
            length = trial.curve("length_mean")
            if length is None:
                continue
            values = values / np.maximum(length[1], 1.0)
        curves.append((steps, values))
    if not curves:
        return None
    n = min(len(s) for s, _ in curves)
    steps = curves[0][0][:n]
    if any(not np.array_equal(s[:n], steps) for s, _ in curves):
        return None
    return steps, np.stack([v[:n] for _, v in curves])


def plot_learning_curves(results: SweepResults, path: Path) -> Path | None:
    per_step = "reward" in results.metric_names()  # the case study: reward per slot
    tasks = results.tasks
    fig = Figure(figsize=(4.6 * len(tasks) + 3.2, 4.2), dpi=110, layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(tasks), squeeze=False)[0])
    drew = False
    colours = _colours(len(results.variants))
    for ax, task in zip(axes, tasks, strict=True):
        for colour, variant in zip(colours, results.variants, strict=True):
            got = _curve_values(results, variant, task, per_step)
            if got is None:
                continue
            steps, values = got
            point, low, high = stats.curve_intervals(values, "iqm", n_resamples=RESAMPLES)
            label = f"{results.labels.get(variant, variant)} (n={len(values)})"
            ax.plot(steps, point, "o-", ms=3, color=colour, label=label)
            if np.isfinite(low).all() and np.isfinite(high).all():
                ax.fill_between(steps, low, high, color=colour, alpha=0.2, lw=0)
            drew = True
        refs = results.reference_of(task)
        for name, colour in REFERENCE_STYLE.items():
            if per_step and name in refs and "reward" in refs[name]:
                ax.axhline(refs[name]["reward"], ls="--", lw=1, color=colour, label=name)
        ax.set_title(f"task: {task}")
        ax.set_xlabel("env steps")
        ax.set_ylabel("reward per slot (greedy)" if per_step else "episode return (greedy)")
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x / 1000:g}k"))
        ax.grid(alpha=0.3)
    if not drew:
        return None
    handles, texts = axes[0].get_legend_handles_labels()
    fig.legend(handles, texts, loc="outside right upper", fontsize=8)
    fig.savefig(path)
    return path


BAR_METRICS = ("sum_rate", "fairness", "percent_of_planner_reward", "bs_power_fraction",
               "uav_power_fraction", "return")  # fmt: skip


def plot_metric_bars(results: SweepResults, metrics: dict, path: Path) -> Path | None:
    """One panel per metric, variants as rows (IQM and 95 % interval per task), the
    references' levels as dashed lines."""
    names = [m for m in BAR_METRICS if m in metrics]
    if not names:
        return None
    cols = min(3, len(names))
    rows = -(-len(names) // cols)
    n_var, n_task = len(results.variants), len(results.tasks)
    height = 0.9 + 0.28 * n_var * max(n_task, 1)
    fig = Figure(figsize=(4.6 * cols, height * rows + 0.6), dpi=110, layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False).ravel())
    task_colours = _colours(n_task)
    bar = 0.8 / max(n_task, 1)
    y = np.arange(n_var)[::-1]
    labels = [results.labels.get(v, v) for v in results.variants]
    for k, (ax, metric) in enumerate(zip(axes, names, strict=False)):
        title, unit, _ = metrics[metric]
        for j, (task, colour) in enumerate(zip(results.tasks, task_colours, strict=True)):
            for i, variant in enumerate(results.variants):
                values = results.scores(variant, metric).get(task)
                if values is None:
                    continue
                iv = stats.bootstrap_interval(values, "iqm", n_resamples=RESAMPLES)
                err = None
                if np.isfinite(iv.low) and np.isfinite(iv.high):
                    err = [[iv.mean - iv.low], [iv.high - iv.mean]]
                ax.barh(
                    y[i] + (j - (n_task - 1) / 2) * bar,
                    iv.mean,
                    bar,
                    xerr=err,
                    capsize=2,
                    color=colour,
                    label=f"task {task}" if i == 0 and n_task > 1 else None,
                )
            offset = (j - (n_task - 1) / 2) * bar
            _reference_lines(ax, results, task, metric, [y[i] + offset for i in range(n_var)],
                             bar, label=j == 0)  # fmt: skip
        ax.set_yticks(y, labels if k % cols == 0 else [""] * n_var, fontsize=8)
        ax.set_title(title)
        ax.set_xlabel(unit or title)
        ax.grid(axis="x", alpha=0.3)
    for ax in axes[len(names) :]:
        ax.set_visible(False)
    handles, texts = axes[0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, texts, loc="outside lower center", ncols=min(6, len(handles)),
                   fontsize=8)  # fmt: skip
    fig.savefig(path)
    return path


def _reference_lines(ax, results: SweepResults, task: str, metric: str, rows: list[float],
                     height: float, label: bool) -> None:  # fmt: skip
    """The references' levels on a task as dashed lines across the panel; where the task's
    variants ran on other networks (several reference jobs), each bar gets its own
    references' levels, a dashed segment across the bar."""
    jobs = results.reference_jobs(task)
    for k, (job, variants) in enumerate(jobs):
        refs = results.references[job]
        for name, colour in REFERENCE_STYLE.items():
            value = refs.get(name, {}).get(metric)
            if value is None:
                continue
            name_it = name if label and k == 0 else None
            if len(jobs) == 1:
                ax.axvline(value, ls="--", lw=1, color=colour, label=name_it)
                continue
            for i, variant in enumerate(results.variants):
                if variant in variants:
                    ax.vlines(value, rows[i] - height / 2, rows[i] + height / 2, ls="--", lw=1,
                              color=colour, label=name_it)  # fmt: skip
                    name_it = None


def plot_probability_of_improvement(results: SweepResults, metric: str, path: Path
                                    ) -> Path | None:  # fmt: skip
    rows = []
    for variant in results.variants:
        base = results.baselines.get(variant)
        x, y = results.scores(variant, metric), results.scores(base, metric) if base else {}
        common = sorted(set(x) & set(y))
        if not common:
            continue
        iv = stats.probability_of_improvement(
            {k: x[k] for k in common}, {k: y[k] for k in common}, n_resamples=RESAMPLES
        )
        label = f"{results.labels.get(variant, variant)} vs {results.labels.get(base, base)}"
        rows.append((label, iv))
    if not rows:
        return None
    fig = Figure(figsize=(6.5, 0.5 + 0.45 * len(rows)), dpi=110, layout="constrained")
    ax = fig.subplots()
    for k, (_, iv) in enumerate(rows):
        finite = np.isfinite(iv.low) and np.isfinite(iv.high)
        lo, hi = (iv.low, iv.high) if finite else (0.0, 1.0)
        ax.barh(k, hi - lo, left=lo, height=0.5, color="#4c72b0", alpha=0.35 if finite else 0.1)
        ax.plot([iv.mean], [k], "o", color="#4c72b0")
    ax.axvline(0.5, color="k", ls=":", lw=1)
    ax.set_yticks(range(len(rows)), [r[0] for r in rows])
    ax.set_xlim(0, 1)
    ax.set_xlabel(f"P(variant > baseline) on {metric.replace('_', ' ')}")
    ax.grid(axis="x", alpha=0.3)
    fig.savefig(path)
    return path
