"""Where a sweep's jobs run: a local process pool (the default) or Ray tasks.

Both run :func:`gaidrl.experiments.trial.run_job` and yield ``(job, status)`` as jobs end,
in the order they end, and ``None`` now and then while jobs run (a heartbeat for displays).
Stopping the iteration (Ctrl-C included) stops the running jobs
cleanly: each gets an interrupt, its last checkpoint stays as it was, and it resumes from
there when the sweep is started again.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

from gaidrl.experiments.config import ConfigError
from gaidrl.experiments.trial import job_dir, read_status, run_job

BACKENDS = ("local", "ray")
LOG_FILE = "worker.log"
STOP_GRACE_S = 30.0
Event = tuple[dict[str, Any], dict[str, Any]] | None


class Backend(Protocol):
    workers: int
    threads: int

    def execute(self, sweep_dir: Path, jobs: list[dict[str, Any]]
                ) -> Iterator[Event]: ...  # fmt: skip

    def running(self) -> int: ...


def make_backend(name: str, workers: int | None = None, address: str | None = None) -> Backend:
    """A backend by name; ``workers`` defaults to the machine's cores, torch threads per
    worker to the cores left per worker (at least one), so workers never oversubscribe; an
    ``OMP_NUM_THREADS`` already set (by a caller sharing the machine) caps the threads."""
    cores = os.cpu_count() or 1
    if workers is not None and workers < 1:
        raise ConfigError(f"--workers must be >= 1, got {workers}")
    workers = workers or cores
    threads = max(1, cores // workers)
    cap = os.environ.get("OMP_NUM_THREADS", "")
    if cap.isdigit() and int(cap) > 0:
        threads = min(threads, int(cap))
    if name == "local":
        if address is not None:
            raise ConfigError("--address is for the ray backend; drop it or add --backend ray")
        return LocalBackend(workers, threads)
    if name == "ray":
        return RayBackend(workers, threads, address)
    raise ConfigError(f"unknown backend {name!r}; allowed: {', '.join(BACKENDS)}")


class LocalBackend:
    """Each job in its own Python process, ``workers`` at a time: a trial that crashes or
    leaks cannot take the others down, and its output lands in the job folder's worker.log."""

    def __init__(self, workers: int, threads: int):
        self.workers, self.threads = workers, threads
        self._procs: dict[int, tuple[subprocess.Popen, dict[str, Any]]] = {}

    def running(self) -> int:
        return len(self._procs)

    def execute(self, sweep_dir: Path, jobs: list[dict[str, Any]]
                ) -> Iterator[Event]:  # fmt: skip
        queue = list(jobs)
        try:
            while queue or self._procs:
                while queue and len(self._procs) < self.workers:
                    job = queue.pop(0)
                    proc = self._start(sweep_dir, job)
                    self._procs[proc.pid] = (proc, job)
                for pid, (proc, job) in list(self._procs.items()):
                    code = proc.poll()
                    if code is None:
                        continue
                    del self._procs[pid]
                    yield job, _finished_status(sweep_dir, job, code)
                yield None  # a heartbeat: the display refreshes its running count and clock
                time.sleep(0.2)
        finally:
            self._stop_all()

    def _start(self, sweep_dir: Path, job: dict[str, Any]) -> subprocess.Popen:
        folder = job_dir(sweep_dir, job)
        folder.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
            env[var] = str(self.threads)
        cmd = [sys.executable, "-m", "gaidrl.experiments.trial", str(sweep_dir), job["id"],
               "--threads", str(self.threads)]  # fmt: skip
        with (folder / LOG_FILE).open("ab") as log:
            # a session of its own: a Ctrl-C at the terminal reaches the sweep, which then
            # interrupts each job once (twice could cut its status write short)
            return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env,
                                    start_new_session=True)  # fmt: skip

    def _stop_all(self) -> None:
        for proc, _ in self._procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        deadline = time.monotonic() + STOP_GRACE_S
        for proc, _ in self._procs.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._procs.clear()


def _finished_status(sweep_dir: Path, job: dict[str, Any], code: int) -> dict[str, Any]:
    """The job's own status file, or a failure naming the exit code and the log's end when
    the worker died before it could write one (killed, out of memory, segfault)."""
    status = read_status(sweep_dir, job)
    if status is not None and status.get("status") in ("done", "failed", "interrupted"):
        return status
    log = job_dir(sweep_dir, job) / LOG_FILE
    tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
    return {"id": job["id"], "kind": job["kind"], "status": "failed",
            "error": f"worker exited with code {code} before recording a result",
            "traceback": tail}  # fmt: skip


class RayBackend:
    """The same jobs as Ray tasks: on a local Ray started here (``workers`` CPUs) or, with
    ``address``, on an existing cluster (the sweep folder must then be on storage that every
    node sees at the same path)."""

    def __init__(self, workers: int, threads: int, address: str | None):
        try:
            import ray  # noqa: F401
        except ImportError:
            raise ConfigError("the ray backend needs Ray: pip install 'gaidrl[ray]'") from None
        self.workers, self.threads, self.address = workers, threads, address
        self._pending: dict[Any, dict[str, Any]] = {}

    def running(self) -> int:
        return min(len(self._pending), self.workers)

    def execute(self, sweep_dir: Path, jobs: list[dict[str, Any]]
                ) -> Iterator[Event]:  # fmt: skip
        import ray

        started_here = not ray.is_initialized()
        if started_here:
            kwargs: dict[str, Any] = {"address": self.address, "include_dashboard": False,
                                      "log_to_driver": False}  # fmt: skip
            if self.address is None:
                kwargs["num_cpus"] = self.workers * self.threads
            ray.init(**kwargs)
        task = ray.remote(num_cpus=self.threads, max_retries=0)(run_job)
        sweep = str(Path(sweep_dir).resolve())
        self._pending = {task.remote(sweep, job, self.threads): job for job in jobs}
        try:
            while self._pending:
                done, _ = ray.wait(list(self._pending), num_returns=1, timeout=1.0)
                if not done:
                    yield None
                for ref in done:
                    job = self._pending.pop(ref)
                    yield job, self._result(ray, ref, sweep_dir, job)
        finally:
            for ref in self._pending:
                ray.cancel(ref)
            self._pending.clear()
            if started_here:
                ray.shutdown()

    @staticmethod
    def _result(ray: Any, ref: Any, sweep_dir: Path, job: dict[str, Any]) -> dict[str, Any]:
        try:
            return ray.get(ref)
        except Exception as err:  # the task died (its node, memory): recorded as a failure
            status = read_status(sweep_dir, job)
            if status is not None and status.get("status") in ("done", "failed"):
                return status
            return {"id": job["id"], "kind": job["kind"], "status": "failed",
                    "error": f"ray task failed: {type(err).__name__}: {err}",
                    "traceback": ""}  # fmt: skip
