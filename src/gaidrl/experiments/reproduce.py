"""``gaidrl reproduce paper``: the case study of arXiv 2405.20568 as one sweep and its report.

Plain TD3 and its GAN-, VAE-, Transformer- and diffusion-(GDM-)enhanced variants, with the
data-side parts (generative replay, world model), in the case study's continuous action mode;
discrete SAC against D2SAC (its diffusion actor) in the discrete mode; HybridPPO against
HyAR-TD3 in the hybrid mode. Each GAI variant is its plain agent with one part swapped in,
the same networks, settings and env-step budget, and is compared with that plain agent on the
same held-out layouts. The measured changes of rate and fairness are set beside the claim
this project started from (+39.7 % rate, +45.3 % fairness for the diffusion agent).

Beyond the paper's experiment, and only when ``--variants`` names them: TD3 acting as a
residual on the heuristic, plain and with the diffusion actor, and TD3 with a Transformer
actor and critic (``EXTRA_VARIANTS``).

``--quick`` is a smoke-sized budget (a few thousand env steps, 3 seeds): it shows the whole
pipeline and its report in about 10 minutes on 2 cores; its numbers are not a result.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gaidrl.experiments.config import ConfigError
from gaidrl.experiments.report import Claim
from gaidrl.experiments.sweep_spec import SweepSpec, build_sweep_spec

PRESETS = ("paper", "urban_split", "crowded_bs")
CLAIM_SOURCE = "arXiv 2405.20568 (as summarised; its code does not show it)"
PAPER_CLAIMS = [
    Claim("td3_diffusion", "sum_rate", 0.397, CLAIM_SOURCE),
    Claim("td3_diffusion", "fairness", 0.453, CLAIM_SOURCE),
]

# name -> (label, config file, overrides, baseline); a plain agent names itself
VARIANTS: dict[str, tuple[str, str, dict[str, Any], str | None]] = {
    "td3": ("TD3 (plain)", "td3_uav.yaml", {}, None),
    "td3_gan": ("GAN critic TD3", "td3_uav_gan.yaml", {}, "td3"),
    # the tokens observation draws a varying number of users: other networks than compact's,
    # so the Transformer's plain agent reads the same tokens, flattened with their mask
    "td3_tokens": ("TD3 on the user tokens (plain)", "td3_uav.yaml",
                   {"env.kwargs.obs_mode": "tokens"}, "td3_tokens"),
    "td3_transformer": ("Transformer TD3 (user tokens)", "td3_uav_transformer.yaml", {},
                        "td3_tokens"),
    "td3_diffusion": ("GDM-TD3 (diffusion actor)", "td3_uav_diffusion.yaml", {}, "td3"),
    "td3_generative_replay": ("TD3 + generative replay", "td3_uav.yaml",
                              {"parts.replay.name": "generative"}, "td3"),
    "td3_world_model": ("TD3 + world model", "td3_uav.yaml",
                        {"parts.replay.name": "world_model"}, "td3"),
    # the VAE reads the raw channel; its plain agent reads the same observation
    "td3_channel": ("TD3 on the channel (plain)", "td3_uav.yaml",
                    {"env.kwargs.obs_mode": "channel"}, "td3_channel"),
    "td3_vae": ("VAE encoder TD3 (channel)", "td3_uav_vae.yaml", {}, "td3_channel"),
    "sac_discrete": ("discrete SAC (plain)", "d2sac_uav.yaml", {"parts": {}}, "sac_discrete"),
    "d2sac": ("D2SAC (diffusion actor)", "d2sac_uav.yaml", {}, "sac_discrete"),
    "hybrid_ppo": ("HybridPPO (plain)", "hybrid_uav.yaml", {}, "hybrid_ppo"),
    "td3_hyar": ("HyAR-TD3 (VAE latent actions)", "td3_uav_hyar.yaml", {}, "hybrid_ppo"),
    # acting on top of the heuristic (the zero action is the heuristic's): the strongest
    # plain learner of BENCHMARKS.md, so the place where a GAI part's gain is no gain over a
    # weak baseline; not the paper's experiment, hence only when named (EXTRA_VARIANTS)
    "td3_residual": ("TD3 on the heuristic (residual)", "td3_uav_residual.yaml", {},
                     "td3_residual"),
    "td3_diffusion_residual": ("GDM-TD3 on the heuristic (residual)", "td3_uav_residual.yaml",
                               {"parts.actor.name": "diffusion"}, "td3_residual"),
    # an attention trunk in the actor and in the critic, each trained by its own loss (the
    # paper's attention-enhanced TD3); beyond the Transformer encoder, hence only when named
    "td3_transformer_ac": ("Transformer actor and critic TD3 (user tokens)",
                           "td3_uav_transformer_actor_critic.yaml", {}, "td3_tokens"),
}  # fmt: skip
EXTRA_VARIANTS = ("td3_residual", "td3_diffusion_residual", "td3_transformer_ac")
"""Variants that run only when ``--variants`` names them."""

# the trainers evaluate 8 times per run (their learning curves), whatever --steps says
EVALUATIONS_PER_RUN = 8
FULL = {"steps": 60_000, "seeds": 5, "episodes": 20, "eval_episodes": 5}
QUICK = {"steps": 2_000, "seeds": 3, "episodes": 4, "eval_episodes": 2}
# the quick budget is too short for the defaults' warm-ups and refits; scaled down alike
QUICK_SETS: dict[str, dict[str, Any]] = {
    "*": {"algo.params.learning_starts": 500, "trainer.checkpoint_every": 1_000},
    "td3_generative_replay": {"parts.replay.params.refit_every": 1_000,
                              "parts.replay.params.min_real": 500,
                              "parts.replay.params.fit_steps": 200,
                              "parts.replay.params.pool_size": 2_000},
    "td3_world_model": {"parts.replay.params.train_every": 500,
                        "parts.replay.params.min_real": 500,
                        "parts.replay.params.train_steps": 100},
    "td3_vae": {"parts.encoder.params.pretrain_steps": 100},
    "td3_hyar": {"parts.latent_action.params.pretrain_steps": 200},
}  # fmt: skip
NO_WARM_UP = ("hybrid_ppo",)  # on-policy: no learning_starts

# env steps per second of one trial on one core of the 2-core AMD EPYC (AVX-512) machine,
# both cores busy (from `gaidrl reproduce paper --quick`, 2026-12-02); for the time estimate
# after the warm-up (which runs at about 1000 steps/s), from the quick run's trial times
MEASURED_STEPS_PER_S = {
    "td3": 250.0, "td3_gan": 40.0, "td3_transformer": 45.0, "td3_diffusion": 97.0,
    "td3_generative_replay": 167.0, "td3_world_model": 140.0, "td3_channel": 41.0,
    "td3_vae": 34.0, "sac_discrete": 320.0, "d2sac": 116.0, "hybrid_ppo": 2800.0,
    "td3_hyar": 118.0,
    # not from a quick run: td3's scaled by gai_cost's update times (an MLP on the tokens
    # costs 1.07x one on compact), and for the residuals td3's and td3_diffusion's scaled by
    # side-by-side 3k-step runs (one gradient step per vector step where td3_uav.yaml takes 2)
    "td3_tokens": 235.0, "td3_residual": 240.0, "td3_diffusion_residual": 123.0,
    # td3_transformer's scaled by gai_cost's update rounds side by side (8.48x against 4.83x
    # plain TD3's, 2026-12-06)
    "td3_transformer_ac": 25.6,
}  # fmt: skip
WARM_UP_STEPS_PER_S = 1000.0
# an AVX2-only AMD EPYC of the same kind took this much longer (68 min for an estimated 37)
AVX2_SLOWDOWN = 1.8
JOB_OVERHEAD_S = 6.0  # process start, imports, final evaluation


QUICK_NOTE = (
    "QUICK budget ({steps} env steps per trial, {seed_count}): a check that the whole "
    "pipeline runs, not a result. At this budget the plain agents have barely left their "
    "warm-up, so any difference below, the claim's included, says nothing about the parts; "
    "the full run (`gaidrl reproduce paper`) and BENCHMARKS.md hold the figures to read."
)
FULL_NOTE = (
    "Every variant trains {steps} env steps per seed ({seed_count}) with its plain agent's "
    "settings; no setting was tuned on the evaluation layouts."
)


def configs_dir() -> Path:
    """The shipped run configs: ``gaidrl/configs`` in the package (``configs/`` at the top of
    a source checkout links there), so an installed gaidrl reproduces without a checkout."""
    folder = Path(__file__).resolve().parents[1] / "configs"
    if not folder.is_dir():
        raise ConfigError(f"the shipped configs are missing from {folder}; reinstall gaidrl")
    return folder


def paper_sweep(presets: list[str], quick: bool = False, seeds: int | None = None,
                steps: int | None = None, variants: list[str] | None = None
                ) -> SweepSpec:  # fmt: skip
    """The sweep of the paper's experiment on ``presets`` (one task each); ``variants``
    picks some (each GAI variant brings its plain agent)."""
    chosen = [v for v in VARIANTS if v not in EXTRA_VARIANTS] if variants is None else variants
    bad = sorted(set(chosen) - set(VARIANTS))
    if bad or not chosen:
        raise ConfigError(f"--variants: unknown variant {bad[0] if bad else '(none)'!r}; "
                          f"allowed: {', '.join(VARIANTS)}")  # fmt: skip
    chosen = set(chosen) | {VARIANTS[v][3] for v in chosen if VARIANTS[v][3]}
    unknown = sorted(set(presets) - set(PRESETS))
    if unknown or not presets:
        raise ConfigError(f"--presets: unknown preset {unknown[0] if unknown else '(none)'!r}; "
                          f"allowed: {', '.join(PRESETS)}")  # fmt: skip
    budget = dict(QUICK if quick else FULL)
    if seeds is not None:
        budget["seeds"] = seeds
    if steps is not None:
        budget["steps"] = steps
    seed_count = f"{budget['seeds']} seed" + ("" if budget["seeds"] == 1 else "s")
    folder = configs_dir()
    common = {
        "trainer.total_steps": budget["steps"],
        "trainer.eval_every": max(budget["steps"] // EVALUATIONS_PER_RUN, 1),
        "trainer.eval_episodes": budget["eval_episodes"],
        "trainer.oracle_reference": False,  # the sweep scores references once, held out
        "trainer.tensorboard": not quick,
    }
    variants = {}
    for name, (label, config, sets, baseline) in VARIANTS.items():
        if name not in chosen:
            continue
        extra = dict(sets)
        if quick:
            extra |= {k: v for k, v in QUICK_SETS["*"].items()
                      if not (name in NO_WARM_UP and k.startswith("algo."))}  # fmt: skip
            extra |= QUICK_SETS.get(name, {})
        variants[name] = {"label": label, "config": str(folder / config), "set": extra,
                          "baseline": baseline}  # fmt: skip
    return build_sweep_spec({
        "name": "reproduce-paper" + ("-quick" if quick else ""),
        "set": common,
        "variants": variants,
        "baseline": "td3" if "td3" in variants else None,
        "grid": {"env.kwargs.preset": list(presets)},
        "seeds": budget["seeds"],
        "notes": [(QUICK_NOTE if quick else FULL_NOTE).format(**budget, seed_count=seed_count)],
        "evaluation": {"episodes": budget["episodes"], "seed0": 80_000},
    })  # fmt: skip


def speed_factor() -> tuple[float, str]:
    """How much longer than the measured speeds this CPU should take, and why: the speeds
    are from a CPU with AVX-512, and one without it was slower by ``AVX2_SLOWDOWN``."""
    import torch

    capability = torch.backends.cpu.get_cpu_capability()
    if capability.startswith("AVX512"):
        return 1.0, f"this CPU has {capability}, as the 2-core AMD EPYC the speeds are from"
    return AVX2_SLOWDOWN, (f"this CPU has {capability}, not the AVX-512 of the 2-core AMD EPYC "
                           f"the speeds are from: scaled by the {AVX2_SLOWDOWN}x an AVX2-only "
                           "one took")  # fmt: skip


def expected_minutes(spec: SweepSpec, workers: int, out: Path | None = None) -> float:
    """Wall time the sweep should take here, from the measured per-variant speeds (scaled
    by :func:`speed_factor`); trials already finished in ``out`` (a sweep being continued
    or extended) cost nothing."""
    from gaidrl.experiments.sweep_spec import expand
    from gaidrl.experiments.trial import read_status

    total = 0.0
    for trial in expand(spec):
        status = read_status(out, {"kind": "trial", "id": trial.id}) if out else None
        if status is not None and status.get("status") == "done":
            continue
        sets = spec.set | spec.variants[trial.variant].set
        steps = sets.get("trainer.total_steps", 0)
        warm = 0 if trial.variant in NO_WARM_UP else sets.get("algo.params.learning_starts",
                                                               5_000)  # fmt: skip
        warm = min(steps, warm)
        speed = MEASURED_STEPS_PER_S[trial.variant]
        total += warm / WARM_UP_STEPS_PER_S + (steps - warm) / speed + JOB_OVERHEAD_S
    return total * speed_factor()[0] / max(workers, 1) / 60.0
