"""The GAI-on-Pendulum benchmark runs end to end with plain TD3 beside the diffusion actor and
ends with its JSON line (no return or timing asserted: a smoke run learns nothing)."""

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "gai_pendulum.py"


def test_quick_run_compares_every_variant_with_plain_td3():
    command = [sys.executable, str(SCRIPT), "--quick", "--variants", "diffusion,attention_encoder"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=SCRIPT.parent)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(result["variants"]) == {"plain", "diffusion", "attention_encoder"}  # plain always
    assert result["variants"]["plain"]["steps_per_s_over_plain"] == 1.0
    assert result["variants"]["diffusion"]["steps_per_s_over_plain"] > 0
    assert all(len(v["returns"]) == 1 for v in result["variants"].values())


def test_small_budget_runs_a_data_side_variant():
    command = [sys.executable, str(SCRIPT), "--quick", "--budget", "small", "--variants",
               "world_model"]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=SCRIPT.parent)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["budget"] == "small" and set(result["variants"]) == {"plain", "world_model"}
