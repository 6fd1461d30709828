"""Parts plug into algorithms without touching them; impossible combinations are refused."""

from __future__ import annotations

import inspect
import io

import gymnasium as gym
import numpy as np
import pytest
import torch
from agent_setups import build
from tiny_envs import Driver, make_vec
from torch import nn

from gaidrl.agents.ddpg import DDPG
from gaidrl.agents.dqn import DQN
from gaidrl.agents.parts import (
    DeterministicActor,
    GaussianActor,
    IncompatiblePartError,
    PassThroughEncoder,
    QCritic,
    VCritic,
)
from gaidrl.agents.ppo import PPO
from gaidrl.agents.sac import SAC
from gaidrl.agents.td3 import TD3

BOX_OBS = gym.spaces.Box(-1, 1, (2,), np.float32)
BOX_ACT = gym.spaces.Box(-1, 1, (1,), np.float32)


class PredictiveCritic(QCritic):
    """An example non-MLP-default part: twin Q plus a reward predictor that has its own
    optimizer (stepped in extra_update) and an auxiliary loss on the main critic's body,
    and a counter kept in part_state."""

    def __init__(self, feature_dim: int, action_dim: int) -> None:
        super().__init__(feature_dim, action_dim, num_q=2, hidden=(32, 32))
        self.reward_head = nn.Linear(feature_dim + action_dim, 1)
        self.aux_opt = torch.optim.Adam(self.reward_head.parameters(), lr=1e-2)
        self.steps = 0
        self.aux_calls = 0

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"reward": self.aux_opt}

    def auxiliary_loss(self, batch) -> torch.Tensor:
        self.aux_calls += 1
        assert batch.features is not None  # the encoder output, set by TD3
        q = self(batch.features, batch.action)
        return 1e-3 * (q**2).mean()  # a small pull toward zero on the main parameters

    def extra_update(self, batch) -> dict[str, float]:
        x = torch.cat([batch.obs, batch.action], -1)
        loss = ((self.reward_head(x).squeeze(-1) - batch.reward) ** 2).mean()
        self.aux_opt.zero_grad()
        loss.backward()
        self.aux_opt.step()
        self.steps += 1
        return {"reward_loss": loss.item()}

    def part_state(self) -> dict:
        return {"steps": self.steps}

    def load_part_state(self, state: dict) -> None:
        self.steps = int(state["steps"])


def test_custom_critic_plugs_into_td3() -> None:
    env = make_vec("box", 4)
    critic = PredictiveCritic(2, 1)
    agent = build("td3", env, critic=critic)
    head = {id(p) for p in critic.reward_head.parameters()}
    main = {id(p) for g in agent.critic_opt.param_groups for p in g["params"]}
    assert head.isdisjoint(main), "a part's own parameters must stay out of the main optimizer"
    before = critic.reward_head.weight.detach().clone()
    driver = Driver(agent, env)
    driver.run(200)
    assert critic.steps > 0 and critic.aux_calls == critic.steps
    assert "critic/reward_loss" in driver.stats[-1]
    assert not torch.equal(before, critic.reward_head.weight)
    state = agent.training_state()
    assert "critic.reward" in state["optimizers"] and state["parts"]["critic"]["steps"] > 0
    assert any(k.startswith("critic.reward_head") for k in state["modules"])
    f = io.BytesIO()
    torch.save(state, f)
    f.seek(0)
    other = build("td3", env, seed=5, critic=PredictiveCritic(2, 1))
    other.load_training_state(torch.load(f, weights_only=True))
    assert other.critic.steps == critic.steps
    assert torch.equal(other.critic.reward_head.weight, critic.reward_head.weight)


