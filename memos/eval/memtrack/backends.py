"""Memory backends under test: a small protocol, and the three baselines.

A `Backend` starts one fresh `Memory` per instance. The runner replays the timeline into
it (`observe`, in chunks, up to each question) and asks it for what it recalls about a
question (`retrieve`). Plug in your own by implementing the two protocols; the memos
backend lives in `memos.eval.memtrack.memos_backend`.

* `none`: remembers nothing (what the answerer knows without memory).
* `full-context`: the whole replayed timeline, newest events kept when it exceeds the
  token budget, handed over in timeline order (one read per question).
* `rag`: one vector per event (memos' own embedder over `actor: text`, as memos embeds
  items), an exact in-memory index, top-k by cosine; no extraction, no reconciliation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

import numpy as np

from memos.eval.memtrack.format import Event
from memos.eval.memtrack.metrics import count_tokens
from memos.protocols import Embedder, FloatArray
from memos.text import vector_text

FULL_CONTEXT_BUDGET = 32_000  # tokens (metrics.count_tokens): a long-context model's window


@dataclass(frozen=True, slots=True)
class Retrieved:
    """One thing a memory recalled: its text, the events it came from (`refs`), when it
    happened or became true, who said it, and whether the backend holds it to be still
    true (`current`: None when the backend does not track that)."""

    text: str
    refs: tuple[str, ...] = ()
    timestamp: datetime | None = None
    actor: str | None = None
    platform: str | None = None
    score: float | None = None
    current: bool | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "text": self.text,
            "refs": list(self.refs),
            "timestamp": self.timestamp.isoformat() if self.timestamp else None,
            "actor": self.actor,
            "platform": self.platform,
            "score": self.score,
            "current": self.current,
        }


@dataclass(frozen=True, slots=True)
class Retrieval:
    """What one question got from memory, and how many memory operations it took."""

    items: tuple[Retrieved, ...]
    calls: int


@runtime_checkable
class Memory(Protocol):
    """The memory of one instance's run."""

    def observe(self, events: Sequence[Event]) -> None:
        """Take in the next events of the timeline, in order."""
        ...

    def retrieve(self, question: str, *, k: int) -> Retrieval:
        """What the memory recalls for a question (ranked backends: at most k items)."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class Backend(Protocol):
    """Makes a fresh memory for each instance."""

    @property
    def name(self) -> str: ...

    def start(self, instance_id: str) -> Memory:
        """An empty memory for one instance (questions and answers are never shown)."""
        ...


def from_event(event: Event, *, score: float | None = None) -> Retrieved:
    """An event handed over as it was written."""
    return Retrieved(
        text=event.text,
        refs=(event.id,),
        timestamp=event.timestamp,
        actor=event.actor,
        platform=event.platform,
        score=score,
    )


class _NoMemory:
    def observe(self, events: Sequence[Event]) -> None:
        return None

    def retrieve(self, question: str, *, k: int) -> Retrieval:
        return Retrieval((), 0)

    def close(self) -> None:
        return None


class NoBackend:
    """`none`: no memory at all."""

    name = "none"

    def start(self, instance_id: str) -> Memory:
        return _NoMemory()


class _Timeline:
    def __init__(self, budget: int | None) -> None:
        self.budget = budget
        self.events: list[Event] = []
        self.tokens: list[int] = []

    def observe(self, events: Sequence[Event]) -> None:
        self.events += events
        self.tokens += [count_tokens(e.text) for e in events]

    def retrieve(self, question: str, *, k: int) -> Retrieval:
        start = 0
        if self.budget is not None:
            spent, start = 0, len(self.events)
            while start > 0 and spent + self.tokens[start - 1] <= self.budget:
                start -= 1
                spent += self.tokens[start]
        return Retrieval(tuple(from_event(e) for e in self.events[start:]), 1)

    def close(self) -> None:
        self.events.clear()


class FullContextBackend:
    """`full-context`: everything replayed so far, up to `budget` tokens (newest kept)."""

    name = "full-context"

    def __init__(self, budget: int | None = FULL_CONTEXT_BUDGET) -> None:
        self.budget = budget

    def start(self, instance_id: str) -> Memory:
        return _Timeline(self.budget)


class _VectorMemory:
    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self.events: list[Event] = []
        self.vectors: FloatArray = np.zeros((0, embedder.spec.dim), dtype=np.float32)

    def observe(self, events: Sequence[Event]) -> None:
        if not events:
            return
        rows = self.embedder.embed_documents([vector_text(e.text, e.actor) for e in events])
        self.vectors = np.vstack([self.vectors, rows]).astype(np.float32, copy=False)
        self.events += events

    def retrieve(self, question: str, *, k: int) -> Retrieval:
        if not self.events:
            return Retrieval((), 1)
        scores = self.vectors @ self.embedder.embed_queries([question])[0]
        order = np.argsort(-scores, kind="stable")[:k]
        return Retrieval(
            tuple(from_event(self.events[i], score=float(scores[i])) for i in order), 1
        )

    def close(self) -> None:
        self.events.clear()


class RagBackend:
    """`rag`: one vector per event, exact cosine top-k (see the module doc)."""

    name = "rag"

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    def start(self, instance_id: str) -> Memory:
        return _VectorMemory(self.embedder)
