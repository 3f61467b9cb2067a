"""What the kernel tells its listeners (the scheduler, derived memory) after each change.

Listeners run in the caller's thread after the change is committed; they must be quick
(queue work, do not run a model here). A listener that raises fails the call that
triggered it, so one that must not (telemetry) catches its own errors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from memos.models import Kind, MemoryItem


@dataclass(frozen=True, slots=True)
class Changed:
    """Items were added or changed (any operation: add, update, status, revert, ...)."""

    cube_id: int
    operation: str
    items: tuple[MemoryItem, ...]


@dataclass(frozen=True, slots=True)
class Forgotten:
    """An item was forgotten; with `hard`, its text must leave every derived artifact."""

    cube_id: int
    item: MemoryItem
    hard: bool


@dataclass(frozen=True, slots=True)
class Retrieved:
    """A search returned these items, best first (co-retrieval is the scheduler's signal)."""

    cube_id: int
    user: str
    query: str
    item_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Used:
    """Items were used outside search (a KV cache or adapter in a generation)."""

    cube_id: int
    item_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Generated:
    """A generation read these memories (in order) as its prefix. `tokens` are the prefix
    tokens of each leading run (`tokens[j]`: the head and the first j memories), so a
    scheduler knows what caching a run would save; `cached` how many came from a cache."""

    cube_id: int
    user: str
    sources: tuple[tuple[int, int], ...]  # (item id, version), in prompt order
    template: str
    tokens: tuple[int, ...]
    cached: int
    activation: int | None
    ttft_s: float


@dataclass(frozen=True, slots=True)
class CubeDropped:
    """A cube was deleted; these artifacts were its caches and adapters."""

    cube_id: int
    artifacts: tuple[tuple[Kind, str], ...]


Event = Changed | Forgotten | Retrieved | Used | Generated | CubeDropped


class Listener(Protocol):
    def __call__(self, event: Event) -> None: ...


class EventBus:
    """An ordered list of listeners, called in order for every event."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> None:
        if listener not in self._listeners:
            self._listeners.append(listener)

    def unsubscribe(self, listener: Listener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def emit(self, event: Event) -> None:
        for listener in list(self._listeners):
            listener(event)

    @property
    def listeners(self) -> Sequence[Listener]:
        return tuple(self._listeners)
