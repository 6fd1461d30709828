"""What each GAI part costs against plain MLP TD3, side by side in one run, on the case study.

For each case (TD3 with one part swapped in, everything else equal: batch 256, hidden
[256, 256], one env), in a fresh subprocess so peak memory is its own: milliseconds per
update round (one critic step, the actor every second), milliseconds per action (one
observation, exploring), and the subprocess's peak resident memory; then env-steps/s of
GDM-TD3 at the paper code's settings (batch 128, 5 denoising steps, one update per env step)
against the 41 env-steps/s ANCHORS.md reports for the paper's own code.

    python benchmarks/gai_cost.py            # every case, ~3 min
    python benchmarks/gai_cost.py --quick    # smoke: 2 cases, few updates
    python benchmarks/gai_cost.py --cases hyar,d2sac   # some cases (and their baselines)

Ratios are to plain MLP TD3 measured in the same run. Prints a table, then one JSON object
with every figure as the LAST line.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from functools import partial  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from bench_machine import run_facts  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PAPER_CODE_STEPS_PER_S = 41.0  # ANCHORS.md: GDM-enhanced TD3 of the paper's code, 2 cores
DIFFUSION = "parts.actor.name=diffusion"
DDIM = "parts.actor.params.sampler=ddim"  # acting and the losses' chain (default: ddpm)
SILU = "parts.actor.params.activation=silu"  # the denoiser's activation (default: mish)
BF16 = "precision=bfloat16"  # updates under bfloat16 autocast
CASES: dict[str, list[str]] = {
    "mlp": [],
    "diffusion_1": [DIFFUSION, "parts.actor.params.n_steps=1"],
    "diffusion_5": [DIFFUSION, "parts.actor.params.n_steps=5"],
    "diffusion_10": [DIFFUSION, "parts.actor.params.n_steps=10"],
    "diffusion_1_ddim": [DIFFUSION, "parts.actor.params.n_steps=1", DDIM],
    "diffusion_5_ddim": [DIFFUSION, "parts.actor.params.n_steps=5", DDIM],
    "diffusion_10_ddim": [DIFFUSION, "parts.actor.params.n_steps=10", DDIM],
    "diffusion_10_ddim5": [
        DIFFUSION,
        "parts.actor.params.n_steps=10",
        DDIM,
        "parts.actor.params.sampler_steps=5",
    ],  # fmt: skip
    "diffusion_5_bc": [
        DIFFUSION,
        "parts.actor.params.n_steps=5",
        "parts.actor.params.bc_weight=1.0",
    ],  # fmt: skip
    "diffusion_5_silu": [DIFFUSION, "parts.actor.params.n_steps=5", SILU],
    "diffusion_5_silu_bf16": [DIFFUSION, "parts.actor.params.n_steps=5", SILU, BF16],
    "mlp_bf16": [BF16],
    "gan_critic": ["parts.critic.name=gan"],
    "quantile_critic": ["parts.critic.name=quantile"],
    "transformer_encoder": ["parts.encoder.name=transformer", "env.kwargs.obs_mode=tokens"],
    "transformer_actor_critic": ["@td3_uav_transformer_actor_critic.yaml"],
    "mlp_tokens": ["env.kwargs.obs_mode=tokens"],  # the transformers' own baseline
    "vae_encoder": ["parts.encoder.name=vae", "env.kwargs.obs_mode=channel"],
    "mlp_channel": ["env.kwargs.obs_mode=channel"],  # the VAE encoder's own baseline
    # data side: the update mixes synthetic rows; the model's fit is timed apart and spread
    # over its interval at the part's default settings (FIT_INTERVAL)
    "generative_replay": ["parts.replay.name=generative", "parts.replay.params.min_real=256"],
    "generative_replay_gan": [
        "parts.replay.name=generative",
        "parts.replay.params.model=gan",
        "parts.replay.params.min_real=256",
    ],
    "world_model": ["parts.replay.name=world_model", "parts.replay.params.min_real=256"],
    # discrete actions: D2SAC against discrete SAC with its categorical MLP actor
    "sac_discrete": ["@d2sac_uav.yaml", "parts={}"],
    "d2sac": ["@d2sac_uav.yaml"],
    # hybrid actions: TD3 in HyAR's latent space (its VAE trained on every drawn batch; the
    # one-off pre-training falls in the warm-up), against plain TD3 on continuous actions
    "hyar": ["@td3_uav_hyar.yaml"],
}
FIT_INTERVAL = {
    "generative_replay": 10_000,
    "generative_replay_gan": 10_000,
    "world_model": 1_000,
}  # env steps between fits: the parts' defaults
BASELINE = {
    "transformer_encoder": "mlp_tokens",
    "transformer_actor_critic": "mlp_tokens",
    "vae_encoder": "mlp_channel",
    "d2sac": "sac_discrete",
}  # default: mlp
BASE = ["env.num_envs=1", "algo.params.batch_size=256", "algo.params.hidden=[256,256]",
        "algo.params.learning_starts=256", "algo.params.gradient_steps=1",
        "trainer.oracle_reference=false"]  # fmt: skip
# a case's "@file.yaml" replaces configs/td3_uav.yaml as its base


def build(sets: list[str]):
    import torch

    from gaidrl.experiments.config import load_config
    from gaidrl.experiments.registry import build_agent, make_env

    torch.set_num_threads(1)
    torch.manual_seed(0)
    files = [s[1:] for s in sets if s.startswith("@")]
    path = ROOT / "configs" / (files[0] if files else "td3_uav.yaml")
    config = load_config(path, BASE + [s for s in sets if not s.startswith("@")])
    env = make_env(config.env)
    agent = build_agent(config, env, torch.device("cpu"))
    return agent, env, partial(precise_update, agent, config.precision)


def precise_update(agent, precision: str) -> None:
    """One update round at the run config's precision, as the trainer runs it."""
    from gaidrl.train.precision import update_precision

    with update_precision(agent.device, precision):
        agent.update()


