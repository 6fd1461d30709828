"""``gaidrl archive``: a sweep's results without its checkpoints, small enough to commit.

A sweep folder holds, per trial, checkpoints (the replay buffer included: megabytes to
gigabytes) and TensorBoard logs beside a few small files that say what ran and how it ended.
The archive keeps only those: the manifest and spec, and per job ``trial.json`` (status and
held-out metrics), ``config.yaml``, ``metrics.csv`` and ``eval.csv``. From it, ``gaidrl
report`` rebuilds every table and curve (not the trajectory pictures, which need the trained
agents), and a sweep continues from it elsewhere: copy it to a folder and run the same sweep
with ``--out`` there, and its finished trials are skipped. So a measurement too long for one
machine's session can be run in parts, and a published table can be checked against its
trials.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from gaidrl.experiments.config import ConfigError
from gaidrl.experiments.sweep import SPEC_FILE
from gaidrl.experiments.trial import MANIFEST, STATUS_FILE, job_dir

JOB_FILES = (STATUS_FILE, "config.yaml", "metrics.csv", "eval.csv")


def archive_sweep(source: str | Path, dest: str | Path) -> list[Path]:
    """Copy the small result files of the sweep in ``source`` to ``dest`` (which must not
    exist or be empty); returns the files written. Jobs not started have no files."""
    source, dest = Path(source), Path(dest)
    manifest_path = source / MANIFEST
    if not manifest_path.is_file():
        raise ConfigError(
            f"{source} is not a sweep folder (no {MANIFEST}); gaidrl archive "
            "takes the folder of a sweep, of a tune's final/ or of reproduce"
        )
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise ConfigError(f"{dest} exists and is not empty; pass a new folder")
    if dest.resolve().is_relative_to(source.resolve()):
        raise ConfigError(f"{dest} lies inside the sweep folder {source}; pass another folder")
    jobs = json.loads(manifest_path.read_text())["jobs"]
    relative = [Path(MANIFEST), Path(SPEC_FILE)]
    relative += [job_dir(Path(), job) / name for job in jobs for name in JOB_FILES]
    written = []
    for path in relative:
        if (source / path).is_file():
            (dest / path).parent.mkdir(parents=True, exist_ok=True)
            written.append(Path(shutil.copy2(source / path, dest / path)))
    return written
