"""Parts named in a run config: built from the config (the encoder first, its feature size
handed on), trained, resumed bit-identically, and refused with one line when they cannot fit."""

from __future__ import annotations

import pytest
import torch
from train_support import metric_rows

from gaidrl.agents.parts import DeterministicActor, MLPEncoder, QCritic
from gaidrl.experiments.config import ConfigError, load_config
from gaidrl.experiments.registry import build_agent, make_env, part_names
from gaidrl.train.checkpoint import load_checkpoint
from gaidrl.train.trainer import Trainer

PARTS = {
    "encoder": {"name": "mlp", "params": {"features": 24, "hidden": [32]}},
    "actor": {"name": "deterministic", "params": {"hidden": [32, 32]}},
    "critic": {"name": "q", "params": {"hidden": [32, 32], "num_q": 3}},
}


def td3_config(parts: dict, total_steps: int = 400) -> dict:
    return {
        "seed": 7,
        "env": {"id": "Pendulum-v1", "num_envs": 2},
        "algo": {"name": "td3", "params": {"buffer_size": 2000, "batch_size": 32,
                                           "learning_starts": 100, "hidden": [16, 16]}},
        "parts": parts,
        "trainer": {"total_steps": total_steps, "eval_every": 200, "eval_episodes": 1,
                    "checkpoint_every": 200, "log_every": 100, "tensorboard": False},
    }  # fmt: skip


def build(parts: dict):
    config = load_config(data=td3_config(parts))
    return build_agent(config, make_env(config.env), torch.device("cpu"))


def test_named_parts_are_built_with_the_encoders_feature_size():
    agent = build(PARTS)
    assert isinstance(agent.encoder, MLPEncoder) and agent.encoder.feature_dim == 24
    assert isinstance(agent.actor, DeterministicActor)
    assert agent.actor.net[0].in_features == 24 and agent.actor.net[0].out_features == 32
    assert isinstance(agent.critic, QCritic) and agent.critic.num_q == 3
    assert agent.critic.heads[0][0].in_features == 24 + 1


def test_a_named_part_without_params_follows_the_algorithms_settings():
    agent = build({"critic": {"name": "q"}})  # no encoder named: the default flattening
    assert agent.critic.num_q == 2  # TD3's n_critics
    assert agent.critic.heads[0][0].out_features == 16  # TD3's hidden
    assert agent.critic.heads[0][0].in_features == 3 + 1  # Pendulum's observation


def test_named_parts_train_and_resume_bit_identically(tmp_path):
    whole, halves = tmp_path / "whole", tmp_path / "halves"
    Trainer.create(load_config(data=td3_config(PARTS)), whole).run()
    Trainer.create(load_config(data=td3_config(PARTS, total_steps=200)), halves).run()
    Trainer.resume(halves, load_config(data=td3_config(PARTS))).run()
    assert metric_rows(whole) == metric_rows(halves)
    a = load_checkpoint(whole / "checkpoints" / "final.pt")["agent"]["modules"]
    b = load_checkpoint(halves / "checkpoints" / "final.pt")["agent"]["modules"]
    assert a.keys() == b.keys() and any(k.startswith("encoder.net") for k in a)
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_unknown_part_names_the_slots_parts():
    assert {"deterministic", "gaussian", "categorical", "hybrid"} <= set(part_names("actor"))
    with pytest.raises(ConfigError, match=r"'parts\.actor\.name': unknown actor part "
                       r"'oracle'; allowed: categorical, deterministic, diffusion"):  # fmt: skip
        build({"actor": {"name": "oracle"}})


def test_a_part_that_cannot_serve_the_algorithm_is_refused_in_one_line():
    with pytest.raises(
        ConfigError,
        match=r"part 'parts\.actor' \(categorical\) refused its "
        r"settings: the categorical actor serves Discrete actions; the action "
        r"space is Box.*For Box actions use parts\.actor\.name: deterministic",
    ):
        build({"actor": {"name": "categorical"}})
    with pytest.raises(ConfigError, match=r"unknown key 'parts\.actor\.params\.hiden'.*hidden"):
        build({"actor": {"name": "deterministic", "params": {"hiden": [8]}}})


class NoisyHalfReplay(torch.nn.Module):
    """A replay part that wraps the default buffer: the second half of every batch repeats
    the first half with noisy rewards, flagged synthetic (a stand-in for generative replay)."""

    def __init__(self, base, generator: torch.Generator) -> None:
        super().__init__()
        self.base, self.generator = base, generator

    def add(self, *transition) -> None:
        self.base.add(*transition)

    def __len__(self) -> int:
        return len(self.base)

    def sample(self, batch_size: int):
        batch = self.base.sample(batch_size)
        half = batch_size // 2
        noise = 0.01 * torch.randn(half, generator=self.generator)
        batch.reward[batch_size - half :] = batch.reward[:half] + noise
        batch.synthetic[batch_size - half :] = 1.0
        return batch

    def state(self) -> dict:
        return self.base.state()

    def load_state(self, state: dict) -> None:
        self.base.load_state(state)


def noisy_half_replay(context):
    generator = context.generator()
    return lambda base: NoisyHalfReplay(base, generator)


REPLAY = {"replay": {"name": "test_named_parts:noisy_half_replay"}}


def test_a_replay_part_wraps_the_agents_seeded_default_buffer(tmp_path):
    from gaidrl.data.replay import ReplayBuffer

    agent = build(REPLAY)
    assert isinstance(agent.replay, NoisyHalfReplay)
    assert isinstance(agent.replay.base, ReplayBuffer) and agent.replay.base.capacity == 2000
    plain = build({})
    assert isinstance(plain.replay, ReplayBuffer)
    plain.replay.add(*(torch.zeros(1, 3).numpy(), torch.zeros(1, 1).numpy(), [0.0],
                       torch.zeros(1, 3).numpy(), [0.0], [0.0]))  # fmt: skip
    assert torch.equal(plain.replay.sample(4).synthetic, torch.zeros(4))  # real rows: 0
    whole, halves = tmp_path / "whole", tmp_path / "halves"
    Trainer.create(load_config(data=td3_config(REPLAY)), whole).run()
    Trainer.create(load_config(data=td3_config(REPLAY, total_steps=200)), halves).run()
    Trainer.resume(halves, load_config(data=td3_config(REPLAY))).run()
    assert metric_rows(whole) == metric_rows(halves)  # its generator was saved and restored
