"""How precisely can a critic learn the case study's one-slot reward across layouts?

TD3's critic at discount 0 is exactly this regression, and at any discount it must at least
resolve how the reward changes with the action. The benchmark measures that directly:

1. **Headroom.** A constant correction to the heuristic's command (the relay beam's split
   logit lowered by ``d``, in ``action_base="heuristic"`` mode) is swept on the held-out
   layouts: the sum-rate gain a policy could collect from this one correction alone.
2. **Fit.** Transitions are collected with residuals N(0, ``--noise``) around the heuristic
   on ``--episodes`` random layouts; the library's own :class:`QCritic` (one head) regresses
   the reward by MSE (fused Adam, batch 256). Reported on held-out layouts: RMSE against the
   reward's standard deviation (R^2), and, for states along the heuristic's path, the error
   of the predicted reward *change* for relay corrections of -0.4, -1 and +0.5 against the
   true change (computed on copies of the env), with the share of correct signs.

The reward is rate-only (fairness and power weights 0), so it is a function of the sum rate.
A critic whose action-effect error is as large as the effects themselves cannot steer a
policy past the heuristic, whatever the algorithm around it.

    python benchmarks/critic_fit.py [--quick] [--hidden 256 256] [--layernorm] [--beam-gains]
                                    [--heads N] [--obs-mode tokens [--encoder transformer]]

Human table first; the last line is one JSON object with every figure.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import copy  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from bench_machine import run_facts  # noqa: E402
from gaidrl.agents.base import make_adam  # noqa: E402
from gaidrl.agents.parts import FlattenEncoder, QCritic  # noqa: E402
from gaidrl.enhance.transformer_encoder import TransformerEncoder  # noqa: E402
from gaidrl.envs import UAVNearFarVectorEnv  # noqa: E402
from gaidrl.envs.actions import velocity_dim  # noqa: E402

RATE_ONLY = {"reward_alpha": 0.0, "reward_power_weight": 0.0}  # the mean rate alone
RELAY_CORRECTIONS = (-0.4, -1.0, 0.5)
SWEEP = (0.0, -0.2, -0.4, -0.6, -1.0)
TRAIN_SEED0, TEST_SEED0, PATH_SEED0, SWEEP_SEED0 = 0, 900_000, 700_000, 50_000


OBS_MODE = {"mode": "compact"}  # set by main(): "tokens" for the attention encoder


def residual_env(num_envs: int, beam_gains: bool) -> UAVNearFarVectorEnv:
    return UAVNearFarVectorEnv(num_envs, action_base="heuristic", observe_beam_gains=beam_gains,
                               obs_mode=OBS_MODE["mode"], **RATE_ONLY)  # fmt: skip


def stack(observations: list) -> object:
    """Observations of many steps, concatenated along the batch (dicts key by key), as tensors."""
    if isinstance(observations[0], dict):
        return {k: stack([o[k] for o in observations]) for k in observations[0]}
    return torch.as_tensor(np.concatenate(observations), dtype=torch.float32)


def rows_of(obs: object, idx) -> object:
    return {k: v[idx] for k, v in obs.items()} if isinstance(obs, dict) else obs[idx]


def single(obs: object) -> object:
    """One env step's observation (array or dict of arrays) as tensors."""
    if isinstance(obs, dict):
        return {k: torch.as_tensor(v.copy()) for k, v in obs.items()}
    return torch.as_tensor(obs.copy())


def relay_column(env: UAVNearFarVectorEnv) -> int:
    """Index of the relay beam's split logit in the continuous action (after the UAV command
    and the BS power fraction, the near users' logits)."""
    return velocity_dim(env.config) + 1 + env.config.n_near_users


def relay_action(env: UAVNearFarVectorEnv, correction: float) -> np.ndarray:
    action = np.zeros((env.num_envs, *env.single_action_space.shape), np.float32)
    action[:, relay_column(env)] = correction
    return action


