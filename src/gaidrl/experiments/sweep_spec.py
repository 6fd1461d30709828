"""A sweep file: named variants of a run config, a grid of overrides and seeds -> trials.

    name: gdm-vs-plain
    config: configs/td3_uav.yaml          # base run config (relative to this file or cwd)
    set: {trainer.total_steps: 20000}     # overrides for every trial
    variants:                             # each: its own config and/or overrides
      td3: {}
      td3_diffusion: {config: configs/td3_uav_diffusion.yaml}
    baseline: td3                         # what the others are compared with (default: first)
    grid: {env.kwargs.preset: [paper, urban_split]}   # cartesian product; one task per point
    seeds: 5                              # 0..4, or a list
    evaluation: {episodes: 20, seed0: 80000}          # held-out layouts for the final figure

A trial is one (variant, grid point, seed): a normal run folder under the sweep folder. Grid
points are the "tasks" of the statistics (seeds are resampled within each).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from gaidrl.experiments.config import (
    ConfigError,
    apply_overrides,
    build_config,
    read_yaml,
    set_path,
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class VariantSpec(_Strict):
    """One variant: a run config file (default: the sweep's) plus overrides."""

    config: str | None = Field(None, description="run config file; default: the sweep's config")
    set: dict[str, Any] = Field(default_factory=dict, description="key.sub: value overrides")
    baseline: str | None = Field(
        None, description="the variant this one is compared with (default: the sweep's baseline)"
    )
    label: str | None = Field(None, description="name shown in reports")


class EvaluationSpec(_Strict):
    """The final greedy evaluation of every trial, on layouts no trial trained or tuned on."""

    episodes: int = Field(10, ge=1)
    seed0: int = Field(
        900_000, ge=0, description="first evaluation seed (consecutive seeds from there)"
    )

    def seeds(self) -> list[int]:
        return list(range(self.seed0, self.seed0 + self.episodes))


class SweepSpec(_Strict):
    """Everything a sweep runs; its expansion into trials is deterministic."""

    name: str = "sweep"
    config: str | None = Field(None, description="base run config file of every variant")
    set: dict[str, Any] = Field(default_factory=dict, description="overrides for every trial")
    variants: dict[str, VariantSpec] = Field(default_factory=lambda: {"default": VariantSpec()})
    baseline: str | None = Field(None, description="variant compared against (default: first)")
    grid: dict[str, list[Any]] = Field(default_factory=dict)
    seeds: int | list[int] = Field(3, description="a count (0..N-1) or a list of seeds")
    evaluation: EvaluationSpec = Field(default_factory=EvaluationSpec)
    root: str = Field(".", description="folder that relative config paths start from")
    notes: list[str] = Field(default_factory=list, description="shown at the top of reports")

    @field_validator("variants")
    @classmethod
    def _names(cls, value: dict[str, VariantSpec]) -> dict[str, VariantSpec]:
        if not value:
            raise ValueError("a sweep needs at least one variant")
        for name in value:
            if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name):
                raise ValueError(f"variant name {name!r} must be letters, digits, '_', '-', '.'")
        return value

    @field_validator("seeds")
    @classmethod
    def _seeds(cls, value: int | list[int]) -> int | list[int]:
        seeds = list(range(value)) if isinstance(value, int) else value
        if not seeds or len(set(seeds)) != len(seeds) or min(seeds) < 0:
            raise ValueError("seeds must be a count >= 1 or a list of distinct seeds >= 0")
        return value

    @field_validator("grid")
    @classmethod
    def _grid(cls, value: dict[str, list[Any]]) -> dict[str, list[Any]]:
        for key, values in value.items():
            if not values:
                raise ValueError(f"grid key {key!r} needs at least one value")
        return value

    @model_validator(mode="after")
    def _baselines(self) -> SweepSpec:
        named = {"baseline": self.baseline} | {
            f"variants.{v}.baseline": spec.baseline for v, spec in self.variants.items()
        }
        for key, base in named.items():
            if base is not None and base not in self.variants:
                raise ValueError(f"{key} {base!r} is not a variant; variants: "
                                 f"{', '.join(self.variants)}")  # fmt: skip
        return self

    # ------------------------------------------------------------------ derived
    def seed_list(self) -> list[int]:
        return list(range(self.seeds)) if isinstance(self.seeds, int) else list(self.seeds)

    def baseline_of(self, variant: str) -> str | None:
        """The variant ``variant`` is compared with (None for the baseline itself)."""
        base = self.variants[variant].baseline or self.baseline or next(iter(self.variants))
        return None if base == variant else base

    def points(self) -> list[dict[str, Any]]:
        keys = list(self.grid)
        return [dict(zip(keys, combo, strict=True))
                for combo in itertools.product(*(self.grid[k] for k in keys))]  # fmt: skip


