"""The critic-fit benchmark runs end to end and ends with its JSON line (no figure asserted
beyond what must hold for any critic)."""

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "critic_fit.py"


def test_quick_run_reports_headroom_and_fit():
    done = subprocess.run([sys.executable, str(SCRIPT), "--quick"], capture_output=True,
                          text=True, timeout=300, cwd=SCRIPT.parent)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.strip().splitlines()
    assert any("Headroom" in line for line in lines[:-1])
    result = json.loads(lines[-1])
    sweep = result["headroom_sum_rate"]
    assert set(sweep) == {"+0.0", "-0.2", "-0.4", "-0.6", "-1.0"}
    assert result["headroom_best_gain"] == max(sweep.values()) - sweep["+0.0"] >= 0
    assert 0 <= result["effect_sign_accuracy"] <= 1
    assert result["train_rmse"] > 0 and result["test_rmse"] > 0 and result["reward_std"] > 0
