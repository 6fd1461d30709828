"""Small pieces every model of the package (and the agents' parts) builds on: an MLP, the
one rule for conditions, and argument checks whose errors name what is allowed."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


class _MishFunction(torch.autograd.Function):
    """Mish with its derivative written out: two saved tensors and a handful of element-wise
    kernels, where ``torch.nn.functional.mish`` takes 1.7-1.8x as long forward and back on CPU
    (``benchmarks/mish.py``; the denoisers' activations are a fifth of a diffusion actor's
    update)."""

    @staticmethod
    def forward(ctx: torch.autograd.function.FunctionCtx, x: torch.Tensor) -> torch.Tensor:
        tanh_softplus = torch.tanh(nn.functional.softplus(x))
        ctx.save_for_backward(x, tanh_softplus)
        return x * tanh_softplus

    @staticmethod
    def backward(ctx: torch.autograd.function.FunctionCtx, grad: torch.Tensor) -> torch.Tensor:
        # d/dx x tanh(softplus x) = tanh(softplus x) + x sigmoid(x) (1 - tanh(softplus x)^2).
        # Under double back-propagation (create_graph, e.g. a gradient penalty) the saved factor
        # is recomputed from x, since the graph must see how it depends on x; a plain backward
        # reuses it.
        x, tanh_softplus = ctx.saved_tensors
        if torch.is_grad_enabled():
            tanh_softplus = torch.tanh(nn.functional.softplus(x))
        slope = torch.addcmul(tanh_softplus, x * torch.sigmoid(x), 1 - tanh_softplus.square())
        return grad * slope


class Mish(nn.Module):
    """x tanh(softplus(x)) (Misra 2019; Diffusion-QL's activation), the same function as
    ``torch.nn.Mish`` up to float rounding, faster to train through."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _MishFunction.apply(x)


def mlp(
    in_dim: int,
    out_dim: int,
    hidden: Sequence[int] = (256, 256),
    activation: type[nn.Module] = nn.ReLU,
) -> nn.Sequential:
    """A plain multi-layer perceptron with no activation on the output."""
    layers: list[nn.Module] = []
    last = in_dim
    for width in hidden:
        layers += [nn.Linear(last, width), activation()]
        last = width
    layers.append(nn.Linear(last, out_dim))
    return nn.Sequential(*layers)


def as_condition(
    cond: torch.Tensor | None,
    cond_dim: int,
    batch_size: int | None,
    like: torch.Tensor,
) -> torch.Tensor:
    """``cond`` checked as a ``(batch, cond_dim)`` tensor; ``None`` becomes an empty
    ``(batch_size, 0)`` tensor when the model is unconditional (``cond_dim == 0``).

    One rule for every model in the package, so "unconditional" never needs a special path:
    an unconditional model takes ``cond=None`` (with a batch size where nothing else gives
    one) or an empty ``(n, 0)`` tensor. ``like`` supplies the device and dtype.
    """
    if cond is None:
        if cond_dim != 0:
            raise ValueError(f"cond is required: the model was built with cond_dim={cond_dim}")
        if batch_size is None:
            raise ValueError("batch_size is required when cond is None")
        return like.new_zeros((batch_size, 0))
    if cond.dim() != 2 or cond.shape[1] != cond_dim:
        raise ValueError(f"cond must have shape (batch, {cond_dim}), got {tuple(cond.shape)}")
    if batch_size is not None and cond.shape[0] != batch_size:
        raise ValueError(f"cond has batch {cond.shape[0]} but the batch size is {batch_size}")
    return cond


def check_positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer (1 or more), got {value!r}")
    return value


def check_cond_dim(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"cond_dim must be an integer >= 0 (0: unconditional), got {value!r}")
    return value


def check_choice(name: str, value: object, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ValueError(f"unknown {name} {value!r}; allowed: {', '.join(allowed)}")
    return value  # type: ignore[return-value]


def condition_and_noise(
    cond: torch.Tensor | None,
    cond_dim: int,
    batch_size: int | None,
    noise_dim: int,
    like: torch.Tensor,
    generator: torch.Generator | None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The checked condition (:func:`as_condition`; the batch from ``cond`` when no
    ``batch_size`` is given) and a standard-normal draw ``(batch, noise_dim)`` from
    ``generator``, on ``like``'s device and dtype: what sampling from a latent needs."""
    if batch_size is None and cond is not None:
        batch_size = cond.shape[0]
    cond = as_condition(cond, cond_dim, batch_size, like)
    z = torch.randn(
        (cond.shape[0], noise_dim), generator=generator, device=like.device, dtype=like.dtype
    )
    return cond, z
