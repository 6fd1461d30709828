"""Where a run's numbers go: CSV files (one row per log / evaluation) and TensorBoard.

CSV columns grow when a new metric appears (losses only exist once learning starts): the file
is then rewritten with the wider header. On resume, rows logged after the checkpoint (by the
run that was killed) are dropped, so the file reads as if the run had never stopped.
"""

from __future__ import annotations

import csv
import logging
import math
import os
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


class CsvLog:
    """Append-only CSV of dict rows with a header that widens as new keys appear."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.columns: list[str] = []
        self.rows: list[dict[str, str]] = []
        if self.path.exists():
            self.columns, self.rows = read_csv(self.path)

    def append(self, row: dict[str, Any]) -> None:
        text = {k: _fmt(v) for k, v in row.items()}
        new = [k for k in text if k not in self.columns]
        self.rows.append(text)
        if new or not self.path.exists():
            self.columns += new
            self._rewrite()
            return
        with self.path.open("a", newline="") as f:
            csv.DictWriter(f, self.columns, restval="").writerow(text)
            f.flush()

    def truncate_after(self, step: int) -> None:
        """Drop rows whose ``step`` is above ``step`` (and unreadable rows) and rewrite."""
        keep = []
        for row in self.rows:
            try:
                if int(row.get("step", "")) <= step:
                    keep.append(row)
            except ValueError:
                continue
        self.rows = keep
        self._rewrite()

    def _rewrite(self) -> None:
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        with tmp.open("w", newline="") as f:
            writer = csv.DictWriter(f, self.columns, restval="")
            writer.writeheader()
            writer.writerows(self.rows)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)


def read_csv(path: str | Path) -> tuple[list[str], list[dict[str, str]]]:
    """Header and rows of a CSV log; a torn last line (killed mid-write) is skipped."""
    with Path(path).open(newline="") as f:
        reader = csv.reader(f)
        header = next(reader, [])
        rows = [dict(zip(header, r, strict=True)) for r in reader if len(r) == len(header)]
    return header, rows


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else str(value)
    return str(value)


class RunLogger:
    """metrics.csv, eval.csv and TensorBoard events of one run folder."""

    def __init__(
        self, run_dir: str | Path, tensorboard: bool = True, resume_step: int | None = None
    ):
        self.run_dir = Path(run_dir)
        self.metrics = CsvLog(self.run_dir / "metrics.csv")
        self.evals = CsvLog(self.run_dir / "eval.csv")
        if resume_step is not None:
            self.metrics.truncate_after(resume_step)
            self.evals.truncate_after(resume_step)
        self.tb = None
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:  # tensorboard is a dependency, but keep training without it
                log.warning("tensorboard is not importable; writing CSV logs only")
            else:
                purge = None if resume_step is None else resume_step + 1
                self.tb = SummaryWriter(str(self.run_dir / "tensorboard"), purge_step=purge)

    def log_train(self, step: int, row: dict[str, Any]) -> None:
        self.metrics.append({"step": step, **row})
        self._scalars("train", step, row)

    def log_eval(self, step: int, row: dict[str, Any]) -> None:
        self.evals.append({"step": step, **row})
        self._scalars("eval", step, row)

    def _scalars(self, prefix: str, step: int, row: dict[str, Any]) -> None:
        if self.tb is None:
            return
        for key, value in row.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                self.tb.add_scalar(f"{prefix}/{key}", value, step)
        self.tb.flush()

    def close(self) -> None:
        if self.tb is not None:
            self.tb.close()
            self.tb = None
