"""Pictures of a trained agent: the case study's network after one greedy episode."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch


def trained_agent(run_dir: str | Path) -> tuple[Any, Any]:
    """(agent, config) of a run folder's final (else last) checkpoint, on the CPU."""
    from gaidrl.experiments.config import build_config
    from gaidrl.experiments.registry import build_agent, make_env
    from gaidrl.train.checkpoint import load_checkpoint
    from gaidrl.train.trainer import CHECKPOINT_DIR, FINAL, LAST

    folder = Path(run_dir) / CHECKPOINT_DIR
    path = folder / FINAL if (folder / FINAL).is_file() else folder / LAST
    state = load_checkpoint(path)
    config = build_config(state["config"] | {"device": "cpu"})
    env = make_env(config.env)  # the agent's buffers are sized by the training env
    agent = build_agent(config, env, torch.device("cpu"))
    env.close()
    agent.load_training_state(state["agent"])
    return agent, config


def trajectory_png(run_dir: str | Path, seed: int, path: str | Path) -> Path:
    """One greedy episode of the run's agent on layout ``seed``; the picture of its last
    slot (UAV trail, users coloured by rate) goes to ``path``."""
    from gaidrl.envs import UAVNearFarVectorEnv
    from gaidrl.envs.render import render_state_png
    from gaidrl.train.seeding import capture_rng_state, restore_rng_state

    agent, config = trained_agent(run_dir)
    env = UAVNearFarVectorEnv(1, **config.env.kwargs)
    rng = capture_rng_state()
    try:
        obs, _ = env.reset(seed=seed)
        for _ in range(env.config.episode_length - 1):  # the last slot would reset the layout
            with torch.no_grad():
                action = agent.act(obs, explore=False)
            obs, *_ = env.step(action)
        return render_state_png(env.sim, 0, path)
    finally:
        restore_rng_state(rng)
        env.close()
