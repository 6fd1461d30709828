"""TD3, SAC (Pendulum-v1) and DQN (CartPole-v1): gaidrl beside Stable-Baselines3, one run.

For each seed and algorithm the script trains our agent through our trainer
(:class:`gaidrl.train.trainer.Trainer`) and SB3's agent through ``model.learn``, with the
same hyper-parameters and network sizes (rl-zoo's settings, see ``HPARAMS``), one env, and
one torch thread for both. Runs are interleaved
(seed 0: ours then SB3, seed 1: SB3 then ours, ...) so a passing load hits both libraries
alike.

Measured per run:

* ``return``: mean return of a deterministic evaluation over ``--eval-episodes`` episodes on
  fixed seeds (the same seeds for every run and both libraries, one plain ``gym.make`` of
  the algorithm's env, the same evaluation loop);
* ``steps_per_s``: training env-steps / wall time of the training call only. SB3: wall time
  of ``model.learn``. Ours: wall time of ``Trainer.run`` minus the time spent inside its
  evaluation and checkpoint calls (timed and subtracted; with ``eval_every`` and
  ``checkpoint_every`` at 0 the trainer does each only once, at the end). Model construction
  is excluded on both sides.

Usage: ``python benchmarks/peer_sb3.py [--quick] [--seeds N] [--steps S] [--algos td3,sac,dqn]
[--precisions float32,bfloat16]`` (default ``td3,sac``; DQN is the check that its final-step
instability on CartPole is SB3's too). ``--precisions`` adds our agent trained with
``precision: bfloat16`` (mixed precision in its updates) as a third library, ``ours_bfloat16``,
compared with SB3 like ``ours``.
Prints a table, then one JSON object with every figure as the LAST line. Needs
``stable-baselines3`` (the ``peers`` extra).
"""

from __future__ import annotations

import os

# One thread everywhere: the BLAS / OpenMP pools must be sized before numpy/torch load.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
             "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS"):  # fmt: skip
    os.environ[_var] = "1"

import argparse  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import gymnasium as gym  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from scipy import stats as sps  # noqa: E402

from bench_machine import run_facts  # noqa: E402
from gaidrl.experiments.config import load_config  # noqa: E402
from gaidrl.experiments.stats import mean_ci  # noqa: E402
from gaidrl.train.precision import PRECISIONS  # noqa: E402
from gaidrl.train.trainer import Trainer  # noqa: E402

try:
    import stable_baselines3 as sb3  # noqa: E402
    from stable_baselines3.common.noise import NormalActionNoise  # noqa: E402
except ImportError:  # pragma: no cover - depends on the environment
    sb3 = None

ROOT = Path(__file__).resolve().parents[1]
EVAL_SEED_BASE = 424_242  # evaluation episodes use seeds EVAL_SEED_BASE + i, in every run
ENVS = {"td3": "Pendulum-v1", "sac": "Pendulum-v1", "dqn": "CartPole-v1"}
STEPS = {"td3": 20_000, "sac": 20_000, "dqn": 50_000}  # rl-zoo's budgets
GOAL_RETURN = {"Pendulum-v1": -250.0, "CartPole-v1": 475.0}
GOAL_RATIO = 1.5

# One table of settings per algorithm, mapped onto both libraries below.
HPARAMS: dict[str, dict[str, Any]] = {
    # rl-zoo td3.yml, Pendulum-v1 (SB3 defaults for what it leaves out: tau, batch, delays).
    "td3": {
        "lr": 1e-3, "gamma": 0.98, "buffer_size": 200_000, "learning_starts": 10_000,
        "batch_size": 256, "tau": 0.005, "train_freq": 1, "gradient_steps": 1,
        "net": [400, 300], "exploration_noise": 0.1, "policy_delay": 2,
        "target_noise": 0.2, "target_noise_clip": 0.5,
    },
    # rl-zoo sac.yml, Pendulum-v1 sets only learning_rate 1e-3; the rest are SB3's SAC
    # defaults: gamma 0.99, learning_starts 100, batch 256, tau 0.005, automatic entropy
    # (initial coefficient 1.0, target entropy -dim(A)), net [256, 256], buffer 1e6.
    "sac": {
        "lr": 1e-3, "gamma": 0.99, "buffer_size": 1_000_000, "learning_starts": 100,
        "batch_size": 256, "tau": 0.005, "train_freq": 1, "gradient_steps": 1,
        "net": [256, 256], "init_alpha": 1.0, "target_entropy": -1.0,
    },
    # rl-zoo dqn.yml, CartPole-v1 (plain DQN, Huber loss, SB3's gradient clip 10). Adam's
    # epsilon is ours (1e-5; SB3's DQN keeps torch's 1e-8), passed to both libraries.
    # SB3 copies the target every 10 env steps, i.e. once per collection of 256 steps, before
    # each round of 128 gradient steps: ours counts the interval in gradient steps.
    "dqn": {
        "lr": 2.3e-3, "gamma": 0.99, "buffer_size": 100_000, "learning_starts": 1000,
        "batch_size": 64, "train_freq": 256, "gradient_steps": 128, "net": [256, 256],
        "exploration_fraction": 0.16, "exploration_final_eps": 0.04,
        "target_update_env_steps": 10, "max_grad_norm": 10.0, "adam_eps": 1e-5,
    },
}  # fmt: skip
CONFIGS = {"td3": ROOT / "configs" / "td3_pendulum.yaml",
           "sac": ROOT / "configs" / "sac_pendulum.yaml",
           "dqn": ROOT / "configs" / "dqn_cartpole.yaml"}  # fmt: skip


