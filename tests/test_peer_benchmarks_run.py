"""The peer (SB3) and classic-control benchmarks run end to end in --quick mode and end with
their JSON line. No timing is asserted; only that the figures are there and positive."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def run_quick(script: str, *args: str) -> tuple[list[str], dict]:
    done = subprocess.run(
        [sys.executable, str(BENCH / script), "--quick", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=BENCH.parent,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.strip().splitlines()
    assert len(lines) > 2, done.stdout  # a human table comes first
    return lines, json.loads(lines[-1])


def skip_without_sb3() -> None:
    if importlib.util.find_spec("stable_baselines3") is None:
        pytest.skip("stable_baselines3 is not installed (the 'peers' extra)")


def assert_trained(res: dict, libs: tuple[str, ...]) -> None:
    for lib in libs:
        rates = res[lib]["steps_per_s_per_seed"]
        assert rates and all(r > 0 for r in rates), (lib, rates)
        assert all(np.isfinite(x) for x in res[lib]["return_per_seed"])
        assert all(u > 0 for u in res[lib]["updates_per_seed"]), lib


def test_peer_sb3_quick():
    skip_without_sb3()
    lines, result = run_quick("peer_sb3.py", "--algos", "td3,sac,dqn", "--steps", "300")
    assert result["benchmark"] == "peer_sb3" and result["quick"] is True
    assert result["threads"] == 1
    assert set(result["results"]) == {"td3", "sac", "dqn"}
    assert result["envs"]["dqn"] == "CartPole-v1" and result["results"]["dqn"]["goal_return"] == 475
    for algo, res in result["results"].items():
        assert_trained(res, ("ours", "sb3"))
        assert res["ratio_steps_per_s"] > 0, algo
    assert "ratio ours/sb3" in "\n".join(lines[:-1])
    assert result["precisions"] == {"ours": "float32"}


def test_peer_sb3_quick_with_bfloat16_as_a_third_library():
    """One algorithm only: bfloat16 products are slow on CPUs without bfloat16 units."""
    skip_without_sb3()
    lines, result = run_quick("peer_sb3.py", "--algos", "td3", "--steps", "300",
                              "--precisions", "float32,bfloat16")  # fmt: skip
    res = result["results"]["td3"]
    assert_trained(res, ("ours", "ours_bfloat16", "sb3"))
    assert res["ours_bfloat16_vs_sb3"]["ratio_steps_per_s"] > 0
    # the two precisions train differently (bfloat16 is in effect)
    assert res["ours"]["return_per_seed"] != res["ours_bfloat16"]["return_per_seed"]
    table = "\n".join(lines[:-1])
    assert "ratio ours/sb3" in table and "ratio ours_bfloat16/sb3" in table
    assert result["precisions"] == {"ours": "float32", "ours_bfloat16": "bfloat16"}


def test_classic_control_quick():
    lines, result = run_quick("classic_control.py")
    assert result["benchmark"] == "classic_control" and result["quick"] is True
    assert set(result["results"]) == {"dqn", "ppo"}
    for algo, res in result["results"].items():
        assert res["return_per_seed"] and all(r > 0 for r in res["return_per_seed"]), algo
        assert all(r > 0 for r in res["steps_per_s_incl_eval_per_seed"]), algo
        assert all(r > 0 for r in res["best_fresh_return_per_seed"]), algo
        curve_steps = [step for step, _ in res["eval_curve_per_seed"][0]]
        assert res["best_step_per_seed"][0] in curve_steps, algo
    assert "dqn" in "\n".join(lines[:-1])