def test_dict_observations_are_flattened_by_default() -> None:
    env = make_vec("box", 2, dict_obs=True)
    agent = build("td3", env, learning_starts=20, batch_size=8)
    Driver(agent, env).run(30)
    assert agent.replay.obs["mask"].dtype == np.int8 and agent.num_updates > 0


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda: SAC(BOX_OBS, BOX_ACT, actor=DeterministicActor(2, 1)),
         ["SAC", "DeterministicActor", "log-probability", "TD3"]),
        (lambda: PPO(BOX_OBS, BOX_ACT, actor=DeterministicActor(2, 1)),
         ["PPO", "log-probability", "GaussianActor"]),
        (lambda: PPO(BOX_OBS, gym.spaces.Discrete(3), actor=GaussianActor(2, 1)),
         ["discrete actions", "it produces box"]),
        (lambda: TD3(BOX_OBS, gym.spaces.Discrete(3)), ["TD3", "discrete", "dqn"]),
        (lambda: DQN(BOX_OBS, BOX_ACT), ["DQN", "box", "td3"]),
        (lambda: DQN(BOX_OBS, gym.spaces.Discrete(3), critic=QCritic(2, 1)),
         ["DQN", "QCritic", "estimates Q(s, a)", "parts.critic.name: discrete_q"]),
        (lambda: PPO(BOX_OBS, BOX_ACT, critic=QCritic(2, 1)),
         ["PPO", "QCritic", "needs V(s)", "parts.critic.name: v"]),
        (lambda: TD3(BOX_OBS, BOX_ACT, critic=VCritic(2)),
         ["TD3", "VCritic", "estimates V(s)", "q, gan or quantile"]),
        (lambda: TD3(BOX_OBS, BOX_ACT, critic=torch.nn.Linear(3, 1)),
         ["TD3", "Linear", "declares no `estimates`"]),
        (lambda: DDPG(BOX_OBS, BOX_ACT, encoder=PassThroughEncoder()),
         ["flat features", "PassThroughEncoder"]),
        (lambda: TD3(BOX_OBS, gym.spaces.MultiDiscrete([2, 2])), ["not supported", "Tuple"]),
    ],
    ids=["sac-no-logprob", "ppo-no-logprob", "box-actor-discrete", "td3-discrete", "dqn-box",
         "dqn-qcritic", "ppo-qcritic", "td3-vcritic", "undeclared-critic", "passthrough",
         "multidiscrete"],
)  # fmt: skip
def test_impossible_combinations_say_why(make, words) -> None:
    with pytest.raises(IncompatiblePartError) as err:
        make()
    for word in words:
        assert word in str(err.value), (word, str(err.value))


def test_unknown_hyperparameter_lists_the_allowed_ones() -> None:
    with pytest.raises(TypeError, match="policy_delay"):
        TD3(BOX_OBS, BOX_ACT, polcy_delay=3)
    params = inspect.signature(TD3).parameters
    assert params["policy_delay"].default == 2 and params["actor"].default is None
    ddpg = inspect.signature(DDPG).parameters  # DDPG has no __init__ of its own
    assert ddpg["policy_delay"].default == 1 and ddpg["n_critics"].default == 1
    assert inspect.signature(TD3).parameters["n_critics"].default == 2  # TD3's left alone
    assert "n_epochs" in inspect.signature(PPO).parameters


def test_dqn_step_size_decays_linearly_to_its_end_value() -> None:
    env = make_vec("discrete", 4)
    agent = build("dqn", env, lr=1e-3, lr_end=1e-4, lr_decay_steps=800)
    driver = Driver(agent, env)
    driver.run(150)  # 600 env steps, the last update at step 600: 3/4 of the decay
    lr = agent.optimizer.param_groups[0]["lr"]
    assert lr == pytest.approx(1e-3 + (600 / 800) * (1e-4 - 1e-3), rel=1e-6)
    driver.run(150)  # past the end of the decay
    assert agent.optimizer.param_groups[0]["lr"] == pytest.approx(1e-4)
    assert driver.stats[-1]["lr"] == pytest.approx(1e-4)


