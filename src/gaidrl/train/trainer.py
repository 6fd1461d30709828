"""The training loop: collect -> record -> update -> evaluate -> log -> checkpoint.

One loop for every algorithm: it only speaks the Agent contract (docs/agent_contract.md).
Steps are env steps summed over sub-envs. Logging, evaluation and checkpoints happen when
the step count crosses a multiple of their period, in that order, so a checkpoint always
holds the state after that step's log row and evaluation.

Exact resume: a checkpoint holds the agent's ``training_state()``, the env's full state
(:mod:`gaidrl.train.envstate`), the current observation, the python/numpy/torch RNG states
and every counter and running sum of the loop. A run resumed from it continues bit for bit
as the run that wrote it would have (same numbers in metrics.csv, eval.csv and in the final
parameters) as long as the env state capture is complete, which holds for the case study
and classic-control envs; see :mod:`gaidrl.train.envstate`.
"""

from __future__ import annotations

import logging
import math
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np
import torch

import gaidrl
from gaidrl.experiments.config import ConfigError, RunConfig, build_config, dump_yaml, read_yaml
from gaidrl.experiments.registry import CASE_STUDY_ID, build_agent, make_env, resolve_device
from gaidrl.train.checkpoint import load_checkpoint, save_checkpoint
from gaidrl.train.envstate import capture_env_state, restore_env_state, skipped_attributes
from gaidrl.train.evaluate import evaluate, percent_of_references, reference_means
from gaidrl.train.logging import RunLogger
from gaidrl.train.precision import emulated_bfloat16, update_precision
from gaidrl.train.seeding import (
    capture_rng_state,
    eval_env_seeds,
    restore_rng_state,
    seed_everything,
    train_env_seed,
)
from gaidrl.train.vector import scalar_metrics, true_next_obs

log = logging.getLogger(__name__)

MAX_EVAL_ENVS = 16
CHECKPOINT_DIR = "checkpoints"
LAST = "last.pt"
FINAL = "final.pt"
BEST = "best.pt"
# Keys of a resumed run's config that may differ from the checkpoint's: they do not change
# the training numbers (the device does: the agent's torch generator lives on it).
RESUMABLE_CHANGES = ("trainer.",)


class NonFiniteLossError(RuntimeError):
    """An update returned NaN or inf; the run stopped and kept its last good checkpoint."""

    def __init__(self, name: str, value: float, step: int, checkpoint: Path | None):
        self.name, self.value, self.step, self.checkpoint = name, value, step, checkpoint
        kept = f"last good checkpoint: {checkpoint}" if checkpoint else "no checkpoint written yet"
        super().__init__(f"loss '{name}' became {value} at step {step}; training stopped ({kept})")


@dataclass
class Progress:
    """What a progress display needs, after every vector step."""

    step: int
    total_steps: int
    steps_per_s: float
    last_return: float | None
    episodes: int


