"""A sweep file expands into trials deterministically and refuses bad files in one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from gaidrl.experiments.config import ConfigError, load_config
from gaidrl.experiments.reproduce import EXTRA_VARIANTS, VARIANTS, paper_sweep
from gaidrl.experiments.sweep import build_manifest, prepare
from gaidrl.experiments.sweep_spec import expand, load_sweep_spec

PROJECT = Path(__file__).resolve().parents[2]


def test_expansion_is_variants_times_grid_times_seeds(sweep_file):
    spec = load_sweep_spec(sweep_file(grid={"algo.params.gamma": [0.9, 0.99]}, seeds=[3, 7]))
    trials = expand(spec)
    assert len(trials) == 2 * 2 * 2
    assert {t.seed for t in trials} == {3, 7}
    assert {t.task for t in trials} == {"0.9", "0.99"}
    assert len({t.id for t in trials}) == len(trials)
    quantile = next(t for t in trials if t.variant == "quantile" and t.task == "0.99")
    assert quantile.config["parts"]["critic"]["name"] == "quantile"
    assert quantile.config["algo"]["params"]["gamma"] == 0.99
    assert quantile.config["seed"] == quantile.seed
    assert [t.id for t in expand(spec)] == [t.id for t in trials]  # deterministic
    assert spec.baseline_of("quantile") == "plain" and spec.baseline_of("plain") is None


@pytest.mark.parametrize(
    ("keys", "words"),
    [
        ({"seeds": 0}, "seeds"),
        ({"variants": {"a b": {}}}, "variant name"),
        ({"baseline": "nope"}, "not a variant"),
        ({"evaluation": {"episodes": 2, "seedzero": 1}}, "allowed keys here"),
        ({"grid": {"algo.params.gamma": []}}, "at least one value"),
        ({"set": {"algo.params.not_a_param": 1}}, "variant 'plain'"),
    ],
)
def test_bad_sweep_files_fail_in_one_line(sweep_file, tmp_path, keys, words):
    path = sweep_file(**keys)
    with pytest.raises(ConfigError) as err:
        prepare(load_sweep_spec(path), tmp_path / "out")
    assert words in str(err.value)
    assert "\n" not in str(err.value)
    assert not (tmp_path / "out").exists()  # nothing written for a sweep that cannot run


def test_reference_jobs_are_shared_only_by_the_same_networks():
    spec = paper_sweep(["paper", "urban_split"], quick=True,
                       variants=["td3_diffusion", "td3_vae"])  # fmt: skip
    manifest = build_manifest(spec)
    refs = [j for j in manifest["jobs"] if j["kind"] == "references"]
    trials = [j for j in manifest["jobs"] if j["kind"] == "trial"]
    # two presets x two observation modes (compact, channel): four settings of the networks
    assert len(refs) == 4
    assert {j["references"] for j in trials} == {r["id"] for r in refs}
    assert manifest["baselines"]["td3_vae"] == "td3_channel"


def test_paper_sweep_pairs_every_gai_variant_with_its_plain_agent():
    spec = paper_sweep(["paper"])
    assert set(spec.variants) == set(VARIANTS) - set(EXTRA_VARIANTS)
    for name, variant in spec.variants.items():
        base = spec.baseline_of(name)
        if base is not None:  # same budget and the same plain settings underneath
            assert spec.variants[base].baseline in (None, base)
            assert variant.set.get("trainer.total_steps") == spec.variants[base].set.get(
                "trainer.total_steps"
            )
    assert spec.baseline_of("d2sac") == "sac_discrete"
    assert spec.baseline_of("td3_hyar") == "hybrid_ppo"
    assert spec.baseline_of("td3_diffusion") == "td3"
    # the tokens draw other networks than compact: the Transformer's plain agent reads them too
    assert spec.baseline_of("td3_transformer") == "td3_tokens"
    tokens = spec.variants["td3_tokens"].set["env.kwargs.obs_mode"]
    assert (
        tokens
        == "tokens"
        == load_config(spec.variants["td3_transformer"].config).env.kwargs["obs_mode"]
    )
    assert "(5 seeds)" in spec.notes[0]
    one = paper_sweep(["paper"], quick=True, seeds=1, variants=["td3"])
    assert "2000 env steps per trial, 1 seed)" in one.notes[0]
    with pytest.raises(ConfigError, match="allowed"):
        paper_sweep(["nowhere"])
    with pytest.raises(ConfigError, match="allowed"):
        paper_sweep(["paper"], variants=["td4"])


def test_the_residual_variants_run_only_when_named_and_pair_with_each_other(capsys):
    from gaidrl.cli import build_parser
    from gaidrl.experiments.reproduce import MEASURED_STEPS_PER_S

    spec = paper_sweep(["paper"], variants=["td3_diffusion_residual"])
    assert set(spec.variants) == {"td3_residual", "td3_diffusion_residual"}
    assert spec.baseline_of("td3_diffusion_residual") == "td3_residual"
    residual = spec.variants["td3_diffusion_residual"]
    assert residual.set["parts.actor.name"] == "diffusion"
    assert residual.config == spec.variants["td3_residual"].config  # one part swapped in
    assert set(MEASURED_STEPS_PER_S) == set(VARIANTS)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["reproduce", "paper", "--help"])
    shown = capsys.readouterr().out
    assert all(name in shown for name in EXTRA_VARIANTS)


def test_the_shipped_sweep_and_tune_files_expand():
    from gaidrl.experiments.tune import load_tune_spec

    folder = PROJECT / "configs" / "sweeps"
    assert len(expand(load_sweep_spec(folder / "gdm_vs_td3.yaml"))) == 2 * 3 * 5
    assert len(expand(load_sweep_spec(folder / "data_side_hopper.yaml"))) == 3 * 5
    spec = load_tune_spec(folder / "tune_td3_lr.yaml")
    assert len(expand(spec.sweep({"td3_diffusion": {}}, spec.tuning, "t"))) == 2


def test_the_expected_time_leaves_out_finished_trials(tmp_path):
    from gaidrl.experiments.reproduce import expected_minutes
    from gaidrl.experiments.trial import write_status

    spec = paper_sweep(["paper"], quick=True, variants=["td3_diffusion"])
    full = expected_minutes(spec, workers=2, out=tmp_path)
    assert full > 0 and full == expected_minutes(spec, workers=2)
    trials = expand(spec)
    for trial in trials[: len(trials) // 2]:
        write_status(tmp_path / "trials" / trial.id, {"status": "done"})
    assert 0 < expected_minutes(spec, workers=2, out=tmp_path) < full
    assert expected_minutes(spec, workers=1) == 2 * full


def test_the_expected_time_is_scaled_on_a_cpu_without_avx512(monkeypatch):
    import torch

    from gaidrl.experiments import reproduce

    spec = paper_sweep(["paper"], quick=True, variants=["td3_diffusion"])
    times = {}
    for capability in ("AVX512", "AVX2"):
        monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda c=capability: c)
        times[capability] = reproduce.expected_minutes(spec, workers=2)
        assert capability in reproduce.speed_factor()[1]
    assert times["AVX2"] == pytest.approx(reproduce.AVX2_SLOWDOWN * times["AVX512"])


def test_the_dry_run_counts_in_words(capsys):
    from gaidrl.cli import main

    assert main(["reproduce", "paper", "--variants", "td3", "--seeds", "1", "--workers", "1",
                 "--dry-run"]) == 0  # fmt: skip
    first = capsys.readouterr().out.splitlines()[0]
    assert "1 variant x 1 preset x 1 seed;" in first and "with 1 worker (" in first, first
    assert main(["reproduce", "paper", "--variants", "td3_gan", "--presets", "paper,crowded_bs",
                 "--workers", "2", "--dry-run"]) == 0  # fmt: skip
    first = capsys.readouterr().out.splitlines()[0]
    assert "2 variants x 2 presets x 5 seeds;" in first and "with 2 workers (" in first, first
