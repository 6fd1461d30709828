"""Generative parts named in configs: they train with unchanged algorithms, resume exactly
(also after SIGKILL), evaluate repeatably, and are refused in one line where they cannot fit."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from train_support import (
    SMALL_UAV,
    killed_and_resumed_agents,
    metric_rows,
    resume_and_finish,
    start_whole_and_killed_runs,
)

from gaidrl.experiments.config import ConfigError, load_config
from gaidrl.experiments.registry import build_agent, make_env
from gaidrl.train.checkpoint import load_checkpoint
from gaidrl.train.evaluate import evaluate
from gaidrl.train.trainer import Trainer

DIFFUSION = {"actor": {"name": "diffusion",
                       "params": {"n_steps": 3, "hidden": [32, 32], "bc_weight": 0.5}}}  # fmt: skip
SMALL_OFF = {"buffer_size": 2000, "batch_size": 32, "learning_starts": 100, "hidden": [32, 32]}


def config(algo: str, env_id: str, parts: dict, total_steps: int = 300, **trainer) -> dict:
    kwargs = dict(SMALL_UAV) if env_id.startswith("gaidrl") else {}
    return {
        "seed": 2,
        "env": {"id": env_id, "num_envs": 2, "kwargs": kwargs},
        "algo": {"name": algo, "params": dict(SMALL_OFF)},
        "parts": parts,
        "trainer": {"total_steps": total_steps, "eval_every": 150, "eval_episodes": 2,
                    "checkpoint_every": 150, "log_every": 50, "tensorboard": False,
                    "oracle_reference": False, **trainer},
    }  # fmt: skip


@pytest.mark.parametrize("algo", ["td3", "ddpg"])
def test_diffusion_actor_trains_on_the_case_study_and_evaluates_repeatably(algo, tmp_path):
    run = load_config(data=config(algo, "gaidrl/UAVNearFar-v0", DIFFUSION))
    trainer = Trainer.create(run, tmp_path / algo)
    before = {k: v.clone() for k, v in trainer.agent.actor.state_dict().items()}
    trainer.run()
    rows = metric_rows(tmp_path / algo)
    losses = [float(r["loss/actor_loss"]) for r in rows if r.get("loss/actor_loss")]
    assert losses and all(math.isfinite(v) for v in losses)
    after = trainer.agent.actor.state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before), "the actor never moved"
    env = make_env(run.env, num_envs=2)
    first = evaluate(trainer.agent, env, [11, 12]).episodes
    second = evaluate(trainer.agent, env, [11, 12]).episodes
    np.testing.assert_array_equal(first["return"], second["return"])
    trainer.close()


def test_diffusion_actor_run_killed_and_resumed_is_bit_identical(write_config, tmp_path):
    data = config("td3", "Pendulum-v1", DIFFUSION, total_steps=600, eval_every=300,
                  checkpoint_every=200, eval_episodes=1)  # fmt: skip
    unbroken, whole, broken = start_whole_and_killed_runs(write_config(data), tmp_path)
    assert load_checkpoint(broken / "checkpoints" / "last.pt")["trainer"]["step"] == 200
    resume_and_finish(unbroken, broken)
    assert metric_rows(whole) == metric_rows(broken)
    assert metric_rows(whole, "eval.csv") == metric_rows(broken, "eval.csv")
    a = load_checkpoint(whole / "checkpoints" / "final.pt")["agent"]
    b = load_checkpoint(broken / "checkpoints" / "final.pt")["agent"]
    assert any(k.startswith("actor.model.denoiser") for k in a["modules"])
    for key in a["modules"]:
        assert torch.equal(a["modules"][key], b["modules"][key]), key
    assert torch.equal(a["rng"]["parts"]["actor"], b["rng"]["parts"]["actor"])


@pytest.mark.parametrize(
    ("algo", "parts", "words"),
    [
        ("sac", DIFFUSION, r"SAC cannot use actor DiffusionActor: it lacks a tractable "
                           r"log-probability.*TD3/DDPG"),
        ("td3", {"actor": {"name": "diffusion", "params": {"n_steps": 0}}},
         r"bad value for 'parts\.actor\.params\.n_steps': n_steps must be a positive integer"),
        ("td3", {"actor": {"name": "diffusion", "params": {"sampler": "euler"}}},
         r"bad value for 'parts\.actor\.params\.sampler': unknown sampler 'euler'; allowed: "
         r"ddpm, ddim"),
        ("td3", {"actor": {"name": "diffusion", "params": {"n_steps": 4, "sampler_steps": 5}}},
         r"bad value for 'parts\.actor\.params\.sampler_steps': sampler_steps: steps must be "
         r"an integer from 1 to n_steps=4, got 5"),
        ("td3", {"actor": {"name": "diffusion", "params": {"steps": 5}}},
         r"unknown key 'parts\.actor\.params\.steps'; allowed keys here: activation, "
         r"bc_weight, greedy_steps, hidden, n_steps, sampler, sampler_steps, schedule"),
        ("ppo", DIFFUSION, r"PPO cannot use actor DiffusionActor: it lacks a tractable "
                           r"log-probability"),
    ],
)  # fmt: skip
def test_impossible_diffusion_setups_are_refused_in_one_line(algo, parts, words):
    data = config(algo, "Pendulum-v1", parts)
    if algo == "ppo":
        data["algo"]["params"] = {"n_steps": 32}
    run = load_config(data=data)
    with pytest.raises(ConfigError, match=words):
        build_agent(run, make_env(run.env), torch.device("cpu"))


SMALL_ATTENTION = {"d_model": 16, "n_heads": 2, "n_layers": 1, "ff_dim": 32}
TRANSFORMER = {"encoder": {"name": "transformer", "params": SMALL_ATTENTION}}


@pytest.mark.parametrize(
    ("algo", "action_mode"), [("td3", "continuous"), ("ppo", "discrete"), ("hybrid_ppo", "hybrid")]
)
def test_transformer_encoder_trains_over_the_case_studys_tokens(algo, action_mode, tmp_path):
    data = config(algo, "gaidrl/UAVNearFar-v0", TRANSFORMER)
    data["env"]["kwargs"] |= {"obs_mode": "tokens", "action_mode": action_mode}
    if algo in ("ppo", "hybrid_ppo"):
        data["algo"]["params"] = {"n_steps": 32, "n_epochs": 2, "hidden": [32, 32]}
    run = load_config(data=data)
    trainer = Trainer.create(run, tmp_path / algo)
    assert trainer.agent.encoder.feature_dim == 16
    before = {k: v.clone() for k, v in trainer.agent.encoder.state_dict().items()}
    trainer.run()
    after = trainer.agent.encoder.state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before), "the encoder never moved"
    rows = metric_rows(tmp_path / algo)
    assert all(math.isfinite(float(v)) for r in rows for k, v in r.items()
               if k.startswith("loss/") and v)  # fmt: skip
    trainer.close()


def test_transformer_encoder_run_resumes_bit_identically(tmp_path):
    data = config("td3", "gaidrl/UAVNearFar-v0", TRANSFORMER | DIFFUSION, total_steps=300)
    data["env"]["kwargs"]["obs_mode"] = "tokens"
    whole, halves = tmp_path / "whole", tmp_path / "halves"
    Trainer.create(load_config(data=data), whole).run()
    short = load_config(data=data, overrides=["trainer.total_steps=150"])
    Trainer.create(short, halves).run()
    Trainer.resume(halves, load_config(data=data)).run()
    assert metric_rows(whole) == metric_rows(halves)
    a = load_checkpoint(whole / "checkpoints" / "final.pt")["agent"]["modules"]
    b = load_checkpoint(halves / "checkpoints" / "final.pt")["agent"]["modules"]
    for key in a:
        assert torch.equal(a[key], b[key]), key


ACTOR_CRITIC = {"encoder": {"name": "identity"},
                "actor": {"name": "transformer", "params": SMALL_ATTENTION},
                "critic": {"name": "transformer", "params": SMALL_ATTENTION}}  # fmt: skip


@pytest.mark.parametrize(("algo", "action_mode"), [("td3", "continuous"), ("dqn", "discrete")])
def test_transformer_actor_and_critic_train_over_the_tokens_and_resume_exactly(
    algo, action_mode, tmp_path
):
    parts = ACTOR_CRITIC if algo == "td3" else {k: ACTOR_CRITIC[k] for k in ("encoder", "critic")}
    data = config(algo, "gaidrl/UAVNearFar-v0", parts, total_steps=300)
    data["env"]["kwargs"] |= {"obs_mode": "tokens", "action_mode": action_mode}
    if algo == "dqn":
        data["algo"]["params"] = {
            "buffer_size": 2000,
            "batch_size": 32,
            "learning_starts": 100,
            "hidden": [32, 32],
        }
    whole, halves = tmp_path / "whole", tmp_path / "halves"
    trainer = Trainer.create(load_config(data=data), whole)
    slots = ("actor", "critic") if algo == "td3" else ("critic",)
    before = {slot: {k: v.clone() for k, v in getattr(trainer.agent, slot).trunk.state_dict()
                     .items()} for slot in slots}  # fmt: skip
    trainer.run()
    for slot in slots:  # each trunk learns, the actor's from the actor's loss
        after = getattr(trainer.agent, slot).trunk.state_dict()
        assert any(not torch.equal(before[slot][k], after[k]) for k in after), slot
    env = make_env(trainer.config.env, num_envs=2)
    first = evaluate(trainer.agent, env, [7, 8]).episodes["return"]
    np.testing.assert_array_equal(first, evaluate(trainer.agent, env, [7, 8]).episodes["return"])
    trainer.close()
    Trainer.create(load_config(data=data, overrides=["trainer.total_steps=150"]), halves).run()
    Trainer.resume(halves, load_config(data=data)).run()
    assert metric_rows(whole) == metric_rows(halves)
    a = load_checkpoint(whole / "checkpoints" / "final.pt")["agent"]["modules"]
    b = load_checkpoint(halves / "checkpoints" / "final.pt")["agent"]["modules"]
    assert any(".trunk." in key for key in a)
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_the_transformer_actor_over_tokens_needs_the_identity_encoder():
    data = config("td3", "gaidrl/UAVNearFar-v0", {"actor": ACTOR_CRITIC["actor"]})
    data["env"]["kwargs"]["obs_mode"] = "tokens"
    run = load_config(data=data)
    with pytest.raises(ConfigError, match=r"the transformer actor reads the tokens and their "
                       r"mask itself: set parts.encoder.name: identity"):  # fmt: skip
        build_agent(run, make_env(run.env), torch.device("cpu"))


def test_transformer_encoder_needs_tokens():
    run = load_config(data=config("td3", "Pendulum-v1", TRANSFORMER))
    with pytest.raises(ConfigError, match=r"attention over a flat Box observation of 3 values "
                       r"needs exactly one of parts.encoder.params.token_size.*"
                       r"obs_mode='tokens'"):  # fmt: skip
        build_agent(run, make_env(run.env), torch.device("cpu"))
    import gymnasium as gym

    from gaidrl.enhance.transformer_encoder import token_layout

    one = gym.spaces.Dict(
        {"tokens": gym.spaces.Box(-1, 1, (1, 4)), "mask": gym.spaces.MultiBinary(1)}
    )
    with pytest.raises(ValueError, match="attention over 1 token is an MLP"):
        token_layout(one, "tokens", "mask")


def flat_transformer(**split) -> dict:
    return {"encoder": {"name": "transformer", "params": SMALL_ATTENTION | split}}


def test_transformer_encoder_splits_a_flat_observation_into_entity_tokens(tmp_path):
    run = load_config(data=config("td3", "Pendulum-v1", flat_transformer(token_size=1)))
    trainer = Trainer.create(run, tmp_path / "run")
    encoder = trainer.agent.encoder
    tokens = encoder.flat(torch.tensor([[0.5, -0.5, 2.0]]))
    expected = [[0.5, 1, 0, 0], [-0.5, 0, 1, 0], [2.0, 0, 0, 1]]  # value, then its index
    torch.testing.assert_close(tokens, torch.tensor([expected]))
    before = {k: v.clone() for k, v in encoder.state_dict().items()}
    trainer.run()
    assert any(not torch.equal(before[k], v) for k, v in encoder.state_dict().items())
    with torch.no_grad():  # a token's place is its identity: swapping two values matters
        a, b = encoder(torch.tensor([[0.3, 0.9, 0.0]])), encoder(torch.tensor([[0.9, 0.3, 0.0]]))
    assert not torch.allclose(a, b)
    env = make_env(run.env, num_envs=2)
    first = evaluate(trainer.agent, env, [3, 4]).episodes["return"]
    np.testing.assert_array_equal(first, evaluate(trainer.agent, env, [3, 4]).episodes["return"])
    trainer.close()


def test_uneven_token_slices_are_zero_padded():
    from gaidrl.enhance.transformer_encoder import FlatTokens

    tokens = FlatTokens([(0, 2), (2, 3)], dim=3)(torch.tensor([[1.0, 2.0, 3.0]]))
    torch.testing.assert_close(tokens, torch.tensor([[[1.0, 2.0, 1, 0], [3.0, 0.0, 0, 1]]]))


@pytest.mark.parametrize(("split", "words"), [
    ({"token_size": 2}, r"token_size must be a positive divisor of the observation's 3 values"),
    ({"token_size": 3}, r"attention over 1 token is an MLP"),
    ({"token_slices": [[0, 2], [2, 4]]}, r"token_slices must be \[start, stop\] pairs"),
    ({"token_size": 1, "token_slices": [[0, 1], [1, 3]]}, r"needs exactly one of"),
])  # fmt: skip
def test_bad_flat_token_splits_are_refused_in_one_line(split, words):
    run = load_config(data=config("td3", "Pendulum-v1", flat_transformer(**split)))
    with pytest.raises(ConfigError, match=words):
        build_agent(run, make_env(run.env), torch.device("cpu"))


GAN = {"critic": {"name": "gan", "params": {"hidden": [32, 32], "n_samples": 2}}}
QUANTILE = {"critic": {"name": "quantile", "params": {"hidden": [32, 32], "n_quantiles": 8}}}


@pytest.mark.parametrize("algo", ["td3", "ddpg"])
@pytest.mark.parametrize("parts", [GAN, QUANTILE], ids=["gan", "quantile"])
def test_distributional_critics_train_on_the_case_study(parts, algo, tmp_path):
    run = load_config(data=config(algo, "gaidrl/UAVNearFar-v0", parts))
    trainer = Trainer.create(run, tmp_path / "run")
    before = {k: v.clone() for k, v in trainer.agent.critic.state_dict().items()}
    trainer.run()
    after = trainer.agent.critic.state_dict()
    moved = {k for k in before if not torch.equal(before[k], after[k])}
    if parts is GAN:  # the generators (critic optimizer) and discriminators (its own) both learn
        assert any("generator_net" in k for k in moved) and any("discriminator" in k for k in moved)
    else:
        assert moved
    rows = metric_rows(tmp_path / "run")
    losses = [float(r["loss/critic_loss"]) for r in rows if r.get("loss/critic_loss")]
    assert losses and all(math.isfinite(v) for v in losses)
    env = make_env(run.env, num_envs=2)
    first = evaluate(trainer.agent, env, [5, 6]).episodes["return"]
    np.testing.assert_array_equal(first, evaluate(trainer.agent, env, [5, 6]).episodes["return"])
    trainer.close()


def test_diffusion_actor_with_gan_critic_killed_and_resumed_is_bit_identical(
    write_config, tmp_path
):
    data = config("td3", "Pendulum-v1", DIFFUSION | GAN, total_steps=600, eval_every=300,
                  checkpoint_every=200, eval_episodes=1)  # fmt: skip
    a, b = killed_and_resumed_agents(write_config, tmp_path, data)
    assert "critic.discriminator" in a["optimizers"]
    for slot in ("actor", "critic"):
        assert torch.equal(a["rng"]["parts"][slot], b["rng"]["parts"][slot])


def test_gan_critic_for_discrete_actions_is_refused_in_one_line():
    data = config("dqn", "CartPole-v1", {"critic": {"name": "gan"}})
    data["algo"]["params"] = {"hidden": [16, 16]}
    run = load_config(data=data)
    with pytest.raises(ConfigError, match=r"the GAN critic \(Q\(s, a\)\) serves Box actions.*"
                       r"discrete_q"):  # fmt: skip
        build_agent(run, make_env(run.env), torch.device("cpu"))


D2SAC = {"actor": {"name": "diffusion_categorical",
                   "params": {"n_steps": 3, "hidden": [32, 32]}}}  # fmt: skip


def test_d2sac_trains_resumes_and_evaluates_repeatably_on_the_discrete_case_study(tmp_path):
    data = config("sac_discrete", "gaidrl/UAVNearFar-v0", D2SAC, total_steps=300)
    data["env"]["kwargs"]["action_mode"] = "discrete"
    whole, halves = tmp_path / "whole", tmp_path / "halves"
    trainer = Trainer.create(load_config(data=data), whole)
    before = {k: v.clone() for k, v in trainer.agent.actor.state_dict().items()}
    trainer.run()
    after = trainer.agent.actor.state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before), "the actor never moved"
    rows = metric_rows(whole)
    assert all(math.isfinite(float(r["loss/actor_loss"])) for r in rows if r.get("loss/actor_loss"))
    env = make_env(trainer.config.env, num_envs=2)
    first = evaluate(trainer.agent, env, [3, 4]).episodes["return"]
    np.testing.assert_array_equal(first, evaluate(trainer.agent, env, [3, 4]).episodes["return"])
    trainer.close()
    short = load_config(data=data, overrides=["trainer.total_steps=150"])
    Trainer.create(short, halves).run()
    Trainer.resume(halves, load_config(data=data)).run()
    assert metric_rows(whole) == metric_rows(halves)


@pytest.mark.parametrize(
    ("algo", "env_kwargs", "parts", "words"),
    [
        ("sac_discrete", {"action_mode": "discrete"}, DIFFUSION,
         r"the diffusion actor serves Box actions.*diffusion_categorical.*sac_discrete"),
        ("td3", {}, D2SAC, r"diffusion categorical actor chooses among Discrete actions.*"
                           r"parts\.actor\.name: diffusion"),
    ],
)  # fmt: skip
def test_actors_of_the_wrong_action_kind_are_refused(algo, env_kwargs, parts, words):
    data = config(algo, "gaidrl/UAVNearFar-v0", parts)
    data["env"]["kwargs"] |= env_kwargs
    run = load_config(data=data)
    with pytest.raises(ConfigError, match=words):
        build_agent(run, make_env(run.env), torch.device("cpu"))


@pytest.mark.parametrize(
    ("algo", "env_kwargs", "parts"),
    [
        ("td3", {"obs_mode": "tokens"}, TRANSFORMER | QUANTILE),
        ("sac_discrete", {"action_mode": "discrete"}, D2SAC),
        ("td3", {"obs_mode": "tokens"}, ACTOR_CRITIC),
    ],
    ids=["transformer_encoder+quantile_critic", "d2sac", "transformer_actor+critic"],
)
def test_more_gai_parts_killed_and_resumed_from_the_cli_are_bit_identical(
    algo, env_kwargs, parts, write_config, tmp_path
):
    data = config(algo, "gaidrl/UAVNearFar-v0", parts, total_steps=300, eval_every=150,
                  checkpoint_every=100, eval_episodes=1)  # fmt: skip
    data["env"]["kwargs"] |= env_kwargs
    unbroken, whole, broken = start_whole_and_killed_runs(write_config(data), tmp_path)
    assert load_checkpoint(broken / "checkpoints" / "last.pt")["trainer"]["step"] == 100
    resume_and_finish(unbroken, broken)
    assert metric_rows(whole) == metric_rows(broken)
    assert metric_rows(whole, "eval.csv") == metric_rows(broken, "eval.csv")
    a = load_checkpoint(whole / "checkpoints" / "final.pt")["agent"]["modules"]
    b = load_checkpoint(broken / "checkpoints" / "final.pt")["agent"]["modules"]
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_d2sac_logits_stay_unsaturated_and_pass_a_gradient():
    """Noise prediction with a clip at every step saturated every logit (a uniform policy,
    greedy action always 0, no gradient through the clip); the x0 chain with tanh does not."""
    from gaidrl.enhance.diffusion_actor import denoise
    from gaidrl.enhance.diffusion_categorical_actor import DiffusionCategoricalActor

    torch.manual_seed(0)
    actor = DiffusionCategoricalActor(feature_dim=8, n_actions=36, hidden=(64, 64))
    features = torch.randn(64, 8)
    x = denoise(actor.model, features, True, None)
    assert (torch.tanh(x).abs() > 0.99).float().mean() < 0.1
    logp = actor.log_probs(features, deterministic=True)
    (logp.exp() * torch.randn(36)).sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in actor.parameters())


def test_the_diffusion_actor_acts_with_ddim_on_fewer_steps_than_it_was_trained_with():
    from gaidrl.enhance.diffusion_actor import DiffusionActor

    torch.manual_seed(0)
    actor = DiffusionActor(3, 2, n_steps=4, hidden=(16, 16), sampler="ddim", sampler_steps=2)
    features = torch.randn(5, 3)
    visited = []
    step = actor.model._step
    actor.model._step = lambda x, i, *rest: visited.append(i) or step(x, i, *rest)
    action = actor(features, generator=torch.Generator().manual_seed(1)).action
    assert visited == [3, 0]  # two of the four steps, from the noisiest
    start = torch.randn(5, 2, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():  # stochastic through its start only: DDIM from the same draw
        again = actor.model.sample(features, sampler="ddim", steps=2, initial_noise=start)
        greedy = actor(features, deterministic=True).action
        from_zero = actor.model.sample(features, sampler="ddim", steps=2,
                                       initial_noise=torch.zeros(5, 2))  # fmt: skip
    torch.testing.assert_close(action.detach(), again, rtol=0, atol=0)
    torch.testing.assert_close(greedy, from_zero, rtol=0, atol=0)  # greedy follows sampler_steps
    action.sum().backward()  # differentiable through the shorter chain
    assert all(p.grad is not None for p in actor.model.denoiser.parameters() if p.requires_grad)


def nan_after(calls: int, method):
    """``method`` that returns NaN-filled results from its ``calls``-th call on."""
    count = {"n": 0}

    def wrapped(*args, **kwargs):
        count["n"] += 1
        out = method(*args, **kwargs)
        if count["n"] < calls:
            return out
        if isinstance(out, torch.Tensor):
            return out * float("nan")
        return type(out)(*(value * float("nan") for value in out))

    return wrapped


@pytest.mark.parametrize(("parts", "patched", "calls", "stat"), [
    # two heads: two discriminator losses per update; the denoising loss at every actor step
    (GAN, "gaidrl.generative.gan.ConditionalGAN.discriminator_loss", 200, "discriminator_loss"),
    (DIFFUSION, "gaidrl.generative.diffusion.ConditionalDiffusion.loss", 100, "actor_loss"),
], ids=["gan-discriminator", "diffusion-denoising-loss"])  # fmt: skip
def test_a_nan_in_a_parts_loss_stops_the_run_and_keeps_the_last_good_checkpoint(
    parts, patched, calls, stat, monkeypatch, tmp_path
):
    from gaidrl.train.trainer import NonFiniteLossError

    module_name, _, attr = patched.rpartition(".")
    owner_module, _, cls_name = module_name.rpartition(".")
    cls = getattr(__import__(owner_module, fromlist=[cls_name]), cls_name)
    monkeypatch.setattr(cls, attr, nan_after(calls, getattr(cls, attr)))
    run = load_config(data=config("td3", "Pendulum-v1", parts, total_steps=800,
                                  checkpoint_every=200, eval_every=400))  # fmt: skip
    with pytest.raises(NonFiniteLossError) as info:
        Trainer.create(run, tmp_path / "run").run()
    assert stat in info.value.name and 200 < info.value.step < 800, (info.value.name,
                                                                      info.value.step)  # fmt: skip
    state = load_checkpoint(tmp_path / "run" / "checkpoints" / "last.pt")
    assert 0 < state["trainer"]["step"] < info.value.step
    modules = state["agent"]["modules"]
    assert all(torch.isfinite(v).all() for v in modules.values() if v.is_floating_point())


def test_a_bad_token_split_of_the_transformer_actor_names_the_actors_key():
    data = config("td3", "Pendulum-v1", {"actor": {"name": "transformer", "params": {}}})
    run = load_config(data=data)
    with pytest.raises(ConfigError, match=r"part 'parts.actor' \(transformer\).*exactly one of "
                       r"parts\.actor\.params\.token_size"):  # fmt: skip
        build_agent(run, make_env(run.env), torch.device("cpu"))
