"""``gaidrl report``: a sweep (or one run) as report.md and a self-contained report.html.

Per metric, a table of every variant with the mean and the interquartile mean over seeds and
their 95 % stratified bootstrap intervals, and against its baseline the relative improvement
and the probability of improvement, each with its interval. Plots: learning curves with
bands, the probability of improvement, the metrics beside the reference policies, and for the
case study the network after one greedy episode of a trained agent. The HTML embeds its
images, so it opens from disk anywhere; the Markdown links the PNGs beside it.
"""

from __future__ import annotations

import base64
import html
import logging
import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gaidrl.experiments import stats
from gaidrl.experiments.report_plots import REFERENCE_STYLE
from gaidrl.experiments.results import SweepResults, TrialRecord, load_results

log = logging.getLogger(__name__)

CASE_STUDY_METRICS = {  # metric -> (title, unit, higher is better)
    "sum_rate": ("sum rate", "bit/s/Hz", True),
    "fairness": ("Jain fairness", "", True),
    "reward": ("reward per slot", "", True),
    "percent_of_planner_reward": ("reward, % of the planner's", "%", True),
    "percent_of_oracle_reward": ("reward, % of the oracle's", "%", True),
    "bs_power_fraction": ("BS power used", "fraction of budget", False),
    "uav_power_fraction": ("UAV power used", "fraction of budget", False),
}
GENERIC_METRICS = {"return": ("episode return", "", True)}
RESAMPLES = 2000


@dataclass
class Claim:
    """A published figure to set a measured one beside: variant's relative change of metric."""

    variant: str
    metric: str
    relative: float
    source: str


@dataclass
class Section:
    title: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[tuple[list[str], list[list[str]]]] = field(default_factory=list)
    images: list[tuple[str, str]] = field(default_factory=list)  # (file name, caption)


def write_report(path: str | Path, out: str | Path | None = None,
                 claims: list[Claim] | None = None, pictures: bool = True) -> Path:  # fmt: skip
    """Write report.md, report.html and the PNGs into ``out`` (default: the folder itself)."""
    results = load_results(path)
    out = Path(out) if out is not None else results.path
    out.mkdir(parents=True, exist_ok=True)
    metrics = _metrics(results)
    sections = [_overview(results)]
    if claims:
        sections.append(_claims_section(results, claims))
    for name, (title, unit, higher) in metrics.items():
        sections.append(_metric_section(results, name, title, unit, higher))
    sections.append(_plots(results, metrics, out, pictures))
    failures = [t for t in results.trials if t.status == "failed"]
    if failures:
        sections.append(Section("Failed trials", tables=[(["trial", "error"],
                        [[t.id, t.error or ""] for t in failures])]))  # fmt: skip
    title = f"gaidrl report: {results.name}"
    (out / "report.md").write_text(_markdown(title, sections))
    (out / "report.html").write_text(_html(title, sections, out))
    return out / "report.html"


# ------------------------------------------------------------------ content
def _metrics(results: SweepResults) -> dict[str, tuple[str, str, bool]]:
    present = set(results.metric_names())
    table = CASE_STUDY_METRICS if "sum_rate" in present else GENERIC_METRICS
    return {k: v for k, v in table.items() if k in present}


