"""``gaidrl tune``: equal-budget hyper-parameter search per variant, then a fair comparison.

    name: tune-td3
    config: configs/td3_uav.yaml
    set: {trainer.total_steps: 20000}
    variants: {td3: {}, td3_diffusion: {config: configs/td3_uav_diffusion.yaml}}
    grid: {env.kwargs.preset: [paper]}
    search:                                   # key -> a range or a list of choices
      algo.params.actor_lr: {low: 1.0e-4, high: 1.0e-3, log: true}
      algo.params.gamma: {choices: [0.9, 0.95, 0.99]}
    budget: 8                                 # Optuna trials per variant, the same for all
    metric: reward                            # maximised (mean over tuning seeds and tasks)
    tuning: {seeds: [100, 101], evaluation: {episodes: 5, seed0: 700000}}
    final: {seeds: 5, evaluation: {episodes: 20, seed0: 900000}}

Every variant gets its own Optuna study with the same number of trials, so a GAI variant is
never compared with an untuned baseline. A study lives in SQLite in the tune folder
(``tune.db``): killed and restarted, it continues where it stopped; a trial that was running
is asked again with the same values, and its runs continue from their checkpoints (run
folders are named by the values tried). The final comparison trains each variant's best
values on seeds and evaluates on layouts the tuning never saw, as a normal sweep
(``final-<values>/``, named by the best values found) with its report.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from gaidrl.experiments.config import ConfigError, read_yaml
from gaidrl.experiments.sweep import SweepState, run_sweep
from gaidrl.experiments.sweep_spec import EvaluationSpec, SweepSpec, build_sweep_spec

STORAGE = "tune.db"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SearchSpace(_Strict):
    """One searched key: a float/int range (optionally log-scaled) or a list of choices."""

    low: float | None = None
    high: float | None = None
    log: bool = False
    integer: bool = False
    choices: list[Any] | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> SearchSpace:
        ranged = self.low is not None and self.high is not None
        if ranged == (self.choices is not None):
            raise ValueError("give either low and high, or choices")
        if ranged and not self.low < self.high:
            raise ValueError(f"low must be below high, got {self.low} and {self.high}")
        if ranged and self.log and self.low <= 0:
            raise ValueError("a log range needs low > 0")
        return self


class SeedsAndLayouts(_Strict):
    seeds: int | list[int]
    evaluation: EvaluationSpec


class TuneSpec(_Strict):
    name: str = "tune"
    config: str | None = None
    set: dict[str, Any] = Field(default_factory=dict)
    variants: dict[str, Any] = Field(default_factory=lambda: {"default": {}})
    baseline: str | None = None
    grid: dict[str, list[Any]] = Field(default_factory=dict)
    search: dict[str, SearchSpace]
    budget: int = Field(8, ge=1, description="Optuna trials per variant")
    metric: str = "reward"
    direction: str = Field("maximize", pattern="^(maximize|minimize)$")
    tuning: SeedsAndLayouts = Field(default_factory=lambda: SeedsAndLayouts(
        seeds=[100, 101], evaluation=EvaluationSpec(episodes=5, seed0=700_000)))  # fmt: skip
    final: SeedsAndLayouts = Field(default_factory=lambda: SeedsAndLayouts(
        seeds=5, evaluation=EvaluationSpec(episodes=10, seed0=900_000)))  # fmt: skip
    root: str = "."

    @model_validator(mode="after")
    def _apart(self) -> TuneSpec:
        tuned = _seed_list(self.tuning.seeds)
        final = _seed_list(self.final.seeds)
        if set(tuned) & set(final):
            raise ValueError("final.seeds must differ from tuning.seeds (fresh seeds for "
                             "the comparison)")  # fmt: skip
        if set(self.tuning.evaluation.seeds()) & set(self.final.evaluation.seeds()):
            raise ValueError("final.evaluation layouts overlap tuning.evaluation's; move "
                             "final.evaluation.seed0")  # fmt: skip
        return self

    def sweep(self, variant_sets: dict[str, dict[str, Any]], stage: SeedsAndLayouts,
              name: str) -> SweepSpec:  # fmt: skip
        """A sweep of the given variants (with extra overrides each) at one stage."""
        variants = {}
        for v, extra in variant_sets.items():
            base = dict(self.variants[v] or {})
            base["set"] = dict(base.get("set", {})) | extra
            variants[v] = base
        return build_sweep_spec({
            "name": name, "config": self.config, "set": self.set, "variants": variants,
            "baseline": self.baseline if self.baseline in variants else None,
            "grid": self.grid, "seeds": stage.seeds,
            "evaluation": stage.evaluation.model_dump(), "root": self.root,
        })  # fmt: skip


def load_tune_spec(path: str | Path) -> TuneSpec:
    path = Path(path)
    data = read_yaml(path)
    data.setdefault("root", str(path.parent))
    try:
        return TuneSpec.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        loc = ".".join(str(p) for p in first["loc"]) or "<file>"
        msg = first["msg"].removeprefix("Value error, ")
        raise ConfigError(f"tune file: bad value for '{loc}': {msg}") from None


def _seed_list(seeds: int | list[int]) -> list[int]:
    return list(range(seeds)) if isinstance(seeds, int) else list(seeds)


def _suggest(trial: Any, key: str, space: SearchSpace) -> Any:
    if space.choices is not None:
        return trial.suggest_categorical(key, space.choices)
    if space.integer:
        return trial.suggest_int(key, int(space.low), int(space.high), log=space.log)
    return trial.suggest_float(key, space.low, space.high, log=space.log)


def values_folder(values: dict[str, Any]) -> str:
    """Run folders are named by the values tried, so a re-asked trial finds its runs."""
    text = json.dumps(values, sort_keys=True, default=str)
    return "v-" + hashlib.sha256(text.encode()).hexdigest()[:12]


def _optuna() -> Any:
    """Optuna, or a one-line error saying how to install it (it is an optional extra)."""
    try:
        import optuna
    except ImportError:
        raise ConfigError("gaidrl tune needs Optuna: pip install 'gaidrl[tune]'") from None
    return optuna


def _open_study(out: Path, spec: TuneSpec, variant: str) -> Any:
    optuna = _optuna()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = f"sqlite:///{(out / STORAGE).resolve()}"
    study = optuna.create_study(study_name=f"{spec.name}-{variant}", storage=storage,
                                direction=spec.direction, load_if_exists=True)  # fmt: skip
    # a trial left running by a kill: asked again with the same values (its runs resume)
    for stale in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        study.tell(stale.number, state=optuna.trial.TrialState.FAIL)
        study.enqueue_trial(stale.params, skip_if_exists=False)
    return study


def tune(spec: TuneSpec, out: str | Path, backend: str = "local", workers: int | None = None,
         address: str | None = None, on_event: Callable[[SweepState], None] | None = None
         ) -> dict[str, Any]:  # fmt: skip
    """Search each variant with the same budget, then compare the best values on fresh seeds
    and layouts; returns {variant: best values} and the final sweep's folder."""
    optuna = _optuna()

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    best: dict[str, dict[str, Any]] = {}
    for variant in spec.variants:
        study = _open_study(out, spec, variant)
        while _count(study, "COMPLETE", "PRUNED") < spec.budget:
            if _count(study, "FAIL") > spec.budget:
                raise ConfigError(
                    f"more than {spec.budget} tuning trials of {variant!r} "
                    f"failed; see the trial.json files under {out / 'search'}"
                )
            trial = _ask(study, _count(study, "COMPLETE", "PRUNED"))
            values = {k: _suggest(trial, k, s) for k, s in spec.search.items()}
            folder = out / "search" / variant / values_folder(values)
            sweep = spec.sweep({variant: values}, spec.tuning, f"{spec.name}-{variant}")
            state = run_sweep(sweep, folder, backend, workers, address, on_event)
            score = _objective(folder, variant, spec.metric)
            if state.failed or score is None:
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
            else:
                study.tell(trial, score)
        complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
        if not complete:
            raise ConfigError(f"every tuning trial of {variant!r} failed; see {out / 'search'}")
        best[variant] = study.best_params
    (out / "best.json").write_text(json.dumps(best, indent=1, default=str))
    final = spec.sweep(best, spec.final, f"{spec.name}-final")
    # named by the best values: a larger budget later that finds others gets a new folder
    folder = out / f"final-{values_folder(best)}"
    run_sweep(final, folder, backend, workers, address, on_event)
    return {"best": best, "final": folder}


def _ask(study: Any, place: int) -> Any:
    """The next trial, its values drawn by a sampler seeded with its place in the budget:
    a restarted study draws what an unbroken one would have (TPE keeps its random state in
    memory only, and ignores the failed trial a kill leaves), so a kill changes nothing."""
    study.sampler = _optuna().samplers.TPESampler(seed=place)
    return study.ask()


def _count(study: Any, *states: str) -> int:
    optuna = _optuna()
    wanted = tuple(getattr(optuna.trial.TrialState, s) for s in states)
    return sum(t.state in wanted for t in study.get_trials(deepcopy=False))


def _objective(folder: Path, variant: str, metric: str) -> float | None:
    """Mean of ``metric`` over the tuning seeds and tasks of one trial's runs."""
    from gaidrl.experiments.results import load_results

    values = [t.metrics.get(metric) for t in load_results(folder).done(variant)]
    if not values or any(v is None for v in values):
        return None
    return float(np.mean(values))
