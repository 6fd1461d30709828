"""Typed configuration of one training run, loaded from YAML with ``--set`` overrides.

A run config has these sections::

    seed: 0
    device: cpu                      # cpu | cuda | cuda:N
    precision: float32               # float32 | bfloat16 (mixed precision in updates)
    env:     {id, num_envs, kwargs}  # kwargs go to gym.make / the case-study env
    algo:    {name, params}          # params go to the algorithm's constructor
    parts:   {slot: {name, params}}  # optional parts (actor, critic, encoder, replay...)
    trainer: {total_steps, eval_every, eval_episodes, checkpoint_every, log_every}

Every error names the full key path and what is allowed there, in one line, so the CLI can
show it without a traceback.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator


class ConfigError(ValueError):
    """A run config is wrong; the message names the key path and what is allowed."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class EnvConfig(_Strict):
    """Which environment, how many copies are stepped together, and its options."""

    id: str = Field(description="Gymnasium id, e.g. Pendulum-v1 or gaidrl/UAVNearFar-v0")
    num_envs: int = Field(1, ge=1, description="sub-envs in the training vector env")
    kwargs: dict[str, Any] = Field(
        default_factory=dict,
        description="options of the env (case study: action_mode, obs_mode and any field "
        "of UAVNearFarConfig)",
    )


class AlgoConfig(_Strict):
    """The DRL algorithm and its hyper-parameters (checked against its constructor)."""

    name: str
    params: dict[str, Any] = Field(default_factory=dict)


class PartConfig(_Strict):
    """One part (actor, critic, encoder, replay...) given to the algorithm's constructor."""

    name: str
    params: dict[str, Any] = Field(default_factory=dict)


class TrainerConfig(_Strict):
    """How long to train and how often to evaluate, log and checkpoint (in env steps).

    An env step counts every sub-env: one vector step of 8 sub-envs is 8 env steps.
    """

    total_steps: int = Field(ge=1)
    eval_every: int = Field(10_000, ge=0, description="0: evaluate only at the end")
    eval_episodes: int = Field(10, ge=1)
    checkpoint_every: int = Field(10_000, ge=0, description="0: checkpoint only at the end")
    log_every: int = Field(1_000, ge=1)
    oracle_reference: bool = Field(
        True,
        description="case study: report evaluations as percentages of the planner's and oracle's",
    )
    tensorboard: bool = Field(True, description="also write TensorBoard events")
    keep_best: bool = Field(
        False,
        description="also keep checkpoints/best.pt, the state at the evaluation with the "
        "highest mean return so far; it is chosen on the evaluation seeds, so re-evaluate it "
        "on other seeds before reporting it",
    )


class RunConfig(_Strict):
    """Everything that defines a run; with the seed, everything that fixes its numbers."""

    seed: int = Field(0, ge=0, lt=2**32)
    device: str = "cpu"
    precision: Literal["float32", "bfloat16"] = Field(
        "float32",
        description="bfloat16: gradient updates run their matrix products in bfloat16 "
        "(autocast); parameters, optimiser state, losses and acting stay float32",
    )
    env: EnvConfig
    algo: AlgoConfig
    parts: dict[str, PartConfig] = Field(default_factory=dict)
    trainer: TrainerConfig

    @field_validator("device")
    @classmethod
    def _device(cls, value: str) -> str:
        if value in ("cpu", "cuda") or re.fullmatch(r"cuda:\d+", value):
            return value
        raise ValueError(f"device must be 'cpu', 'cuda' or 'cuda:N', got {value!r}")

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (lists instead of tuples) that YAML and checkpoints can hold."""
        return _plain(self.model_dump(mode="python"))


# ------------------------------------------------------------------ YAML
class _Loader(yaml.SafeLoader):
    """SafeLoader that also reads 1e-3 and 3e5 as floats (YAML 1.1 wants a dot)."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
        |\.[0-9_]+(?:[eE][-+][0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
        re.X,
    ),
    list("-+0123456789."),
)


def parse_scalar(text: str) -> Any:
    """Parse a ``--set`` value as a YAML scalar (or flow list/dict): 3 -> int, 1e-3 -> float."""
    try:
        return yaml.load(text, Loader=_Loader) if text.strip() else ""
    except yaml.YAMLError as err:
        raise ConfigError(f"cannot parse value {text!r}: {err}") from err