def fill(agent, env, steps: int):
    obs, _ = env.reset(seed=0)
    for _ in range(steps):
        action = agent.act(obs, explore=True)
        next_obs, reward, term, trunc, _ = env.step(action)
        agent.record(obs, action, reward, next_obs, term, trunc)
        obs = next_obs
    return obs


def timed_ms(fn, calls: int, repeats: int) -> float:
    """Median over ``repeats`` windows of the mean milliseconds per call."""
    windows = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        windows.append(1000 * (time.perf_counter() - start) / calls)
    return float(np.median(windows))


def measure_case(name: str, quick: bool) -> dict[str, float]:
    """One case, in this process: update and action times, then the peak RSS so far."""
    agent, env, update = build(CASES[name])
    obs = fill(agent, env, 300)
    calls, repeats = (5, 1) if quick else (40, 3)
    for _ in range(3 if quick else 10):  # warm-up
        update()
    update_ms = timed_ms(update, calls, repeats)
    act_ms = timed_ms(lambda: agent.act(obs, explore=True), calls * 2, repeats)
    extra = {}
    if name in FIT_INTERVAL:  # one fit (and rollout) of the data-side model, at its defaults
        replay = agent.replay
        if quick:
            for key in ("fit_steps", "train_steps"):
                if hasattr(replay, key):
                    setattr(replay, key, 5)
        start = time.perf_counter()
        replay.refit()
        fit_ms = 1000 * (time.perf_counter() - start)
        extra = {"fit_ms": fit_ms, "fit_interval": FIT_INTERVAL[name],
                 "ms_per_env_step": update_ms + fit_ms / FIT_INTERVAL[name]}  # fmt: skip
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    return {"update_ms": update_ms, "act_ms": act_ms, "peak_rss_mb": peak_mb, **extra}


PAPER_SETTINGS = [DIFFUSION, "parts.actor.params.n_steps=5", "algo.params.batch_size=128"]
PAPER_VARIANTS = {"as_shipped": [], "silu": [SILU], "silu_bf16": [SILU, BF16]}


