"""`make demo`'s program runs end to end on a tiny budget and reports every policy."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_tiny_demo_writes_the_report_with_references_and_every_learner(tmp_path):
    out = tmp_path / "demo"
    done = subprocess.run(
        [sys.executable, "-m", "gaidrl.demo", "--out", str(out), "--td3-steps", "200",
         "--td3-residual-steps", "200", "--ppo-residual-steps", "256", "--episodes", "1"],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
        env=dict(os.environ, OMP_NUM_THREADS="1"),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    learners = {"td3": 200, "td3_residual": 200, "ppo_residual": 256}
    assert set(summary["policies"]) == {"random", "heuristic", "planner", "oracle", *learners}
    assert summary["trained_steps"] == learners
    for name in ("summary.png", "learning_curve.png", "per_slot.png", "report.md"):
        assert (out / name).stat().st_size > 0, name
    report = (out / "report.md").read_text()
    assert all(f"| {name} |" in report for name in learners)
    # the yardsticks: 100 % of themselves, and the oracle bounds the planner
    policies = summary["policies"]
    assert policies["oracle"]["percent_of_oracle_reward"] == 100.0
    assert policies["planner"]["percent_of_planner_reward"] == 100.0
    assert policies["planner"]["percent_of_oracle_reward"] <= 100.0 + 1e-9
    # a second run into the same folder is refused instead of mixing two demos
    again = subprocess.run([sys.executable, "-m", "gaidrl.demo", "--out", str(out)],
                           capture_output=True, text=True, timeout=120, cwd=ROOT)  # fmt: skip
    assert again.returncode != 0 and "already holds a demo" in again.stderr
