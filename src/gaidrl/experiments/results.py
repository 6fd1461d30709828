"""A finished (or partly finished) sweep folder, read back for statistics and reports.

A single run folder (from ``gaidrl train``) reads as a sweep of one trial, scored by its own
last evaluation, so ``gaidrl report`` works on both.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gaidrl.experiments.config import ConfigError
from gaidrl.experiments.machine import machine_label
from gaidrl.experiments.registry import CASE_STUDY_ID
from gaidrl.experiments.trial import MANIFEST, job_dir, read_status


@dataclass
class TrialRecord:
    """One trial: what it ran and how it ended (metrics only when it is done)."""

    id: str
    variant: str
    task: str
    seed: int
    status: str
    run_dir: Path
    config: dict[str, Any]
    metrics: dict[str, float] = field(default_factory=dict)
    references: str | None = None
    error: str | None = None
    steps_per_s: float | None = None
    machine: str | None = None  # "CPU model (capability)"; None for trials run before it was kept

    def curve(self, metric: str = "return_mean") -> tuple[np.ndarray, np.ndarray] | None:
        """The trainer's own evaluations: (steps, values), or None without eval.csv."""
        path = self.run_dir / "eval.csv"
        if not path.is_file():
            return None
        with path.open() as f:
            rows = [r for r in csv.DictReader(f) if r.get(metric) not in (None, "")]
        if not rows:
            return None
        steps = np.array([int(float(r["step"])) for r in rows])
        return steps, np.array([float(r[metric]) for r in rows])


@dataclass
class SweepResults:
    """Every trial of a sweep plus the reference policies' figures on the same layouts."""

    path: Path
    name: str
    variants: list[str]
    labels: dict[str, str]
    baselines: dict[str, str | None]
    tasks: list[str]
    trials: list[TrialRecord]
    references: dict[str, dict[str, dict[str, float]]]  # job id -> policy -> metric -> mean
    eval_seeds: list[int]
    notes: list[str] = field(default_factory=list)

    def done(self, variant: str | None = None, task: str | None = None) -> list[TrialRecord]:
        return [t for t in self.trials if t.status == "done"
                and (variant is None or t.variant == variant)
                and (task is None or t.task == task)]  # fmt: skip

    def scores(self, variant: str, metric: str) -> dict[str, np.ndarray]:
        """Task -> the metric over the variant's finished seeds (tasks with none left out)."""
        out = {}
        for task in self.tasks:
            values = [t.metrics[metric] for t in self.done(variant, task) if metric in t.metrics]
            if values:
                out[task] = np.asarray(values, dtype=np.float64)
        return out

    def metric_names(self) -> list[str]:
        names: dict[str, None] = {}
        for t in self.done():
            names |= dict.fromkeys(t.metrics)
        return list(names)

    def reference_jobs(self, task: str) -> list[tuple[str, list[str]]]:
        """The reference jobs serving a task's trials, each with the variants scored on it,
        the job serving most trials first. A task has several when its variants run on
        other networks (another observation mode or env setting)."""
        served = [t for t in self.trials if t.task == task and t.references in self.references]
        counts = Counter(t.references for t in served)
        return [(job, list(dict.fromkeys(t.variant for t in served if t.references == job)))
                for job, _ in counts.most_common()]  # fmt: skip

    def reference_of(self, task: str) -> dict[str, dict[str, float]]:
        """The references serving most of a task's trials (empty when the env has none)."""
        jobs = self.reference_jobs(task)
        return self.references[jobs[0][0]] if jobs else {}


def load_results(path: str | Path) -> SweepResults:
    """A sweep folder (with manifest.json) or a single run folder (with config.yaml)."""
    path = Path(path)
    if (path / MANIFEST).is_file():
        return _load_sweep(path)
    if (path / "config.yaml").is_file():
        return _load_run(path)
    raise ConfigError(f"{path} is neither a sweep folder (no {MANIFEST}) nor a run folder "
                      "(no config.yaml)")  # fmt: skip


def _load_sweep(path: Path) -> SweepResults:
    manifest = json.loads((path / MANIFEST).read_text())
    trials, references = [], {}
    for job in manifest["jobs"]:
        status = read_status(path, job) or {"status": "pending"}
        if job["kind"] == "references":
            if status["status"] == "done":
                references[job["id"]] = {name: ref["metrics"]
                                         for name, ref in status["references"].items()}  # fmt: skip
            continue
        trials.append(TrialRecord(
            id=job["id"], variant=job["variant"], task=job["task"], seed=job["seed"],
            status=status["status"], run_dir=job_dir(path, job), config=job["config"],
            metrics=status.get("metrics", {}), references=job.get("references"),
            error=status.get("error"), steps_per_s=status.get("steps_per_s"),
            machine=machine_label(status["machine"]) if "machine" in status else None,
        ))  # fmt: skip
    for trial in trials:  # the yardsticks: percent of the planner's and oracle's reward
        refs = references.get(trial.references, {})
        for name in ("planner", "oracle"):
            level = refs.get(name, {}).get("reward")
            if level and "reward" in trial.metrics:
                trial.metrics[f"percent_of_{name}_reward"] = 100.0 * trial.metrics["reward"] / level
    return SweepResults(
        path=path, name=manifest["name"], variants=manifest["variants"],
        labels=manifest["labels"], baselines=manifest["baselines"], tasks=manifest["tasks"],
        trials=trials, references=references, eval_seeds=manifest["eval_seeds"],
        notes=manifest.get("notes", []),
    )  # fmt: skip


def _load_run(path: Path) -> SweepResults:
    from gaidrl.experiments.config import read_yaml

    config = read_yaml(path / "config.yaml")
    variant = str(config.get("algo", {}).get("name", "run")).split(":")[-1]
    record = TrialRecord(id=path.name, variant=variant, task="default",
                         seed=int(config.get("seed", 0)), status="pending", run_dir=path,
                         config=config)  # fmt: skip
    last = _last_row(path / "eval.csv")
    if last:
        record.status = "done"
        record.metrics = {k.removesuffix("_mean"): v for k, v in last.items()
                          if k.endswith("_mean")}  # fmt: skip
        if "length" in record.metrics and config.get("env", {}).get("id") == CASE_STUDY_ID:
            record.metrics["reward"] = record.metrics["return"] / record.metrics["length"]
    return SweepResults(path=path, name=path.name, variants=[variant], labels={variant: variant},
                        baselines={variant: None}, tasks=["default"], trials=[record],
                        references={}, eval_seeds=[])  # fmt: skip


def _last_row(path: Path) -> dict[str, float]:
    if not path.is_file():
        return {}
    with path.open() as f:
        rows = list(csv.DictReader(f))
    if not rows:
        return {}
    out = {}
    for key, value in rows[-1].items():
        try:
            out[key] = float(value)
        except (TypeError, ValueError):
            continue
    return out
