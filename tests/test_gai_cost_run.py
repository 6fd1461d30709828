"""The GAI-cost benchmark runs end to end, each case against plain MLP TD3 in the same run,
and ends with its JSON line (no timing asserted)."""

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "gai_cost.py"


def test_quick_run_reports_ratios_to_plain_td3():
    command = [sys.executable, str(SCRIPT), "--quick"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=SCRIPT.parent)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(result["cases"]) == {"mlp", "diffusion_5", "world_model"}
    assert result["cases"]["world_model"]["fit_ms"] > 0
    assert result["cases"]["world_model"]["per_env_step_over_mlp"] > 0
    assert result["cases"]["mlp"]["update_over_mlp"] == 1.0
    for case in result["cases"].values():
        assert case["update_ms"] > 0 and case["act_ms"] > 0 and case["peak_rss_mb"] > 0
    assert result["gdm_td3_paper_settings_steps_per_s"] > 0
    assert set(result["gdm_td3_paper_settings"]) == {"as_shipped", "silu", "silu_bf16"}