def test_td3_critic_ensemble_targets_a_random_subset_of_heads() -> None:
    agent = TD3(BOX_OBS, BOX_ACT, n_critics=5, target_heads=2, actor_q="mean", seed=0)
    assert agent.critic.num_q == 5 and DDPG(BOX_OBS, BOX_ACT).critic.num_q == 1
    q = torch.arange(5.0)[:, None].expand(5, 3)  # head i predicts i everywhere
    picks = {tuple(sorted(agent._target_heads(q)[:, 0].tolist())) for _ in range(50)}
    assert all(len(set(p)) == 2 for p in picks) and len(picks) > 3  # 2 distinct, varying
    f, a = torch.zeros(4, 2), torch.zeros(4, 1)
    torch.testing.assert_close(agent._actor_q(f, a), agent.critic(f, a).mean(0))
    for bad, words in [({"target_heads": 6}, "target_heads must lie in [1, n_critics=5]"),
                       ({"actor_q": "min"}, "actor_q must be 'first' or 'mean'")]:  # fmt: skip
        with pytest.raises(ValueError, match=words.replace("[", r"\[").replace("]", r"\]")):
            TD3(BOX_OBS, BOX_ACT, n_critics=5, **bad)


class NoisyCritic(QCritic):
    """A critic drawing from its own generator in its loss (as a GAN critic draws noise),
    recording what its hooks were handed."""

    def __init__(self, feature_dim: int, action_dim: int, seed: int) -> None:
        super().__init__(feature_dim, action_dim, num_q=2, hidden=(16, 16))
        self.generator = torch.Generator().manual_seed(seed)
        self.handle = None
        self.features_had_graph: list[bool] = []

    def attach(self, handle) -> None:
        self.handle = handle

    def td_loss(self, features, action, target, batch):
        noise = torch.randn(target.shape, generator=self.generator)
        return super().td_loss(features, action, target + 0.01 * noise, batch)

    def extra_update(self, batch) -> dict[str, float]:
        self.features_had_graph.append(batch.features.requires_grad)
        return {}


class NoisyActor(DeterministicActor):
    """An actor that samples even when asked for a deterministic action."""

    def __init__(self, feature_dim: int, action_dim: int) -> None:
        super().__init__(feature_dim, action_dim, hidden=(16,))
        self.generator = torch.Generator().manual_seed(11)

    def forward(self, features, *, deterministic=False, generator=None):
        out = super().forward(features)
        noise = torch.randn(out.action.shape, generator=self.generator)
        out.action = (out.action + 0.1 * noise).clamp(-1, 1)
        return out


def test_a_parts_generator_handle_and_hooks_follow_the_contract() -> None:
    from gaidrl.agents.parts.context import PartHandle

    env = make_vec("box", 2)
    critic = NoisyCritic(2, 1, seed=5)
    agent = build("td3", env, critic=critic, learning_starts=64, batch_size=32)
    assert agent.critic_target.generator is critic.generator  # shared, not copied
    assert isinstance(critic.handle, PartHandle) and critic.handle.replay is agent.replay
    Driver(agent, env).run(150)
    assert critic.features_had_graph and not any(critic.features_had_graph)
    state = agent.training_state()  # no recursion into the agent through the part
    saved = critic.generator.get_state()
    assert torch.equal(state["rng"]["parts"]["critic"], saved)
    torch.randn(3, generator=critic.generator)  # move the stream on, then restore it
    agent.load_training_state(state)
    assert torch.equal(critic.generator.get_state(), saved)


def test_evaluation_puts_back_the_generators_of_the_agent_and_its_parts() -> None:
    from gaidrl.train.evaluate import evaluate

    env = make_vec("box", 2)
    agent = build("td3", env, actor=NoisyActor(2, 1))
    before = agent.rng_state()
    first = evaluate(agent, make_vec("box", 2), seeds=[0, 1]).episodes["return"]
    after = agent.rng_state()
    assert torch.equal(before["parts"]["actor"], after["parts"]["actor"])
    assert torch.equal(before["torch"], after["torch"])
    again = evaluate(agent, make_vec("box", 2), seeds=[0, 1]).episodes["return"]
    np.testing.assert_array_equal(first, again)  # the same draws: evaluation is repeatable
