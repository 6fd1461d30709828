"""The ``gaidrl`` command: train, eval, sweep, tune, report and reproduce.

Only this module prints; the library logs. Errors in a config or a checkpoint end the
command with one line on stderr and a non-zero exit status, without a traceback.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import signal
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

EXIT_CONFIG = 2
EXIT_FAILED = 1

log = logging.getLogger("gaidrl.cli")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gaidrl", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="log more (-v: info, -vv: debug)")  # fmt: skip
    sub = parser.add_subparsers(dest="command", required=True)

    train = sub.add_parser("train", help="train an agent from a YAML config")
    train.add_argument("--config", type=Path, help="YAML run config (see configs/)")
    train.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                       help="override a config key, e.g. --set trainer.total_steps=5000 "
                       "(values are YAML scalars); repeatable")  # fmt: skip
    train.add_argument("--seed", type=int, help="shortcut for --set seed=N")
    train.add_argument("--device", help="cpu, cuda or cuda:N (shortcut for --set device=...)")
    train.add_argument("--resume", type=Path, metavar="RUN_DIR",
                       help="continue the run in RUN_DIR from its last checkpoint")  # fmt: skip
    train.add_argument("--out", type=Path, metavar="DIR",
                       help="run folder (default: runs/<algo>-<env>-s<seed>-<time>)")  # fmt: skip
    train.add_argument("--no-progress", action="store_true", help="no progress bar")

    ev = sub.add_parser("eval", help="evaluate a trained agent greedily")
    ev.add_argument("target", type=Path, metavar="RUN_DIR_OR_CHECKPOINT")
    ev.add_argument("--episodes", type=int, help="episodes (default: the run's eval_episodes)")
    ev.add_argument("--render", type=Path, metavar="OUT.gif|OUT.png",
                    help="save the first episode as a GIF, or its last frame as a PNG")  # fmt: skip

    sweep = sub.add_parser("sweep", help="run a grid of variants x seeds (see configs/sweeps/)")
    sweep.add_argument("spec", type=Path, metavar="SWEEP.yaml")
    sweep.add_argument("--out", type=Path, metavar="DIR",
                       help="sweep folder (default: runs/sweeps/<name>); an existing one with "
                       "the same spec is continued: finished trials are skipped")  # fmt: skip
    _backend_arguments(sweep)

    tune = sub.add_parser("tune", help="equal-budget Optuna search per variant, then a "
                          "comparison on fresh seeds and layouts")  # fmt: skip
    tune.add_argument("spec", type=Path, metavar="TUNE.yaml")
    tune.add_argument("--out", type=Path, metavar="DIR",
                      help="tune folder (default: runs/tune/<name>); its tune.db holds the "
                      "studies, so a restart continues them")  # fmt: skip
    _backend_arguments(tune)

    report = sub.add_parser("report", help="write report.md and report.html of a sweep or run")
    report.add_argument("target", type=Path, metavar="SWEEP_OR_RUN_DIR")
    report.add_argument("--out", type=Path, metavar="DIR", help="default: the folder itself")
    report.add_argument("--no-pictures", action="store_true",
                        help="skip the trained agents' trajectory pictures")  # fmt: skip

    archive = sub.add_parser("archive", help="copy a sweep's results without its checkpoints")
    archive.add_argument("target", type=Path, metavar="SWEEP_DIR")
    archive.add_argument("out", type=Path, metavar="NEW_DIR")

    repro = sub.add_parser("reproduce", help="run a paper's experiment and write its report")
    repro.add_argument("experiment", choices=["paper"],
                       help="paper: the case study of arXiv 2405.20568 (plain TD3 and its GAI "
                       "variants, continuous, discrete and hybrid actions)")  # fmt: skip
    repro.add_argument(
        "--quick",
        action="store_true",
        help="a small budget that fits in about 10 minutes on 2 cores",
    )
    repro.add_argument("--out", type=Path, metavar="DIR", help="default: runs/reproduce-paper")
    repro.add_argument("--presets", default="paper",
                       help="comma-separated case-study presets (paper, urban_split, "
                       "crowded_bs); one task each")  # fmt: skip
    repro.add_argument("--variants",
                       help="comma-separated subset of the variants (default: the paper's, "
                       "see --dry-run; td3_residual and td3_diffusion_residual, TD3 acting on "
                       "the heuristic, and td3_transformer_ac, a Transformer actor and "
                       "critic, run only when named); a GAI variant brings its plain agent "
                       "along")  # fmt: skip
    repro.add_argument("--seeds", type=int, help="seeds per cell (default: 3 quick, 5 full)")
    repro.add_argument("--steps", type=int, help="env steps per trial (default: by mode)")
    repro.add_argument("--dry-run", action="store_true",
                       help="print the trials and the expected time; run nothing")  # fmt: skip
    _backend_arguments(repro)
    return parser


def _backend_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--backend", default="local", choices=["local", "ray"],
                        help="local: a process pool here (default); ray: Ray tasks")  # fmt: skip
    parser.add_argument("--workers", type=int,
                        help="local: trials at once (default: the machine's cores); ray: each "
                        "trial asks for cores / workers CPUs")  # fmt: skip
    parser.add_argument("--address", help="ray: the address of an existing cluster "
                        "(default: start a local Ray)")  # fmt: skip
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def _interrupt_on_sigterm(signum: int, frame: object) -> None:
    """A ``kill`` stops a run as Ctrl-C does: sweep workers are stopped too (without this a
    killed sweep left them running, and a restarted one started them a second time)."""
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if threading.current_thread() is not threading.main_thread():  # signals: main thread only
        return _run(args)
    previous = signal.signal(signal.SIGTERM, _interrupt_on_sigterm)
    try:
        return _run(args)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run(args: argparse.Namespace) -> int:
    level = [logging.WARNING, logging.INFO, logging.DEBUG][min(args.verbose, 2)]
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")

    from gaidrl.experiments.config import ConfigError
    from gaidrl.train.checkpoint import CheckpointError
    from gaidrl.train.trainer import NonFiniteLossError

    try:
        commands = {"train": _train, "eval": _eval, "sweep": _sweep, "tune": _tune,
                    "report": _report, "archive": _archive,
                    "reproduce": _reproduce}  # fmt: skip
        return commands[args.command](args)
    except ConfigError as err:
        print(f"gaidrl: config error: {err}", file=sys.stderr)
        return EXIT_CONFIG
    except CheckpointError as err:
        print(f"gaidrl: checkpoint error: {err}", file=sys.stderr)
        return EXIT_FAILED
    except NonFiniteLossError as err:
        print(f"gaidrl: training stopped: {err}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("gaidrl: interrupted", file=sys.stderr)
        return 130


# ------------------------------------------------------------------ train
def _train(args: argparse.Namespace) -> int:
    from gaidrl.experiments.config import ConfigError, load_config, read_yaml
    from gaidrl.train.progress import ProgressBar
    from gaidrl.train.trainer import Trainer

    sets = list(args.sets)
    if args.seed is not None:
        sets.append(f"seed={args.seed}")
    if args.device is not None:
        sets.append(f"device={args.device}")
    if args.resume is not None:
        if args.config is not None or args.out is not None:
            raise ConfigError("--resume continues a run with its own config and folder; "
                              "drop --config/--out")  # fmt: skip
        config = load_config(data=read_yaml(args.resume / "config.yaml"), overrides=sets)
        run_dir = args.resume
    else:
        if args.config is None:
            raise ConfigError("gaidrl train needs --config FILE (or --resume RUN_DIR)")
        config = load_config(args.config, sets)
        run_dir = args.out or _default_run_dir(config)

    with ProgressBar(enabled=not args.no_progress) as bar:
        if args.resume is not None:
            trainer = Trainer.resume(run_dir, config, progress=bar.update)
        else:
            trainer = Trainer.create(config, run_dir, progress=bar.update)
        try:
            summary = trainer.run()
        finally:
            trainer.close()
    _print_summary(f"run folder: {run_dir}", summary)
    return 0


def _default_run_dir(config: Any) -> Path:
    env = re.sub(r"[^A-Za-z0-9]+", "_", config.env.id).strip("_")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return Path("runs") / f"{config.algo.name.split(':')[-1]}-{env}-s{config.seed}-{stamp}"


def _print_summary(title: str, summary: dict[str, float]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, show_header=True)
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in summary.items():
        table.add_row(key, f"{value:.6g}")
    Console().print(table)


# ------------------------------------------------------------------ sweep, report, reproduce
def _sweep(args: argparse.Namespace) -> int:
    from gaidrl.experiments.sweep_spec import load_sweep_spec

    spec = load_sweep_spec(args.spec)
    out = args.out or Path("runs") / "sweeps" / spec.name
    return _run_sweep(spec, out, args)


def _run_sweep(spec: Any, out: Path, args: argparse.Namespace) -> int:
    from gaidrl.experiments.sweep import run_sweep
    from gaidrl.train.progress import SweepProgressBar

    with SweepProgressBar(enabled=not args.no_progress) as bar:
        state = run_sweep(spec, out, args.backend, args.workers, args.address, bar.update)
    print(f"sweep folder: {out} ({state.done} of {state.total} jobs done, "
          f"{state.failed} failed)")  # fmt: skip
    for failure in state.failures:
        print(f"  failed: {failure['id']}: {failure.get('error')}", file=sys.stderr)
    print(f"report: gaidrl report {out}")
    return EXIT_FAILED if state.failed else 0


def _tune(args: argparse.Namespace) -> int:
    from gaidrl.experiments.report import write_report
    from gaidrl.experiments.tune import load_tune_spec, tune
    from gaidrl.train.progress import SweepProgressBar

    spec = load_tune_spec(args.spec)
    out = args.out or Path("runs") / "tune" / spec.name
    with SweepProgressBar(enabled=not args.no_progress) as bar:
        result = tune(spec, out, args.backend, args.workers, args.address, bar.update)
    for variant, values in result["best"].items():
        print(f"best for {variant}: {values}")
    print(f"report: {write_report(result['final'])}")
    return 0


def _report(args: argparse.Namespace) -> int:
    from gaidrl.experiments.report import write_report

    path = write_report(args.target, args.out, pictures=not args.no_pictures)
    print(f"wrote {path} and {path.with_suffix('.md')}")
    return 0


def _archive(args: argparse.Namespace) -> int:
    from gaidrl.experiments.archive import archive_sweep

    written = archive_sweep(args.target, args.out)
    size = sum(p.stat().st_size for p in written)
    print(f"wrote {len(written)} files ({size / 1e6:.1f} MB) to {args.out}; "
          f"`gaidrl report {args.out} --no-pictures` reads them back")  # fmt: skip
    return 0


def counted(n: int, noun: str) -> str:
    """'1 seed', '5 seeds'."""
    return f"{n} {noun}{'s' * (n != 1)}"


def _reproduce(args: argparse.Namespace) -> int:
    from gaidrl.experiments.report import write_report
    from gaidrl.experiments.reproduce import (
        PAPER_CLAIMS,
        expected_minutes,
        paper_sweep,
        speed_factor,
    )

    presets = [p for p in args.presets.split(",") if p]
    chosen = [v for v in args.variants.split(",") if v] if args.variants else None
    spec = paper_sweep(presets, args.quick, args.seeds, args.steps, chosen)
    out = args.out or Path("runs") / ("reproduce-paper-quick" if args.quick else "reproduce-paper")
    workers = args.workers or (os.cpu_count() or 1)
    minutes = expected_minutes(spec, workers, out)
    print(f"reproduce paper: {counted(len(spec.variants), 'variant')} x "
          f"{counted(len(presets), 'preset')} x {counted(len(spec.seed_list()), 'seed')}; "
          f"expected time about {minutes:.0f} min with {counted(workers, 'worker')} "
          f"({speed_factor()[1]}); folder {out}")  # fmt: skip
    if args.dry_run:
        for name, variant in spec.variants.items():
            print(f"  {name}: {variant.label} (vs {spec.baseline_of(name) or '-'})")
        return 0
    code = _run_sweep(spec, out, args)
    path = write_report(out, claims=PAPER_CLAIMS)
    print(f"report: {path}")
    return code


# ------------------------------------------------------------------ eval
def _eval(args: argparse.Namespace) -> int:
    import numpy as np

    from gaidrl.experiments.config import ConfigError, build_config
    from gaidrl.experiments.registry import CASE_STUDY_ID, build_agent, make_env, resolve_device
    from gaidrl.train.checkpoint import load_checkpoint
    from gaidrl.train.evaluate import evaluate, percent_of_references, reference_means
    from gaidrl.train.seeding import eval_env_seeds, seed_everything
    from gaidrl.train.trainer import CHECKPOINT_DIR, LAST, MAX_EVAL_ENVS

    path = args.target
    if path.is_dir():
        path = path / CHECKPOINT_DIR / LAST
    state = load_checkpoint(path)
    config = build_config(state["config"])
    episodes = args.episodes or config.trainer.eval_episodes
    if episodes < 1:
        raise ConfigError(f"--episodes must be >= 1, got {episodes}")
    render = args.render
    if render is not None and render.suffix.lower() not in (".gif", ".png"):
        raise ConfigError(f"--render must end in .gif or .png, got {render}")
    seed_everything(config.seed)
    device = resolve_device(config.device) if config.device == "cpu" else _any_device(config)
    case_study = config.env.id == CASE_STUDY_ID
    agent = build_agent(config, make_env(config.env), device)
    mode = None if case_study or render is None else "rgb_array"
    env = make_env(config.env, num_envs=min(episodes, MAX_EVAL_ENVS), render_mode=mode)
    agent.load_training_state(state["agent"])
    frames: list[np.ndarray] = []

    last_slot = env.config.episode_length - 2 if case_study else None

    def on_step(env: Any, t: int, ended: np.ndarray) -> None:
        """Frames of sub-env 0's first episode (the case study resets in its last step)."""
        if ended[0] and case_study:
            return
        if render.suffix.lower() == ".png" and case_study and t != last_slot:
            return  # a PNG shows the last slot only; matplotlib frames are slow
        if case_study:
            from gaidrl.envs.render import render_rgb

            frames.append(render_rgb(env.sim, 0))
        else:
            frames.append(np.asarray(env.render()[0]))

    seeds = eval_env_seeds(config.seed, episodes)
    try:
        result = evaluate(agent, env, seeds, on_step=on_step if render is not None else None)
    except Exception as err:
        if render is not None and "pygame" in str(err):
            raise ConfigError(f"rendering {config.env.id} needs pygame: {err}") from None
        raise
    finally:
        env.close()
    summary = result.summary()
    if case_study and config.trainer.oracle_reference:
        summary |= percent_of_references(
            summary, reference_means(config.env.id, config.env.kwargs, seeds)
        )
    if render is not None and frames:
        _save_frames(frames, render)
    step = state["trainer"]["step"]
    _print_summary(f"{path} (step {step}, {episodes} episodes)", summary)
    if render is not None:
        print(f"wrote {render}")
    return 0


def _any_device(config: Any) -> Any:
    import torch

    return torch.device(config.device if torch.cuda.is_available() else "cpu")


def _save_frames(frames: list[Any], path: Path) -> None:
    import imageio.v2 as imageio

    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".png":
        imageio.imwrite(path, frames[-1])
    else:
        imageio.mimsave(path, frames, duration=0.1, loop=0)


if __name__ == "__main__":
    sys.exit(main())