def read_yaml(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist")
    try:
        data = yaml.load(path.read_text(), Loader=_Loader)
    except yaml.YAMLError as err:
        raise ConfigError(f"{path} is not valid YAML: {err}") from err
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a mapping of sections (env, algo, trainer...)")
    return data


def dump_yaml(config: RunConfig, path: str | Path) -> None:
    Path(path).write_text(yaml.safe_dump(config.to_dict(), sort_keys=False))


# ------------------------------------------------------------------ overrides
def apply_overrides(data: dict[str, Any], assignments: Iterable[str]) -> dict[str, Any]:
    """Apply ``key.sub=value`` assignments to a raw config dict (a new dict is returned)."""
    data = _copy(data)
    for assignment in assignments:
        key, sep, text = assignment.partition("=")
        key = key.strip()
        if not sep or not key or any(not part for part in key.split(".")):
            raise ConfigError(f"--set expects key.sub=value, got {assignment!r}")
        set_path(data, key, parse_scalar(text))
    return data


def set_path(data: dict[str, Any], key: str, value: Any) -> None:
    """Set ``data[a][b][c] = value`` for key ``a.b.c``, creating missing mappings."""
    parts = key.split(".")
    node = data
    for depth, part in enumerate(parts[:-1]):
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            where = ".".join(parts[: depth + 1])
            raise ConfigError(f"cannot set {key}: {where} is a value ({child!r}), not a section")
        node = child
    node[parts[-1]] = value


# ------------------------------------------------------------------ validation
def build_config(data: dict[str, Any]) -> RunConfig:
    """Validate a raw dict; any problem becomes a one-line :class:`ConfigError`."""
    try:
        return RunConfig.model_validate(data)
    except ValidationError as err:
        raise ConfigError(format_validation_error(err)) from None


def load_config(
    path: str | Path | None = None,
    overrides: Iterable[str] = (),
    data: dict[str, Any] | None = None,
) -> RunConfig:
    """Read YAML (or take ``data``), apply ``--set`` overrides, validate."""
    raw = read_yaml(path) if path is not None else dict(data or {})
    return build_config(apply_overrides(raw, overrides))


def format_validation_error(err: ValidationError) -> str:
    """First error of a pydantic ValidationError as 'path: problem; allowed: ...'."""
    messages = []
    for e in err.errors():
        loc = tuple(e["loc"])
        path = ".".join(str(p) for p in loc) or "<config>"
        kind = e["type"]
        if kind == "extra_forbidden":
            allowed = _allowed_keys(loc[:-1])
            messages.append(f"unknown key '{path}'; allowed keys here: {', '.join(allowed)}")
        elif kind == "missing":
            messages.append(f"missing key '{path}'")
        else:
            msg = e["msg"].removeprefix("Value error, ")
            hint = _field_hint(loc)
            got = repr(e.get("input"))
            shown = "" if got in msg else f" (got {got})"
            messages.append(f"bad value for '{path}': {msg}{shown}" + (f"; {hint}" if hint else ""))
    return messages[0] if len(messages) == 1 else " | ".join(messages)


def _model_at(loc: tuple) -> type[BaseModel] | None:
    """The model class that holds the keys at ``loc`` (None if not a model)."""
    model: Any = RunConfig
    i = 0
    while i < len(loc):
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return None
        field = model.model_fields.get(str(loc[i]))
        if field is None:
            return None
        ann = field.annotation
        if typing.get_origin(ann) is dict:
            ann = typing.get_args(ann)[1]
            i += 1  # skip the free-form dict key
        model = ann
        i += 1
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _allowed_keys(loc: tuple) -> list[str]:
    model = _model_at(loc)
    return sorted(model.model_fields) if model is not None else []


def _field_hint(loc: tuple) -> str:
    model = _model_at(loc[:-1])
    if model is None or not loc:
        return ""
    field = model.model_fields.get(str(loc[-1]))
    return f"{loc[-1]}: {field.description}" if field is not None and field.description else ""


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