# --------------------------------------------------------------------------- settings
def ours_params(algo: str, hp: dict[str, Any], steps: int) -> dict[str, Any]:
    if algo == "dqn":
        return {
            "lr": hp["lr"], "gamma": hp["gamma"], "buffer_size": hp["buffer_size"],
            "learning_starts": hp["learning_starts"], "batch_size": hp["batch_size"],
            "train_freq": hp["train_freq"], "gradient_steps": hp["gradient_steps"],
            "hidden": list(hp["net"]), "target_update_interval": hp["gradient_steps"],
            "double_q": False, "start_epsilon": 1.0, "end_epsilon": hp["exploration_final_eps"],
            "exploration_steps": int(hp["exploration_fraction"] * steps),
            "max_grad_norm": hp["max_grad_norm"], "adam_eps": hp["adam_eps"],
        }  # fmt: skip
    common = {
        "actor_lr": hp["lr"], "critic_lr": hp["lr"], "gamma": hp["gamma"],
        "buffer_size": hp["buffer_size"], "learning_starts": hp["learning_starts"],
        "batch_size": hp["batch_size"], "tau": hp["tau"], "train_freq": hp["train_freq"],
        "gradient_steps": hp["gradient_steps"], "hidden": list(hp["net"]),
    }  # fmt: skip
    if algo == "td3":
        return common | {
            "exploration_noise": hp["exploration_noise"], "policy_delay": hp["policy_delay"],
            "policy_noise": hp["target_noise"], "noise_clip": hp["target_noise_clip"],
        }  # fmt: skip
    return common | {"alpha_lr": hp["lr"], "autotune": True, "init_alpha": hp["init_alpha"],
                     "target_entropy": hp["target_entropy"]}  # fmt: skip


def sb3_model(algo: str, hp: dict[str, Any], env: gym.Env, seed: int) -> Any:
    if algo == "dqn":
        return sb3.DQN(
            "MlpPolicy", env, learning_rate=hp["lr"], gamma=hp["gamma"],
            buffer_size=hp["buffer_size"], learning_starts=hp["learning_starts"],
            batch_size=hp["batch_size"], train_freq=hp["train_freq"],
            gradient_steps=hp["gradient_steps"],
            target_update_interval=hp["target_update_env_steps"],
            exploration_fraction=hp["exploration_fraction"],
            exploration_final_eps=hp["exploration_final_eps"],
            max_grad_norm=hp["max_grad_norm"],
            policy_kwargs={"net_arch": list(hp["net"]),
                           "optimizer_kwargs": {"eps": hp["adam_eps"]}},
            seed=seed, device="cpu", verbose=0,
        )  # fmt: skip
    common = {
        "learning_rate": hp["lr"], "gamma": hp["gamma"], "buffer_size": hp["buffer_size"],
        "learning_starts": hp["learning_starts"], "batch_size": hp["batch_size"],
        "tau": hp["tau"], "train_freq": hp["train_freq"], "gradient_steps": hp["gradient_steps"],
        "policy_kwargs": {"net_arch": list(hp["net"])}, "seed": seed, "device": "cpu",
        "verbose": 0,
    }  # fmt: skip
    if algo == "td3":
        dim = int(np.prod(env.action_space.shape))
        noise = NormalActionNoise(np.zeros(dim), hp["exploration_noise"] * np.ones(dim))
        return sb3.TD3("MlpPolicy", env, action_noise=noise, policy_delay=hp["policy_delay"],
                       target_policy_noise=hp["target_noise"],
                       target_noise_clip=hp["target_noise_clip"], **common)  # fmt: skip
    return sb3.SAC("MlpPolicy", env, ent_coef=f"auto_{hp['init_alpha']}",
                   target_entropy=hp["target_entropy"], **common)  # fmt: skip


