"""The set encoder ignores token order and, exactly, the values of absent tokens; rows with
different numbers of tokens agree with each row encoded alone; an empty row is refused."""

from __future__ import annotations

import pytest
import torch

from gaidrl.generative import POOLINGS, SetTransformer

torch.set_num_threads(1)

TOKEN_DIM, N_TOKENS = 5, 7


def encoder(pooling: str = "mean", **kwargs) -> SetTransformer:
    torch.manual_seed(0)
    return SetTransformer(TOKEN_DIM, d_model=32, n_heads=4, n_layers=2, ff_dim=64,
                          pooling=pooling, **kwargs)  # fmt: skip


def batch(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """6 rows with 1 to 7 present tokens, absent ones scattered (not only at the end)."""
    gen = torch.Generator().manual_seed(seed)
    tokens = torch.randn(6, N_TOKENS, TOKEN_DIM, generator=gen)
    mask = torch.zeros(6, N_TOKENS, dtype=torch.bool)
    for row, count in enumerate([1, 2, 3, 5, 6, 7]):
        mask[row, torch.randperm(N_TOKENS, generator=gen)[:count]] = True
    return tokens, mask


# train and eval mode, with and without autograd: the paths torch's own layer treats apart
MODES = [(True, True), (False, True), (False, False)]


def run(model: SetTransformer, tokens, mask, training: bool, grad: bool, **kwargs):
    model.train(training)
    with torch.set_grad_enabled(grad):
        return model(tokens, mask, **kwargs)


@pytest.mark.parametrize("pooling", POOLINGS)
@pytest.mark.parametrize(("training", "grad"), MODES)
def test_output_is_invariant_to_token_order(pooling: str, training: bool, grad: bool) -> None:
    model, (tokens, mask) = encoder(pooling), batch()
    pooled, per_token = run(model, tokens, mask, training, grad, return_tokens=True)
    order = torch.randperm(N_TOKENS, generator=torch.Generator().manual_seed(1))
    pooled_p, per_token_p = run(model, tokens[:, order], mask[:, order], training, grad,
                                return_tokens=True)  # fmt: skip
    assert torch.allclose(pooled, pooled_p, atol=1e-5)
    assert torch.allclose(per_token[:, order], per_token_p, atol=1e-5)  # equivariant tokens
    assert pooled.shape == (6, 32) and per_token.shape == (6, N_TOKENS, 32)


@pytest.mark.parametrize("pooling", POOLINGS)
@pytest.mark.parametrize(("training", "grad"), MODES)
@pytest.mark.parametrize("junk", [0.0, 1e30, float("inf"), float("nan"), "random"])
def test_absent_tokens_have_no_influence_at_all(pooling, training, grad, junk) -> None:
    model, (tokens, mask) = encoder(pooling), batch()
    pooled, per_token = run(model, tokens, mask, training, grad, return_tokens=True)
    changed = tokens.clone()
    absent = ~mask
    changed[absent] = torch.randn(int(absent.sum()), TOKEN_DIM) * 1e6 if junk == "random" else junk
    pooled_c, per_token_c = run(model, changed, mask, training, grad, return_tokens=True)
    assert torch.equal(pooled, pooled_c)
    assert torch.equal(per_token, per_token_c)
    assert pooled.isfinite().all()
    assert (per_token[absent] == 0).all()


@pytest.mark.parametrize("pooling", POOLINGS)
def test_each_row_matches_the_row_encoded_alone(pooling: str) -> None:
    """Padding is invisible: a row with k present tokens gives what its k tokens give with
    no padding at all (up to float rounding of the different shapes)."""
    model, (tokens, mask) = encoder(pooling), batch()
    pooled = model(tokens, mask)
    for row in range(tokens.shape[0]):
        alone = model(tokens[row, mask[row]][None])
        assert torch.allclose(pooled[row], alone[0], atol=1e-5)
    assert not torch.allclose(pooled[0], pooled[1], atol=1e-3)  # rows do differ


def test_the_set_size_shows_in_sum_pooling_only() -> None:
    """Two copies of the same token: mean and max see one token, sum sees two."""
    token = torch.randn(1, 1, TOKEN_DIM)
    pair = token.repeat(1, 2, 1)
    for pooling in ("mean", "max"):
        model = encoder(pooling)
        assert torch.allclose(model(token), model(pair), atol=1e-5)
    model = encoder("sum")
    assert torch.allclose(2 * model(token), model(pair), atol=1e-5)


def test_gradients_reach_present_tokens_only() -> None:
    model, (tokens, mask) = encoder("attention"), batch()
    tokens.requires_grad_(True)
    model(tokens, mask).sum().backward()
    assert (tokens.grad[~mask] == 0).all()
    assert (tokens.grad[mask].abs().sum(-1) > 0).all()
    assert all(p.grad is not None for p in model.parameters())


def test_rows_without_a_present_token_are_refused() -> None:
    model, (tokens, mask) = encoder(), batch()
    mask[2] = False
    mask[4] = False
    with pytest.raises(ValueError, match=r"rows \[2, 4\] have no present token"):
        model(tokens, mask)
    with pytest.raises(ValueError, match="no present token"):
        model(torch.zeros(2, 0, TOKEN_DIM))


def test_bad_inputs_and_settings_are_refused() -> None:
    model, (tokens, mask) = encoder(), batch()
    with pytest.raises(ValueError, match="mask must be a bool tensor"):
        model(tokens, mask.float())
    with pytest.raises(ValueError, match="mask must be a bool tensor"):
        model(tokens, mask[:, :3])
    with pytest.raises(ValueError, match=r"tokens must have shape \(batch, n_tokens, 5\)"):
        model(tokens[..., :4], mask)
    with pytest.raises(ValueError, match="pooling.*mean, max, sum, attention"):
        SetTransformer(TOKEN_DIM, pooling="median")
    with pytest.raises(ValueError, match="divisible by n_heads"):
        SetTransformer(TOKEN_DIM, d_model=30, n_heads=4)
