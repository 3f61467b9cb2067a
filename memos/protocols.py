"""The seams of memos: small protocols that backends implement."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

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
