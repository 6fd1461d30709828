"""Tuning gives every variant the same budget and survives a kill through its SQLite study."""

from __future__ import annotations

import json

import pytest
import yaml

from gaidrl.experiments.config import ConfigError
from gaidrl.experiments.tune import load_tune_spec, tune

optuna = pytest.importorskip("optuna", reason="gaidrl tune needs Optuna (gaidrl[tune])")


def tune_file(tmp_path, sweep_file, **keys):
    spec = yaml.safe_load(sweep_file().read_text())
    data = {
        "name": "tiny-tune", "config": spec["config"], "variants": spec["variants"],
        "search": {"algo.params.actor_lr": {"low": 1e-4, "high": 1e-2, "log": True}},
        "budget": 2, "metric": "return",
        "tuning": {"seeds": [100], "evaluation": {"episodes": 1, "seed0": 7000}},
        "final": {"seeds": [0], "evaluation": {"episodes": 1, "seed0": 9000}},
    } | keys  # fmt: skip
    path = tmp_path / "tune.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def studies(out):
    storage = f"sqlite:///{out / 'tune.db'}"
    return {s.study_name: optuna.load_study(study_name=s.study_name, storage=storage)
            for s in optuna.get_all_study_summaries(storage)}  # fmt: skip


def complete(study):
    return [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]


def test_every_variant_gets_the_same_budget_and_a_fresh_final_comparison(tmp_path, sweep_file):
    out = tmp_path / "out"
    result = tune(load_tune_spec(tune_file(tmp_path, sweep_file)), out, workers=2)
    found = studies(out)
    assert sorted(found) == ["tiny-tune-plain", "tiny-tune-quantile"]
    assert [len(complete(s)) for s in found.values()] == [2, 2]
    assert set(result["best"]) == {"plain", "quantile"}
    final = json.loads((result["final"] / "manifest.json").read_text())
    assert final["seeds"] == [0] and final["eval_seeds"] == [9000]
    trials = [j for j in final["jobs"] if j["kind"] == "trial"]
    best_lr = result["best"]["quantile"]["algo.params.actor_lr"]
    assert all(j["config"]["algo"]["params"]["actor_lr"] == best_lr
               for j in trials if j["variant"] == "quantile")  # fmt: skip


def test_tuning_and_final_seeds_must_differ(tmp_path, sweep_file):
    path = tune_file(tmp_path, sweep_file, final={"seeds": [100], "evaluation": {"episodes": 1}})
    with pytest.raises(ConfigError, match="final.seeds"):
        load_tune_spec(path)


def test_a_killed_study_continues_from_its_storage(tmp_path, sweep_file):
    """A kill leaves the study's last trial RUNNING in tune.db; a restart keeps the finished
    trial, asks the stale one again with its values, and completes the budget."""
    final = {"seeds": [0], "evaluation": {"episodes": 1, "seed0": 9000}}
    path = tune_file(tmp_path, sweep_file, variants={"plain": {}}, budget=1, final=final)
    out = tmp_path / "out"
    tune(load_tune_spec(path), out, workers=1)
    study = studies(out)["tiny-tune-plain"]
    first = complete(study)[0]
    stale = study.ask()  # what a kill in the middle of the second trial leaves behind
    stale_lr = stale.suggest_float("algo.params.actor_lr", 1e-4, 1e-2, log=True)

    path = tune_file(tmp_path, sweep_file, variants={"plain": {}}, budget=2, final=final)
    tune(load_tune_spec(path), out, workers=1)
    trials = studies(out)["tiny-tune-plain"].trials
    done = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(done) == 2
    assert done[0].number == first.number and done[0].value == first.value  # kept, not rerun
    assert trials[stale.number].state == optuna.trial.TrialState.FAIL
    assert done[1].params["algo.params.actor_lr"] == stale_lr  # asked again, same values


def test_a_restarted_study_draws_what_an_unbroken_one_would(tmp_path, sweep_file):
    """The sampler is seeded by each trial's place in the budget, so a kill between two
    trials (the sampler's memory lost) changes none of the values tried; every variant is
    tried at the same values while TPE is still drawing at random."""
    final = {"seeds": [0], "evaluation": {"episodes": 1, "seed0": 9000}}
    unbroken, broken = tmp_path / "unbroken", tmp_path / "broken"
    tune(load_tune_spec(tune_file(tmp_path, sweep_file, budget=2, final=final)), unbroken)
    for budget in (1, 2):  # each call opens the study anew, as a restarted process does
        tune(load_tune_spec(tune_file(tmp_path, sweep_file, budget=budget, final=final)), broken)

    def tried(out):
        return {name: [t.params for t in complete(study)] for name, study in studies(out).items()}

    assert tried(broken) == tried(unbroken)
    assert tried(unbroken)["tiny-tune-plain"] == tried(unbroken)["tiny-tune-quantile"]
