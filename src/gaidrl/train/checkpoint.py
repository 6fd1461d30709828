"""Checkpoints: atomic writes, and loads that never execute pickled code.

A checkpoint is a nested structure of tensors, numpy arrays, python scalars, strings, lists,
tuples and dicts. Numpy arrays are stored as tensors tagged with ``NUMPY_TAG`` so they come
back as numpy arrays of the same dtype; everything loads with ``torch.load(weights_only=True)``,
which refuses any other pickled object. A write goes to a temporary file in the same folder,
is flushed to disk, then renamed over the target, so a crash never leaves a half-written
``last.pt`` behind.
"""

from __future__ import annotations

import os
import pickle
import tempfile
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
import torch

NUMPY_TAG = "__gaidrl_numpy__"
NUMPY_SCALAR_TAG = "__gaidrl_numpy_scalar__"
FORMAT_VERSION = 1


class CheckpointError(RuntimeError):
    """A checkpoint could not be written or read."""


class UnsafeCheckpointError(CheckpointError):
    """A checkpoint holds pickled objects that a safe load will not execute."""


def encode(value: Any, path: str = "state") -> Any:
    """Turn numpy arrays and scalars into tagged tensors; refuse anything not plain data."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu()
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biufc":
            raise CheckpointError(
                f"{path}: numpy arrays of dtype {value.dtype} cannot be saved safely; "
                "use numeric or bool arrays"
            )
        return {NUMPY_TAG: torch.from_numpy(np.ascontiguousarray(value).copy())}
    if isinstance(value, np.generic):
        if value.dtype.kind not in "biufc":
            return value.item()
        return {NUMPY_SCALAR_TAG: torch.from_numpy(np.asarray(value).reshape(1).copy())}
    if value is None or type(value) in (bool, int, float, str, bytes):
        return value
    for plain in (bool, int, float, str, bytes):  # subclasses (TorchVersion...) would pickle
        if isinstance(value, plain):
            return plain(value)
    if isinstance(value, OrderedDict):  # module state_dicts: keep the type and its _metadata
        out = OrderedDict((k, encode(v, f"{path}.{k}")) for k, v in value.items())
        if hasattr(value, "_metadata"):
            out._metadata = value._metadata  # type: ignore[attr-defined]
        return out
    if isinstance(value, dict):
        return {k: encode(v, f"{path}.{k}") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        items = [encode(v, f"{path}[{i}]") for i, v in enumerate(value)]
        return items if isinstance(value, list) else tuple(items)
    raise CheckpointError(
        f"{path}: objects of type {type(value).__name__} cannot go into a checkpoint; "
        "give plain tensors, numpy arrays, numbers, strings, lists or dicts"
    )


def decode(value: Any) -> Any:
    """Inverse of :func:`encode`: tagged tensors become numpy arrays again."""
    if isinstance(value, OrderedDict):
        out = OrderedDict((k, decode(v)) for k, v in value.items())
        if hasattr(value, "_metadata"):
            out._metadata = value._metadata  # type: ignore[attr-defined]
        return out
    if isinstance(value, dict):
        if set(value) == {NUMPY_TAG}:
            return value[NUMPY_TAG].numpy()
        if set(value) == {NUMPY_SCALAR_TAG}:
            return value[NUMPY_SCALAR_TAG].numpy()[0]
        return {k: decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v) for v in value]
    if isinstance(value, tuple):
        return tuple(decode(v) for v in value)
    return value


def save_checkpoint(state: dict[str, Any], path: str | os.PathLike) -> Path:
    """Write ``state`` to ``path`` atomically (temp file in the same folder, fsync, rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"format_version": FORMAT_VERSION, "state": encode(state)}
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(payload, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
    return path


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (best effort: not every platform can open a folder)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint` without executing pickled code."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint file at {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        raise UnsafeCheckpointError(
            f"refusing to load {path}: it holds pickled Python objects other than tensors, "
            f"arrays, numbers and strings, and loading them could run code ({_culprit(err)})"
        ) from err
    except (RuntimeError, EOFError, OSError, ValueError) as err:
        raise CheckpointError(f"cannot read checkpoint {path}: {err}") from err
    if not isinstance(payload, dict) or "state" not in payload:
        raise CheckpointError(f"{path} is not a gaidrl checkpoint (no 'state' entry)")
    version = payload.get("format_version")
    if version != FORMAT_VERSION:
        raise CheckpointError(
            f"{path} has checkpoint format {version!r}; this gaidrl reads {FORMAT_VERSION}"
        )
    return decode(payload["state"])


def _culprit(err: Exception) -> str:
    """The line of torch's long weights-only error that names the refused global."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    for line in lines:
        if "Unsupported global" in line or "WeightsUnpickler error" in line:
            return line.split(" was not an allowed global")[0].split(". Please use")[0]
    return lines[0] if lines else type(err).__name__
