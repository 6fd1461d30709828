"""What the parts that fit a model of the agent's data share (the VAE encoder, HyAR): an
optional fit on replayed warm-up data at the first update, a count of their own gradient
steps, and both saved with the agent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gaidrl.agents.parts import IncompatiblePartError


class WarmStart:
    """Mixin for a :class:`~gaidrl.agents.parts.Part`: call :meth:`warm_start` in
    ``extra_update`` and count steps in ``self.updates``."""

    pretrain_steps: int = 0
    batch_size: int = 256

    def init_warm_start(self, pretrain_steps: int, batch_size: int) -> None:
        bad = isinstance(pretrain_steps, bool) or not isinstance(pretrain_steps, int)
        if bad or pretrain_steps < 0:
            raise ValueError(f"pretrain_steps must be an integer >= 0, got {pretrain_steps!r}")
        self.pretrain_steps, self.batch_size = pretrain_steps, int(batch_size)
        self.pretrained = pretrain_steps == 0
        self.updates = 0
        self._replay: Any = None

    def attach(self, handle: Any) -> None:
        self._replay = handle.replay

    def warm_start(self, step: Callable[[Any], dict[str, float]]) -> dict[str, float]:
        """At the first call, ``pretrain_steps`` calls of ``step`` on replayed batches."""
        stats: dict[str, float] = {}
        if not self.pretrained:
            for _ in range(self.pretrain_steps):
                stats = step(self._replay.sample(self.batch_size))
            self.pretrained = True
        return stats

    def part_state(self) -> dict:
        return {"pretrained": self.pretrained, "updates": self.updates}

    def load_part_state(self, state: dict) -> None:
        self.pretrained = bool(state.get("pretrained", self.pretrained))
        self.updates = int(state.get("updates", 0))


def require_replay_for_warm_start(context: Any, pretrain_steps: int, who: str) -> None:
    """Refuse pre-training where the algorithm keeps no replay buffer."""
    if pretrain_steps and context.setting("buffer_size", None) is None:
        raise IncompatiblePartError(
            f"{who} pre-trains on replayed warm-up data (pretrain_steps); {context.algo} has "
            "no replay buffer (use td3, ddpg, sac, sac_discrete or dqn, or pretrain_steps: 0)"
        )
