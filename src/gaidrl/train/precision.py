"""Numeric precision of gradient updates.

``bfloat16`` runs an update's matrix products in bfloat16 through :func:`torch.autocast`
(CPUs with AVX-512 BF16 or AMX and recent GPUs do them about twice as fast; a CPU without
them emulates bfloat16, about 8x slower than float32) while the parameters,
the optimiser state, the losses (autocast keeps them in float32) and acting stay float32.
bfloat16 keeps float32's range, so no loss scaling is needed. Acting stays float32 because
its batches are small: there the casts would cost more than the products save.
"""

from __future__ import annotations

import contextlib

import torch

PRECISIONS = ("float32", "bfloat16")
# torch.cpu's checks for the instructions that run bfloat16 products natively
BFLOAT16_PROBES = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")


def update_precision(device: torch.device, precision: str) -> contextlib.AbstractContextManager:
    """The context an agent's ``update`` runs in for ``precision`` (one of PRECISIONS)."""
    if precision == "float32":
        return contextlib.nullcontext()
    if precision == "bfloat16":
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")


def emulated_bfloat16(device: torch.device) -> bool:
    """Whether bfloat16 products on ``device`` are emulated: a CPU without AVX-512 BF16 or
    AMX (a probe on an AVX2-only AMD EPYC: a [400, 300] critic update 81 ms in bfloat16,
    9 ms in float32)."""
    if device.type != "cpu":
        return False
    found = [getattr(torch.cpu, name, None) for name in BFLOAT16_PROBES]
    if not any(found):  # torch no longer says: assume the hardware is fine
        return False
    return not any(probe() for probe in found if probe is not None)
