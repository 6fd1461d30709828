"""Workers and torch threads per worker: never more threads than cores, nor than a caller's
OMP_NUM_THREADS."""

import pytest

from gaidrl.experiments import backends
from gaidrl.experiments.config import ConfigError


@pytest.mark.parametrize(("cap", "workers", "threads"),
                         [(None, 1, 8), (None, 3, 2), (None, 16, 1), ("1", 1, 1), ("4", 2, 4),
                          ("16", 2, 4), ("", 2, 4), ("many", 2, 4)])  # fmt: skip
def test_threads_are_the_cores_left_per_worker_capped_by_omp_num_threads(
    monkeypatch, cap, workers, threads
):
    monkeypatch.setattr(backends.os, "cpu_count", lambda: 8)
    if cap is None:
        monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    else:
        monkeypatch.setenv("OMP_NUM_THREADS", cap)
    backend = backends.make_backend("local", workers=workers)
    assert (backend.workers, backend.threads) == (workers, threads)


def test_workers_default_to_the_cores_and_must_be_positive(monkeypatch):
    monkeypatch.setattr(backends.os, "cpu_count", lambda: 6)
    assert backends.make_backend("local").workers == 6
    with pytest.raises(ConfigError, match="--workers must be >= 1"):
        backends.make_backend("local", workers=0)
