"""Exact resume: a run killed with SIGKILL and resumed gives the numbers of an unbroken run."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from train_support import (
    assert_same_run,
    config_dict,
    metric_rows,
    resume_and_finish,
    start_whole_and_killed_runs,
)

from gaidrl.experiments.config import load_config
from gaidrl.train.checkpoint import load_checkpoint, save_checkpoint
from gaidrl.train.envstate import capture_env_state, restore_env_state, skipped_attributes
from gaidrl.train.trainer import Trainer


def test_sigkill_then_resume_matches_uninterrupted_run(write_config, tmp_path):
    data = config_dict("Pendulum-v1", total_steps=1600, eval_every=400, checkpoint_every=400,
                       log_every=200, tensorboard=True)  # fmt: skip
    unbroken, whole, broken = start_whole_and_killed_runs(write_config(data), tmp_path)
    killed_at = load_checkpoint(broken / "checkpoints" / "last.pt")["trainer"]["step"]
    assert killed_at == 400  # killed about to write its second checkpoint (800)
    assert not (broken / "checkpoints" / "final.pt").exists()
    # rows past the checkpoint were written before the kill; the resume must drop them
    assert int(metric_rows(broken)[-1]["step"]) == 800

    resume_and_finish(unbroken, broken)
    assert_same_run(whole, broken)
    assert len(metric_rows(whole)) == 8 and len(metric_rows(whole, "eval.csv")) == 4
    assert list((broken / "tensorboard").iterdir())


@pytest.mark.parametrize("env_id", ["gaidrl/UAVNearFar-v0", "CartPole-v1"])
def test_resume_in_process_matches(env_id, tmp_path):
    data = config_dict(env_id)
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    Trainer.create(load_config(data=data), whole).run()
    first = load_config(data=data, overrides=["trainer.total_steps=400"])
    Trainer.create(first, parts).run()
    rest = load_config(data=data)  # total_steps back to 600: a trainer.* change is allowed
    Trainer.resume(parts, rest).run()
    assert_same_run(whole, parts)
    rows = metric_rows(whole)
    assert [int(r["step"]) for r in rows] == [100, 200, 300, 400, 500, 600]
    if env_id.startswith("gaidrl"):  # the case study's own metrics are logged
        assert float(rows[-1]["env/sum_rate"]) > 0
        assert 0 < float(metric_rows(whole, "eval.csv")[-1]["fairness_mean"]) <= 1


def test_resume_refuses_a_changed_algorithm_setting(tmp_path):
    from gaidrl.experiments.config import ConfigError

    data = config_dict(total_steps=200)
    Trainer.create(load_config(data=data), tmp_path / "r").run()
    changed = load_config(data=data, overrides=["algo.params.lr=0.5"])
    with pytest.raises(ConfigError, match=r"algo\.params\.lr"):
        Trainer.resume(tmp_path / "r", changed)


def _make(env_id):
    if env_id.startswith("gaidrl"):
        from gaidrl.envs import UAVNearFarVectorEnv

        return UAVNearFarVectorEnv(3, action_mode="hybrid", obs_mode="tokens", n_antennas=128,
                                   episode_length=7)  # fmt: skip
    return gym.make_vec(
        env_id,
        3,
        vectorization_mode="sync",
        vector_kwargs={"autoreset_mode": gym.vector.AutoresetMode.SAME_STEP},
    )


@pytest.mark.parametrize("env_id", ["CartPole-v1", "Pendulum-v1", "gaidrl/UAVNearFar-v0"])
def test_env_state_round_trip_through_a_checkpoint(env_id, tmp_path):
    env = _make(env_id)
    env.action_space.seed(1)
    env.reset(seed=3)
    for _ in range(23):  # crosses episode ends for the case study (7 slots)
        env.step(env.action_space.sample())
    state = capture_env_state(env)
    assert skipped_attributes(state) == []
    save_checkpoint({"env": state}, tmp_path / "env.pt")
    actions = [env.action_space.sample() for _ in range(40)]
    expected = [env.step(a) for a in actions]
    fresh = _make(env_id)
    restore_env_state(fresh, load_checkpoint(tmp_path / "env.pt")["env"])
    for a, (obs, rew, term, trunc, _) in zip(actions, expected, strict=True):
        obs2, rew2, term2, trunc2, _ = fresh.step(a)
        if isinstance(obs, dict):
            for k in obs:
                np.testing.assert_array_equal(obs[k], obs2[k])
        else:
            np.testing.assert_array_equal(obs, obs2)
        np.testing.assert_array_equal(rew, rew2)
        np.testing.assert_array_equal(term | trunc, term2 | trunc2)