def _overview(results: SweepResults) -> Section:
    counts = {s: sum(t.status == s for t in results.trials) for s in ("done", "failed")}
    pending = len(results.trials) - counts["done"] - counts["failed"]
    seeds = sorted({t.seed for t in results.trials})
    text = list(results.notes) + [
        f"{len(results.trials)} trials: {counts['done']} done, {counts['failed']} failed, "
        f"{pending} not finished; {len(results.variants)} variants x {len(results.tasks)} "
        f"task(s) ({', '.join(results.tasks)}) x {len(seeds)} seed(s).",
    ]
    if results.eval_seeds:
        text.append(
            f"Every figure is the greedy evaluation of a trial's final agent on "
            f"{len(results.eval_seeds)} held-out layouts (seeds {results.eval_seeds[0]}.."
            f"{results.eval_seeds[-1]}), the same for every trial and for the reference "
            "policies; no trial trained or evaluated on them before."
        )
    text.append(
        "Intervals are 95 % percentile bootstrap intervals over seeds, resampled within each "
        "task (stratified; scipy.stats.bootstrap). IQM: the mean of the middle half of the "
        "seeds. P(improvement): the chance that a random seed of the variant beats a random "
        "seed of its baseline on the same task (0.5: no difference). With fewer than 2 seeds "
        "no interval is given (inf)."
    )
    fewest = min((len(results.done(v, t)) for v in results.variants for t in results.tasks),
                 default=0)  # fmt: skip
    if 0 < fewest < 5:
        text.append(f"Caution: some cells have only {fewest} finished seed(s). A bootstrap over "
                    "so few seeds gives intervals that are too narrow (with 2 seeds a "
                    "P(improvement) of 1.00 [1.00, 1.00] only means both seeds were higher); "
                    "read them as rough, and no difference here as a result.")  # fmt: skip
    for note in (_machines_note(results.done()), _different_networks_note(results)):
        if note:
            text.append(note)
    rows = []
    for v in results.variants:
        done = results.done(v)
        speed = [t.steps_per_s for t in done if t.steps_per_s]
        base = results.baselines.get(v)
        rows.append([results.labels.get(v, v), str(len(done)),
                     results.labels.get(base, base) if base else "(baseline)",
                     f"{np.mean(speed):.0f}" if speed else "-"])  # fmt: skip
    return Section("Overview", text, [(["variant", "finished trials", "compared with",
                                        "env steps/s (training)"], rows)])  # fmt: skip


def _machines_note(done: list[TrialRecord]) -> str | None:
    """Which machines the finished trials ran on (None when none was recorded), and what a
    mix of them means."""
    counts = Counter(t.machine or "not recorded" for t in done)
    if not done or set(counts) == {"not recorded"}:
        return None
    if len(counts) == 1:
        return f"Every trial ran on {next(iter(counts))}."
    listed = "; ".join(f"{name}: {n} trial{'s' * (n != 1)}" for name, n in counts.items())
    return (f"Trials ran on {len(counts)} kinds of machine ({listed}): the same seed repeats "
            "bit for bit only on the same kind of CPU, and env steps/s compare only within "
            "one.")  # fmt: skip


def _different_networks_note(results: SweepResults) -> str | None:
    """A caution for each variant whose trials were scored on other reference jobs than its
    baseline's (another observation mode or env setting: e.g. the tokens observation draws
    another number of users), where raw rate, fairness and reward do not compare."""
    pairs = []
    for v in results.variants:
        base = results.baselines.get(v)
        if not base or base == v:
            continue
        for task in results.tasks:
            mine = {t.references for t in results.done(v, task)}
            theirs = {t.references for t in results.done(base, task)}
            if mine and theirs and mine != theirs:
                pairs.append(f"{results.labels.get(v, v)} against {results.labels.get(base, base)}")
                break
    if not pairs:
        return None
    return (
        "Caution: " + "; ".join(pairs) + ": scored on other reference jobs than their baseline "
        "(another observation mode or env setting), so their networks may differ and the "
        "changes of rate, fairness and reward are not like for like; the percent of the "
        "planner's and the oracle's reward, each against its own networks, are."
    )


def _fmt(interval: stats.Interval, spec: str = ".4g", percent: bool = False) -> str:
    scale, suffix = (100.0, " %") if percent else (1.0, "")
    point = format(interval.mean * scale, spec)
    if not (math.isfinite(interval.low) and math.isfinite(interval.high)):
        return f"{point}{suffix} [n/a]"
    return (f"{point}{suffix} [{format(interval.low * scale, spec)}, "
            f"{format(interval.high * scale, spec)}]")  # fmt: skip


