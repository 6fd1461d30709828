"""Checkpoints: exact round trip, atomic writes, refusal of pickled code."""

from __future__ import annotations

import collections
import pickle

import numpy as np
import pytest
import torch

from gaidrl.train import checkpoint as ckpt
from gaidrl.train.checkpoint import (
    CheckpointError,
    UnsafeCheckpointError,
    load_checkpoint,
    save_checkpoint,
)


class Payload:
    """A custom class: unpickling it would run arbitrary code in general."""

    def __reduce__(self):
        return (print, ("this must never run",))


def test_round_trip_keeps_types_and_values(tmp_path):
    module_state = torch.nn.Linear(3, 2).state_dict()
    state = {
        "f32": np.arange(6, dtype=np.float32).reshape(2, 3),
        "c128": np.array([1 + 2j, 3 - 1j]),
        "i8": np.array([[1, 0]], dtype=np.int8),
        "bool": np.array([True, False]),
        "scalar": np.float32(1.5),
        "t": torch.ones(2, dtype=torch.float64),
        "module": module_state,
        "nested": {"list": [1, 2.5, None, "x"], "tuple": (np.int64(7), 2**100)},
        "rng": np.random.default_rng(5).bit_generator.state,
        "version": torch.__version__,  # a str subclass: must be stored as a plain str
    }
    save_checkpoint(state, tmp_path / "a.pt")
    back = load_checkpoint(tmp_path / "a.pt")
    for key in ("f32", "c128", "i8", "bool"):
        assert isinstance(back[key], np.ndarray) and back[key].dtype == state[key].dtype
        np.testing.assert_array_equal(back[key], state[key])
    assert isinstance(back["scalar"], np.float32) and back["scalar"] == 1.5
    assert torch.equal(back["t"], state["t"])
    assert isinstance(back["module"], collections.OrderedDict)
    torch.nn.Linear(3, 2).load_state_dict(back["module"])
    assert back["nested"]["list"] == [1, 2.5, None, "x"]
    assert back["nested"]["tuple"] == (7, 2**100) and isinstance(back["nested"]["tuple"], tuple)
    rng = np.random.default_rng()
    rng.bit_generator.state = back["rng"]
    assert rng.random() == np.random.default_rng(5).random()
    assert back["version"] == str(torch.__version__)


def test_unsafe_checkpoint_is_refused_naming_the_file(tmp_path, capsys):
    path = tmp_path / "evil.pt"
    torch.save({"format_version": 1, "state": {"x": Payload()}}, path)
    with pytest.raises(UnsafeCheckpointError) as info:
        load_checkpoint(path)
    message = str(info.value)
    assert str(path) in message and "refusing to load" in message
    assert "print" in message  # names the global it refused
    assert "this must never run" not in capsys.readouterr().out


def test_plain_pickle_of_custom_class_is_refused(tmp_path):
    path = tmp_path / "pickled.pt"
    with path.open("wb") as f:
        pickle.dump({"format_version": 1, "state": Payload()}, f)
    with pytest.raises(CheckpointError, match="pickled.pt"):
        load_checkpoint(path)


def test_objects_that_are_not_plain_data_are_refused_on_save(tmp_path):
    with pytest.raises(CheckpointError, match=r"state\.agent\.thing"):
        save_checkpoint({"agent": {"thing": object()}}, tmp_path / "x.pt")
    with pytest.raises(CheckpointError, match="dtype object"):
        save_checkpoint({"a": np.array([object()])}, tmp_path / "x.pt")
    assert not list(tmp_path.iterdir())


def test_atomic_write_leaves_no_partial_file(tmp_path, monkeypatch):
    path = tmp_path / "last.pt"
    save_checkpoint({"step": 1, "w": np.ones(1000)}, path)
    before = path.read_bytes()

    def crash(obj, f, *args, **kwargs):
        f.write(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(ckpt.torch, "save", crash)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint({"step": 2, "w": np.zeros(1000)}, path)
    assert path.read_bytes() == before  # the old checkpoint is untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.pt"]  # no temp file left
    assert load_checkpoint(path)["step"] == 1


def test_truncated_file_gives_a_clear_error(tmp_path):
    path = tmp_path / "cut.pt"
    save_checkpoint({"w": np.ones(10_000)}, path)
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(CheckpointError, match="cut.pt"):
        load_checkpoint(path)
