"""`make demo`: the case study with the reference policies, written up in a run folder.

Runs random, heuristic and oracle on the same seeded layouts (paired comparison), then
writes ``report.md``, ``summary.json``, a bar chart with 95 % intervals, per-slot curves and
pictures of the network.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import numpy as np

from gaidrl.envs import UAVNearFarVectorEnv
from gaidrl.envs.policies import EPISODE_METRICS, make_reference
from gaidrl.experiments.stats import mean_ci

log = logging.getLogger(__name__)
POLICIES = ("random", "heuristic", "oracle")
SHOWN = ("sum_rate", "fairness", "reward")


def run_policy(name: str, episodes: int, seed: int, out: Path) -> dict:
    """Run ``episodes`` seeded episodes in one vector env; keep per-slot traces and a picture."""
    from gaidrl.envs.render import render_rgb, render_state_png, save_episode_gif

    env = UAVNearFarVectorEnv(episodes)
    policy = make_reference(name, seed=seed) if name == "random" else make_reference(name)
    env.reset(seed=seed)
    slots = env.config.episode_length
    traces = {m: np.zeros((slots, episodes)) for m in EPISODE_METRICS}
    frames = []
    for t in range(slots):
        plan, violation = policy.plan(env)
        _, reward, _, truncated, info = env.step_plan(plan, violation)
        traces["reward"][t] = reward
        for m in EPISODE_METRICS[1:]:
            traces[m][t] = info[m]
        if name != "random" and t % 4 == 0:
            frames.append(render_rgb(env.sim, 0))
        if t == slots - 2:  # the last slot before the autoreset draws a new layout
            render_state_png(env.sim, 0, out / f"network_{name}.png")
    if frames:
        save_episode_gif(frames, out / f"episode_{name}.gif", fps=5)
    per_episode = {m: traces[m].mean(axis=0) for m in EPISODE_METRICS}
    return {"traces": traces, "per_episode": per_episode}


def plot_summary(results: dict, out: Path) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 3.6), dpi=110)
    for ax, metric in zip(fig.subplots(1, len(SHOWN)), SHOWN, strict=True):
        intervals = [mean_ci(results[p]["per_episode"][metric]) for p in POLICIES]
        means = [i.mean for i in intervals]
        errors = [i.half_width for i in intervals]
        ax.bar(POLICIES, means, yerr=errors, capsize=4, color=["#999", "#4c72b0", "#dd8452"])
        ax.set_title(metric.replace("_", " ") + (" (bit/s/Hz)" if metric == "sum_rate" else ""))
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle("Reference policies, mean over episodes with 95% interval")
    fig.tight_layout()
    fig.savefig(out / "summary.png")

    fig = Figure(figsize=(10, 3.6), dpi=110)
    for ax, metric in zip(fig.subplots(1, 2), ("sum_rate", "fairness"), strict=True):
        for p in POLICIES:
            ax.plot(results[p]["traces"][metric].mean(axis=1), label=p)
        ax.set_xlabel("slot")
        ax.set_ylabel(metric.replace("_", " "))
        ax.grid(alpha=0.3)
    fig.axes[0].legend()
    fig.suptitle("Per-slot mean over episodes")
    fig.tight_layout()
    fig.savefig(out / "per_slot.png")


def write_report(results: dict, episodes: int, seed: int, out: Path) -> dict:
    oracle = {m: float(results["oracle"]["per_episode"][m].mean()) for m in EPISODE_METRICS}
    summary: dict = {"episodes": episodes, "seed": seed, "policies": {}}
    lines = [
        "# gaidrl demo: UAV near-field/far-field case study, reference policies",
        "",
        f"{episodes} episodes (seeds {seed}..{seed + episodes - 1}), the same layouts for every "
        "policy; mean over episodes with the 95 % Student-t interval. Rates in bit/s/Hz.",
        "",
        "| policy | sum rate | fairness | reward | % of oracle (sum rate) | BS power | UAV power |",
        "|---|---|---|---|---|---|---|",
    ]
    for p in POLICIES:
        per = results[p]["per_episode"]
        cis = {m: mean_ci(per[m]) for m in EPISODE_METRICS}
        pct = 100.0 * cis["sum_rate"].mean / oracle["sum_rate"]
        summary["policies"][p] = {
            m: {"mean": c.mean, "low": c.low, "high": c.high} for m, c in cis.items()
        } | {"percent_of_oracle_sum_rate": pct}
        lines.append(
            f"| {p} | {cis['sum_rate']} | {cis['fairness']} | {cis['reward']} | {pct:.1f} % "
            f"| {cis['bs_power_fraction'].mean:.2f} | {cis['uav_power_fraction'].mean:.2f} |"
        )
    lines += [
        "",
        "![summary](summary.png)",
        "",
        "![per slot](per_slot.png)",
        "",
        "Network pictures (last slot of episode 0): "
        + ", ".join(f"[{p}](network_{p}.png)" for p in POLICIES)
        + "; episodes: [heuristic](episode_heuristic.gif), [oracle](episode_oracle.gif).",
        "",
    ]
    (out / "report.md").write_text("\n".join(lines))
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    return summary


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m gaidrl.demo", description=__doc__)
    parser.add_argument("--out", default="runs/demo", help="run folder to write")
    parser.add_argument("--episodes", type=int, default=8, help="seeded episodes per policy")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    from rich.console import Console

    console = Console()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results = {}
    for name in POLICIES:
        with console.status(f"running {name} policy on {args.episodes} episodes..."):
            results[name] = run_policy(name, args.episodes, args.seed, out)
        mean_rate = results[name]["per_episode"]["sum_rate"].mean()
        console.print(f"{name:>9}: mean sum rate {mean_rate:.2f} bit/s/Hz")
    plot_summary(results, out)
    write_report(results, args.episodes, args.seed, out)
    console.print(f"[bold green]report written:[/] {out / 'report.md'} (pictures in {out}/)")


if __name__ == "__main__":
    main()
