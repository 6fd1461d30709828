"""What machine a trial ran on, recorded in its ``trial.json``: a sweep continued elsewhere
(from an archive, or on a cluster) mixes machines, and the same seed repeats bit for bit only
on the same kind of CPU, while env-steps/s compare only within one."""

from __future__ import annotations

import platform


def cpu_name() -> str:
    """The CPU model from /proc/cpuinfo, else whatever the platform module knows."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_facts() -> dict[str, str]:
    """CPU model, the instruction set torch's CPU kernels use, and the torch version."""
    import torch

    return {"cpu": cpu_name(), "cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "torch": torch.__version__}  # fmt: skip


def machine_label(facts: dict[str, str]) -> str:
    """One line for a report: ``CPU model (capability)``."""
    return f"{facts.get('cpu', '?')} ({facts.get('cpu_capability', '?')})"
