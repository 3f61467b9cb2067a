"""The seams of memos: small protocols that backends implement."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypedDict, runtime_checkable

import numpy as np
import numpy.typing as npt

from memos.models import EmbedderSpec

FloatArray = npt.NDArray[np.float32]
IdArray = npt.NDArray[np.int64]


@runtime_checkable
class Embedder(Protocol):
    """Turns text into vectors. Documents and queries may embed differently."""

    @property
    def spec(self) -> EmbedderSpec:
        """Model id, dimension and metric; recorded by every cube that uses it."""
        ...

    def embed_documents(self, texts: Sequence[str]) -> FloatArray:
        """One row per text, float32, shape (len(texts), dim)."""
        ...

    def embed_queries(self, texts: Sequence[str]) -> FloatArray:
        """One row per query, float32, shape (len(texts), dim)."""
        ...


@runtime_checkable
class VectorIndex(Protocol):
    """A persistent id -> vector index that is derived from SQL and catches up from the log.

    `applied_seq` is the last operation-log sequence number whose effects the index holds;
    after a crash the owner replays the log past it, so writes must be idempotent.
    """

    dim: int
    metric: str

    def add(self, ids: IdArray, vectors: FloatArray) -> None:
        """Insert vectors; an id already present is replaced."""
        ...

    def remove(self, ids: IdArray) -> None:
        """Drop ids; unknown ids are ignored."""
        ...

    def search(self, queries: FloatArray, k: int) -> tuple[IdArray, FloatArray]:
        """Top-k ids and scores per query (higher = closer); -1 where fewer than k."""
        ...

    def __len__(self) -> int: ...

    @property
    def applied_seq(self) -> int: ...

    def mark_applied(self, seq: int) -> None:
        """Record that the index now reflects the operation log through `seq`."""
        ...

    def flush(self) -> None:
        """Make the current state and `applied_seq` durable."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class ArtifactStore(Protocol):
    """Immutable files (KV caches, LoRA adapters) named by the sha256 of their bytes.

    Writes are atomic (a temp name renamed into place) and idempotent; every read checks
    the bytes against their name, so a torn or tampered file is reported, never used.
    """

    def put(self, data: bytes) -> str:
        """Store bytes; returns their sha256 hex digest (the artifact's name)."""
        ...

    def get(self, digest: str) -> bytes:
        """The verified bytes of an artifact (NotFoundError; BackendError when corrupt)."""
        ...

    def contains(self, digest: str) -> bool: ...

    def delete(self, digest: str) -> bool:
        """Remove an artifact; False when it was not there."""
        ...

    def sizes(self) -> dict[str, int]:
        """Every stored artifact's digest and size in bytes."""
        ...


class ChatMessage(TypedDict):
    """One chat turn: role is 'system', 'user' or 'assistant'."""

    role: str
    content: str


@dataclass(frozen=True, slots=True)
class Completion:
    """An LLM's answer and what it cost."""

    text: str
    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0


@runtime_checkable
class LLMClient(Protocol):
    """Chat messages in, text out. `json_schema` asks for a JSON answer matching it (a
    client may enforce it natively or only put it in the prompt; callers always validate)."""

    @property
    def model(self) -> str: ...

    def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        json_schema: dict[str, Any] | None = None,
        max_tokens: int = 512,
        temperature: float = 0.0,
    ) -> Completion: ...
