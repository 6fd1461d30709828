"""The env-throughput benchmark runs end to end and ends with its JSON line (no timing asserted)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "env_throughput.py"
CASES = {"python_loop", "single_env", "single_env_unwrapped"} | {
    f"vector_{b}" for b in (1, 64, 1024)
}


# the tests that share it run on one test process (pytest-xdist --dist loadgroup)
pytestmark = pytest.mark.xdist_group("env-throughput-quick-run")


@pytest.fixture(scope="module")
def quick_run():
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=SCRIPT.parents[1],
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.strip().splitlines()
    assert len(lines) > 3, done.stdout  # a human table comes first
    return lines, json.loads(lines[-1])


def test_last_line_is_json_with_every_figure(quick_run):
    _, result = quick_run
    expected = {"steps_per_s", "ratios", "n_antennas", "cpu", "numpy", "threads", "date"}
    assert expected <= set(result)
    assert set(result["steps_per_s"]) == CASES
    assert all(v > 0 for v in result["steps_per_s"].values()), result["steps_per_s"]
    assert all(len(runs) == 3 for runs in result["runs_steps_per_s"].values())
    assert set(result["ratios"]) >= {
        "vector_1024_over_python_loop",
        "vector_1024_over_single_env",
    }
    assert all(v > 0 for v in result["ratios"].values()), result["ratios"]
    assert result["threads"] == 1 and result["quick"] is True
    assert result["n_antennas"] == 256


def test_reference_loop_computes_the_same_rates(quick_run):
    _, result = quick_run
    check = result["reference_check"]
    assert check["sum_rate_rel"] <= 1e-4
    assert check["reward_abs"] <= 1e-4
    assert check["networks"] > 0


def test_table_names_every_case(quick_run):
    lines, _ = quick_run
    table = "\n".join(lines[:-1])
    for label in ("python loop", "gym.make", "B=1", "B=64", "B=1024"):
        assert label in table
