"""The hand-written Mish is the same function as torch's, with correct first and second
derivatives (a gradient penalty back-propagates twice through a network)."""

import torch
import torch.nn.functional as F

from gaidrl.generative.layers import Mish


def test_mish_equals_torchs_mish_across_the_range() -> None:
    x = torch.cat([torch.linspace(-40.0, 40.0, 4001), torch.randn(10_000)])
    torch.testing.assert_close(Mish()(x), F.mish(x), rtol=1e-6, atol=1e-6)


def test_mish_gradients_match_finite_differences_to_second_order() -> None:
    x = (torch.randn(64, dtype=torch.float64) * 4).requires_grad_()
    assert torch.autograd.gradcheck(Mish(), (x,))
    assert torch.autograd.gradgradcheck(Mish(), (x,))


def test_mish_gradient_equals_torchs_and_runs_in_bfloat16() -> None:
    x = torch.randn(256, requires_grad=True)
    (ours,) = torch.autograd.grad(Mish()(x).sum(), x)
    (theirs,) = torch.autograd.grad(F.mish(x).sum(), x)
    torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-6)
    half = x.detach().bfloat16().requires_grad_()
    Mish()(half).sum().backward()
    assert half.grad is not None and half.grad.dtype == torch.bfloat16
    assert torch.isfinite(half.grad).all()