class Trainer:
    """Trains one configured agent in one run folder. Use :meth:`create` or :meth:`resume`."""

    def __init__(self, config: RunConfig, run_dir: str | Path,
                 progress: Callable[[Progress], None] | None = None):  # fmt: skip
        self.config = config
        self.run_dir = Path(run_dir)
        self.progress = progress
        self.device = resolve_device(config.device)
        if config.precision == "bfloat16" and emulated_bfloat16(self.device):
            log.warning("precision bfloat16 on a CPU without bfloat16 instructions (AVX-512 "
                        "BF16 or AMX): its products are emulated and updates run several "
                        "times slower than in float32")  # fmt: skip
        seed_everything(config.seed)
        self.env = make_env(config.env)
        # Agents act on any batch size, so evaluation runs its episodes side by side.
        self.eval_env = make_env(config.env, num_envs=min(config.trainer.eval_episodes,
                                                          MAX_EVAL_ENVS))  # fmt: skip
        self.agent = build_agent(config, self.env, self.device)
        n = self.env.num_envs
        self.counters: dict[str, Any] = {
            "step": 0, "vector_steps": 0, "updates": 0, "episodes": 0, "evaluations": 0,
            "episode_return": np.zeros(n), "episode_length": np.zeros(n, dtype=np.int64),
            "last_return": None, "window": _empty_window(), "references": None,
            "last_eval_step": -1, "last_log_step": -1, "best_return": None,
        }  # fmt: skip
        self.obs: Any = None
        self.logger: RunLogger | None = None
        self._resume_step: int | None = None
        self._warned_env_state = False

    # ------------------------------------------------------------------ construction
    @classmethod
    def create(cls, config: RunConfig, run_dir: str | Path, **kwargs: Any) -> Trainer:
        """A new run in ``run_dir`` (refused if a run already lives there)."""
        run_dir = Path(run_dir)
        if (run_dir / "config.yaml").exists():
            raise ConfigError(f"a run already exists in {run_dir}; resume it with --resume "
                              f"{run_dir} or choose another --out")  # fmt: skip
        trainer = cls(config, run_dir, **kwargs)
        run_dir.mkdir(parents=True, exist_ok=True)
        dump_yaml(config, run_dir / "config.yaml")
        trainer.obs, _ = trainer.env.reset(seed=train_env_seed(config.seed))
        return trainer

    @classmethod
    def resume(cls, run_dir: str | Path, config: RunConfig | None = None,
               **kwargs: Any) -> Trainer:  # fmt: skip
        """Continue the run in ``run_dir`` from ``checkpoints/last.pt``.

        ``config`` (the saved config with ``--set`` overrides applied) may change only the
        trainer section (e.g. a larger ``total_steps`` to train on).
        """
        run_dir = Path(run_dir)
        path = run_dir / CHECKPOINT_DIR / LAST
        if not path.is_file():
            raise ConfigError(f"cannot resume {run_dir}: no checkpoint at {path}")
        state = load_checkpoint(path)
        saved = build_config(state["config"])
        config = saved if config is None else config
        _check_resume_config(saved, config)
        trainer = cls(config, run_dir, **kwargs)
        trainer._load_state(state)
        dump_yaml(config, run_dir / "config.yaml")
        return trainer

    @staticmethod
    def load_run_config(run_dir: str | Path) -> dict[str, Any]:
        return read_yaml(Path(run_dir) / "config.yaml")

    # ------------------------------------------------------------------ checkpoints
    @property
    def checkpoint_path(self) -> Path:
        return self.run_dir / CHECKPOINT_DIR / LAST

    def state_dict(self) -> dict[str, Any]:
        env_state = capture_env_state(self.env)
        skipped = skipped_attributes(env_state)
        if skipped and not self._warned_env_state:
            log.warning(
                "env state is not fully captured (skipped %s): a resumed run will not match "
                "an uninterrupted one exactly",
                ", ".join(skipped[:5]),
            )
            self._warned_env_state = True
        return {
            "config": self.config.to_dict(),
            "trainer": self.counters,
            "obs": self.obs,
            "agent": self.agent.training_state(),
            "env": env_state,
            "rng": capture_rng_state(),
            "versions": {"gaidrl": gaidrl.__version__, "torch": torch.__version__,
                         "numpy": np.__version__, "gymnasium": gymnasium.__version__},
        }  # fmt: skip

    def save(self, final: bool = False, best: bool = False) -> Path:
        """Write ``last.pt``; also copy it to ``final.pt`` / ``best.pt`` when asked."""
        path = save_checkpoint(self.state_dict(), self.checkpoint_path)
        for name, wanted in ((FINAL, final), (BEST, best)):
            if wanted:
                tmp = path.with_name(f".{name}.tmp")
                shutil.copyfile(path, tmp)
                tmp.replace(path.with_name(name))
        log.info("checkpoint at step %d: %s", self.counters["step"], path)
        return path

    def _load_state(self, state: dict[str, Any]) -> None:
        self.agent.load_training_state(state["agent"])
        restore_env_state(self.env, state["env"])
        self.counters = state["trainer"]
        self.obs = state["obs"]
        restore_rng_state(state["rng"])
        self._resume_step = int(self.counters["step"])
        log.info("resumed %s at step %d", self.run_dir, self._resume_step)

    # ------------------------------------------------------------------ the loop
    def run(self) -> dict[str, float]:
        """Train until ``trainer.total_steps``; return the last evaluation's summary."""
        tc = self.config.trainer
        c = self.counters
        self.logger = RunLogger(self.run_dir, tc.tensorboard, resume_step=self._resume_step)
        start_time, start_step = time.perf_counter(), c["step"]
        last_eval: dict[str, float] = {}
        try:
            while c["step"] < tc.total_steps:
                prev = c["step"]
                self._collect_step()
                if self.agent.ready_to_update():
                    self._update()
                now = c["step"]
                done = now >= tc.total_steps
                sps = (now - start_step) / max(time.perf_counter() - start_time, 1e-9)
                if _crossed(prev, now, tc.log_every) or done:
                    self._log_train(sps)
                new_best = False
                if _crossed(prev, now, tc.eval_every) or done:
                    last_eval = self._evaluate()
                    new_best = self._record_best(last_eval)
                if _crossed(prev, now, tc.checkpoint_every) or done:
                    self.save(final=done, best=new_best)  # best.pt: a copy, not a second dump
                elif new_best:
                    save_checkpoint(self.state_dict(), self.checkpoint_path.with_name(BEST))
                if self.progress is not None:
                    self.progress(Progress(now, tc.total_steps, sps, c["last_return"],
                                           c["episodes"]))  # fmt: skip
        finally:
            self.logger.close()
        return last_eval

    def _collect_step(self) -> None:
        c = self.counters
        action = self.agent.act(self.obs, explore=True)
        next_obs, reward, terminated, truncated, info = self.env.step(action)
        terminated, truncated = np.asarray(terminated, bool), np.asarray(truncated, bool)
        self.agent.record(self.obs, action, reward, true_next_obs(next_obs, info),
                          terminated, truncated)  # fmt: skip
        self.obs = next_obs
        n = self.env.num_envs
        c["step"] += n
        c["vector_steps"] += 1
        c["episode_return"] = c["episode_return"] + np.asarray(reward, np.float64)
        c["episode_length"] = c["episode_length"] + 1
        w = c["window"]
        for key, value in scalar_metrics(info, n).items():
            w["env_sums"][key] = w["env_sums"].get(key, 0.0) + float(value.sum())
        w["env_count"] += n
        ended = np.flatnonzero(terminated | truncated)
        for i in ended:
            w["returns"].append(float(c["episode_return"][i]))
            w["lengths"].append(int(c["episode_length"][i]))
            c["last_return"] = float(c["episode_return"][i])
        c["episodes"] += len(ended)
        c["episode_return"][ended] = 0.0
        c["episode_length"][ended] = 0

    def _update(self) -> None:
        c = self.counters
        with update_precision(self.device, self.config.precision):
            stats = self.agent.update() or {}
        c["updates"] += 1
        w = c["window"]
        for key, value in stats.items():
            try:
                number = float(value)
            except (TypeError, ValueError):
                continue
            if not math.isfinite(number):
                path = self.checkpoint_path if self.checkpoint_path.exists() else None
                log.error("non-finite %s=%s at step %d; stopping", key, number, c["step"])
                raise NonFiniteLossError(key, number, c["step"], path)
            w["loss_sums"][key] = w["loss_sums"].get(key, 0.0) + number
            w["loss_counts"][key] = w["loss_counts"].get(key, 0) + 1

    def _log_train(self, sps: float) -> None:
        c = self.counters
        w = c["window"]
        row: dict[str, Any] = {
            "time_s": time.time(), "steps_per_s": sps, "updates": c["updates"],
            "episodes": c["episodes"],
            "return_mean": float(np.mean(w["returns"])) if w["returns"] else float("nan"),
            "length_mean": float(np.mean(w["lengths"])) if w["lengths"] else float("nan"),
        }  # fmt: skip
        row |= {f"loss/{k}": v / w["loss_counts"][k] for k, v in w["loss_sums"].items()}
        row |= {f"env/{k}": v / max(w["env_count"], 1) for k, v in w["env_sums"].items()}
        self.logger.log_train(c["step"], row)
        log.info("step %d: return %.4g, %d updates, %.0f steps/s",
                 c["step"], row["return_mean"], c["updates"], sps)  # fmt: skip
        c["window"] = _empty_window()
        c["last_log_step"] = c["step"]

    def _evaluate(self) -> dict[str, float]:
        c, tc = self.counters, self.config.trainer
        seeds = eval_env_seeds(self.config.seed, tc.eval_episodes)
        summary = evaluate(self.agent, self.eval_env, seeds).summary()
        if self.config.env.id == CASE_STUDY_ID and tc.oracle_reference:
            refs = c.get("references")  # absent in checkpoints from before the planner
            if refs is None or refs["seeds"] != seeds:
                log.info("computing the planner and oracle on %d episodes (once per run)",
                         len(seeds))  # fmt: skip
                rng = capture_rng_state()
                means = reference_means(self.config.env.id, self.config.env.kwargs, seeds)
                restore_rng_state(rng)
                refs = c["references"] = {"seeds": seeds, "means": means}
            summary |= percent_of_references(summary, refs["means"])
        c["evaluations"] += 1
        c["last_eval_step"] = c["step"]
        self.logger.log_eval(c["step"], summary)
        log.info("evaluation at step %d: return %.4g", c["step"], summary["return_mean"])
        return summary

    def _record_best(self, summary: dict[str, float]) -> bool:
        """With ``keep_best``: whether this evaluation is the best so far (then noted)."""
        c = self.counters
        best = c.get("best_return")  # absent in checkpoints from before keep_best
        if not self.config.trainer.keep_best or (
            best is not None and summary["return_mean"] <= best
        ):
            return False
        c["best_return"] = float(summary["return_mean"])
        log.info("new best evaluation at step %d", c["step"])
        return True

    def close(self) -> None:
        for env in (self.env, self.eval_env):
            env.close()


def _empty_window() -> dict[str, Any]:
    return {"returns": [], "lengths": [], "loss_sums": {}, "loss_counts": {},
            "env_sums": {}, "env_count": 0}  # fmt: skip


def _crossed(prev: int, now: int, every: int) -> bool:
    return every > 0 and now // every > prev // every


def _check_resume_config(saved: RunConfig, new: RunConfig) -> None:
    a, b = _flatten(saved.to_dict()), _flatten(new.to_dict())
    for key in sorted(set(a) | set(b)):
        if a.get(key) != b.get(key) and not key.startswith(RESUMABLE_CHANGES):
            raise ConfigError(f"cannot change '{key}' when resuming ({a.get(key)!r} -> "
                              f"{b.get(key)!r}); only trainer.* may change")  # fmt: skip


def _flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict) and v:
            out |= _flatten(v, f"{prefix}{k}.")
        else:
            out[f"{prefix}{k}"] = v
    return out