def _metric_section(results: SweepResults, metric: str, title: str, unit: str,
                    higher: bool) -> Section:  # fmt: skip
    header = ["variant", "task", "n", "mean [95 % CI]", "IQM [95 % CI]",
              "vs baseline: relative [95 % CI]", "P(improvement) [95 % CI]",
              "per seed (in seed order)"]  # fmt: skip
    rows = []
    tasks = results.tasks + (["all tasks"] if len(results.tasks) > 1 else [])
    for v in results.variants:
        base = results.baselines.get(v)
        for task in tasks:
            scores = _task_scores(results, v, metric, task)
            if not scores:
                continue
            n = sum(s.size for s in scores.values())
            mean = stats.bootstrap_interval(scores, "mean", n_resamples=RESAMPLES)
            iqm = stats.bootstrap_interval(scores, "iqm", n_resamples=RESAMPLES)
            rel = poi = "-"
            base_scores = _task_scores(results, base, metric, task) if base else {}
            if base_scores and set(base_scores) == set(scores):
                poi_iv = stats.probability_of_improvement(scores, base_scores,
                                                          n_resamples=RESAMPLES)  # fmt: skip
                if not higher:
                    poi_iv = stats.Interval(1 - poi_iv.mean, 1 - poi_iv.high, 1 - poi_iv.low,
                                            poi_iv.n)  # fmt: skip
                poi = _fmt(poi_iv, ".2f")
                try:
                    rel = _fmt(stats.relative_improvement(scores, base_scores,
                                                          n_resamples=RESAMPLES),
                               "+.1f", percent=True)  # fmt: skip
                except ValueError:
                    rel = "n/a (baseline 0)"
            rows.append([results.labels.get(v, v), task, str(n), _fmt(mean), _fmt(iqm), rel, poi,
                         _per_seed(results, v, metric, task)])  # fmt: skip
    ref_header, refs = _reference_table(results, metric)
    text = [f"Unit: {unit}." if unit else "", "" if higher else "Lower is better here; "
            "P(improvement) is the chance of a lower value."]  # fmt: skip
    section = Section(title[0].upper() + title[1:], [t for t in text if t], [(header, rows)])
    if refs:
        section.tables.append((ref_header, refs))
    return section


def _per_seed(results: SweepResults, variant: str, metric: str, task: str) -> str:
    """The metric of each finished seed on one task, so a collapsed seed shows; '-' for the
    all-tasks row, where the seeds of several tasks would mix."""
    if task == "all tasks":
        return "-"
    done = sorted((t for t in results.done(variant, task) if metric in t.metrics),
                  key=lambda t: t.seed)  # fmt: skip
    return " / ".join(format(t.metrics[metric], ".4g") for t in done)


def _task_scores(results: SweepResults, variant: str, metric: str, task: str
                 ) -> dict[str, np.ndarray]:  # fmt: skip
    scores = results.scores(variant, metric)
    return scores if task == "all tasks" else {k: v for k, v in scores.items() if k == task}


def _reference_table(results: SweepResults, metric: str) -> tuple[list[str], list[list[str]]]:
    """The references' figures: a column per task, or per reference job of a task whose
    variants ran on other networks, headed by the variants it serves."""
    header, columns = ["reference policy"], []
    for task in results.tasks:
        jobs = results.reference_jobs(task)
        for job, variants in jobs:
            names = ", ".join(results.labels.get(v, v) for v in variants)
            header.append(task if len(jobs) == 1 else f"{task}: {names}")
            columns.append(results.references[job])
    rows = []
    for name in REFERENCE_STYLE:
        values = [refs.get(name, {}).get(metric) for refs in columns]
        if any(v is not None for v in values):
            rows.append([name] + ["-" if v is None else f"{v:.4g}" for v in values])
    return header, rows


def _claims_section(results: SweepResults, claims: list[Claim]) -> Section:
    rows = []
    for claim in claims:
        base = results.baselines.get(claim.variant)
        x = results.scores(claim.variant, claim.metric)
        y = results.scores(base, claim.metric) if base else {}
        common = set(x) & set(y)
        if claim.variant not in results.variants:
            measured = "not measured (the variant is not in this sweep)"
        elif not common:
            measured = "not measured (no finished trials)"
        else:
            iv = stats.relative_improvement({k: x[k] for k in common}, {k: y[k] for k in common},
                                            n_resamples=RESAMPLES)  # fmt: skip
            measured = _fmt(iv, "+.1f", percent=True)
        rows.append([results.labels.get(claim.variant, claim.variant), claim.metric,
                     results.labels.get(base, base or "-"), f"{100 * claim.relative:+.1f} %",
                     measured, claim.source])  # fmt: skip
    return Section(
        "Measured against the claim",
        ["The relative change of the mean over seeds (all tasks pooled) against the baseline, "
         "with its 95 % bootstrap interval, beside the figure this project started from; "
         "whichever way it falls."],
        [(["variant", "metric", "against", "claimed", "measured [95 % CI]", "claim from"], rows)],
    )  # fmt: skip


