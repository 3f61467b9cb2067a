"""Typed records: memory items, their versions, links, cubes and search hits."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, cast

from memos.timeutil import isoformat


class Kind(StrEnum):
    """The three kinds of memory (see DESIGN.md)."""

    PLAINTEXT = "plaintext"
    ACTIVATION = "activation"
    PARAMETRIC = "parametric"


class Status(StrEnum):
    """Lifecycle states; legal moves between them live in `memos.lifecycle`."""

    GENERATED = "generated"
    ACTIVATED = "activated"
    MERGED = "merged"
    ARCHIVED = "archived"
    FROZEN = "frozen"
    EXPIRED = "expired"
    DELETED = "deleted"


class Tier(StrEnum):
    """Where an item's bytes live."""

    GPU = "gpu"
    CPU = "cpu"
    DISK = "disk"
    COLD = "cold"


class Visibility(StrEnum):
    """Who may read an item inside a cube.

    private: its owner and the cube's admins; shared: every user who may read the cube;
    public: also any user fetching it by id, without a grant on the cube.
    """

    PRIVATE = "private"
    SHARED = "shared"
    PUBLIC = "public"


class Permission(StrEnum):
    """Cube-level grants; each level includes the ones below it."""

    READ = "read"
    WRITE = "write"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _PERMISSION_RANK[self]

    def allows(self, needed: Permission) -> bool:
        return self.rank >= needed.rank


_PERMISSION_RANK = {Permission.READ: 1, Permission.WRITE: 2, Permission.ADMIN: 3}

# Statuses a default search and a plain `get` consider live.
SEARCHABLE_STATUSES = frozenset({Status.GENERATED, Status.ACTIVATED, Status.FROZEN})


def _jsonable(value: Any) -> Any:
    if isinstance(value, Record):
        return value.to_dict()
    if isinstance(value, datetime):
        return isoformat(value)
    if isinstance(value, StrEnum):
        return str(value)
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


class Record:
    """Mixin: a JSON-ready dict of a dataclass record."""

    def to_dict(self) -> dict[str, Any]:
        fields = dataclasses.fields(cast(Any, self))
        return {f.name: _jsonable(getattr(self, f.name)) for f in fields}


@dataclass(frozen=True, slots=True, repr=False)
class MemoryItem(Record):
    """One memory, of any kind, with its full lifecycle metadata."""

    id: int
    uid: str
    cube_id: int
    kind: Kind
    type: str
    content: str | None
    status: Status
    version: int
    created_at: datetime
    updated_at: datetime
    valid_from: datetime
    owner: str
    artifact: str | None = None
    keywords: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    context: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    supersedes: int | None = None
    superseded_by: int | None = None
    merged_into: int | None = None
    stale: bool = False
    source: str | None = None
    source_ref: str | None = None
    author: str | None = None
    created_by: str | None = None
    derived_from: tuple[dict[str, Any], ...] = ()
    valid_to: datetime | None = None
    expires_at: datetime | None = None
    access_count: int = 0
    last_accessed_at: datetime | None = None
    importance: float = 0.5
    confidence: float = 1.0
    tier: Tier = Tier.DISK
    size_bytes: int = 0
    visibility: Visibility = Visibility.SHARED

    def __repr__(self) -> str:
        text = self.content if self.content is not None else "<purged>"
        if len(text) > 60:
            text = text[:57] + "..."
        return (
            f"MemoryItem(id={self.id}, v{self.version}, {self.kind.value}/{self.type}, "
            f"{self.status.value}, {text!r})"
        )


@dataclass(frozen=True, slots=True)
class Version(Record):
    """An immutable snapshot of an item after one change."""

    item: MemoryItem
    recorded_at: datetime
    operation: str
    actor: str
    op_seq: int | None = None

    @property
    def version(self) -> int:
        return self.item.version

    @property
    def content(self) -> str | None:
        return self.item.content

    @property
    def status(self) -> Status:
        return self.item.status


@dataclass(frozen=True, slots=True)
class Link(Record):
    """A typed, directed edge between two items of one cube."""

    id: int
    cube_id: int
    src_id: int
    dst_id: int
    kind: str
    created_at: datetime
    created_by: str
    reason: str | None = None
    weight: float = 1.0


@dataclass(frozen=True, slots=True)
class EmbedderSpec(Record):
    """The identity of an embedder, recorded by every cube."""

    model: str
    dim: int
    metric: str


@dataclass(frozen=True, slots=True)
class CubeInfo(Record):
    """A cube's row: its name, owner and embedder identity."""

    id: int
    name: str
    owner: str
    embedder: EmbedderSpec
    created_at: datetime
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Grant(Record):
    """A user's permission on a cube."""

    cube_id: int
    user: str
    permission: Permission
    granted_by: str
    granted_at: datetime


@dataclass(frozen=True, slots=True)
class Operation(Record):
    """One entry of the operation log."""

    seq: int
    cube_id: int
    item_id: int | None
    operation: str
    actor: str
    at: datetime
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Hit(Record):
    """A search result: the item, its final score (higher = closer) and score per signal."""

    item: MemoryItem
    score: float
    scores: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SearchFilters(Record):
    """What a search may return. Empty means no restriction; times are aware UTC.

    `tags` must all be present on an item. `valid_during` keeps items whose validity
    interval overlaps [start, end); `recorded_during` does the same for `created_at`.
    `as_of` keeps items valid at that instant (their version valid then is returned).
    """

    statuses: frozenset[Status] = SEARCHABLE_STATUSES
    # KV caches and adapters are not answers to a question; search finds plaintext.
    kinds: frozenset[Kind] = frozenset({Kind.PLAINTEXT})
    types: frozenset[str] = frozenset()
    sources: frozenset[str] = frozenset()
    authors: frozenset[str] = frozenset()
    tags: frozenset[str] = frozenset()
    valid_during: tuple[datetime | None, datetime | None] = (None, None)
    recorded_during: tuple[datetime | None, datetime | None] = (None, None)
    as_of: datetime | None = None


@dataclass(frozen=True, slots=True)
class Candidate:
    """The narrow columns retrieval scores with, before full rows are loaded."""

    id: int
    author: str | None
    tags: tuple[str, ...]
    version: int
    valid_from: datetime
    valid_to: datetime | None
    updated_at: datetime
    importance: float
    access_count: int


@dataclass(frozen=True, slots=True)
class ItemDraft:
    """What a caller supplies to create an item; the store fills in the rest."""

    content: str | None
    kind: Kind = Kind.PLAINTEXT
    type: str = "fact"
    status: Status = Status.ACTIVATED
    tags: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    context: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    source: str | None = None
    source_ref: str | None = None
    author: str | None = None
    created_by: str | None = None
    derived_from: tuple[dict[str, Any], ...] = ()
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    expires_at: datetime | None = None
    ttl: timedelta | None = None
    importance: float = 0.5
    confidence: float = 1.0
    tier: Tier = Tier.DISK
    visibility: Visibility = Visibility.SHARED
    artifact: str | None = None
    size_bytes: int | None = None
    owner: str | None = None
    uid: str | None = None


@dataclass(frozen=True, slots=True)
class Written:
    """The result of a write: the item as stored and the log sequence number it got."""

    item: MemoryItem
    seq: int
