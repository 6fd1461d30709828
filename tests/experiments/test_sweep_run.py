"""Sweeps run end to end on both backends, record failures, and survive kills exactly."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest
import torch
from conftest import start_cli, wait_for, write_sweep

from gaidrl.cli import main as cli_main
from gaidrl.experiments.archive import archive_sweep
from gaidrl.experiments.config import ConfigError
from gaidrl.experiments.machine import machine_facts, machine_label
from gaidrl.experiments.report import write_report
from gaidrl.experiments.reproduce import PAPER_CLAIMS
from gaidrl.experiments.sweep import run_sweep
from gaidrl.experiments.sweep_spec import load_sweep_spec
from gaidrl.experiments.trial import STATUS_FILE


def statuses(out: Path) -> dict[str, dict]:
    return {p.parent.name: json.loads(p.read_text())
            for p in (out / "trials").glob(f"*/{STATUS_FILE}")}  # fmt: skip


def final_parameters(run_dir: Path) -> dict[str, torch.Tensor]:
    """Every tensor of every module of the run's final agent."""
    from gaidrl.experiments.pictures import trained_agent

    agent, _ = trained_agent(run_dir)
    out = {}
    for name, module in vars(agent).items():
        if isinstance(module, torch.nn.Module):
            out |= {f"{name}.{k}": v.detach().clone() for k, v in module.state_dict().items()}
    return out


def check_report(out: Path) -> None:
    html = write_report(out, pictures=False)
    md = (out / "report.md").read_text()
    assert "| plain | default | 2 |" in md and "| quantile | default | 2 |" in md
    assert "P(improvement)" in md
    returns = [statuses(out)[f"plain--default--s{seed}"]["metrics"]["return"] for seed in (0, 1)]
    assert " / ".join(format(r, ".4g") for r in returns) in md  # the per-seed column
    assert "dashed lines" not in md  # Pendulum has no reference policies to draw
    here = machine_label(machine_facts())
    assert all(s["machine"]["cpu"] for s in statuses(out).values())
    assert f"Every trial ran on {here}." in md
    for png in ("learning_curves.png", "metrics.png", "probability_of_improvement.png"):
        assert (out / png).stat().st_size > 5_000, png
        assert f"({png})" in md
    page = html.read_text()
    assert page.count("data:image/png;base64,") == 3 and 'src="http' not in page


@pytest.fixture(scope="module")
def local_sweep(tmp_path_factory):
    """The tiny sweep run once on the local pool: (spec path, folder, final state)."""
    folder = tmp_path_factory.mktemp("local")
    path = write_sweep(folder)
    return path, folder / "out", run_sweep(load_sweep_spec(path), folder / "out", workers=2)


# tests sharing a module fixture run on one test process (pytest-xdist --dist loadgroup)
SHARES_LOCAL_SWEEP = pytest.mark.xdist_group("sweep-local")
SHARES_NEVER_STOPPED = pytest.mark.xdist_group("sweep-never-stopped")


@SHARES_LOCAL_SWEEP
def test_local_sweep_runs_every_trial_and_reports(local_sweep):
    path, out, state = local_sweep
    assert (state.done, state.failed, state.total) == (4, 0, 4)
    got = statuses(out)
    assert all(s["status"] == "done" for s in got.values())
    assert all(s["steps"] == 300 and len(s["per_episode"]["return"]) == 2 for s in got.values())
    # seeds differ, so their held-out returns do
    assert got["plain--default--s0"]["metrics"] != got["plain--default--s1"]["metrics"]
    check_report(out)
    write_report(out, claims=PAPER_CLAIMS, pictures=False)  # a claim on a variant not swept
    claims = (out / "report.md").read_text().split("## Measured against the claim")[1]
    assert claims.count("not measured (the variant is not in this sweep)") == 2
    assert "None" not in claims.split("\n## ")[0]
    again = run_sweep(load_sweep_spec(path), out, workers=2)  # all finished: skipped
    assert again.skipped == 4 and again.done == 4


@SHARES_LOCAL_SWEEP
def test_an_archive_reports_alike_and_a_sweep_continues_from_it(local_sweep, tmp_path, capsys):
    path, out, _ = local_sweep
    archived = tmp_path / "archive"
    assert cli_main(["archive", str(out), str(archived)]) == 0
    assert "gaidrl report" in capsys.readouterr().out
    assert not list(archived.rglob("*.pt")) and not list(archived.rglob("tensorboard"))
    assert sum(p.stat().st_size for p in archived.rglob("*") if p.is_file()) < sum(
        p.stat().st_size for p in out.rglob("*") if p.is_file()) / 5  # fmt: skip
    section = "## Episode return"  # every table and interval, read from the archive alike
    mine = write_report(archived, tmp_path / "a", pictures=False).with_suffix(".md")
    theirs = write_report(out, tmp_path / "b", pictures=False).with_suffix(".md")
    assert section in theirs.read_text()
    assert mine.read_text().split(section)[1] == theirs.read_text().split(section)[1]
    state = run_sweep(load_sweep_spec(path), archived, workers=2)  # continued: nothing rerun
    assert (state.skipped, state.done) == (4, 4)
    with pytest.raises(ConfigError, match="not empty"):
        archive_sweep(out, archived)
    with pytest.raises(ConfigError, match="not a sweep folder"):
        archive_sweep(out / "trials", tmp_path / "other")
    # a trial finished elsewhere (a continued archive): the report names both machines
    moved = archived / "trials" / "plain--default--s0" / STATUS_FILE
    other = {"cpu": "Other CPU", "cpu_capability": "AVX2", "torch": torch.__version__}
    moved.write_text(json.dumps(json.loads(moved.read_text()) | {"machine": other}))
    md = write_report(archived, tmp_path / "c", pictures=False).with_suffix(".md").read_text()
    here = machine_label(machine_facts())
    assert f"2 kinds of machine (Other CPU (AVX2): 1 trial; {here}: 3 trials)" in md