@dataclass(frozen=True)
class Trial:
    """One run of the sweep: its id (also its folder under ``trials/``) and full config."""

    id: str
    variant: str
    task: str
    point: dict[str, Any]
    seed: int
    config: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "variant": self.variant, "task": self.task, "point": self.point,
                "seed": self.seed, "config": self.config}  # fmt: skip


def task_name(point: dict[str, Any]) -> str:
    """A grid point as a short, file-safe name: 'preset=paper,obs=compact' -> 'paper-compact'."""
    if not point:
        return "default"
    text = "-".join(str(v) for v in point.values())
    return re.sub(r"[^A-Za-z0-9_.=-]+", "_", text)[:80]


def expand(spec: SweepSpec) -> list[Trial]:
    """All trials, ordered seed-major so an interrupted sweep has every variant alike."""
    root = Path(spec.root)
    base_raw = read_yaml(_resolve(spec.config, root)) if spec.config else None
    raws = {variant: read_yaml(_resolve(vspec.config, root)) if vspec.config else base_raw
            for variant, vspec in spec.variants.items()}  # fmt: skip
    trials = []
    points = spec.points()
    names = [task_name(p) for p in points]
    if len(set(names)) != len(names):
        raise ConfigError("grid points must give distinct task names; shorten the grid values")
    for seed in spec.seed_list():
        for point, task in zip(points, names, strict=True):
            for variant, vspec in spec.variants.items():
                raw = raws[variant]
                if raw is None:
                    raise ConfigError(f"variants.{variant}: no config (set config: at the top "
                                      "or in the variant)")  # fmt: skip
                data = apply_overrides(raw, [])  # a deep copy: variants share a base file
                for key, value in {**spec.set, **vspec.set, **point}.items():
                    set_path(data, key, value)
                data["seed"] = seed
                try:
                    config = build_config(data)
                except ConfigError as err:
                    raise ConfigError(f"variant {variant!r}, task {task!r}: {err}") from None
                trial_id = f"{variant}--{task}--s{seed}"
                trials.append(Trial(trial_id, variant, task, point, seed, config.to_dict()))
    return trials


def load_sweep_spec(path: str | Path, overrides: dict[str, Any] | None = None) -> SweepSpec:
    """Read a sweep file; relative config paths are taken from its folder, else the cwd."""
    path = Path(path)
    data = read_yaml(path)
    data.setdefault("root", str(path.parent))
    for key, value in (overrides or {}).items():
        data[key] = value
    return build_sweep_spec(data)


def build_sweep_spec(data: dict[str, Any]) -> SweepSpec:
    try:
        return SweepSpec.model_validate(data)
    except ValidationError as err:
        raise ConfigError(_sweep_error(err)) from None


def spec_digest(trials: list[Trial], spec: SweepSpec) -> str:
    """What a restarted sweep must match to continue an existing sweep folder."""
    payload = {"trials": [t.to_dict() for t in trials], "evaluation": spec.evaluation.model_dump()}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def _resolve(path: str, root: Path) -> Path:
    """A config path: as given if it exists (cwd-relative or absolute), else from ``root``."""
    candidate = Path(path)
    if candidate.is_absolute() or candidate.exists():
        return candidate
    return root / candidate


def _sweep_error(err: ValidationError) -> str:
    first = err.errors()[0]
    loc = ".".join(str(p) for p in first["loc"])
    if first["type"] == "extra_forbidden":
        model = VariantSpec if loc.startswith("variants.") else (
            EvaluationSpec if loc.startswith("evaluation.") else SweepSpec)  # fmt: skip
        allowed = ", ".join(sorted(model.model_fields))
        return f"sweep file: unknown key '{loc}'; allowed keys here: {allowed}"
    if first["type"] == "missing":
        return f"sweep file: missing key '{loc}'"
    msg = first["msg"].removeprefix("Value error, ")
    return f"sweep file: bad value for '{loc or '<file>'}': {msg} (got {first.get('input')!r})"
