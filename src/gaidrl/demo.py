"""`make demo`: train TD3 on the case study for a few minutes, then TD3 and PPO acting as
residuals on the heuristic, and report them against the reference policies (random,
heuristic, planner, oracle) on the same seeded layouts.

Writes into the run folder: ``report.md``, ``summary.json``, ``learning_curve.png``,
``summary.png``, ``per_slot.png``, pictures of the network and one run folder per learner
(``td3/``, ``td3_residual/``, ``ppo_residual/``: config, metrics.csv, eval.csv, TensorBoard
events, checkpoints).
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
from pathlib import Path

import numpy as np

from gaidrl.envs import ENV_ID, UAVNearFarVectorEnv
from gaidrl.envs.policies import (
    EPISODE_METRICS,
    make_reference,
    reference_env_kwargs,
    run_reference_slots,
)
from gaidrl.experiments.stats import mean_ci

log = logging.getLogger(__name__)
REFERENCES = ("random", "heuristic", "planner", "oracle")
SHOWN = ("sum_rate", "fairness", "reward")
COLOURS = {"random": "#999999", "heuristic": "#4c72b0", "planner": "#937860",
           "oracle": "#dd8452", "td3": "#55a868",
           "td3_residual": "#c44e52", "ppo_residual": "#8172b3"}  # fmt: skip
# name -> (label, config, default env steps); each gets --NAME-config and --NAME-steps flags
LEARNERS = {
    "td3": ("TD3", "configs/td3_uav.yaml", 40_000),
    "td3_residual": ("TD3, residual on the heuristic", "configs/td3_uav_residual.yaml", 40_000),
    "ppo_residual": ("PPO, residual on the heuristic", "configs/ppo_uav_residual.yaml", 200_000),
}


def run_reference(name: str, seeds: list[int], env_kwargs: dict, out: Path) -> dict:
    """One episode per seed in one vector env; per-slot traces, a picture and a GIF."""
    from gaidrl.envs.render import render_rgb, render_state_png, save_episode_gif

    env = UAVNearFarVectorEnv(len(seeds), **env_kwargs)
    policy = make_reference(name, seed=seeds[0]) if name == "random" else make_reference(name)
    frames = []

    def picture(t: int, env: UAVNearFarVectorEnv) -> None:
        if name != "random" and t % 4 == 0:
            frames.append(render_rgb(env.sim, 0))
        if t == env.config.episode_length - 2:  # the last slot before the new layouts
            render_state_png(env.sim, 0, out / f"network_{name}.png")

    traces = run_reference_slots(policy, env, seeds[0], on_slot=picture)
    if frames:
        save_episode_gif(frames, out / f"episode_{name}.gif", fps=5)
    return {"traces": traces, "per_episode": {m: traces[m].mean(axis=0) for m in EPISODE_METRICS}}


def demo_config(config_path: Path, steps: int, seed: int, episodes: int):
    """The TD3 run config: the file, with the demo's budget, seed and evaluation episodes."""
    from gaidrl.experiments.config import load_config

    overrides = [
        f"seed={seed}",
        f"trainer.total_steps={steps}",
        f"trainer.eval_every={max(steps // 8, 1)}",
        f"trainer.checkpoint_every={max(steps // 4, 1)}",
        f"trainer.eval_episodes={episodes}",
        "trainer.oracle_reference=false",  # the demo runs the oracle itself, on the same seeds
    ]
    return load_config(config_path, overrides)


def train(config, run_dir: Path):
    """Train with the trainer (it evaluates on the demo's seeds); return the trainer."""
    from gaidrl.train.progress import ProgressBar
    from gaidrl.train.trainer import Trainer

    with ProgressBar(enabled=True) as bar:
        trainer = Trainer.create(config, run_dir, progress=bar.update)
        try:
            trainer.run()
        finally:
            trainer.close()
    return trainer


REWARD_OPTIONS = ("reward_alpha", "reward_power_weight", "reward_boundary_weight",
                  "rate_reference_bps_hz")  # fmt: skip


def scored_like_references(agent_kwargs: dict, reference_kwargs: dict) -> dict:
    """The agent's env options with the references' reward: a learner trained on another
    reward (the residual PPO's is rate-only) is scored on the same reward as every other row.
    Observations carry no reward, so its actions are unchanged."""
    kept = {k: v for k, v in agent_kwargs.items() if k not in REWARD_OPTIONS}
    return kept | {k: v for k, v in reference_kwargs.items() if k in REWARD_OPTIONS}