# ------------------------------------------------------------------ plots
def _plots(results: SweepResults, metrics: dict, out: Path, pictures: bool) -> Section:
    from gaidrl.experiments.report_plots import (
        plot_learning_curves,
        plot_metric_bars,
        plot_probability_of_improvement,
    )

    section = Section("Plots")
    headline = "reward" if "reward" in metrics else next(iter(metrics), None)
    made = [
        plot_learning_curves(results, out / "learning_curves.png"),
        plot_metric_bars(results, metrics, out / "metrics.png"),
        plot_probability_of_improvement(results, headline, out / "probability_of_improvement.png")
        if headline else None,
    ]  # fmt: skip
    curve_refs = bar_refs = ""  # without references no dashed lines are drawn
    if results.references:
        several = any(len(results.reference_jobs(task)) > 1 for task in results.tasks)
        curve_refs = "; dashed lines: reference policies on the held-out layouts" + (
            " of the networks most trials ran on (the tables give the others)" if several else ""
        )
        bar_refs = "; dashed lines: reference policies" + (
            ", each across the bars of the variants on its networks" if several else ""
        )
    captions = ["Learning curves: the trainers' own greedy evaluations, IQM over seeds with "
                f"95 % bootstrap bands{curve_refs}",
                "Each metric on the held-out layouts: IQM over seeds with 95 % bootstrap "
                f"interval{bar_refs}",
                "Probability that a seed of the variant beats a seed of its baseline, with 95 % "
                "bootstrap interval (0.5: no difference)"]  # fmt: skip
    section.images += [(p.name, c) for p, c in zip(made, captions, strict=True) if p is not None]
    if pictures and "sum_rate" in metrics:
        section.images += _trajectory_pictures(results, out)
    return section


def _trajectory_pictures(results: SweepResults, out: Path) -> list[tuple[str, str]]:
    from gaidrl.experiments.pictures import trajectory_png

    images = []
    seed = results.eval_seeds[0] if results.eval_seeds else 0
    for variant in results.variants:
        done = results.done(variant)
        if not done:
            continue
        trial = min(done, key=lambda t: t.seed)
        name = f"trajectory_{variant}.png"
        try:
            trajectory_png(trial.run_dir, seed, out / name)
        except Exception as err:  # a picture is not worth failing the report for
            log.warning("no trajectory picture for %s: %s", trial.id, err)
            continue
        images.append((name, f"{results.labels.get(variant, variant)} ({trial.id}): one greedy "
                             f"episode on layout {seed}, its last slot; the UAV's trail, users "
                             "coloured by rate"))  # fmt: skip
    return images


# ------------------------------------------------------------------ rendering
def _markdown(title: str, sections: list[Section]) -> str:
    lines = [f"# {title}", ""]
    for s in sections:
        lines += [f"## {s.title}", ""]
        for p in s.paragraphs:
            lines += [p, ""]
        for header, rows in s.tables:
            lines.append("| " + " | ".join(header) + " |")
            lines.append("|" + "---|" * len(header))
            lines += ["| " + " | ".join(r) + " |" for r in rows]
            lines.append("")
        for name, caption in s.images:
            lines += [f"![{caption}]({name})", "", f"*{caption}*", ""]
    return "\n".join(lines)


def _html(title: str, sections: list[Section], folder: Path) -> str:
    e = html.escape
    body = [f"<h1>{e(title)}</h1>"]
    for s in sections:
        body.append(f"<h2>{e(s.title)}</h2>")
        body += [f"<p>{e(p)}</p>" for p in s.paragraphs]
        for header, rows in s.tables:
            head = "".join(f"<th>{e(h)}</th>" for h in header)
            cells = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>"
                            for r in rows)  # fmt: skip
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{cells}</tbody></table>")
        for name, caption in s.images:
            data = base64.b64encode((folder / name).read_bytes()).decode()
            body.append(f'<figure><img alt="{e(caption)}" src="data:image/png;base64,{data}">'
                        f"<figcaption>{e(caption)}</figcaption></figure>")  # fmt: skip
    style = (
        "body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}"
        "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;"
        "padding:4px 8px;text-align:right}th{background:#f3f3f3}td:first-child,"
        "th:first-child{text-align:left}img{max-width:100%}figcaption{color:#555}"
    )
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{e(title)}</title>"
            f"<style>{style}</style></head><body>{''.join(body)}</body></html>\n")  # fmt: skip
