"""The replay slot: the protocol every replay source of an off-policy agent follows."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class ReplaySource(Protocol):
    """Where off-policy algorithms store and sample transitions.

    Actions are stored normalised (the actor's action). ``sample`` returns a
    :class:`gaidrl.data.replay.Batch` of tensors; a generative replay may mix synthetic
    transitions into it. ``state``/``load_state`` give plain data for exact resume.
    """

    def add(self, obs: Any, action: Any, reward: Any, next_obs: Any, terminated: Any,
            truncated: Any) -> None: ...  # fmt: skip

    def sample(self, batch_size: int) -> Any: ...

    def __len__(self) -> int: ...

    def state(self) -> dict: ...

    def load_state(self, state: dict) -> None: ...
