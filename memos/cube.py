"""MemCube: a named, owned container of memories, and the SDK's main working object."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from memos import validation
from memos.errors import InvalidInputError, NotFoundError
from memos.models import (
    SEARCHABLE_STATUSES,
    CubeInfo,
    Grant,
    Hit,
    Kind,
    Link,
    MemoryItem,
    Operation,
    Permission,
    Status,
    Version,
    Visibility,
)
from memos.stores.base import ItemDraft, Written
from memos.stores.jsonl import write_export
from memos.stores.sql import SqlStore
from memos.timeutil import parse_time, parse_ttl

if TYPE_CHECKING:
    from memos.mos import MemOS
    from memos.retrieval.cube_index import CubeIndex

ItemRef = int | str

# Search over-fetches candidates so that filtering by status and visibility still fills k.
_OVERFETCH = 3


def _enum(value: Any, enum: type[Any], field: str) -> Any:
    try:
        return enum(value)
    except ValueError:
        choices = ", ".join(e.value for e in enum)
        raise InvalidInputError(f"{field} {value!r} is not one of: {choices}") from None


class MemCube:
    """Memories of one cube, as seen by the acting user of the `MemOS` that opened it."""

    def __init__(self, mos: MemOS, info: CubeInfo) -> None:
        self._mos = mos
        self.info = info

    def __repr__(self) -> str:
        return f"MemCube(name={self.info.name!r}, id={self.info.id}, user={self.user!r})"

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def id(self) -> int:
        return self.info.id

    @property
    def user(self) -> str:
        return self._mos.user

    @property
    def _store(self) -> SqlStore:
        return self._mos.store

    @property
    def _index(self) -> CubeIndex:
        return self._mos.index_of(self.info)

    # -- helpers ------------------------------------------------------------------------

    def _id(self, ref: ItemRef) -> int:
        """An item id from an int id, a numeric string, or a uid."""
        if isinstance(ref, bool):
            raise InvalidInputError(f"{ref!r} is not an item id")
        if isinstance(ref, int):
            return ref
        if isinstance(ref, str) and ref.strip().isdigit():
            return int(ref.strip())
        if isinstance(ref, str) and ref.strip():
            return int(self._store.resolve_uid(ref.strip(), self.id))
        raise InvalidInputError(f"{ref!r} is not an item id or uid")

    def _content(self, text: object) -> str:
        return validation.content(text, max_chars=self._mos.settings.max_content_chars)

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        return self._mos.embedder.embed_documents(texts)

    def _draft(
        self,
        content: object,
        *,
        type: str = "fact",
        source: str | None = None,
        source_ref: str | None = None,
        tags: Iterable[str] | str | None = None,
        keywords: Iterable[str] | str | None = None,
        context: str | None = None,
        valid_from: datetime | str | None = None,
        valid_to: datetime | str | None = None,
        ttl: timedelta | float | str | None = None,
        attributes: Mapping[str, Any] | None = None,
        importance: float = 0.5,
        confidence: float = 1.0,
        visibility: Visibility | str = Visibility.SHARED,
        author: str | None = None,
        status: Status | str = Status.ACTIVATED,
        created_by: str | None = None,
    ) -> ItemDraft:
        start = parse_time(valid_from, field="valid_from")
        end = parse_time(valid_to, field="valid_to")
        if start is not None and end is not None and end <= start:
            raise InvalidInputError("valid_to must be after valid_from")
        life = parse_ttl(ttl)
        initial = _enum(status, Status, "status")
        if initial not in (Status.GENERATED, Status.ACTIVATED):
            raise InvalidInputError("a new memory starts as 'generated' or 'activated'")
        return ItemDraft(
            content=self._content(content),
            type=validation.item_type(type),
            status=initial,
            source=validation.optional_text(source, field="source", max_chars=128),
            source_ref=validation.optional_text(source_ref, field="source_ref"),
            tags=validation.labels(tags),
            keywords=validation.labels(keywords, field="keywords"),
            context=validation.optional_text(context, field="context", max_chars=4096),
            valid_from=start,
            valid_to=end,
            ttl=life,
            attributes=validation.attributes(attributes),
            importance=validation.unit_interval(importance, field="importance"),
            confidence=validation.unit_interval(confidence, field="confidence"),
            visibility=_enum(visibility, Visibility, "visibility"),
            author=validation.optional_text(author, field="author", max_chars=128),
            created_by=created_by,
        )

    def _write_many(self, drafts: Sequence[ItemDraft]) -> list[MemoryItem]:
        vectors = self._embed([d.content or "" for d in drafts])
        written = self._store.add_items(self.id, self.user, drafts, vectors)
        self._index.apply(written, vectors, np.zeros(0, dtype=np.int64))
        return [w.item for w in written]

    # -- writing ------------------------------------------------------------------------

    def add(self, content: str, **fields: Any) -> MemoryItem:
        """Remember a piece of text.

        Fields: type, source, source_ref, tags, keywords, context, valid_from, valid_to,
        ttl (seconds, timedelta or '7d'), attributes, importance, confidence, visibility,
        author, status ('activated' or 'generated').

        Raises:
            InvalidInputError: empty or oversized text, a bad date, type or field.
            PermissionDeniedError: the user may not write to this cube.
        """
        return self._write_many([self._draft(content, **fields)])[0]

    def add_many(self, records: Iterable[str | Mapping[str, Any]]) -> list[MemoryItem]:
        """Remember many texts in one transaction and one embedding batch.

        Each record is a string or a mapping with `content` and the fields of `add`.
        Nothing is stored if any record is invalid.
        """
        drafts = []
        for position, record in enumerate(records):
            try:
                if isinstance(record, str):
                    drafts.append(self._draft(record))
                else:
                    fields = dict(record)
                    drafts.append(self._draft(fields.pop("content", None), **fields))
            except InvalidInputError as exc:
                raise InvalidInputError(f"record {position}: {exc}") from None
            except TypeError as exc:
                raise InvalidInputError(f"record {position}: {exc}") from None
        return self._write_many(drafts) if drafts else []

    def update(
        self,
        item: ItemRef,
        content: str | None = None,
        *,
        force: bool = False,
        ttl: timedelta | float | str | None = None,
        **meta: Any,
    ) -> MemoryItem:
        """Change an item's text and/or metadata; the old state stays as a version.

        Raises:
            NotFoundError: no such item in this cube.
            ConflictError: the item is frozen (pass force=True), archived, merged or gone.
        """
        item_id = self._id(item)
        changes = self._changes(meta)
        if ttl is not None:
            life = parse_ttl(ttl)
            assert life is not None
            changes["expires_at"] = self._mos.clock() + life
        vector = None
        if content is not None:
            changes["content"] = self._content(content)
            vector = self._embed([changes["content"]])[0]
        if not changes:
            raise InvalidInputError("nothing to update: give new content or a field to change")
        written = self._store.update_item(
            item_id, self.user, changes, vector, cube_id=self.id, force=force
        )
        self._reindex(written, vector)
        return written.item

    def _changes(self, meta: Mapping[str, Any]) -> dict[str, Any]:
        checks: dict[str, Any] = {
            "type": validation.item_type,
            "tags": validation.labels,
            "keywords": lambda v: validation.labels(v, field="keywords"),
            "context": lambda v: validation.optional_text(v, field="context", max_chars=4096),
            "source": lambda v: validation.optional_text(v, field="source", max_chars=128),
            "source_ref": lambda v: validation.optional_text(v, field="source_ref"),
            "author": lambda v: validation.optional_text(v, field="author", max_chars=128),
            "valid_from": lambda v: parse_time(v, field="valid_from"),
            "valid_to": lambda v: parse_time(v, field="valid_to"),
            "attributes": validation.attributes,
            "importance": lambda v: validation.unit_interval(v, field="importance"),
            "confidence": lambda v: validation.unit_interval(v, field="confidence"),
            "visibility": lambda v: _enum(v, Visibility, "visibility"),
        }
        unknown = set(meta) - set(checks)
        if unknown:
            raise InvalidInputError(
                f"cannot update {', '.join(sorted(unknown))}; "
                f"updatable: {', '.join(sorted(checks))}"
            )
        return {key: checks[key](value) for key, value in meta.items()}

    def _reindex(self, written: Written, vector: np.ndarray | None) -> None:
        vectors = None if vector is None else vector.reshape(1, -1)
        removed = np.zeros(0, dtype=np.int64)
        if written.item.status is Status.DELETED or written.item.content is None:
            removed = np.asarray([written.item.id], dtype=np.int64)
            vectors = None
        self._index.apply([written] if vectors is not None else [], vectors, removed)
        if vectors is None:
            # A write with no vector still advances the log; let the index note it.
            self._index.catch_up()

    def set_status(self, item: ItemRef, status: Status | str) -> MemoryItem:
        """Move an item through the lifecycle (see `memos.lifecycle`).

        Raises:
            InvalidTransitionError: the state machine does not allow the move.
        """
        target = _enum(status, Status, "status")
        if target is Status.DELETED:
            return self.forget(item)
        written = self._store.set_status(self._id(item), self.user, target, cube_id=self.id)
        self._index.catch_up()
        return written.item

    def activate(self, item: ItemRef) -> MemoryItem:
        return self.set_status(item, Status.ACTIVATED)

    def archive(self, item: ItemRef) -> MemoryItem:
        return self.set_status(item, Status.ARCHIVED)

    def freeze(self, item: ItemRef) -> MemoryItem:
        return self.set_status(item, Status.FROZEN)

    def merge(self, item: ItemRef, into: ItemRef) -> MemoryItem:
        """Fold `item` into `into`; it stays in history with `merged_into` set."""
        target = self.get(into)
        written = self._store.set_status(
            self._id(item),
            self.user,
            Status.MERGED,
            cube_id=self.id,
            changes={"merged_into": target.id},
        )
        self._index.catch_up()
        return written.item

    def forget(self, item: ItemRef, *, hard: bool = False) -> MemoryItem:
        """Forget an item: it leaves search and `get`. `hard=True` also purges its text from
        every version, its vector and its links; derived KV caches and adapters go stale.

        Raises:
            NotFoundError: no such item in this cube.
        """
        written = self._store.forget(self._id(item), self.user, hard=hard, cube_id=self.id)
        self._reindex(written, None)
        if hard:
            # The vector must not survive in an index snapshot either.
            self._index.flush()
        return written.item

    def revert(self, item: ItemRef, version: int) -> MemoryItem:
        """Make an earlier version current again, as a new version."""
        item_id = self._id(item)
        old = next((v for v in self.history(item_id) if v.version == version), None)
        if old is None:
            raise NotFoundError(f"item {item_id} has no version {version}")
        if old.content is None:
            raise NotFoundError(f"version {version} of item {item_id} was purged")
        vector = self._embed([old.content])[0]
        written = self._store.revert(item_id, self.user, version, vector, cube_id=self.id)
        self._reindex(written, vector)
        return written.item

    def link(
        self,
        src: ItemRef,
        dst: ItemRef,
        *,
        kind: str = "related",
        reason: str | None = None,
        weight: float = 1.0,
    ) -> Link:
        """Link two items of this cube (idempotent for the same kind)."""
        return self._store.add_link(
            self.id,
            self.user,
            self._id(src),
            self._id(dst),
            validation.link_kind(kind),
            reason=validation.optional_text(reason, field="reason", max_chars=4096),
            weight=float(weight),
        )

    def unlink(self, link_id: int) -> None:
        self._store.remove_link(self.id, self.user, link_id)

    # -- reading ------------------------------------------------------------------------

    def get(
        self,
        item: ItemRef,
        *,
        as_of: datetime | str | None = None,
        known_at: datetime | str | None = None,
    ) -> MemoryItem:
        """An item now; with `as_of`, the version true in the world then; with `known_at`,
        what memos had recorded by then.

        Raises:
            NotFoundError: no such item, forgotten, or not valid at that time.
            PermissionDeniedError: the user may not read it.
        """
        self._store.expire_due(self.id)
        return self._store.get_item(
            self._id(item),
            self.user,
            cube_id=self.id,
            as_of=parse_time(as_of, field="as_of"),
            known_at=parse_time(known_at, field="known_at"),
        )

    def history(self, item: ItemRef) -> list[Version]:
        """Every version of an item, oldest first."""
        return self._store.history(self._id(item), self.user, cube_id=self.id)

    def links(self, item: ItemRef) -> list[Link]:
        """Links from and to an item."""
        return self._store.links(self._id(item), self.user, cube_id=self.id)

    def items(
        self,
        *,
        status: Iterable[Status | str] | None = None,
        kind: Iterable[Kind | str] | None = None,
        type: Iterable[str] | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[MemoryItem]:
        """Items of the cube, newest first."""
        self._store.expire_due(self.id)
        return self._store.list_items(
            self.id,
            self.user,
            statuses=None if status is None else [_enum(s, Status, "status") for s in status],
            kinds=None if kind is None else [_enum(k, Kind, "kind") for k in kind],
            types=None if type is None else list(type),
            limit=limit,
            offset=offset,
        )

    def search(
        self,
        query: str,
        *,
        k: int = 10,
        types: Iterable[str] | None = None,
        statuses: Iterable[Status | str] | None = None,
    ) -> list[Hit]:
        """The k memories closest in meaning to `query`, best first (higher score = closer).

        Raises:
            InvalidInputError: empty query or k out of range.
            PermissionDeniedError: the user may not read this cube.
        """
        text = validation.content(
            query, max_chars=self._mos.settings.max_content_chars, field="query"
        )
        k = validation.top_k(k)
        wanted = (
            SEARCHABLE_STATUSES
            if statuses is None
            else frozenset(_enum(s, Status, "status") for s in statuses)
        )
        type_filter = None if types is None else [validation.item_type(t) for t in types]
        vector = self._mos.embedder.embed_queries([text])
        index = self._index
        fetch_k = k * _OVERFETCH
        while True:
            ids, scores = index.search(vector, min(fetch_k, max(len(index), 1)))
            score_of = {int(i): float(s) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0}
            # The store checks read permission even when there is nothing to rank.
            found = self._store.fetch(
                self.id, self.user, list(score_of), limit=k, statuses=wanted, types=type_filter
            )
            exhausted = len(score_of) < fetch_k or fetch_k >= len(index)
            if len(found) >= k or exhausted:
                break
            fetch_k *= 4
        hits = [Hit(item=i, score=score_of[i.id], scores={"vector": score_of[i.id]}) for i in found]
        self._mos.access_log.record(h.item.id for h in hits)
        return hits

    def operations(self, *, after: int = 0, limit: int = 1000) -> list[Operation]:
        """The cube's operation log past sequence number `after`."""
        return self._store.operations(self.id, self.user, after=after, limit=limit)

    def stats(self) -> dict[str, Any]:
        """Counts by status and kind, index size, and log position."""
        counts = self._store.counts(self.id, self.user)
        return {
            "cube": self.name,
            "items": sum(counts["status"].values()),
            "by_status": counts["status"],
            "by_kind": counts["kind"],
            "indexed_vectors": len(self._index),
            "log_seq": self._store.max_seq(self.id),
            "embedder": self.info.embedder.to_dict(),
        }

    # -- sharing ------------------------------------------------------------------------

    def grant(self, user: str, permission: Permission | str) -> Grant:
        """Give a user read, write or admin on this cube ('*' means everyone)."""
        return self._store.grant(
            self.id,
            self.user,
            validation.user_name(user),
            _enum(permission, Permission, "permission"),
        )

    def revoke(self, user: str) -> None:
        self._store.revoke(self.id, self.user, validation.user_name(user))

    def grants(self) -> list[Grant]:
        return self._store.grants(self.id, self.user)

    def export_jsonl(self, path: str | Path) -> int:
        """Write the cube, every version and link included, to a JSONL file; returns the
        number of items written."""
        return write_export(self._store.export_records(self.id, self.user), Path(path))
