"""A Transformer encoder over a set of tokens with a presence mask, pooled to one vector.

For observations made of a varying number of entities (one token per user): no positional
encoding, so the output does not depend on token order, and absent (padding) tokens have
no influence at all. That is guaranteed, not approximate: absent tokens are replaced by
zeros before the first layer (so their values, even inf or NaN, never enter a computation),
attention never attends to them, and pooling skips them.

The attention is written here rather than taken from ``nn.TransformerEncoderLayer``,
whose fused inference path (eval mode without gradients) is a different computation from
the training one; here one code path serves both.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gaidrl.generative.layers import check_choice, check_positive_int

POOLINGS = ("mean", "max", "sum", "attention")


class MaskedAttention(nn.Module):
    """Multi-head attention of ``queries`` over ``keys_values``, skipping absent keys."""

    def __init__(self, d_model: int, n_heads: int, dropout: float = 0.0) -> None:
        super().__init__()
        if d_model % n_heads:
            raise ValueError(f"d_model ({d_model}) must be divisible by n_heads ({n_heads})")
        self.n_heads = n_heads
        self.dropout = dropout
        self.query = nn.Linear(d_model, d_model)
        self.key_value = nn.Linear(d_model, 2 * d_model)
        self.out = nn.Linear(d_model, d_model)

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        batch, n, d = x.shape
        return x.view(batch, n, self.n_heads, d // self.n_heads).transpose(1, 2)

    def forward(
        self, queries: torch.Tensor, keys_values: torch.Tensor, key_mask: torch.Tensor
    ) -> torch.Tensor:
        """``queries`` (B, M, d), ``keys_values`` (B, N, d), ``key_mask`` (B, N) bool with
        True = present; every row must have a present key. Returns (B, M, d)."""
        q = self._heads(self.query(queries))
        k, v = (self._heads(t) for t in self.key_value(keys_values).chunk(2, dim=-1))
        attended = F.scaled_dot_product_attention(
            q,
            k,
            v,
            attn_mask=key_mask[:, None, None, :],
            dropout_p=self.dropout if self.training else 0.0,
        )
        batch, _, m, _ = attended.shape
        return self.out(attended.transpose(1, 2).reshape(batch, m, -1))


class SetEncoderBlock(nn.Module):
    """A pre-norm Transformer encoder block (self-attention, then a feed-forward net)."""

    def __init__(self, d_model: int, n_heads: int, ff_dim: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.norm_attention = nn.LayerNorm(d_model)
        self.attention = MaskedAttention(d_model, n_heads, dropout)
        self.norm_ff = nn.LayerNorm(d_model)
        self.ff = nn.Sequential(
            nn.Linear(d_model, ff_dim), nn.GELU(), nn.Dropout(dropout), nn.Linear(ff_dim, d_model)
        )
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        h = self.norm_attention(x)
        x = x + self.drop(self.attention(h, h, mask))
        return x + self.drop(self.ff(self.norm_ff(x)))


class SetTransformer(nn.Module):
    """Encode ``tokens`` (B, N, token_dim) with a presence ``mask`` (B, N) into (B, d_model).

    ``pooling``: ``mean``/``max``/``sum`` over present tokens (``sum`` keeps how many
    there are), or ``attention``, a learned query attending over them (pooling by
    multi-head attention, Lee et al. 2019). Every row needs at least one present token: an
    empty set has no mean, and softmax over no key is NaN, so it is refused.
    """

    def __init__(
        self,
        token_dim: int,
        d_model: int = 64,
        n_heads: int = 4,
        n_layers: int = 2,
        ff_dim: int = 128,
        pooling: str = "mean",
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.token_dim = check_positive_int("token_dim", token_dim)
        self.d_model = check_positive_int("d_model", d_model)
        check_positive_int("n_heads", n_heads)
        check_positive_int("ff_dim", ff_dim)
        if isinstance(n_layers, bool) or not isinstance(n_layers, int) or n_layers < 0:
            raise ValueError(f"n_layers must be an integer >= 0, got {n_layers!r}")
        if not 0 <= dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
        self.pooling = check_choice("pooling", pooling, POOLINGS)
        self.embed = nn.Linear(token_dim, d_model)
        self.blocks = nn.ModuleList(
            SetEncoderBlock(d_model, n_heads, ff_dim, dropout) for _ in range(n_layers)
        )
        self.norm = nn.LayerNorm(d_model)  # pre-norm blocks leave the residual stream raw
        if pooling == "attention":
            self.pool_query = nn.Parameter(torch.randn(1, 1, d_model) / d_model**0.5)
            self.pool_attention = MaskedAttention(d_model, n_heads, dropout)

    def _checked_mask(self, tokens: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        if tokens.dim() != 3 or tokens.shape[-1] != self.token_dim:
            raise ValueError(
                f"tokens must have shape (batch, n_tokens, {self.token_dim}), "
                f"got {tuple(tokens.shape)}"
            )
        if mask is None:
            mask = torch.ones(tokens.shape[:2], dtype=torch.bool, device=tokens.device)
        if mask.dtype != torch.bool or mask.shape != tokens.shape[:2]:
            raise ValueError(
                f"mask must be a bool tensor of shape {tuple(tokens.shape[:2])} "
                f"(True = present), got {mask.dtype} {tuple(mask.shape)}"
            )
        empty = ~mask.any(dim=1)
        if bool(empty.any()):
            rows = empty.nonzero().flatten().tolist()
            raise ValueError(f"rows {rows} have no present token; every row needs at least one")
        return mask

    def forward(
        self,
        tokens: torch.Tensor,
        mask: torch.Tensor | None = None,
        return_tokens: bool = False,
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """The pooled encoding (B, d_model); with ``return_tokens`` also the per-token
        outputs (B, N, d_model), zero at absent tokens. ``mask=None``: all present."""
        mask = self._checked_mask(tokens, mask)
        present = mask[..., None]
        x = self.embed(tokens.masked_fill(~present, 0.0))
        for block in self.blocks:
            x = block(x, mask)
        x = self.norm(x).masked_fill(~present, 0.0)
        pooled = self._pool(x, mask)
        return (pooled, x) if return_tokens else pooled

    def _pool(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Pool present tokens; absent ones are already zero (for mean and sum)."""
        if self.pooling == "sum":
            return x.sum(dim=1)
        if self.pooling == "mean":
            return x.sum(dim=1) / mask.sum(dim=1, keepdim=True).to(x.dtype)
        if self.pooling == "max":
            return x.masked_fill(~mask[..., None], float("-inf")).amax(dim=1)
        query = self.pool_query.expand(x.shape[0], -1, -1)
        return self.pool_attention(query, x, mask).squeeze(1)
