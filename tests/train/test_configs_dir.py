"""Every shipped config in configs/ validates, and builds its env and agent when available."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from gaidrl.experiments.config import load_config
from gaidrl.experiments.registry import ALGORITHMS, build_agent, make_env

CONFIGS = sorted((Path(__file__).resolve().parents[2] / "configs").glob("*.yaml"))


def test_the_expected_configs_are_shipped():
    names = {p.name for p in CONFIGS}
    expected = {"td3_pendulum.yaml", "sac_pendulum.yaml", "ddpg_pendulum.yaml",
                "ppo_cartpole.yaml", "dqn_cartpole.yaml", "td3_uav.yaml", "dqn_uav.yaml",
                "hybrid_uav.yaml", "ppo_uav.yaml", "td3_uav_diffusion.yaml", "td3_uav_gan.yaml",
                "td3_uav_transformer.yaml", "td3_uav_vae.yaml", "d2sac_uav.yaml"}  # fmt: skip
    assert expected <= names


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_config_builds(path):
    config = load_config(path, ["env.num_envs=1"])
    env = make_env(config.env)
    module = ALGORITHMS.get(config.algo.name, ("",))[0]
    if module and importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not written yet")
    agent = build_agent(config, env, "cpu")
    obs, _ = env.reset(seed=0)
    agent.act(obs, explore=False)
    env.close()


def test_every_shipped_config_is_package_data():
    """The configs live in the package (``configs/`` links there), so an installed gaidrl
    runs ``reproduce paper``; pyproject's package-data globs must name every file."""
    import tomllib

    from gaidrl.experiments.reproduce import configs_dir

    root = Path(__file__).resolve().parents[2]
    folder = configs_dir()
    assert folder.resolve() == (root / "configs").resolve()
    globs = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]["gaidrl"]
    package = folder.parent  # setuptools expands the globs as pathlib does, from here
    packaged = {p for g in globs for p in package.glob(g)}
    shipped = {p for p in folder.rglob("*") if p.is_file()}
    assert shipped and not shipped - packaged, (
        f"not in [tool.setuptools.package-data]: {sorted(map(str, shipped - packaged))}"
    )