# --------------------------------------------------------------------------- evaluation
def evaluate(act: Callable[[np.ndarray], Any], env_id: str, episodes: int) -> list[float]:
    """Deterministic returns on the fixed evaluation seeds, one plain env, episode by episode."""
    env = gym.make(env_id)
    returns = []
    try:
        for i in range(episodes):
            obs, _ = env.reset(seed=EVAL_SEED_BASE + i)
            total, done = 0.0, False
            while not done:
                obs, reward, terminated, truncated, _ = env.step(act(obs))
                total += float(reward)
                done = terminated or truncated
            returns.append(total)
    finally:
        env.close()
    return returns


# --------------------------------------------------------------------------- runs
def run_ours(
    algo: str, hp: dict[str, Any], seed: int, steps: int, episodes: int, precision: str = "float32"
) -> dict:
    sets = [f"seed={seed}", "device=cpu", f"precision={precision}", f"trainer.total_steps={steps}",
            "trainer.eval_every=0", "trainer.checkpoint_every=0", "trainer.log_every=1000",
            f"trainer.eval_episodes={episodes}", "trainer.tensorboard=false"]  # fmt: skip
    sets += [f"algo.params.{k}={json.dumps(v)}" for k, v in ours_params(algo, hp, steps).items()]
    config = load_config(CONFIGS[algo], sets)
    with tempfile.TemporaryDirectory(prefix=f"peer_{algo}_") as tmp:
        trainer = Trainer.create(config, Path(tmp) / "run")
        side = {"s": 0.0}

        def timed(fn: Callable[..., Any]) -> Callable[..., Any]:
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                t = time.perf_counter()
                try:
                    return fn(*args, **kwargs)
                finally:
                    side["s"] += time.perf_counter() - t

            return wrapper

        trainer._evaluate = timed(trainer._evaluate)  # excluded from the training time
        trainer.save = timed(trainer.save)
        t0 = time.perf_counter()
        summary = trainer.run()
        wall = time.perf_counter() - t0
        train_s = wall - side["s"]
        trainer.close()
        agent = trainer.agent

        def act(obs: np.ndarray) -> Any:
            return agent.act(obs[None].astype(np.float32), explore=False)[0]

        returns = evaluate(act, ENVS[algo], episodes)
        updates = int(agent.num_updates)
    return {"returns": returns, "return": float(np.mean(returns)), "train_s": train_s,
            "steps_per_s": steps / train_s, "env_steps": steps, "excluded_s": side["s"],
            "updates": updates,
            "trainer_eval_return": float(summary.get("return_mean", float("nan")))}  # fmt: skip


def run_sb3(algo: str, hp: dict[str, Any], seed: int, steps: int, episodes: int) -> dict:
    env = gym.make(ENVS[algo])
    model = sb3_model(algo, hp, env, seed)
    t0 = time.perf_counter()
    model.learn(total_timesteps=steps, progress_bar=False)
    train_s = time.perf_counter() - t0

    def act(obs: np.ndarray) -> Any:
        return model.predict(obs, deterministic=True)[0]

    returns = evaluate(act, ENVS[algo], episodes)
    updates = int(model._n_updates)
    taken = int(model.num_timesteps)  # SB3 ends its last rollout (DQN: 256 steps) past `steps`
    model.get_env().close()
    return {"returns": returns, "return": float(np.mean(returns)), "train_s": train_s,
            "steps_per_s": taken / train_s, "env_steps": taken, "excluded_s": 0.0,
            "updates": updates}  # fmt: skip


# --------------------------------------------------------------------------- summary
def interval(values: list[float]) -> dict[str, float]:
    ci = mean_ci(values)
    return {"mean": ci.mean, "low": ci.low, "high": ci.high, "half_width": ci.half_width}


