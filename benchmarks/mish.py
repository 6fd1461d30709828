"""gaidrl's hand-written Mish beside torch's ``nn.Mish``, side by side in one run: the
activation alone (forward + backward on a (128, 256) tensor) and the diffusion actor's
5-step denoising chain at the paper code's batch (128), sampled and back-propagated, as the
actor's update does. Interleaved windows; medians.

    python benchmarks/mish.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable

import torch
from torch import nn

from bench_machine import run_facts
from gaidrl.generative.diffusion import ConditionalDiffusion
from gaidrl.generative.layers import Mish

BATCH, HIDDEN, ACTION_DIM, COND_DIM = 128, 256, 6, 40


def chain_step(activation: type[nn.Module]) -> Callable[[], None]:
    """One differentiable 5-step DDPM chain and its backward, with ``activation``."""
    model = ConditionalDiffusion(ACTION_DIM, COND_DIM, n_steps=5, hidden=(HIDDEN, HIDDEN))
    swapped = 0
    for block in (model.denoiser.net, model.denoiser.time_embed):
        for i, layer in enumerate(block):
            if isinstance(layer, Mish):
                block[i], swapped = activation(), swapped + 1
    if swapped != 3:  # two hidden layers and the time embedding's
        raise RuntimeError(f"expected 3 Mish layers in the denoiser, found {swapped}")
    cond, generator = torch.randn(BATCH, COND_DIM), torch.Generator().manual_seed(0)

    def step() -> None:
        model.sample(cond, generator=generator).square().sum().backward()

    return step


def activation_step(activation: type[nn.Module]) -> Callable[[], None]:
    module, x = activation(), torch.randn(BATCH, HIDDEN, requires_grad=True)
    return lambda: module(x).sum().backward()


def ms_per_call(step: Callable[[], None], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        step()
    return (time.perf_counter() - start) / calls * 1e3


def compare(builder: Callable[[type[nn.Module]], Callable[[], None]], calls: int,
            windows: int) -> dict[str, float]:  # fmt: skip
    """Median ms per call of torch's Mish and ours, windows interleaved so load hits both."""
    steps = {"torch": builder(nn.Mish), "gaidrl": builder(Mish)}
    times: dict[str, list[float]] = {name: [] for name in steps}
    for step in steps.values():
        ms_per_call(step, max(calls // 5, 1))  # warm-up
    for _ in range(windows):
        for name, step in steps.items():
            times[name].append(ms_per_call(step, calls))
    medians = {f"{name}_ms": statistics.median(v) for name, v in times.items()}
    return {**medians, "speedup": medians["torch_ms"] / medians["gaidrl_ms"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke: few calls")
    args = parser.parse_args()
    torch.set_num_threads(1)
    calls, windows = (5, 2) if args.quick else (200, 7)
    results = {
        "activation_fwd_bwd": compare(activation_step, calls * 5, windows),
        "denoising_chain_5_steps": compare(chain_step, calls, windows),
    }
    print(f"{'case':28} {'torch ms':>9} {'gaidrl ms':>9} {'speedup':>8}")
    for name, r in results.items():
        print(f"{name:28} {r['torch_ms']:9.3f} {r['gaidrl_ms']:9.3f} {r['speedup']:7.2f}x")
    print(json.dumps({"benchmark": "mish", "quick": args.quick, "cases": results, **run_facts()}))


if __name__ == "__main__":
    main()
