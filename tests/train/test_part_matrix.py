"""Every actor x critic name with every algorithm: the combinations that fit build and train
(finite stats, parameters moved), every other one is refused in one line that names what
would work. The set of combinations that build is asserted whole, so a valid pair that
starts being refused fails here as surely as an impossible one that starts building. Every
encoder trains beside every algorithm's default actor and critic."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from gaidrl.experiments.config import ConfigError, load_config
from gaidrl.experiments.registry import build_agent, make_env
from gaidrl.train.vector import true_next_obs

ACTORS = [None, "mlp", "deterministic", "gaussian", "categorical", "hybrid", "diffusion",
          "diffusion_categorical", "transformer"]  # fmt: skip
CRITICS = [None, "mlp", "q", "gan", "quantile", "discrete_q", "discrete_q_heads", "v",
           "transformer"]  # fmt: skip
ATTENTION = {"d_model": 8, "n_heads": 2, "n_layers": 1, "ff_dim": 16, "token_size": 1}
SMALL = {  # per part name: params that keep the networks and chains tiny
    "diffusion": {"n_steps": 2}, "diffusion_categorical": {"n_steps": 2},
    "gan": {"n_samples": 2, "noise_dim": 2}, "quantile": {"n_quantiles": 5},
    "transformer": ATTENTION,
}  # fmt: skip
HYAR = {"name": "hyar", "params": {"pretrain_steps": 8, "hidden": [16, 16]}}

# (algorithm, env, with HyAR's latent actions) -> the actor and critic names that fit it;
# None: nothing named (the algorithm's default), "mlp": named as the algorithm's own MLP part
BOX_Q = {None, "mlp", "q", "gan", "quantile", "transformer"}
DIFFERENTIABLE = {None, "mlp", "deterministic", "gaussian", "diffusion", "transformer"}
V = {None, "mlp", "v", "transformer"}
SETUPS: dict[tuple[str, str, bool], tuple[set, set]] = {
    ("td3", "Pendulum-v1", False): (DIFFERENTIABLE, BOX_Q),
    ("ddpg", "Pendulum-v1", False): (DIFFERENTIABLE, BOX_Q),
    ("sac", "Pendulum-v1", False): ({None, "mlp", "gaussian", "transformer"}, BOX_Q),
    ("ppo", "Pendulum-v1", False): ({None, "mlp", "gaussian", "transformer"}, V),
    ("ppo", "CartPole-v1", False): ({None, "mlp", "categorical", "transformer"}, V),
    ("dqn", "CartPole-v1", False): ({None}, {None, "mlp", "discrete_q", "transformer"}),
    ("sac_discrete", "CartPole-v1", False): (
        {None, "mlp", "categorical", "diffusion_categorical", "transformer"},
        {None, "mlp", "discrete_q_heads", "transformer"}),
    ("hybrid_ppo", "gaidrl/Platform-v0", False): ({None, "mlp", "hybrid", "transformer"}, V),
    ("td3", "gaidrl/Platform-v0", True): (DIFFERENTIABLE, BOX_Q),
}  # fmt: skip
ON_POLICY = {"ppo", "hybrid_ppo"}


def run_config(algo: str, env_id: str, hyar: bool, actor: str | None, critic: str | None):
    parts = {slot: {"name": name, "params": SMALL.get(name, {})}
             for slot, name in (("actor", actor), ("critic", critic)) if name}  # fmt: skip
    if hyar:
        parts["latent_action"] = HYAR
    params = (
        {"n_steps": 16, "n_minibatches": 2, "hidden": [16, 16]}
        if algo in ON_POLICY
        else {"buffer_size": 500, "batch_size": 16, "learning_starts": 32, "hidden": [16, 16]}
    )
    return load_config(data={
        "seed": 3, "env": {"id": env_id, "num_envs": 2}, "algo": {"name": algo, "params": params},
        "parts": parts, "trainer": {"total_steps": 100, "tensorboard": False},
    })  # fmt: skip


def train_briefly(agent, env, vector_steps: int) -> dict[str, float]:
    """The trainer's collect/update loop, without its evaluation and logging."""
    obs, _ = env.reset(seed=0)
    stats: dict[str, float] = {}
    for _ in range(vector_steps):
        action = agent.act(obs, explore=True)
        next_obs, reward, terminated, truncated, info = env.step(action)
        agent.record(obs, action, reward, true_next_obs(next_obs, info),
                     np.asarray(terminated, bool), np.asarray(truncated, bool))  # fmt: skip
        obs = next_obs
        if agent.ready_to_update():
            stats |= {k: float(v) for k, v in (agent.update() or {}).items()}
    return stats


