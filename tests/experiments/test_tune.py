"""Tuning gives every variant the same budget and survives a kill through its SQLite study."""

from __future__ import annotations

import json
import os
import signal

import pytest
import yaml
from conftest import start_cli, wait_for, write_sweep

from gaidrl.experiments.config import ConfigError
from gaidrl.experiments.trial import STATUS_FILE
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
    # while TPE still draws at random, every variant is tried at the same values
    assert [t.params for t in complete(found["tiny-tune-plain"])] == [
        t.params for t in complete(found["tiny-tune-quantile"])
    ]
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


# plain TD3 only, two trials long enough to be killed after a checkpoint
LONG = {"trainer.total_steps": 400, "trainer.checkpoint_every": 100, "trainer.eval_every": 0}


def long_tune_file(folder):
    return tune_file(folder, lambda **k: write_sweep(folder, **k), variants={"plain": {}},
                     set=LONG)  # fmt: skip


def tried(out):
    """(values, objective) of the completed trials, in order."""
    return [(t.params, t.value) for t in complete(studies(out)["tiny-tune-plain"])]


@pytest.fixture(scope="module")
def unbroken(tmp_path_factory):
    """The long study run once without a stop: its folder."""
    folder = tmp_path_factory.mktemp("unbroken")
    tune(load_tune_spec(long_tune_file(folder)), folder / "out", workers=1)
    return folder / "out"


# the tests sharing ``unbroken`` run on one test process (pytest-xdist --dist loadgroup)
SHARES_UNBROKEN = pytest.mark.xdist_group("tune-unbroken")


@SHARES_UNBROKEN
def test_a_killed_study_continues_from_its_storage(tmp_path, unbroken):
    """``gaidrl tune`` killed (with its worker) in the middle of its second trial: restarted,
    it keeps the finished trial, marks the running one failed, asks its values again, and
    that trial's run resumes from its checkpoint, ending where an unbroken study ends."""
    path, out = long_tune_file(tmp_path), tmp_path / "out"
    proc = start_cli("tune", path, out)
    runs = out / "search" / "plain"

    def checkpointed_runs() -> list:
        found = runs.glob("*/trials/*/checkpoints/last.pt") if runs.is_dir() else []
        return [p.parents[1] for p in found]

    def running(folders: list) -> list:
        status = [json.loads((f / STATUS_FILE).read_text())["status"] for f in folders]
        return [f for f, s in zip(folders, status, strict=True) if s == "running"]

    # the second values' run has a checkpoint and is still running (the first is done)
    wait_for(lambda: len(checkpointed_runs()) == 2 and running(checkpointed_runs()), proc)
    (killed,) = running(checkpointed_runs())
    worker = json.loads((killed / STATUS_FILE).read_text())["pid"]
    proc.kill()
    os.kill(worker, signal.SIGKILL)
    proc.wait()

    tune(load_tune_spec(path), out, workers=1)
    trials = studies(out)["tiny-tune-plain"].trials
    assert [t.state.name for t in trials] == ["COMPLETE", "FAIL", "COMPLETE"]
    assert trials[1].params == trials[2].params  # asked again with the same values
    assert 0 < json.loads((killed / STATUS_FILE).read_text())["resumed_at"] < 400
    assert tried(out) == tried(unbroken)  # the resumed run ended bit-identically


@SHARES_UNBROKEN
def test_a_restarted_study_draws_what_an_unbroken_one_would(tmp_path, unbroken):
    """The sampler is seeded by each trial's place in the budget, so a restart between two
    trials (the sampler's memory lost) changes none of the values tried."""
    path = long_tune_file(tmp_path)
    tune(load_tune_spec(path).model_copy(update={"budget": 1}), tmp_path / "out", workers=1)
    tune(load_tune_spec(path), tmp_path / "out", workers=1)  # opened anew, as after a restart
    assert tried(tmp_path / "out") == tried(unbroken)
