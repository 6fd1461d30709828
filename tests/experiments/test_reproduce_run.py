"""The main job end to end at a toy budget: the paper's sweep with its GDM-TD3 pair on the
case study, then the report, which states the claim beside the measured change (whichever way
it falls), percent of planner, the reference policies and a trajectory picture per variant."""

from __future__ import annotations

import re

from gaidrl.experiments.report import write_report
from gaidrl.experiments.reproduce import PAPER_CLAIMS, paper_sweep
from gaidrl.experiments.sweep import run_sweep


def test_the_paper_sweep_reports_the_claim_references_and_trajectories(tmp_path):
    spec = paper_sweep(["paper"], quick=True, seeds=1, steps=600, variants=["td3_diffusion"])
    assert sorted(spec.variants) == ["td3", "td3_diffusion"]  # the GAI variant brings its baseline
    one_layout = spec.evaluation.model_copy(update={"episodes": 1})  # the references' cost
    state = run_sweep(spec.model_copy(update={"evaluation": one_layout}), tmp_path, workers=2)
    assert (state.done, state.failed) == (3, 0)  # two trials and the references

    write_report(tmp_path, claims=PAPER_CLAIMS)
    md = (tmp_path / "report.md").read_text()
    claims = md.split("## Measured against the claim")[1].split("\n## ")[0]
    for metric, claimed in (("sum_rate", "+39.7 %"), ("fairness", "+45.3 %")):
        (row,) = [line for line in claims.splitlines() if f"| {metric} |" in line]
        assert claimed in row and "TD3 (plain)" in row
        assert re.search(r"\| [+-]\d+\.\d % ", row), row  # a measured change, not "not measured"
    assert "## Reward, % of the planner's" in md
    for reference in ("random", "heuristic", "planner", "oracle"):
        assert f"| {reference} |" in md
    assert md.count("dashed lines: reference policies") == 4  # curves and bars: alt, caption
    for variant in spec.variants:
        assert (tmp_path / f"trajectory_{variant}.png").stat().st_size > 0
    html = (tmp_path / "report.html").read_text()  # pictures embedded, captioned by trial
    for variant in spec.variants:
        assert f"({variant}--paper--s0): one greedy episode" in html
