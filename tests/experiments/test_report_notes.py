"""The report's overview warns where a comparison is not like for like: trials on other
reference jobs (other networks) than their baseline's, or from several kinds of machine; its
reference tables then give each job's figures."""

from __future__ import annotations

from pathlib import Path

from gaidrl.experiments.report import (
    _different_networks_note,
    _machines_note,
    _reference_table,
)
from gaidrl.experiments.results import SweepResults, TrialRecord

Figures = dict[str, dict[str, dict[str, float]]]  # job id -> policy -> metric -> value


def sweep(references: dict[str, str], machines: dict[str, str | None],
          figures: Figures | None = None) -> SweepResults:  # fmt: skip
    trials = [TrialRecord(id=f"{v}-s0", variant=v, task="paper", seed=0, status="done",
                          run_dir=Path("."), config={}, references=ref, machine=machines[v])
              for v, ref in references.items()]  # fmt: skip
    return SweepResults(path=Path("."), name="s", variants=list(references),
                        labels={"td3": "TD3", "gai": "GAI TD3"},
                        baselines={"td3": None, "gai": "td3"}, tasks=["paper"], trials=trials,
                        references=figures or {}, eval_seeds=[0])  # fmt: skip


def test_a_variant_on_other_networks_than_its_baseline_is_flagged():
    same = sweep({"td3": "references-a", "gai": "references-a"}, {"td3": "M", "gai": "M"})
    assert _different_networks_note(same) is None
    other = sweep({"td3": "references-a", "gai": "references-b"}, {"td3": "M", "gai": "M"})
    note = _different_networks_note(other)
    assert note is not None and "GAI TD3 against TD3" in note and "not like for like" in note


def test_machines_are_named_and_a_mix_is_flagged():
    one = sweep({"td3": "r", "gai": "r"}, {"td3": "M (AVX512)", "gai": "M (AVX512)"})
    assert _machines_note(one.done()) == "Every trial ran on M (AVX512)."
    mixed = sweep({"td3": "r", "gai": "r"}, {"td3": "M (AVX512)", "gai": "N (AVX2)"})
    assert "2 kinds of machine (M (AVX512): 1 trial; N (AVX2): 1 trial)" in _machines_note(
        mixed.done()
    )
    unknown = sweep({"td3": "r", "gai": "r"}, {"td3": None, "gai": None})
    assert _machines_note(unknown.done()) is None  # trials from before machines were kept


def test_each_reference_job_of_a_task_gets_its_own_column():
    figures = {"references-a": {"planner": {"reward": 0.6}},
               "references-b": {"planner": {"reward": 0.7}}}  # fmt: skip
    other = sweep({"td3": "references-a", "gai": "references-b"}, {"td3": "M", "gai": "M"},
                  figures)  # fmt: skip
    header, rows = _reference_table(other, "reward")
    assert header == ["reference policy", "paper: TD3", "paper: GAI TD3"]
    assert rows == [["planner", "0.6", "0.7"]]
    same = sweep({"td3": "references-a", "gai": "references-a"}, {"td3": "M", "gai": "M"},
                 figures)  # fmt: skip
    assert _reference_table(same, "reward") == (["reference policy", "paper"], [["planner", "0.6"]])


def test_each_bar_is_drawn_against_its_own_networks_references():
    from matplotlib.figure import Figure

    from gaidrl.experiments.report_plots import _reference_lines

    figures = {"references-a": {"planner": {"reward": 0.6}},
               "references-b": {"planner": {"reward": 0.7}}}  # fmt: skip
    other = sweep({"td3": "references-a", "gai": "references-b"}, {"td3": "M", "gai": "M"},
                  figures)  # fmt: skip
    ax = Figure().subplots()
    _reference_lines(ax, other, "paper", "reward", rows=[1.0, 0.0], height=0.8, label=True)
    segments = sorted(tuple(map(tuple, seg.round(6))) for c in ax.collections
                      for seg in c.get_segments())  # fmt: skip
    assert segments == [((0.6, 0.6), (0.6, 1.4)), ((0.7, -0.4), (0.7, 0.4))]
    assert not ax.lines
    same = sweep({"td3": "references-a", "gai": "references-a"}, {"td3": "M", "gai": "M"},
                 figures)  # fmt: skip
    ax = Figure().subplots()
    _reference_lines(ax, same, "paper", "reward", rows=[1.0, 0.0], height=0.8, label=True)
    assert [line.get_xdata()[0] for line in ax.lines] == [0.6] and not ax.collections