def compare(ours: list[dict], peer: list[dict], goal: float) -> dict[str, Any]:
    """One of our libraries against SB3: speed ratio, return difference, goals."""
    out: dict[str, Any] = {}
    out["ratio_steps_per_s"] = float(np.mean([r["steps_per_s"] for r in ours])
                                     / np.mean([r["steps_per_s"] for r in peer]))  # fmt: skip
    out["ratio_steps_per_s_per_seed"] = [a["steps_per_s"] / b["steps_per_s"]
                                         for a, b in zip(ours, peer, strict=True)]  # fmt: skip
    a, b = [r["return"] for r in ours], [r["return"] for r in peer]
    out["return_diff_ours_minus_sb3"] = float(np.mean(a) - np.mean(b))
    if len(a) > 1 and np.std(a) + np.std(b) > 0:
        out["welch_p_value"] = float(sps.ttest_ind(a, b, equal_var=False).pvalue)
    else:
        out["welch_p_value"] = None
    out["goal_return"] = goal
    out["seeds_above_goal"] = {"ours": int(sum(x > goal for x in a)),
                               "sb3": int(sum(x > goal for x in b))}  # fmt: skip
    out["goals"] = {
        "ours_return_above_goal": bool(np.mean(a) > goal),
        "sb3_return_above_goal": bool(np.mean(b) > goal),
        "returns_within_noise": None if out["welch_p_value"] is None
        else bool(out["welch_p_value"] > 0.05),
        "ours_at_least_1.5x_sb3_steps_per_s": bool(out["ratio_steps_per_s"] >= GOAL_RATIO),
    }  # fmt: skip
    return out


def summarise(runs: dict[str, list[dict]], goal: float) -> dict[str, Any]:
    """Per library its figures; ``ours`` against SB3 at the top level (as before), every
    other of our libraries (``ours_bfloat16``) against SB3 under its own name."""
    out: dict[str, Any] = {}
    for lib, rs in runs.items():
        out[lib] = {
            "return_per_seed": [r["return"] for r in rs],
            "steps_per_s_per_seed": [r["steps_per_s"] for r in rs],
            "train_s_per_seed": [r["train_s"] for r in rs],
            "excluded_s_per_seed": [r["excluded_s"] for r in rs],
            "updates_per_seed": [r["updates"] for r in rs],
            "env_steps_per_seed": [r["env_steps"] for r in rs],
            "episode_returns_per_seed": [r["returns"] for r in rs],
            "return": interval([r["return"] for r in rs]),
            "steps_per_s": interval([r["steps_per_s"] for r in rs]),
        }
        if lib.startswith("ours"):
            out[lib]["trainer_eval_return_per_seed"] = [r["trainer_eval_return"] for r in rs]
    out |= compare(runs["ours"], runs["sb3"], goal)
    for lib in runs:
        if lib.startswith("ours_"):
            out[f"{lib}_vs_sb3"] = compare(runs[lib], runs["sb3"], goal)
    return out


def fmt_ci(iv: dict[str, float], digits: int = 0) -> str:
    if not np.isfinite(iv["half_width"]):
        return f"{iv['mean']:.{digits}f} (n=1)"
    return f"{iv['mean']:.{digits}f} ± {iv['half_width']:.{digits}f}"


def print_table(results: dict[str, Any], seeds: list[int]) -> None:
    print(f"{'algo':<5} {'lib':<13} {'seed':>4} {'eval return':>12} {'train s':>8} "
          f"{'steps/s':>8} {'updates':>8}")  # fmt: skip
    for algo, res in results.items():
        for lib in libraries(res):
            r = res[lib]
            for i, seed in enumerate(seeds):
                print(f"{algo:<5} {lib:<13} {seed:>4} {r['return_per_seed'][i]:>12.1f} "
                      f"{r['train_s_per_seed'][i]:>8.1f} {r['steps_per_s_per_seed'][i]:>8.0f} "
                      f"{r['updates_per_seed'][i]:>8d}")  # fmt: skip
    print()
    head = f"{'eval return (mean ± 95% t)':>28} {'steps/s (mean ± 95% t)':>24}"
    print(f"{'algo':<5} {'lib':<13} {head}")
    for algo, res in results.items():
        for lib in libraries(res):
            r = res[lib]
            print(f"{algo:<5} {lib:<13} {fmt_ci(r['return'], 1):>28} "
                  f"{fmt_ci(r['steps_per_s']):>24}")  # fmt: skip
        for lib in libraries(res):
            if lib == "sb3":
                continue
            c = res if lib == "ours" else res[f"{lib}_vs_sb3"]
            p = c["welch_p_value"]
            print(f"{algo:<5} ratio {lib}/sb3 steps/s: {c['ratio_steps_per_s']:.2f}; "
                  f"return difference {c['return_diff_ours_minus_sb3']:+.1f} "
                  f"(Welch p = {'n/a' if p is None else f'{p:.2f}'})")  # fmt: skip


