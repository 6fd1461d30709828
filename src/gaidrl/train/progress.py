"""The training progress bar the CLI and the demo show (library code itself never prints)."""

from __future__ import annotations

import sys
import time
from typing import Any


class ProgressBar:
    """A rich progress bar showing steps, steps/s and the last episode return."""

    def __init__(self, enabled: bool):
        self.enabled = enabled and sys.stderr.isatty()
        self._bar = None
        self._task = None
        self._last = 0.0

    def __enter__(self) -> ProgressBar:
        if self.enabled:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
            )

            self._bar = Progress(
                TextColumn("[bold]train"), BarColumn(), MofNCompleteColumn(),
                TextColumn("{task.fields[sps]:>8} steps/s"),
                TextColumn("last return {task.fields[ret]}"), TimeRemainingColumn(),
                transient=False,
            )  # fmt: skip
            self._bar.__enter__()
            self._task = self._bar.add_task("train", total=None, sps="-", ret="-")
        return self

    def update(self, p: Any) -> None:
        if self._bar is None:
            return
        now = time.monotonic()
        if now - self._last < 0.1 and p.step < p.total_steps:
            return
        self._last = now
        ret = "-" if p.last_return is None else f"{p.last_return:.4g}"
        self._bar.update(self._task, completed=p.step, total=p.total_steps,
                         sps=f"{p.steps_per_s:.0f}", ret=ret)  # fmt: skip

    def __exit__(self, *exc: Any) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)
