"""Config errors name the full key path and what is allowed, in one line, via the CLI too."""

from __future__ import annotations

import pytest
from train_support import SMALL_UAV, config_dict, run_cli

from gaidrl.cli import main
from gaidrl.experiments.config import ConfigError, apply_overrides, load_config, parse_scalar
from gaidrl.experiments.registry import build_agent, make_env


def test_set_values_are_yaml_scalars():
    assert parse_scalar("1e-3") == 0.001 and parse_scalar("3e5") == 300000.0
    assert parse_scalar("12") == 12 and parse_scalar("true") is True
    assert parse_scalar("[64, 64]") == [64, 64] and parse_scalar("cpu") == "cpu"
    data = apply_overrides({"a": {"b": 1}}, ["a.b=2", "a.c.d=x"])
    assert data == {"a": {"b": 2, "c": {"d": "x"}}}


def test_unknown_nested_key_names_path_and_allowed_keys():
    with pytest.raises(ConfigError) as info:
        load_config(data=config_dict(), overrides=["trainer.total_stepz=5"])
    msg = str(info.value)
    assert "trainer.total_stepz" in msg
    assert "total_steps" in msg and "eval_every" in msg and "log_every" in msg


def test_unknown_key_inside_a_part_names_the_slot():
    with pytest.raises(ConfigError, match=r"parts\.actor\.nmae.*allowed keys here: name, params"):
        load_config(data=config_dict(), overrides=["parts.actor.name=x", "parts.actor.nmae=y"])


def test_bad_values_name_key_and_constraint():
    with pytest.raises(ConfigError, match=r"trainer\.eval_every.*greater than or equal to 0"):
        load_config(data=config_dict(), overrides=["trainer.eval_every=-5"])
    with pytest.raises(ConfigError, match=r"'device'.*'cpu', 'cuda' or 'cuda:N'"):
        load_config(data=config_dict(), overrides=["device=gpu"])
    with pytest.raises(ConfigError, match=r"env\.num_envs.*'many'"):
        load_config(data=config_dict(), overrides=["env.num_envs=many"])


def test_unknown_algorithm_lists_the_known_ones():
    config = load_config(data=config_dict(), overrides=["algo.name=td4"])
    with pytest.raises(ConfigError, match=r"algo\.name.*td4.*sac.*td3"):
        build_agent(config, make_env(config.env), "cpu")
    renamed = load_config(data=config_dict(), overrides=["algo.name=hybrid"])
    with pytest.raises(ConfigError, match="'hybrid' was renamed 'hybrid_ppo'"):
        build_agent(renamed, make_env(renamed.env), "cpu")


def test_unknown_algorithm_param_names_path_and_allowed():
    config = load_config(data=config_dict(), overrides=["algo.params.lrr=0.1"])
    with pytest.raises(ConfigError) as info:
        build_agent(config, make_env(config.env), "cpu")
    assert "algo.params.lrr" in str(info.value) and "batch_size" in str(info.value)


def test_impossible_combination_says_why():
    config = load_config(data=config_dict("Pendulum-v1"), overrides=["algo.params.batch_size=0"])
    with pytest.raises(ConfigError, match="batch_size must be >= 1"):
        build_agent(config, make_env(config.env), "cpu")


def test_case_study_option_errors_name_env_kwargs():
    data = config_dict("gaidrl/UAVNearFar-v0")
    config = load_config(data=data, overrides=["env.kwargs.n_antenas=64"])
    with pytest.raises(ConfigError, match=r"env\.kwargs.*n_antenas.*allowed.*n_antennas"):
        make_env(config.env)
    assert SMALL_UAV["n_antennas"] == 128


def test_cli_config_error_in_a_subprocess_is_one_line(write_config, tmp_path):
    path = write_config(config_dict())
    out = tmp_path / "run"
    args = ["train", "--config", str(path), "--out", str(out), "--no-progress"]
    result = run_cli(*args, "--set", "trainer.total_stepz=5")
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == (
        "gaidrl: config error: unknown key 'trainer.total_stepz'; allowed keys here: "
        "checkpoint_every, eval_episodes, eval_every, keep_best, log_every, oracle_reference, "
        "tensorboard, total_steps"
    )
    assert not out.exists()


@pytest.mark.parametrize(
    ("assignment", "expected"),
    [
        ("trainer.total_steps=-1", "trainer.total_steps"),
        ("algo.params.lrr=1", "algo.params.lrr"),
        ("env.id=NoSuchEnv-v9", "env.id"),
        ("env.num_envs=0", "env.num_envs"),
    ],
)
def test_cli_config_errors_exit_2_with_one_line(write_config, tmp_path, capsys, assignment,
                                                expected):  # fmt: skip
    path = write_config(config_dict())
    out = tmp_path / "run"
    args = ["train", "--config", str(path), "--out", str(out), "--no-progress"]
    assert main([*args, "--set", assignment]) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gaidrl: config error:"), err
    assert expected in lines[0]
    assert not (out / "config.yaml").exists()  # nothing written for a refused config


def test_cli_missing_config_file(tmp_path):
    result = run_cli("train", "--config", str(tmp_path / "nope.yaml"))
    assert result.returncode == 2 and "nope.yaml" in result.stderr
    assert "Traceback" not in result.stderr
