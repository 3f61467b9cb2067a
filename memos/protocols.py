"""The seams of memos: small protocols that backends implement."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypedDict, runtime_checkable

import numpy as np
import numpy.typing as npt

from memos.models import (
    Candidate,
    EmbedderSpec,
    Hit,
    ItemDraft,
    Kind,
    Link,
    MemoryItem,
    SearchFilters,
    Status,
    Version,
)

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

    def contains(self, item_id: int) -> bool: ...

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


# -- what retrieval reads from the store -----------------------------------------------------


class SearchSource(Protocol):
    """The reads hybrid retrieval makes; every one checks the actor's permissions."""

    def lexical_search(
        self, cube_id: int, actor: str, query: str, limit: int
    ) -> list[tuple[int, float]]: ...

    def candidates(
        self, cube_id: int, actor: str, ids: Sequence[int], filters: SearchFilters
    ) -> dict[int, Candidate]: ...

    def admitted_ids(
        self, cube_id: int, actor: str, filters: SearchFilters, limit: int
    ) -> list[int] | None: ...

    def vectors_of(self, cube_id: int, item_ids: Sequence[int]) -> dict[int, FloatArray]: ...

    def neighbours(
        self, cube_id: int, item_ids: Sequence[int]
    ) -> list[tuple[int, int, str, float]]: ...

    def fetch(
        self,
        cube_id: int,
        actor: str,
        ranked: Sequence[int],
        *,
        limit: int | None = None,
        statuses: Iterable[Status] = ...,
    ) -> list[MemoryItem]: ...

    def get_item(
        self,
        item_id: int,
        actor: str,
        *,
        cube_id: int | None = None,
        as_of: datetime | None = None,
    ) -> MemoryItem: ...


class VectorLog(Protocol):
    """What a derived vector index replays: log places and the stored vectors."""

    def max_seq(self, cube_id: int) -> int:
        """The last place given in the cube's log (places are given in commit order)."""
        ...

    def log_since(self, cube_id: int, seq: int) -> list[tuple[int, int, int | None]]:
        """(place, row id, item id) of the entries past place `seq`, in order."""
        ...

    def index_state(
        self, cube_id: int, ids: Sequence[int]
    ) -> tuple[IdArray, FloatArray, IdArray]: ...

    def iter_vectors(self, cube_id: int) -> Iterator[tuple[IdArray, FloatArray]]: ...

    def reading(self) -> AbstractContextManager[None]:
        """A read session: the reads inside share one connection (taken on entry)."""
        ...


class AccessSink(Protocol):
    """Where batched access counts go."""

    def record_access(self, counts: Mapping[int, tuple[int, datetime]]) -> None: ...


class ArtifactCatalog(Protocol):
    """Which items point at which artifact files (for deleting files safely)."""

    def derived_items(self, cube_id: int, source_id: int) -> list[MemoryItem]: ...

    def artifact_in_use(self, digest: str, *, excluding: int) -> bool: ...

    def artifact_users(self, digests: list[str]) -> dict[str, list[int]]: ...

    def cube_artifacts(self, cube_id: int) -> list[tuple[Kind, str]]: ...


class UsageLedger(Protocol):
    """Per-cube totals of what agents spent on LLMs (counters summed in place)."""

    def add_usage(self, cube_id: int, operation: str, delta: Mapping[str, int]) -> None: ...

    def usage_totals(self, cube_id: int) -> dict[str, dict[str, int]]: ...


# -- what features get from the kernel -------------------------------------------------------

ItemRef = int | str


class Memory(Protocol):
    """One cube as an agent sees it (MemReader, notes, concepts): the SDK operations an
    agent composes, acting as the user who opened the cube. `MemCube` implements it."""

    @property
    def id(self) -> int: ...

    @property
    def name(self) -> str: ...

    @property
    def user(self) -> str: ...

    def add(self, content: str, **fields: Any) -> MemoryItem: ...

    def add_many(self, records: Iterable[str | Mapping[str, Any]]) -> list[MemoryItem]: ...

    def get(
        self,
        item: ItemRef,
        *,
        as_of: datetime | str | None = None,
        known_at: datetime | str | None = None,
    ) -> MemoryItem: ...

    def items(
        self,
        *,
        status: Iterable[Status | str] | None = None,
        kind: Iterable[Kind | str] | None = None,
        type: Iterable[str] | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[MemoryItem]: ...

    def search(self, query: str, *, k: int = 10, **filters: Any) -> list[Hit]: ...

    def history(self, item: ItemRef) -> list[Version]: ...

    def revise(
        self,
        item: ItemRef,
        content: str | None = None,
        *,
        created_by: str,
        operation: str = "revise",
        force: bool = False,
        **meta: Any,
    ) -> MemoryItem: ...

    def supersede(
        self, old: ItemRef, *, by: ItemRef, at: datetime | str | None = None
    ) -> tuple[MemoryItem, MemoryItem]: ...

    def revert(self, item: ItemRef, version: int) -> MemoryItem: ...

    def link_many(
        self, edges: Iterable[tuple[ItemRef, ItemRef] | Mapping[str, Any]]
    ) -> list[Link]: ...


class DerivedHost(Protocol):
    """One cube as derived memory (KV caches, adapters) needs it: permission-checked reads
    and the writes that record an artifact-backed item. The kernel implements it."""

    @property
    def cube_id(self) -> int: ...

    @property
    def max_content_chars(self) -> int: ...

    def read(self, ref: ItemRef) -> MemoryItem:
        """An item by id or uid, permission-checked."""
        ...

    def write_derived(self, draft: ItemDraft) -> MemoryItem:
        """Store a new derived item (no vector: an artifact is not text)."""
        ...

    def rewrite_derived(
        self, item_id: int, changes: Mapping[str, Any], *, force: bool
    ) -> MemoryItem:
        """A new version of a derived item (a rebuild)."""
        ...

    def touch(self, item_ids: Iterable[int]) -> None:
        """Count a use of these items (the scheduler's heat)."""
        ...
