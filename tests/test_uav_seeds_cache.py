"""uav_seeds keeps the references per env options and layouts, so several configs swept over
one preset run the planner and the oracle once."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import uav_seeds  # noqa: E402


def test_references_are_computed_once_per_env_and_layouts(tmp_path, monkeypatch):
    calls = []

    def fake(env_kwargs, seeds):
        calls.append((dict(env_kwargs), list(seeds)))
        return {"planner": {"reward": 0.6 + len(calls)}}

    monkeypatch.setattr(uav_seeds, "evaluate_references", fake)
    paper = {"preset": "paper", "action_mode": "continuous"}
    first = uav_seeds.cached_references(paper, [1, 2], tmp_path)
    assert uav_seeds.cached_references(dict(reversed(paper.items())), [1, 2], tmp_path) == first
    assert len(calls) == 1
    other = uav_seeds.cached_references(paper | {"preset": "urban_split"}, [1, 2], tmp_path)
    fresh_layouts = uav_seeds.cached_references(paper, [3, 4], tmp_path)
    assert len(calls) == 3 and other != first and fresh_layouts != first
