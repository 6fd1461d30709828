"""Run a sweep: expand it into jobs, write the manifest, run what is not done, record all.

The sweep folder holds ``manifest.json`` (every job and what it runs), ``sweep.yaml`` (the
spec as validated), ``trials/<id>/`` (normal run folders, each with its ``trial.json``) and
``references/<id>/`` (the case study's reference policies on the same held-out layouts).

Started again on the same folder with the same spec, a sweep skips finished jobs, resumes
interrupted trials from their checkpoints and retries failed ones. A spec that adds
variants, tasks or seeds extends the folder (its finished jobs count); one that changes a
job already there is refused rather than mixed in.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gaidrl.experiments.backends import make_backend
from gaidrl.experiments.config import ConfigError
from gaidrl.experiments.sweep_spec import SweepSpec, expand, spec_digest
from gaidrl.experiments.trial import MANIFEST, read_status, references_key, write_json

SPEC_FILE = "sweep.yaml"


@dataclass
class SweepState:
    """What a progress display shows after every event."""

    total: int
    done: int = 0
    failed: int = 0
    skipped: int = 0
    running: int = 0
    last: dict[str, Any] | None = None
    failures: list[dict[str, Any]] = field(default_factory=list)


def build_manifest(spec: SweepSpec) -> dict[str, Any]:
    """Every job of the sweep: reference jobs (one per distinct network setting) first."""
    trials = expand(spec)
    seeds = spec.evaluation.seeds()
    jobs: list[dict[str, Any]] = []
    references: dict[str, dict[str, Any]] = {}
    for trial in trials:
        env = trial.config["env"]
        key = references_key(env["id"], env["kwargs"], seeds)
        if key is not None and key not in references:
            references[key] = {"kind": "references", "id": key, "env_kwargs": env["kwargs"],
                               "eval_seeds": seeds, "task": trial.task}  # fmt: skip
        jobs.append(trial.to_dict() | {"kind": "trial", "eval_seeds": seeds, "references": key})
    variants = list(spec.variants)
    return {
        "name": spec.name,
        "notes": spec.notes,
        "digest": spec_digest(trials, spec),
        "variants": variants,
        "labels": {v: spec.variants[v].label or v for v in variants},
        "baselines": {v: spec.baseline_of(v) for v in variants},
        "tasks": sorted({t.task for t in trials}, key=[t.task for t in trials].index),
        "seeds": spec.seed_list(),
        "eval_seeds": seeds,
        "jobs": list(references.values()) + jobs,
    }


def check_buildable(manifest: dict[str, Any]) -> None:
    """Build the agent of one trial per (variant, task) now, so a typo in a parameter or a
    part that does not fit is refused before any trial starts, not hours into a sweep."""
    import torch

    from gaidrl.experiments.config import build_config
    from gaidrl.experiments.registry import build_agent, make_env

    seen = set()
    for job in manifest["jobs"]:
        key = (job.get("variant"), job.get("task"))
        if job["kind"] != "trial" or key in seen:
            continue
        seen.add(key)
        config = build_config(job["config"])
        try:
            env = make_env(config.env)
            try:
                build_agent(config, env, torch.device("cpu"))
            finally:
                env.close()
        except ConfigError as err:
            raise ConfigError(f"variant {key[0]!r}, task {key[1]!r}: {err}") from None


def prepare(spec: SweepSpec, out: Path) -> dict[str, Any]:
    """Write the manifest of a new sweep folder, or check an existing one matches."""
    manifest = build_manifest(spec)
    check_buildable(manifest)
    path = out / MANIFEST
    if path.exists():
        old = json.loads(path.read_text())
        if old.get("digest") == manifest["digest"]:
            return old
        _check_extends(old, manifest, out)
        manifest["extends"] = old.get("extends", []) + [old["digest"]]
    out.mkdir(parents=True, exist_ok=True)
    manifest["created"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    (out / SPEC_FILE).write_text(yaml.safe_dump(spec.model_dump(), sort_keys=False))
    write_json(path, manifest)
    return manifest


def _check_extends(old: dict[str, Any], new: dict[str, Any], out: Path) -> None:
    """A changed spec may add variants, tasks or seeds to a sweep folder (its finished jobs
    are kept), but a job it shares with the folder must be exactly the job already run."""
    before = {j["id"]: j for j in old["jobs"]}
    for job in new["jobs"]:
        if job["id"] in before and before[job["id"]] != job:
            raise ConfigError(f"{out} holds another sweep: job {job['id']} is defined "
                              "differently there (its config or evaluation changed); pass "
                              "another --out or delete the folder")  # fmt: skip


def run_sweep(
    spec: SweepSpec,
    out: str | Path,
    backend: str = "local",
    workers: int | None = None,
    address: str | None = None,
    on_event: Callable[[SweepState], None] | None = None,
) -> SweepState:
    """Run every job not yet done; failures are recorded and the others go on."""
    out = Path(out)
    runner = make_backend(backend, workers, address)
    manifest = prepare(spec, out)
    jobs = manifest["jobs"]
    state = SweepState(total=len(jobs))
    todo = []
    for job in jobs:
        status = read_status(out, job)
        if status is not None and status.get("status") == "done":
            state.done += 1
            state.skipped += 1
        else:
            todo.append(job)
    if on_event is not None:
        on_event(state)
    for event in runner.execute(out, todo):
        state.running = runner.running()
        if event is None:
            if on_event is not None:
                on_event(state)
            continue
        job, status = event
        state.last = status
        if status.get("status") == "done":
            state.done += 1
        else:
            state.failed += 1
            state.failures.append(status | {"id": job["id"]})
        if on_event is not None:
            on_event(state)
    return state
