"""The sweep-scaling benchmark runs end to end and ends with its JSON line (no timing asserted)."""

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "sweep_scaling.py"


def test_quick_run_reports_every_backend_side_by_side():
    command = [sys.executable, str(SCRIPT), "--quick", "--no-ray"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=SCRIPT.parent)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    rows = {(r["backend"], r["workers"]): r for r in result["rows"]}
    assert set(rows) == {("local", 1), ("local", 2)}
    assert all(r["trials"] == 2 and r["trials_per_hour"] > 0 for r in rows.values())
    assert rows[("local", 1)]["speedup_over_local_1"] == 1.0