def headroom(episodes: int) -> dict[str, float]:
    """Mean sum rate of the heuristic with each constant relay correction."""
    env = residual_env(episodes, beam_gains=False)  # acts blind: observations do not matter
    out = {}
    for correction in SWEEP:
        env.reset(seed=SWEEP_SEED0)
        action = relay_action(env, correction)
        rates = [env.step(action)[4]["sum_rate"] for _ in range(env.config.episode_length)]
        out[f"{correction:+.1f}"] = float(np.mean(rates))
    return out


def collect(episodes: int, seed0: int, noise: float, rng: np.random.Generator, beam_gains: bool,
            batch: int = 20):  # fmt: skip
    """(obs, action, reward) tensors of random residuals around the heuristic."""
    env = residual_env(batch, beam_gains)
    obs_l, act_l, rew_l = [], [], []
    for start in range(0, episodes, batch):
        obs, _ = env.reset(seed=seed0 + start)
        for _ in range(env.config.episode_length):
            action = np.clip(noise * rng.standard_normal((batch, env.single_action_space.shape[0])),
                             -1.0, 1.0).astype(np.float32)  # fmt: skip
            next_obs, reward, *_ = env.step(action)
            obs_l.append(obs)
            act_l.append(action)
            rew_l.append(reward)
            obs = next_obs
    return (stack(obs_l), *(torch.as_tensor(np.concatenate(x), dtype=torch.float32)
                            for x in (act_l, rew_l)))  # fmt: skip


def paired_effects(episodes: int, beam_gains: bool) -> list[tuple[np.ndarray, ...]]:
    """(obs, correction action, true reward change) at every 10th slot of the heuristic."""
    env = residual_env(episodes, beam_gains)
    obs, _ = env.reset(seed=PATH_SEED0)
    zero = relay_action(env, 0.0)
    rows = []
    for t in range(env.config.episode_length):
        if t % 10 == 5:
            base = copy.deepcopy(env).step(zero)[1]
            for correction in RELAY_CORRECTIONS:
                action = relay_action(env, correction)
                changed = copy.deepcopy(env).step(action)[1]
                rows.append((single(obs), action, changed - base))
        obs = env.step(zero)[0]
    return rows


def with_layernorm(critic: QCritic) -> QCritic:
    """Insert LayerNorm after every hidden Linear of each head."""
    for i, head in enumerate(critic.heads):
        layers: list[nn.Module] = []
        linears = [m for m in head if isinstance(m, nn.Linear)]
        for m in head:
            layers.append(m)
            if isinstance(m, nn.Linear) and m is not linears[-1]:
                layers.append(nn.LayerNorm(m.out_features))
        critic.heads[i] = nn.Sequential(*layers)
    return critic


