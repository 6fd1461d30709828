"""Mixed precision (``precision: bfloat16``): every algorithm and GAI part trains under it,
it changes the numbers (so it is in effect), it resumes exactly, and a bad value is refused."""

from __future__ import annotations

import math

import pytest
import torch
from test_gai_parts import D2SAC, DIFFUSION, GAN, TRANSFORMER, config
from train_support import metric_rows

from gaidrl.experiments.config import ConfigError, load_config
from gaidrl.train.checkpoint import load_checkpoint
from gaidrl.train.precision import BFLOAT16_PROBES, emulated_bfloat16, update_precision
from gaidrl.train.trainer import Trainer

CASES = {
    "td3": ("td3", "Pendulum-v1", {}),
    "sac": ("sac", "Pendulum-v1", {}),
    "dqn": ("dqn", "CartPole-v1", {}),
    "ppo": ("ppo", "CartPole-v1", {}),
    "td3_diffusion_gan": ("td3", "Pendulum-v1", DIFFUSION | GAN),
    "td3_transformer": ("td3", "gaidrl/UAVNearFar-v0", TRANSFORMER),
    "d2sac": ("sac_discrete", "gaidrl/UAVNearFar-v0", D2SAC),
}


def bf16_config(case: str, total_steps: int = 300, precision: str = "bfloat16") -> dict:
    algo, env_id, parts = CASES[case]
    data = config(algo, env_id, parts, total_steps=total_steps)
    if algo == "ppo":
        data["algo"]["params"] = {"n_steps": 64, "n_minibatches": 2, "hidden": [32, 32]}
    if case == "td3_transformer":
        data["env"]["kwargs"]["obs_mode"] = "tokens"
    if case == "d2sac":
        data["env"]["kwargs"]["action_mode"] = "discrete"
    data["precision"] = precision
    return data


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_algorithm_and_part_trains_in_bfloat16(case, tmp_path):
    trainer = Trainer.create(load_config(data=bf16_config(case)), tmp_path / case)
    before = [p.detach().clone() for p in trainer.agent.parameters()]
    trainer.run()
    after = list(trainer.agent.parameters())
    assert all(p.dtype == torch.float32 for p in after)  # master weights stay float32
    assert any(not torch.equal(a, b) for a, b in zip(before, after, strict=True))
    losses = [float(v) for r in metric_rows(tmp_path / case) for k, v in r.items()
              if k.startswith("loss/") and v != ""]  # fmt: skip
    assert losses and all(math.isfinite(v) for v in losses)
    trainer.close()


def test_bfloat16_changes_the_numbers_and_resumes_exactly(tmp_path):
    data = bf16_config("td3", total_steps=600)
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    Trainer.create(load_config(data=data), whole).run()
    Trainer.create(load_config(data=data, overrides=["trainer.total_steps=300"]), parts).run()
    Trainer.resume(parts, load_config(data=data)).run()
    assert metric_rows(whole) == metric_rows(parts)
    a = load_checkpoint(whole / "checkpoints" / "final.pt")["agent"]["modules"]
    b = load_checkpoint(parts / "checkpoints" / "final.pt")["agent"]["modules"]
    assert all(torch.equal(a[k], b[k]) for k in a)
    fp32 = tmp_path / "fp32"
    Trainer.create(load_config(data=bf16_config("td3", 600, "float32")), fp32).run()
    last = {k: v for k, v in metric_rows(whole)[-1].items() if k.startswith("loss/")}
    assert last != {k: metric_rows(fp32)[-1][k] for k in last}


def test_resume_refuses_another_precision(tmp_path):
    Trainer.create(load_config(data=bf16_config("td3")), tmp_path / "r").run()
    with pytest.raises(ConfigError, match="precision"):
        Trainer.resume(tmp_path / "r", load_config(data=bf16_config("td3", 600, "float32")))


def test_an_unknown_precision_is_refused_naming_the_choices():
    with pytest.raises(ConfigError, match=r"precision.*'float32'.*'bfloat16'"):
        load_config(data=bf16_config("td3", precision="float16"))
    with pytest.raises(ValueError, match="float32, bfloat16"):
        update_precision(torch.device("cpu"), "int8")


@pytest.mark.parametrize("native", [False, True])
def test_bfloat16_on_a_cpu_that_emulates_it_is_warned_about(native, monkeypatch, caplog, tmp_path):
    for probe in BFLOAT16_PROBES:
        monkeypatch.setattr(torch.cpu, probe, lambda native=native: native)
    assert emulated_bfloat16(torch.device("cpu")) is not native
    assert not emulated_bfloat16(torch.device("cuda"))
    with caplog.at_level("WARNING", logger="gaidrl.train.trainer"):
        Trainer.create(load_config(data=bf16_config("td3")), tmp_path / "r").close()
        Trainer.create(load_config(data=bf16_config("td3", precision="float32")),
                       tmp_path / "f").close()  # fmt: skip
    warned = [r for r in caplog.records if "emulated" in r.getMessage()]
    assert len(warned) == (0 if native else 1)
