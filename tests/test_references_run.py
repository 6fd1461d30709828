"""The references benchmark runs end to end and ends with its JSON line (no timing asserted;
the ordering it reports must hold on any layouts)."""

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "references.py"


def test_quick_run_reports_every_reference_on_every_preset():
    command = [sys.executable, str(SCRIPT), "--quick", "--before-commit", ""]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=SCRIPT.parent)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.strip().splitlines()
    assert any(line.startswith("preset urban_split") for line in lines[:-1])
    result = json.loads(lines[-1])
    assert set(result["presets"]) == {"paper", "urban_split", "crowded_bs"}
    for preset in result["presets"].values():
        policies = preset["policies"]
        assert set(policies) == {"random", "heuristic", "planner", "oracle"}
        assert policies["oracle"]["percent_of_oracle_reward"] == 100.0
        assert preset["oracle_at_least_planner_every_layout"] is True
    assert (
        result["oracle_ms_per_slot"]["now"] > 0 and result["oracle_ms_per_slot"]["before"] is None
    )
    assert result["candidate_gains"]["speedup"] > 0
