"""The 8-Gaussians data, a mode-free ring baseline and the MMD the generative tests share."""

from __future__ import annotations

import math

import torch

from gaidrl.generative import metrics

# 8 modes on a circle of radius 2 with std 0.2, divided by 2.5 to sit inside [-1, 1].
RADIUS, MODE_STD, SCALE = 2.0 / 2.5, 0.2 / 2.5, 2.5
MODE_RADIUS = 3 * MODE_STD  # a sample "is in" a mode within 3 std of its centre
MODE_SHARE = 0.03  # a mode is covered with >= 3 % of the samples (the data puts 12.5 %)
MMD_BANDWIDTHS = (0.05, 0.2, 0.8)  # below, at and above the scale of one mode


def mode_centres() -> torch.Tensor:
    angle = torch.arange(8) * (2 * math.pi / 8)
    return RADIUS * torch.stack([angle.cos(), angle.sin()], dim=1)


def eight_gaussians(n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` samples and the index of the mode each came from."""
    mode = torch.randint(0, 8, (n,), generator=generator)
    return mode_centres()[mode] + MODE_STD * torch.randn(n, 2, generator=generator), mode


def mmd_rbf(x: torch.Tensor, y: torch.Tensor) -> float:
    """The library's MMD at this data's bandwidths."""
    return metrics.mmd_rbf(x, y, MMD_BANDWIDTHS)


def modes_covered(x: torch.Tensor) -> int:
    distance = torch.cdist(x, mode_centres())
    nearest = distance.argmin(dim=1)[distance.min(dim=1).values < MODE_RADIUS]
    return int((torch.bincount(nearest, minlength=8) >= MODE_SHARE * len(x)).sum())


def ring(n: int, generator: torch.Generator) -> torch.Tensor:
    """The circle the modes sit on, blurred like one mode but with no modes: a baseline
    that only a model which found the modes beats."""
    angle = 2 * math.pi * torch.rand(n, generator=generator)
    circle = RADIUS * torch.stack([angle.cos(), angle.sin()], dim=1)
    return circle + MODE_STD * torch.randn(n, 2, generator=generator)


def reference_sample(n: int = 2000) -> torch.Tensor:
    return eight_gaussians(n, torch.Generator().manual_seed(12345))[0]