def paper_setting_steps_per_s(quick: bool, extra: list[str]) -> float:
    """GDM-TD3 at the paper code's settings: batch 128, 5 steps, one update per env step."""
    agent, env, update = build(PAPER_SETTINGS + extra)
    obs = fill(agent, env, 300)
    steps = 30 if quick else 400
    start = time.perf_counter()
    for _ in range(steps):
        action = agent.act(obs, explore=True)
        next_obs, reward, term, trunc, _ = env.step(action)
        agent.record(obs, action, reward, next_obs, term, trunc)
        obs = next_obs
        update()
    return steps / (time.perf_counter() - start)


def chosen_cases(parser: argparse.ArgumentParser, text: str) -> list[str]:
    """The named cases with plain TD3 and each one's baseline, in the table's order."""
    wanted = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in wanted if name not in CASES]
    if unknown:
        parser.error(f"--cases: unknown {', '.join(unknown)}; allowed: {', '.join(CASES)}")
    keep = {"mlp", *wanted, *(BASELINE[name] for name in wanted if name in BASELINE)}
    return [name for name in CASES if name in keep]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke: 2 cases, few updates")
    parser.add_argument("--cases", help="comma-separated cases (default: all); their "
                        f"baselines are added. Allowed: {', '.join(CASES)}")  # fmt: skip
    parser.add_argument("--case", help=argparse.SUPPRESS)  # one case in a subprocess
    args = parser.parse_args(argv)
    if args.case:
        print(json.dumps(measure_case(args.case, args.quick)))
        return 0
    names = ["mlp", "diffusion_5", "world_model"] if args.quick else list(CASES)
    if args.cases:
        names = chosen_cases(parser, args.cases)
    results = {}
    for name in names:
        cmd = [sys.executable, __file__, "--case", name] + (["--quick"] if args.quick else [])
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"case {name} failed:\n{done.stderr[-2000:]}")
        results[name] = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"{'case':<22}{'update ms':>10}{'x base':>8}{'act ms':>9}{'x base':>8}{'peak MB':>9}")
    for name, r in results.items():
        base = results[BASELINE.get(name, "mlp")]
        r["update_over_mlp"] = r["update_ms"] / base["update_ms"]
        r["act_over_mlp"] = r["act_ms"] / base["act_ms"]
        print(f"{name:<22}{r['update_ms']:>10.2f}{r['update_over_mlp']:>7.2f}"
              f"{r['act_ms']:>9.3f}{r['act_over_mlp']:>7.2f}{r['peak_rss_mb']:>9.0f}")  # fmt: skip
    for name, r in results.items():
        if "fit_ms" in r:  # per env step: the update plus the fit spread over its interval
            r["per_env_step_over_mlp"] = r["ms_per_env_step"] / results["mlp"]["update_ms"]
            print(f"{name}: one fit {r['fit_ms']:.0f} ms every {r['fit_interval']} env steps; "
                  f"{r['ms_per_env_step']:.2f} ms per env step, "
                  f"{r['per_env_step_over_mlp']:.2f}x plain TD3's update")  # fmt: skip
    paper = {}
    for variant, extra in PAPER_VARIANTS.items():
        sps = paper_setting_steps_per_s(args.quick, extra)
        paper[variant] = {
            "steps_per_s": sps,
            "over_paper_code_anchor": sps / PAPER_CODE_STEPS_PER_S,
        }
        print(
            f"GDM-TD3 at the paper code's settings ({variant}): {sps:.1f} env-steps/s, "
            f"{sps / PAPER_CODE_STEPS_PER_S:.2f}x the paper code's {PAPER_CODE_STEPS_PER_S:g} "
            "(ANCHORS.md; not measured side by side)"
        )
    result = {"benchmark": "gai_cost", "cases": results, "quick": args.quick,
              "gdm_td3_paper_settings_steps_per_s": paper["as_shipped"]["steps_per_s"],
              "over_paper_code_anchor": paper["as_shipped"]["over_paper_code_anchor"],
              "gdm_td3_paper_settings": paper, **run_facts()}  # fmt: skip
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
