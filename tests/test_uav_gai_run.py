"""The case-study GAI comparison runs end to end (plain TD3 beside GDM-TD3) and ends with its
JSON line; a second call with the same --out reuses the finished results (nothing retrained)."""

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "uav_gai.py"


def run(out: Path) -> dict:
    command = [sys.executable, str(SCRIPT), "--quick", "--variants", "td3,td3_diffusion",
               "--out", str(out)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=SCRIPT.parent)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_quick_comparison_reports_percent_of_planner_and_the_difference(tmp_path):
    result = run(tmp_path)
    paper = result["table"]["paper"]
    assert set(paper) == {"td3", "td3_diffusion", "references"}
    assert paper["td3_diffusion"]["percent_of_planner"] > 0
    assert "vs_plain" in paper["td3_diffusion"] and "vs_plain" not in paper["td3"]
    assert {"planner", "oracle", "heuristic", "random"} <= set(paper["references"])
    saved = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()}
    again = run(tmp_path)
    assert again["table"] == result["table"]
    # read back, not retrained: no file under --out was written again
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()} == saved