def libraries(res: dict[str, Any]) -> list[str]:
    return [lib for lib in res if lib in ("ours", "sb3") or
            (lib.startswith("ours_") and not lib.endswith("_vs_sb3"))]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 400 steps, 1 seed, learning_starts <= 200")  # fmt: skip
    parser.add_argument("--seeds", type=int, help="number of seeds, 0..N-1 (default 3)")
    parser.add_argument(
        "--steps", type=int, help="env steps per run (default: 20000 for td3/sac, 50000 for dqn)"
    )
    parser.add_argument("--algos", default="td3,sac", help="comma-separated: td3, sac, dqn")
    parser.add_argument("--eval-episodes", type=int, help="evaluation episodes (default 10)")
    parser.add_argument("--precisions", default="float32",
                        help="our agent's precisions, comma-separated: float32 (always), "
                        "bfloat16")  # fmt: skip
    args = parser.parse_args(argv)
    if sb3 is None:
        print("peer_sb3: stable-baselines3 is not installed (pip install -e .[peers])",
              file=sys.stderr)  # fmt: skip
        return 2
    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    n_seeds = args.seeds or (1 if args.quick else 3)
    steps = {a: args.steps or (400 if args.quick else STEPS[a]) for a in HPARAMS}
    episodes = args.eval_episodes or (2 if args.quick else 10)
    algos = [a.strip() for a in args.algos.split(",") if a.strip()]
    unknown = sorted(set(algos) - set(HPARAMS))
    if unknown:
        parser.error(f"unknown algorithm {unknown[0]!r}; choose from {', '.join(HPARAMS)}")
    hparams = {a: dict(HPARAMS[a]) for a in algos}
    if args.quick:
        for hp in hparams.values():
            hp["learning_starts"] = min(hp["learning_starts"], 200)
    precisions = ["float32"] + [p for p in args.precisions.split(",")
                                if p.strip() and p.strip() != "float32"]  # fmt: skip
    bad = sorted(set(precisions) - set(PRECISIONS))
    if bad:
        parser.error(f"unknown precision {bad[0]!r}; choose from {', '.join(PRECISIONS)}")
    ours_libs = {"ours": "float32"} | {f"ours_{p}": p for p in precisions[1:]}
    seeds = list(range(n_seeds))
    runs = {a: {lib: [] for lib in [*ours_libs, "sb3"]} for a in algos}
    t_start = time.perf_counter()
    for seed in seeds:
        for algo in algos:
            order = [*ours_libs, "sb3"] if seed % 2 == 0 else ["sb3", *ours_libs]
            for lib in order:
                if lib == "sb3":
                    r = run_sb3(algo, hparams[algo], seed, steps[algo], episodes)
                else:
                    r = run_ours(algo, hparams[algo], seed, steps[algo], episodes,
                                 ours_libs[lib])  # fmt: skip
                runs[algo][lib].append(r)
                print(f"# {algo} {lib} seed {seed}: return {r['return']:.1f}, "
                      f"{r['steps_per_s']:.0f} steps/s ({r['train_s']:.1f} s)",
                      file=sys.stderr, flush=True)  # fmt: skip
                gc.collect()
    results = {a: summarise(runs[a], GOAL_RETURN[ENVS[a]]) for a in algos}
    print_table(results, seeds)
    record = {
        "benchmark": "peer_sb3", "envs": {a: ENVS[a] for a in algos}, "quick": args.quick,
        "steps": {a: steps[a] for a in algos},
        "seeds": seeds, "eval_episodes": episodes,
        "eval_seeds": [EVAL_SEED_BASE + i for i in range(episodes)],
        "hparams": hparams, "results": results,
        "timing": "training call only: SB3 model.learn; ours Trainer.run minus its "
                  "evaluation and checkpoint time (excluded_s); construction excluded",
        "order": "per seed and algo: ours first on even seeds, sb3 first on odd seeds",
        "precisions": ours_libs,
        "threads": torch.get_num_threads(), "interop_threads": torch.get_num_interop_threads(),
        "cpus_available": len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "stable_baselines3": sb3.__version__, **run_facts(),
        "total_wall_s": time.perf_counter() - t_start,
    }  # fmt: skip
    print(json.dumps(record))
    return 0


if __name__ == "__main__":
    sys.exit(main())