def evaluate_agent(agent, seeds: list[int], env_kwargs: dict) -> dict:
    """Greedy episodes of a trained agent on ``seeds``: per-episode means like the references."""
    from gaidrl.train.evaluate import evaluate

    env = UAVNearFarVectorEnv(len(seeds), **env_kwargs)
    result = evaluate(agent, env, seeds).episodes
    per_episode = {m: result[m] for m in EPISODE_METRICS if m in result}
    per_episode["reward"] = result["return"] / result["length"]
    return {"per_episode": per_episode}


def read_eval_curve(path: Path) -> dict[str, np.ndarray]:
    with path.open() as f:
        rows = list(csv.DictReader(f))
    return {
        k: np.array([float(r[k]) for r in rows]) for k in ("step", "sum_rate_mean", "return_mean")
    }


def plot_learning_curve(
    curves: dict, results: dict, slots: int, out: Path, same_reward: set[str]
) -> None:
    """Greedy evaluations of each learner against the references' levels. Returns are each
    run's own reward (the residuals train on a rate-only one), so the return panel shows only
    the learners in ``same_reward``, trained on the references' reward."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    fig = Figure(figsize=(10, 3.8), dpi=110)
    left, right = fig.subplots(1, 2)
    for ax, key, metric, scale in (
        (left, "sum_rate_mean", "sum_rate", 1.0),
        (right, "return_mean", "reward", float(slots)),
    ):
        for name, curve in curves.items():
            if ax is right and name not in same_reward:
                continue
            ax.plot(curve["step"], curve[key], "o-", color=COLOURS[name],
                    label=f"{LEARNERS[name][0]} (greedy eval)")  # fmt: skip
        for name in ("heuristic", "planner", "oracle", "random"):
            level = scale * results[name]["per_episode"][metric].mean()
            ax.axhline(level, ls="--", color=COLOURS[name], label=name)
        ax.set_xlabel("env steps")
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x / 1000:g}k"))
        ax.grid(alpha=0.3)
    left.set_ylabel("mean sum rate (bit/s/Hz)")
    right.set_ylabel("episode return (the references' reward)")
    left.legend(fontsize=8)
    fig.suptitle("Learners on the UAV near-field/far-field case study, same evaluation layouts")
    fig.tight_layout()
    fig.savefig(out / "learning_curve.png")


def plot_summary(results: dict, out: Path) -> None:
    from matplotlib.figure import Figure

    names = list(results)
    fig = Figure(figsize=(10, 3.6), dpi=110)
    for ax, metric in zip(fig.subplots(1, len(SHOWN)), SHOWN, strict=True):
        intervals = [mean_ci(results[p]["per_episode"][metric]) for p in names]
        ax.bar(
            names,
            [i.mean for i in intervals],
            yerr=[i.half_width for i in intervals],
            capsize=4,
            color=[COLOURS[p] for p in names],
        )
        unit = " (bit/s/Hz)" if metric == "sum_rate" else " per slot" if metric == "reward" else ""
        ax.set_title(metric.replace("_", " ") + unit)
        ax.tick_params(axis="x", labelrotation=30)
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle("Mean over evaluation episodes with 95% interval")
    fig.tight_layout()
    fig.savefig(out / "summary.png")

    fig = Figure(figsize=(10, 3.6), dpi=110)
    for ax, metric in zip(fig.subplots(1, 2), ("sum_rate", "fairness"), strict=True):
        for p in REFERENCES:
            ax.plot(results[p]["traces"][metric].mean(axis=1), label=p, color=COLOURS[p])
        ax.set_xlabel("slot")
        ax.set_ylabel(metric.replace("_", " "))
        ax.grid(alpha=0.3)
    fig.axes[0].legend()
    fig.suptitle("Reference policies: per-slot mean over episodes")
    fig.tight_layout()
    fig.savefig(out / "per_slot.png")


def write_report(results: dict, seeds: list[int], trained: dict[str, int], out: Path) -> dict:
    yardsticks = {name: float(results[name]["per_episode"]["reward"].mean())
                  for name in ("planner", "oracle")}  # fmt: skip
    summary: dict = {"seeds": seeds, "trained_steps": trained, "policies": {}}
    budgets = "; ".join(f"{LEARNERS[n][0]}: {steps} env steps" for n, steps in trained.items())
    lines = [
        "# gaidrl demo: UAV near-field/far-field case study",
        "",
        f"{len(seeds)} evaluation episodes (seeds {seeds[0]}..{seeds[-1]}), the same layouts for "
        "every policy; mean over episodes with the 95 % Student-t interval. Rates in bit/s/Hz; "
        "reward per slot, the same (the env's default) reward for every row; the planner and "
        "the oracle maximise it, so percentages are of their reward."
        + (
            f" Trained, one seed each (a demo, not a result; BENCHMARKS.md has 5-seed figures): "
            f"{budgets}."
            if trained
            else ""
        ),  # fmt: skip
        "",
        "| policy | sum rate | fairness | reward | % of planner | % of oracle "
        "| BS power | UAV power |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for p, res in results.items():
        cis = {m: mean_ci(v) for m, v in res["per_episode"].items()}
        pct = {name: 100.0 * cis["reward"].mean / level for name, level in yardsticks.items()}
        summary["policies"][p] = {
            m: {"mean": c.mean, "low": c.low, "high": c.high} for m, c in cis.items()
        } | {f"percent_of_{name}_reward": value for name, value in pct.items()}
        lines.append(
            f"| {p} | {cis['sum_rate']} | {cis['fairness']} | {cis['reward']} "
            f"| {pct['planner']:.1f} % | {pct['oracle']:.1f} % "
            f"| {cis['bs_power_fraction'].mean:.2f} | {cis['uav_power_fraction'].mean:.2f} |"
        )
    lines += ["", "![summary](summary.png)", ""]
    if trained:
        lines += ["![learning curve](learning_curve.png)", ""]
    lines += [
        "![per slot](per_slot.png)",
        "",
        "Network pictures (last slot of the first episode): "
        + ", ".join(f"[{p}](network_{p}.png)" for p in REFERENCES)
        + "; episodes: [heuristic](episode_heuristic.gif), [planner](episode_planner.gif), "
        "[oracle](episode_oracle.gif).",
        "",
    ]
    (out / "report.md").write_text("\n".join(lines))
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    return summary


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m gaidrl.demo", description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("runs/demo"), help="folder to write")
    for name, (label, config, steps) in LEARNERS.items():
        flag = name.replace("_", "-")
        parser.add_argument(f"--{flag}-config", type=Path, default=Path(config),
                            help=f"config of the {name} run ({label})")  # fmt: skip
        parser.add_argument(f"--{flag}-steps", type=int, default=steps,
                            help=f"env steps of the {name} run (0: skip)")  # fmt: skip
    parser.add_argument("--episodes", type=int, default=8, help="evaluation episodes")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    from rich.console import Console

    from gaidrl.train.seeding import eval_env_seeds

    console = Console()
    args.out.mkdir(parents=True, exist_ok=True)
    if any((args.out / name / "config.yaml").exists() for name in LEARNERS):
        parser.error(f"{args.out} already holds a demo; pass another --out or delete it")
    runs = {name: (getattr(args, f"{name}_config"), getattr(args, f"{name}_steps"))
            for name in LEARNERS}  # fmt: skip
    configs = {}
    for name, (path, steps) in runs.items():
        configs[name] = demo_config(path, max(steps, 1), args.seed, args.episodes)
        if configs[name].env.id != ENV_ID:
            parser.error(f"{path} must train on {ENV_ID}, not {configs[name].env.id}")
    physics_kwargs = reference_env_kwargs(configs["td3"].env.kwargs)
    seeds = eval_env_seeds(args.seed, args.episodes)
    results = {}
    for name in REFERENCES:
        with console.status(f"running the {name} policy on {len(seeds)} episodes..."):
            results[name] = run_reference(name, seeds, physics_kwargs, args.out)
        rate = results[name]["per_episode"]["sum_rate"].mean()
        console.print(f"{name:>12}: mean sum rate {rate:.2f} bit/s/Hz")
    curves, trained, same_reward = {}, {}, set()
    for name, (path, steps) in runs.items():
        if steps <= 0:
            continue
        config = configs[name]
        console.print(f"training {LEARNERS[name][0]} for {steps} env steps ({path})...")
        trainer = train(config, args.out / name)
        env_kwargs = scored_like_references(config.env.kwargs, physics_kwargs)
        if env_kwargs == dict(config.env.kwargs):
            same_reward.add(name)
        results[name] = evaluate_agent(trainer.agent, seeds, env_kwargs)
        rate = results[name]["per_episode"]["sum_rate"].mean()
        console.print(f"{name:>12}: mean sum rate {rate:.2f} bit/s/Hz")
        curves[name] = read_eval_curve(args.out / name / "eval.csv")
        trained[name] = steps
    if curves:
        slots = len(results["heuristic"]["traces"]["reward"])
        plot_learning_curve(curves, results, slots, args.out, same_reward)
    plot_summary(results, args.out)
    write_report(results, seeds, trained, args.out)
    console.print(f"[bold green]report written:[/] {args.out / 'report.md'} (pictures beside it)")


if __name__ == "__main__":
    main()
