"""How close generated samples are to real ones: the kernel two-sample statistic (MMD)."""

from __future__ import annotations

from collections.abc import Sequence

import torch


def mmd_rbf(
    x: torch.Tensor, y: torch.Tensor, bandwidths: Sequence[float] = (0.5, 1.0, 2.0)
) -> float:
    """Unbiased squared maximum mean discrepancy between samples ``x`` (n, d) and ``y`` (m, d)
    with a sum of RBF kernels of the given ``bandwidths``: about 0 when both come from one
    distribution, larger the more they differ (Gretton et al. 2012)."""
    if x.dim() != 2 or y.dim() != 2 or x.shape[1] != y.shape[1] or len(x) < 2 or len(y) < 2:
        raise ValueError(f"x and y must be (n >= 2, d) with one d, got {tuple(x.shape)}, "
                         f"{tuple(y.shape)}")  # fmt: skip
    both = torch.cat([x, y]).double()
    d2 = torch.cdist(both, both).pow(2)
    k = sum(torch.exp(-d2 / (2 * b**2)) for b in bandwidths)
    n, m = len(x), len(y)
    kxx, kyy, kxy = k[:n, :n], k[n:, n:], k[:n, n:]
    return float(
        (kxx.sum() - kxx.diag().sum()) / (n * (n - 1))
        + (kyy.sum() - kyy.diag().sum()) / (m * (m - 1))
        - 2 * kxy.mean()
    )
