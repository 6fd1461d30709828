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


class SweepProgressBar:
    """A rich bar over a sweep's jobs: done / running / failed and the time left.

    Without a terminal it prints one line per finished job instead, so logs of a sweep run
    under nohup or CI still say what happened.
    """

    def __init__(self, enabled: bool):
        self.enabled = enabled and sys.stderr.isatty()
        self._bar = None
        self._task = None
        self._seen = 0

    def __enter__(self) -> SweepProgressBar:
        if self.enabled:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._bar = Progress(
                TextColumn("[bold]sweep"), BarColumn(), MofNCompleteColumn(),
                TextColumn("{task.fields[state]}"), TimeElapsedColumn(), TextColumn("left"),
                TimeRemainingColumn(), transient=False,
            )  # fmt: skip
            self._bar.__enter__()
            self._task = self._bar.add_task("sweep", total=None, state="")
        return self

    def update(self, state: Any) -> None:
        finished = state.done + state.failed
        if self._bar is None:
            if finished > self._seen and state.last is not None:
                last = state.last
                print(f"[{finished}/{state.total}] {last.get('id')}: {last.get('status')}"
                      + (f" ({last.get('error')})" if last.get("error") else ""),
                      file=sys.stderr, flush=True)  # fmt: skip
            self._seen = finished
            return
        text = f"{state.done} done, {state.running} running, {state.failed} failed"
        if state.skipped:
            text += f" ({state.skipped} finished before)"
        self._bar.update(self._task, completed=finished, total=state.total, state=text)

    def __exit__(self, *exc: Any) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)
