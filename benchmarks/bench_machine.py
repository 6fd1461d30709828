"""What machine a benchmark ran on: shared by the benchmark scripts (run from this folder)."""

from __future__ import annotations

import platform

from gaidrl.experiments.machine import cpu_name  # noqa: F401  (re-exported for the scripts)


def run_facts() -> dict[str, str]:
    """Machine, library versions and time of a run, for a benchmark's JSON line."""
    import datetime

    import gymnasium
    import numpy
    import torch

    import gaidrl

    return {
        "cpu": cpu_name(), "python": platform.python_version(), "torch": torch.__version__,
        "numpy": numpy.__version__, "gymnasium": gymnasium.__version__,
        "gaidrl": gaidrl.__version__,
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
    }  # fmt: skip


def json_safe(value):
    """JSON has no infinity: an infinite figure (a one-seed interval) becomes null."""
    import math

    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_safe(v) for v in value]
    return value
