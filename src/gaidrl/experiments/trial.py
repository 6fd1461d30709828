"""One job of a sweep, run in a worker: train a trial (or continue it), or score references.

A trial is a normal run folder (``Trainer.create``/``Trainer.resume``), so a killed trial
continues from its last checkpoint with the trainer's exact resume. After training, the
agent is evaluated greedily on the sweep's held-out layouts; that figure, not the trainer's
own evaluations, is what reports compare. The outcome goes to ``trial.json`` beside the
run (written atomically): ``done`` with metrics, or ``failed`` with the error and traceback,
or ``interrupted``.

Reference jobs run the case study's reference policies (random, heuristic, planner, oracle)
once per distinct network setting on the same held-out layouts.

    python -m gaidrl.experiments.trial SWEEP_DIR JOB_ID [--threads N]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import numpy as np

from gaidrl.experiments.machine import machine_facts

STATUS_FILE = "trial.json"
MANIFEST = "manifest.json"
TRIALS_DIR = "trials"
REFERENCES_DIR = "references"


# ------------------------------------------------------------------ jobs and their files
def job_dir(sweep_dir: Path, job: dict[str, Any]) -> Path:
    folder = TRIALS_DIR if job["kind"] == "trial" else REFERENCES_DIR
    return Path(sweep_dir) / folder / job["id"]


def read_status(sweep_dir: Path, job: dict[str, Any]) -> dict[str, Any] | None:
    path = job_dir(sweep_dir, job) / STATUS_FILE
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write through a temporary file and a rename, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(_json_safe(data), indent=1))
    tmp.replace(path)


def write_status(folder: Path, status: dict[str, Any]) -> None:
    write_json(folder / STATUS_FILE, status)


def references_key(env_id: str, env_kwargs: dict[str, Any], seeds: list[int]) -> str | None:
    """Id of the reference job that serves these networks (None: not the case study)."""
    from gaidrl.envs.policies import reference_env_kwargs
    from gaidrl.experiments.registry import CASE_STUDY_ID

    if env_id != CASE_STUDY_ID:
        return None
    key = json.dumps({"env": reference_env_kwargs(env_kwargs), "seeds": seeds}, sort_keys=True)
    return "references-" + hashlib.sha256(key.encode()).hexdigest()[:12]


# ------------------------------------------------------------------ running a job
def run_job(sweep_dir: str | Path, job: dict[str, Any], threads: int = 1) -> dict[str, Any]:
    """Run one job to its end and return its status (also written to ``trial.json``)."""
    import torch

    torch.set_num_threads(max(1, threads))
    folder = job_dir(Path(sweep_dir), job)
    start = time.perf_counter()
    status: dict[str, Any] = {"id": job["id"], "kind": job["kind"], "pid": os.getpid(),
                              "machine": machine_facts()}  # fmt: skip
    write_status(folder, status | {"status": "running", "started": time.time()})
    try:
        if job["kind"] == "trial":
            status |= _train_and_evaluate(folder, job)
        else:
            status |= {"references": _score_references(job)}
        status["status"] = "done"
    except KeyboardInterrupt:
        status |= {"status": "interrupted"}
        write_status(folder, status | {"wall_s": time.perf_counter() - start})
        raise
    except Exception as err:  # recorded; the sweep goes on with the other trials
        status |= {"status": "failed", "error": f"{type(err).__name__}: {err}",
                   "traceback": traceback.format_exc()}  # fmt: skip
    status["wall_s"] = time.perf_counter() - start
    write_status(folder, status)
    return status


def _train_and_evaluate(run_dir: Path, job: dict[str, Any]) -> dict[str, Any]:
    from gaidrl.experiments.config import build_config
    from gaidrl.experiments.registry import CASE_STUDY_ID, make_env
    from gaidrl.train.evaluate import evaluate
    from gaidrl.train.trainer import CHECKPOINT_DIR, LAST, Trainer

    config = build_config(job["config"])
    if (run_dir / CHECKPOINT_DIR / LAST).is_file():
        trainer = Trainer.resume(run_dir, config)
        resumed_at = int(trainer.counters["step"])
    else:
        _clear_unstarted_run(run_dir)
        trainer = Trainer.create(config, run_dir)
        resumed_at = 0
    try:
        train_start = time.perf_counter()
        trainer.run()
        train_wall = time.perf_counter() - train_start
        seeds = job["eval_seeds"]
        env = make_env(config.env, num_envs=min(len(seeds), 16))
        try:
            episodes = evaluate(trainer.agent, env, seeds).episodes
        finally:
            env.close()
    finally:
        trainer.close()
    if config.env.id == CASE_STUDY_ID:  # the case study's convention: reward per slot
        episodes["reward"] = episodes["return"] / episodes["length"]
    trained = config.trainer.total_steps - resumed_at
    return {
        "metrics": {k: float(np.mean(v)) for k, v in episodes.items()},
        "per_episode": {k: v.tolist() for k, v in episodes.items()},
        "steps": config.trainer.total_steps, "resumed_at": resumed_at,
        "train_wall_s": train_wall, "steps_per_s": trained / max(train_wall, 1e-9),
    }  # fmt: skip


def _clear_unstarted_run(run_dir: Path) -> None:
    """A trial killed before its first checkpoint left a run folder it cannot resume: start
    it again (keeping nothing but an old status file, which is rewritten)."""
    if not (run_dir / "config.yaml").exists():
        return
    for entry in run_dir.iterdir():
        if entry.name != STATUS_FILE:
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()


def _score_references(job: dict[str, Any]) -> dict[str, dict[str, Any]]:
    from gaidrl.envs.policies import score_references

    seeds = job["eval_seeds"]
    scores = score_references(job["env_kwargs"], seeds[0], len(seeds))
    return {
        name: {
            "metrics": {k: float(np.mean(v)) for k, v in per_episode.items()},
            "per_episode": {k: v.tolist() for k, v in per_episode.items()},
        }  # fmt: skip
        for name, per_episode in scores.items()
    }


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, np.generic):
        return _json_safe(value.item())
    return value


# ------------------------------------------------------------------ worker entry point
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="run one job of a sweep (used by the pool)")
    parser.add_argument("sweep_dir", type=Path)
    parser.add_argument("job_id")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    # the pool stops a job with SIGINT; a sweep started in the background (nohup, &) hands
    # its workers an ignored SIGINT, which would leave them running to the end
    signal.signal(signal.SIGINT, signal.default_int_handler)
    manifest = json.loads((args.sweep_dir / MANIFEST).read_text())
    job = next((j for j in manifest["jobs"] if j["id"] == args.job_id), None)
    if job is None:
        print(f"no job {args.job_id!r} in {args.sweep_dir / MANIFEST}", file=sys.stderr)
        return 2
    try:
        status = run_job(args.sweep_dir, job, args.threads)
    except KeyboardInterrupt:
        return 130
    return 0 if status["status"] == "done" else 1


if __name__ == "__main__":
    sys.exit(main())
