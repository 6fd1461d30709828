"""Trials per hour of one sweep on this machine: 1 and 2 local workers, and Ray, one run.

The same small sweep (TD3 on Pendulum-v1, ``--trials`` trials of ``--steps`` env steps
each, one torch thread per trial) runs in a fresh folder per backend, one after the other
on the same machine. Reported per backend: wall time, trials per hour, and the mean
per-trial overhead (wall time per trial x workers, minus the trial's own training and
evaluation time that its ``trial.json`` records), so Ray's overhead against the local pool
is read side by side.

    python benchmarks/sweep_scaling.py                # 8 trials of 2000 steps
    python benchmarks/sweep_scaling.py --quick        # smoke: 2 trials of 300 steps

Prints a table, then one JSON object with every figure as the LAST line.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import yaml

from bench_machine import json_safe, run_facts

ROOT = Path(__file__).resolve().parents[1]


def tiny_sweep(folder: Path, trials: int, steps: int) -> Path:
    run = yaml.safe_load((ROOT / "configs" / "td3_pendulum.yaml").read_text())
    run["algo"]["params"] |= {"learning_starts": min(1000, steps // 2), "hidden": [64, 64]}
    run["trainer"] |= {"total_steps": steps, "eval_every": 0, "eval_episodes": 1,
                       "checkpoint_every": 0, "tensorboard": False}  # fmt: skip
    (folder / "run.yaml").write_text(yaml.safe_dump(run))
    spec = {"name": "scaling", "config": str(folder / "run.yaml"), "seeds": trials,
            "variants": {"td3": {}}, "evaluation": {"episodes": 2, "seed0": 5000}}  # fmt: skip
    path = folder / "sweep.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def measure(spec_path: Path, out: Path, backend: str, workers: int) -> dict:
    from gaidrl.experiments.sweep import run_sweep
    from gaidrl.experiments.sweep_spec import load_sweep_spec

    start = time.perf_counter()
    state = run_sweep(load_sweep_spec(spec_path), out, backend=backend, workers=workers)
    wall = time.perf_counter() - start
    if state.failed:
        raise RuntimeError(f"{backend} x{workers}: {state.failed} trials failed: "
                           f"{state.failures[0].get('error')}")  # fmt: skip
    own = [json.loads(p.read_text())["wall_s"] for p in out.glob("trials/*/trial.json")]
    n = len(own)
    return {"backend": backend, "workers": workers, "trials": n, "wall_s": wall,
            "trials_per_hour": 3600.0 * n / wall,
            "trial_own_s_mean": sum(own) / n,
            "overhead_s_per_trial": wall * workers / n - sum(own) / n}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--quick", action="store_true", help="smoke: 2 trials of 300 steps")
    parser.add_argument("--no-ray", action="store_true", help="skip the Ray backend")
    args = parser.parse_args(argv)
    if args.quick:
        args.trials, args.steps = 2, 300
    cases = [("local", 1), ("local", 2)]
    try:
        import ray  # noqa: F401

        if not args.no_ray:
            cases.append(("ray", 2))
    except ImportError:
        print("ray not installed: its row is skipped (pip install 'gaidrl[ray]')")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        spec = tiny_sweep(Path(tmp), args.trials, args.steps)
        for backend, workers in cases:
            rows.append(measure(spec, Path(tmp) / f"{backend}-{workers}", backend, workers))
    base = rows[0]["trials_per_hour"]
    print(f"{'backend':<8}{'workers':>8}{'wall s':>9}{'trials/h':>10}{'x 1 local':>10}"
          f"{'overhead s/trial':>18}")  # fmt: skip
    for r in rows:
        r["speedup_over_local_1"] = r["trials_per_hour"] / base
        print(
            f"{r['backend']:<8}{r['workers']:>8}{r['wall_s']:>9.1f}{r['trials_per_hour']:>10.0f}"
            f"{r['speedup_over_local_1']:>10.2f}{r['overhead_s_per_trial']:>18.2f}"
        )
    result = {"benchmark": "sweep_scaling", "trials": args.trials, "steps": args.steps,
              "rows": rows, "quick": args.quick} | run_facts()  # fmt: skip
    local2 = next(r for r in rows if r["backend"] == "local" and r["workers"] == 2)
    ray_row = next((r for r in rows if r["backend"] == "ray"), None)
    if ray_row is not None:
        result["ray_overhead_s_per_trial_minus_local"] = (
            ray_row["overhead_s_per_trial"] - local2["overhead_s_per_trial"]
        )
    print(json.dumps(json_safe(result)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
