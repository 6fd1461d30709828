"""A NaN loss stops the run and keeps the last good checkpoint; evaluation and `gaidrl eval`."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch
from train_support import config_dict

from gaidrl.cli import main
from gaidrl.experiments.config import load_config
from gaidrl.train.checkpoint import load_checkpoint
from gaidrl.train.evaluate import evaluate, percent_of_references
from gaidrl.train.logging import read_csv
from gaidrl.train.trainer import NonFiniteLossError, Trainer


def test_nan_loss_stops_and_keeps_last_good_checkpoint(write_config, tmp_path, capsys):
    data = config_dict(total_steps=600, checkpoint_every=200)
    data["algo"]["params"]["nan_at_update"] = 150  # updates start at step 64: NaN at step 362
    out = tmp_path / "run"
    assert main(["train", "--config", str(write_config(data)), "--out", str(out),
                 "--no-progress"]) == 1  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "loss 'critic_loss' became nan at step 362" in err[0], err
    last = out / "checkpoints" / "last.pt"
    assert str(last) in err[0]
    state = load_checkpoint(last)
    assert state["trainer"]["step"] == 200  # the last checkpoint before the NaN
    assert state["agent"]["updates"] < 150
    assert all(torch.isfinite(v).all() for v in state["agent"]["model"].values())
    assert not (out / "checkpoints" / "final.pt").exists()
    # the run can be resumed from the good checkpoint (and fails again at the same update)
    with pytest.raises(NonFiniteLossError) as info:
        Trainer.resume(out).run()
    assert info.value.step == 362 and info.value.name == "critic_loss"


def test_nan_before_any_checkpoint_says_so(tmp_path):
    data = config_dict(checkpoint_every=10_000)
    data["algo"]["params"]["nan_at_update"] = 2
    with pytest.raises(NonFiniteLossError, match="no checkpoint written yet"):
        Trainer.create(load_config(data=data), tmp_path / "r").run()


def test_evaluation_is_deterministic_and_leaves_global_rngs_alone(tmp_path):
    config = load_config(data=config_dict("gaidrl/UAVNearFar-v0", eval_episodes=3))
    trainer = Trainer.create(config, tmp_path / "r")
    seeds = [11, 12, 13]
    before = (random.random(), np.random.random(), torch.rand(1))  # noqa: NPY002
    random.seed(0), np.random.seed(0), torch.manual_seed(0)  # noqa: NPY002
    a = evaluate(trainer.agent, trainer.eval_env, seeds).episodes
    after_eval = (random.random(), np.random.random(), torch.rand(1).item())  # noqa: NPY002
    random.seed(0), np.random.seed(0), torch.manual_seed(0)  # noqa: NPY002
    untouched = (random.random(), np.random.random(), torch.rand(1).item())  # noqa: NPY002
    assert after_eval == untouched and before is not None
    b = evaluate(trainer.agent, trainer.eval_env, seeds).episodes
    assert set(a) >= {"return", "length", "sum_rate", "fairness", "bs_power_fraction"}
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    assert a["length"].tolist() == [20, 20, 20]
    trainer.close()


def test_percent_of_references():
    agent = {"sum_rate_mean": 5.0, "return_mean": 30.0, "length_mean": 100.0}
    refs = {
        "oracle": {"sum_rate": 20.0, "reward": 0.6},
        "planner": {"sum_rate": 10.0, "reward": 0.5},
    }
    out = percent_of_references(agent, refs)
    assert out["percent_of_oracle_sum_rate"] == 25.0 and out["oracle_reward_per_step"] == 0.6
    assert out["percent_of_planner_reward"] == pytest.approx(60.0)
    assert out["percent_of_oracle_reward"] == pytest.approx(50.0)
    assert out["planner_sum_rate"] == 10.0
    assert percent_of_references(agent, {}) == {}


def test_cli_eval_of_a_run_and_a_png(write_config, tmp_path, capsys):
    data = config_dict("gaidrl/UAVNearFar-v0", total_steps=200)
    out = tmp_path / "run"
    cfg = str(write_config(data))
    assert main(["train", "--config", cfg, "--out", str(out), "--no-progress"]) == 0
    capsys.readouterr()
    png = tmp_path / "net.png"
    assert main(["eval", str(out), "--episodes", "3", "--render", str(png)]) == 0
    shown = capsys.readouterr().out
    assert "sum_rate_mean" in shown and "fairness_mean" in shown and "3 episodes" in shown
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["eval", str(out / "checkpoints" / "final.pt"), "--episodes", "1"]) == 0
    # the same run folder cannot be started twice
    assert main(["train", "--config", cfg, "--out", str(out), "--no-progress"]) == 2
    assert "--resume" in capsys.readouterr().err


def test_case_study_evaluation_reports_percent_of_planner_and_oracle(tmp_path):
    data = config_dict("gaidrl/UAVNearFar-v0", total_steps=40, eval_every=20, eval_episodes=1,
                       checkpoint_every=20, oracle_reference=True)  # fmt: skip
    data["env"]["kwargs"]["episode_length"] = 5
    trainer = Trainer.create(load_config(data=data), tmp_path / "r")
    summary = trainer.run()
    assert 0 < summary["percent_of_oracle_sum_rate"] < 150
    assert 0 < summary["percent_of_oracle_reward"] <= summary["percent_of_planner_reward"]
    assert summary["oracle_reward_per_step"] >= summary["planner_reward_per_step"] > 0
    state = load_checkpoint(tmp_path / "r" / "checkpoints" / "last.pt")
    means = state["trainer"]["references"]["means"]
    assert means["oracle"]["sum_rate"] == summary["oracle_sum_rate"]


def test_keep_best_keeps_the_state_of_the_best_evaluation(tmp_path, capsys):
    config = load_config(data=config_dict(total_steps=600, eval_every=100, keep_best=True))
    out = tmp_path / "run"
    trainer = Trainer.create(config, out)
    trainer.run()
    trainer.close()
    _, rows = read_csv(out / "eval.csv")
    returns = [float(r["return_mean"]) for r in rows]
    best_row = rows[int(np.argmax(returns))]  # the first of equal bests: later ties do not save
    state = load_checkpoint(out / "checkpoints" / "best.pt")
    assert state["trainer"]["step"] == int(best_row["step"])
    assert state["trainer"]["best_return"] == pytest.approx(max(returns))
    # gaidrl eval of best.pt replays that evaluation (same seeds, deterministic policy)
    assert main(["eval", str(out / "checkpoints" / "best.pt")]) == 0
    assert f"{max(returns):.6g}" in capsys.readouterr().out  # the table shows 6 digits