def fit(data, test, rows, hidden, layernorm: bool, steps: int, lr: float, seed: int,
        heads: int = 1, encoder_name: str = "flatten"):  # fmt: skip
    """Train a ``heads``-head QCritic (each head on the same batches, its own init) behind an
    encoder (flatten, or attention over the tokens, trained with it); predict with the mean
    of the heads (an ensemble, as an actor could read it)."""
    torch.manual_seed(seed)
    obs, act, rew = data
    space = residual_env(1, False).single_observation_space
    encoder = TransformerEncoder(space) if encoder_name == "transformer" else FlattenEncoder(space)
    q = QCritic(encoder.feature_dim, act.shape[1], num_q=heads, hidden=tuple(hidden))
    if layernorm:
        q = with_layernorm(q)

    def critic(o, a):
        return q(encoder(o), a)

    opt = make_adam(list(q.parameters()) + list(encoder.parameters()), lr, "cpu")
    gen = torch.Generator().manual_seed(seed)
    start = time.perf_counter()
    for _ in range(steps):
        idx = torch.randint(0, len(rew), (256,), generator=gen)
        loss = ((critic(rows_of(obs, idx), act[idx]) - rew[idx]) ** 2).mean(-1).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    wall = time.perf_counter() - start
    with torch.no_grad():
        train_rmse, test_rmse = (
            float(((critic(o, a).mean(0) - r) ** 2).mean().sqrt()) for o, a, r in (data, test)
        )
        errors, signs, effects = [], [], []
        for o, action, true_change in rows:
            zero = torch.zeros_like(torch.as_tensor(action))
            predicted = (critic(o, torch.as_tensor(action)) - critic(o, zero)).mean(0).numpy()
            errors.append(np.abs(predicted - true_change))
            signs.append(np.sign(predicted) == np.sign(true_change))
            effects.append(np.abs(true_change))
    return {
        "train_rmse": train_rmse, "test_rmse": test_rmse,
        "test_r2": 1.0 - test_rmse**2 / float(test[2].var()),
        "effect_abs_error": float(np.mean(errors)), "effect_abs_true": float(np.mean(effects)),
        "effect_sign_accuracy": float(np.mean(signs)), "fit_wall_s": wall,
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=400, help="training layouts")
    parser.add_argument("--steps", type=int, default=20_000, help="gradient steps")
    parser.add_argument("--hidden", type=int, nargs="+", default=[256, 256])
    parser.add_argument("--layernorm", action="store_true")
    parser.add_argument("--heads", type=int, default=1, help="critic heads, averaged")
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--noise", type=float, default=0.4, help="std of the residuals")
    parser.add_argument("--beam-gains", action="store_true",
                        help="also observe the beam-gain matrix (observe_beam_gains)")  # fmt: skip
    parser.add_argument("--obs-mode", choices=("compact", "tokens"), default="compact")
    parser.add_argument(
        "--encoder", choices=("flatten", "transformer"), default="flatten",
        help="transformer: attention over tokens (needs --obs-mode tokens)",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="smoke run: 20 layouts, 300 steps")
    args = parser.parse_args(argv)
    if args.quick:
        args.episodes, args.steps = 20, 300
    if args.encoder == "transformer" and args.obs_mode != "tokens":
        parser.error("--encoder transformer reads the tokens observation: add --obs-mode tokens")
    OBS_MODE["mode"] = args.obs_mode
    test_episodes = max(20, args.episodes // 10)
    rng = np.random.default_rng(args.seed)
    sweep = headroom(20 if args.quick else 100)
    data = collect(args.episodes, TRAIN_SEED0, args.noise, rng, args.beam_gains)
    test = collect(test_episodes, TEST_SEED0, args.noise, rng, args.beam_gains)
    rows = paired_effects(20, args.beam_gains)
    result = fit(data, test, rows, args.hidden, args.layernorm, args.steps, args.lr, args.seed,
                 args.heads, args.encoder)  # fmt: skip

    best = max(sweep, key=sweep.get)
    print(f"Headroom: heuristic with a constant relay-logit correction ({len(sweep)} values)")
    for key, value in sweep.items():
        print(f"  correction {key}: sum rate {value:.3f}")
    print(f"  best {best}: +{sweep[best] - sweep['+0.0']:.3f} bit/s/Hz over the heuristic")
    print(f"Critic fit: QCritic {args.hidden} x {args.heads} head(s)"
          f"{' + LayerNorm' if args.layernorm else ''}"
          f"{', beam gains observed' if args.beam_gains else ''}, "
          f"{args.obs_mode} observation, {args.encoder} encoder, "
          f"{args.episodes} layouts x 100 slots, {args.steps} steps")  # fmt: skip
    print(f"  reward std (held out)     {float(test[2].std()):.4f}")
    print(f"  RMSE train / held out     {result['train_rmse']:.4f} / {result['test_rmse']:.4f}"
          f"  (R^2 {result['test_r2']:.3f})")  # fmt: skip
    print(f"  relay-correction effect   |true| {result['effect_abs_true']:.4f}  "
          f"|predicted - true| {result['effect_abs_error']:.4f}  "
          f"signs right {result['effect_sign_accuracy']:.0%}")  # fmt: skip
    summary = {
        "benchmark": "critic_fit", "quick": args.quick, "headroom_sum_rate": sweep,
        "headroom_best_gain": sweep[best] - sweep["+0.0"], "hidden": args.hidden,
        "layernorm": args.layernorm, "beam_gains": args.beam_gains, "heads": args.heads,
        "obs_mode": args.obs_mode, "encoder": args.encoder,
        "episodes": args.episodes, "steps": args.steps,
        "reward_std": float(test[2].std()), **result, **run_facts(),
    }  # fmt: skip
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