@SHARES_LOCAL_SWEEP
def test_ray_sweep_matches_the_local_one(local_sweep, tmp_path):
    pytest.importorskip("ray", reason="the ray backend needs Ray (pip install 'gaidrl[ray]')")
    path, local_out, _ = local_sweep
    state = run_sweep(load_sweep_spec(path), tmp_path / "ray", backend="ray", workers=2)
    assert (state.done, state.failed) == (4, 0)
    check_report(tmp_path / "ray")
    ray_metrics = {k: v["metrics"] for k, v in statuses(tmp_path / "ray").items()}
    local_metrics = {k: v["metrics"] for k, v in statuses(local_out).items()}
    assert ray_metrics == local_metrics  # the same trials give the same numbers anywhere


def test_a_failing_trial_is_recorded_and_the_others_finish(sweep_file, tmp_path):
    # the env refuses the option only when a trial builds it, not while the sweep is checked
    path = sweep_file(variants={"plain": {}, "broken": {"set": {"trainer.total_steps": 250}}})
    spec = load_sweep_spec(path)
    spec.variants["broken"].set["env.kwargs.g"] = "not a number"
    out = tmp_path / "out"
    from gaidrl.experiments import sweep as sweep_module

    original = sweep_module.check_buildable
    sweep_module.check_buildable = lambda manifest: None
    try:
        state = run_sweep(spec, out, workers=2)
    finally:
        sweep_module.check_buildable = original
    assert (state.done, state.failed) == (2, 2)
    got = statuses(out)
    broken = got["broken--default--s0"]
    assert broken["status"] == "failed" and "Traceback" in broken["traceback"]
    assert broken["error"]
    assert got["plain--default--s1"]["status"] == "done"
    md = (write_report(out, pictures=False).with_suffix(".md")).read_text()
    assert "Failed trials" in md and "broken--default--s0" in md


LONG = {"trainer.total_steps": 800, "trainer.checkpoint_every": 200, "trainer.eval_every": 0}


@pytest.fixture(scope="module")
def never_stopped(tmp_path_factory):
    """Seed 1 of the long sweep, run without a stop: (its trial.json, its run folder)."""
    folder = tmp_path_factory.mktemp("fresh")
    path = write_sweep(folder, variants={"plain": {}}, set=LONG, seeds=[1])
    run_sweep(load_sweep_spec(path), folder / "out", workers=1)
    return statuses(folder / "out")["plain--default--s1"], folder / "out/trials/plain--default--s1"


@SHARES_NEVER_STOPPED
@pytest.mark.parametrize("stop", ["sigkill", "ctrl_c", "sigterm"])
def test_a_stopped_sweep_skips_finished_trials_and_resumes_exactly(
    sweep_file, tmp_path, stop, never_stopped
):
    """Seed 0 finishes, seed 1 is stopped after a checkpoint: killed (the sweep and its
    worker, as a crash would) or interrupted (Ctrl-C or SIGTERM). Restarted, the sweep skips
    seed 0 and seed 1 continues from its checkpoint to the numbers of a run never stopped."""
    path = sweep_file(variants={"plain": {}}, set=LONG)
    out = tmp_path / "out"
    proc = start_cli("sweep", path, out)
    second = out / "trials" / "plain--default--s1"
    first_status = out / "trials" / "plain--default--s0" / STATUS_FILE
    wait_for(lambda: (second / "checkpoints" / "last.pt").exists(), proc)
    if stop == "sigkill":
        worker = json.loads((second / STATUS_FILE).read_text())["pid"]
        proc.kill()
        os.kill(worker, signal.SIGKILL)
        proc.wait()
    else:  # Ctrl-C, or a plain ``kill``: both stop the worker too, which records it
        proc.send_signal(signal.SIGINT if stop == "ctrl_c" else signal.SIGTERM)
        assert proc.wait(timeout=60) != 0
        assert json.loads((second / STATUS_FILE).read_text())["status"] == "interrupted"
    finished = first_status.read_text()
    assert json.loads(finished)["status"] == "done"

    state = run_sweep(load_sweep_spec(path), out, workers=1)
    assert (state.done, state.skipped, state.failed) == (2, 1, 0)
    assert first_status.read_text() == finished  # not run again
    resumed = statuses(out)["plain--default--s1"]
    assert 0 < resumed["resumed_at"] < 800

    fresh_status, fresh_run = never_stopped
    assert resumed["metrics"] == fresh_status["metrics"]
    a, b = final_parameters(second), final_parameters(fresh_run)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_a_larger_spec_extends_a_sweep_and_a_changed_one_is_refused(sweep_file, tmp_path):
    out = tmp_path / "out"
    run_sweep(load_sweep_spec(sweep_file(variants={"plain": {}}, seeds=[0])), out, workers=1)
    before = (out / "trials" / "plain--default--s0" / STATUS_FILE).read_text()
    state = run_sweep(load_sweep_spec(sweep_file(variants={"plain": {}}, seeds=[0, 1])), out,
                      workers=1)  # fmt: skip
    assert (state.total, state.done, state.skipped) == (2, 2, 1)
    assert (out / "trials" / "plain--default--s0" / STATUS_FILE).read_text() == before
    changed = sweep_file(variants={"plain": {}}, seeds=[0, 1], set={"trainer.total_steps": 200})
    with pytest.raises(ConfigError, match="defined differently"):
        run_sweep(load_sweep_spec(changed), out, workers=1)
