"""The Mish benchmark runs end to end, both activations in the same run, and ends with its
JSON line (no timing asserted)."""

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "mish.py"


def test_quick_run_times_both_activations_in_both_cases():
    done = subprocess.run([sys.executable, str(SCRIPT), "--quick"], capture_output=True,
                          text=True, timeout=120, cwd=SCRIPT.parent)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(result["cases"]) == {"activation_fwd_bwd", "denoising_chain_5_steps"}
    for case in result["cases"].values():
        assert case["torch_ms"] > 0 and case["gaidrl_ms"] > 0
        assert case["speedup"] == case["torch_ms"] / case["gaidrl_ms"]