CASES = [(setup, actor, critic) for setup in SETUPS for actor, critic in
         itertools.product(ACTORS, CRITICS)]  # fmt: skip


def fits(case) -> bool:
    """Whether the case's actor and critic both fit its setup."""
    setup, actor, critic = case
    return actor in SETUPS[setup][0] and critic in SETUPS[setup][1]


def case_id(case) -> str:
    (algo, env_id, hyar), actor, critic = case
    return f"{algo}{'+hyar' if hyar else ''}-{env_id.split('/')[-1]}-{actor}-{critic}"


@pytest.mark.parametrize("case", [c for c in CASES if fits(c)], ids=case_id)
def test_every_fitting_actor_and_critic_trains(case):
    (algo, env_id, hyar), actor, critic = case
    torch.manual_seed(0)
    config = run_config(algo, env_id, hyar, actor, critic)
    env = make_env(config.env)
    agent = build_agent(config, env, torch.device("cpu"))
    before = {k: v.clone() for k, v in agent.state_dict().items()}
    stats = train_briefly(agent, env, vector_steps=40)
    assert stats, "no update ran"
    assert all(math.isfinite(v) for v in stats.values()), stats
    for slot in ("actor", "critic"):
        module = getattr(agent, slot, None)
        if module is None:
            continue
        moved = [k for k, v in agent.state_dict().items()
                 if k.startswith(f"{slot}.") and not torch.equal(before[k], v)]  # fmt: skip
        assert moved, f"the {slot} never moved"
    obs, _ = env.reset(seed=5)
    assert_same_actions(agent.act(obs, explore=False), agent.act(obs, explore=False))
    env.close()


def assert_same_actions(a, b) -> None:
    """Greedy actions repeat exactly (a hybrid action is a tuple of arrays)."""
    if isinstance(a, tuple):
        assert isinstance(b, tuple) and len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            np.testing.assert_array_equal(x, y)
    else:
        np.testing.assert_array_equal(a, b)


REFUSED = [c for c in CASES if not fits(c)]


def test_every_other_combination_is_refused_in_one_line_that_says_what_fits():
    problems = []
    for case in REFUSED:
        (algo, env_id, hyar), actor, critic = case
        config = run_config(algo, env_id, hyar, actor, critic)
        env = make_env(config.env)
        try:
            build_agent(config, env, torch.device("cpu"))
        except ConfigError as err:
            message = str(err)
            if "\n" in message or not any(w in message for w in WAYS_OUT):
                problems.append(f"{case_id(case)}: {message!r}")
        else:
            problems.append(f"{case_id(case)}: built")
        finally:
            env.close()
    assert len(REFUSED) > 300 and not problems, "\n".join(problems)


WAYS_OUT = ("use ", "Use ", "takes no such part", "fit ", "allowed: ")
"""Words of a refusal that points somewhere: a part or algorithm to use instead."""


ENCODERS = {
    "mlp": {"features": 8, "hidden": [16]},
    "transformer": {"d_model": 8, "n_heads": 2, "n_layers": 1, "ff_dim": 16, "token_size": 1},
    "vae": {"latent_dim": 4, "hidden": [16]},
}


@pytest.mark.parametrize("encoder", list(ENCODERS))
@pytest.mark.parametrize("setup", list(SETUPS), ids=lambda s: f"{s[0]}{'+hyar' * s[2]}-{s[1]}")
def test_every_encoder_trains_with_every_algorithm(setup, encoder):
    algo, env_id, hyar = setup
    config = run_config(algo, env_id, hyar, None, None)
    config = load_config(data=config.model_dump() | {
        "parts": {**config.model_dump()["parts"],
                  "encoder": {"name": encoder, "params": ENCODERS[encoder]}},
    })  # fmt: skip
    env = make_env(config.env)
    agent = build_agent(config, env, torch.device("cpu"))
    before = {k: v.clone() for k, v in agent.encoder.state_dict().items()}
    stats = train_briefly(agent, env, vector_steps=40)
    assert stats and all(math.isfinite(v) for v in stats.values()), stats
    after = agent.encoder.state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before), "the encoder never moved"
    env.close()
