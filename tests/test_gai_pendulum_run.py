"""The GAI-on-Pendulum benchmark runs end to end with plain TD3 beside a policy-side and a
data-side variant, at the small budget, and ends with its JSON line (no return or timing
asserted: a smoke run learns nothing)."""

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "gai_pendulum.py"


def test_quick_run_compares_every_variant_with_plain_td3():
    command = [sys.executable, str(SCRIPT), "--quick", "--budget", "small", "--variants",
               "diffusion,world_model"]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=SCRIPT.parent)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(result["variants"]) == {"plain", "diffusion", "world_model"}  # plain always
    assert result["budget"] == "small"
    assert result["variants"]["plain"]["steps_per_s_over_plain"] == 1.0
    assert result["variants"]["diffusion"]["steps_per_s_over_plain"] > 0
    assert all(len(v["returns"]) == 1 for v in result["variants"].values())
