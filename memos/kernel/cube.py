"""`CubeKernel`: one cube's write pipeline and reads, acting as one user.

Every write goes the same way: embed what changed (the vector covers `author: content`),
commit the row, version, log entry and vector in one SQL transaction, reflect it in the
cube's vector index, then tell the listeners. Reads check permissions in the store.
The facade (`MemCube`) parses input and makes one call here; features get this object
through the narrow protocols they need (`DerivedHost`), never the store itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import numpy as np

from memos import validation
from memos.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from memos.kernel.events import Changed, Forgotten, Retrieved, Used
from memos.kernel.system import Kernel
from memos.models import (
    CubeInfo,
    Grant,
    Hit,
    ItemDraft,
    Kind,
    Link,
    MemoryItem,
    Operation,
    Permission,
    SearchFilters,
    Status,
    Version,
    Written,
)
from memos.protocols import FloatArray, ItemRef
from memos.retrieval.cube_index import CubeIndex
from memos.retrieval.hybrid import SearchWeights
from memos.stores.links import LinkDraft
from memos.text import vector_text

_NO_IDS = np.zeros(0, dtype=np.int64)


class CubeKernel:
    """The kernel's operations on one cube, with one user's permissions."""

    def __init__(self, kernel: Kernel, info: CubeInfo, user: str) -> None:
        self._kernel = kernel
        self._store = kernel.store
        self.info = info
        self.user = user

    def __repr__(self) -> str:
        return f"CubeKernel(cube={self.info.name!r}, user={self.user!r})"

    @property
    def cube_id(self) -> int:
        return self.info.id

    @property
    def max_content_chars(self) -> int:
        return self._kernel.settings.max_content_chars

    @property
    def index(self) -> CubeIndex:
        return self._kernel.index_of(self.info)

    def now(self) -> datetime:
        return self._kernel.clock()

    # -- ids ----------------------------------------------------------------------------

    def resolve(self, ref: ItemRef) -> int:
        """An item id from an int id, ASCII digits, or a uid of this cube.

        Raises:
            InvalidInputError: neither an id nor a uid. NotFoundError: no such uid here.
        """
        checked = validation.item_ref(ref)
        if isinstance(checked, int):
            return checked
        return self._store.resolve_uid(checked, self.cube_id)

    # -- the write pipeline --------------------------------------------------------------

    def _embed(self, texts: Sequence[str]) -> FloatArray:
        return self._kernel.embedder.embed_documents(texts)

    def write(self, drafts: Sequence[ItemDraft], *, operation: str = "add") -> list[MemoryItem]:
        """Store new plaintext items (embedded in one batch) in one transaction.

        Raises:
            PermissionDeniedError: the user may not write to the cube.
        """
        if not drafts:
            return []
        vectors = self._embed([vector_text(d.content or "", d.author) for d in drafts])
        written = self._store.add_items(
            self.cube_id, self.user, drafts, vectors, operation=operation
        )
        self.index.apply(written, vectors, _NO_IDS)
        return self._changed(operation, written)

    def rewrite(
        self,
        item_id: int,
        changes: Mapping[str, Any],
        *,
        force: bool = False,
        operation: str = "update",
    ) -> MemoryItem:
        """A new version with `changes`; re-embedded when the content or author changes.

        Raises:
            NotFoundError, PermissionDeniedError: as any write.
            ConflictError: the item is frozen (and not forced), archived, merged or gone.
        """
        vector = None
        if "content" in changes or "author" in changes:
            current = self._store.get_item(item_id, self.user, cube_id=self.cube_id)
            text = changes.get("content", current.content) or ""
            author = changes.get("author", current.author)
            vector = self._embed([vector_text(text, author)])[0]
        written = self._store.update_item(
            item_id,
            self.user,
            dict(changes),
            vector,
            cube_id=self.cube_id,
            force=force,
            operation=operation,
        )
        self._reindex(written, vector)
        return self._changed(operation, [written])[0]

    def set_status(
        self, item_id: int, status: Status, *, changes: Mapping[str, Any] | None = None
    ) -> MemoryItem:
        """Raises: InvalidTransitionError: the lifecycle forbids the move."""
        written = self._store.set_status(
            item_id, self.user, status, cube_id=self.cube_id, changes=changes
        )
        self._reindex(written, None)
        return self._changed(f"status:{status.value}", [written])[0]

    def forget(self, item_id: int, *, hard: bool = False) -> MemoryItem:
        """Forget an item; `hard` purges its text from every version, its vector, its links,
        the index snapshot and (through the listeners) every artifact built from it."""
        written = self._store.forget(item_id, self.user, hard=hard, cube_id=self.cube_id)
        self._reindex(written, None)
        if hard:
            # Items whose text was rolled back past what they copied from it need vectors.
            self.embed_missing()
            self.index.flush()  # the vector must not survive in an index snapshot either
        self._kernel.events.emit(Forgotten(self.cube_id, written.item, hard))
        return self._changed("forget", [written])[0]

    def supersede(
        self, old_id: int, new_id: int, *, at: datetime | None = None
    ) -> tuple[MemoryItem, MemoryItem]:
        ended, replacing = self._store.supersede(
            old_id, new_id, self.user, at=at, cube_id=self.cube_id
        )
        self.index.catch_up()
        changed = self._changed("supersede", [ended, replacing])
        return changed[0], changed[1]

    def revert(self, item_id: int, version: int) -> MemoryItem:
        """Make an earlier version current again, as a new version.

        Raises:
            NotFoundError: no such version, or its text was purged.
        """
        old = next((v for v in self.history(item_id) if v.version == version), None)
        if old is None:
            raise NotFoundError(f"item {item_id} has no version {version}")
        if old.content is None:
            raise NotFoundError(f"version {version} of item {item_id} was purged")
        vector = self._embed([vector_text(old.content, old.item.author)])[0]
        written = self._store.revert(item_id, self.user, version, vector, cube_id=self.cube_id)
        self._reindex(written, vector)
        return self._changed("revert", [written])[0]

    def embed_missing(self) -> int:
        """Embed live items that have no stored vector (imported ones, or ones rolled back
        by a hard forget); returns how many."""
        missing = self._store.items_missing_vectors(self.cube_id)
        for start in range(0, len(missing), 256):
            chunk = missing[start : start + 256]
            vectors = self._embed([vector_text(m.content or "", m.author) for m in chunk])
            self._store.put_vectors(self.cube_id, [m.id for m in chunk], vectors)
        self.index.catch_up()
        return len(missing)

    def _reindex(self, written: Written, vector: FloatArray | None) -> None:
        if written.item.status is Status.DELETED or written.item.content is None:
            self.index.apply([], None, np.asarray([written.item.id], dtype=np.int64))
            self.index.catch_up()
        elif vector is not None:
            self.index.apply([written], vector.reshape(1, -1), _NO_IDS)
        else:
            # A write with no new vector still advances the log; let the index note it.
            self.index.catch_up()

    def _changed(self, operation: str, written: Sequence[Written]) -> list[MemoryItem]:
        items = [w.item for w in written]
        self._kernel.events.emit(Changed(self.cube_id, operation, tuple(items)))
        return items

    # -- links ---------------------------------------------------------------------------

    def link_many(self, drafts: Sequence[LinkDraft]) -> list[Link]:
        """All or none; an existing edge is returned unchanged."""
        return self._store.add_links(self.cube_id, self.user, drafts) if drafts else []

    def unlink(self, link_id: int) -> None:
        self._store.remove_link(self.cube_id, self.user, link_id)

    def links(self, item_id: int) -> list[Link]:
        return self._store.links(item_id, self.user, cube_id=self.cube_id)

    def graph_data(self) -> tuple[list[MemoryItem], list[Link]]:
        """The links the user may see and the live items at their ends."""
        links = self._store.cube_links(self.cube_id, self.user)
        ids = sorted({link.src_id for link in links} | {link.dst_id for link in links})
        items: list[MemoryItem] = []
        for start in range(0, len(ids), 5000):
            chunk = ids[start : start + 5000]
            items += self._store.fetch(self.cube_id, self.user, chunk, limit=len(chunk))
        return items, links

    # -- reads ---------------------------------------------------------------------------

    def get(
        self,
        item_id: int,
        *,
        as_of: datetime | None = None,
        known_at: datetime | None = None,
    ) -> MemoryItem:
        self._store.expire_due(self.cube_id)
        return self._store.get_item(
            item_id, self.user, cube_id=self.cube_id, as_of=as_of, known_at=known_at
        )

    def history(self, item_id: int) -> list[Version]:
        return self._store.history(item_id, self.user, cube_id=self.cube_id)

    def items(
        self,
        *,
        statuses: Iterable[Status] | None = None,
        kinds: Iterable[Kind] | None = None,
        types: Iterable[str] | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[MemoryItem]:
        self._store.expire_due(self.cube_id)
        return self._store.list_items(
            self.cube_id,
            self.user,
            statuses=statuses,
            kinds=kinds,
            types=types,
            limit=limit,
            offset=offset,
        )

    def search(
        self, query: str, *, k: int, filters: SearchFilters, weights: SearchWeights
    ) -> list[Hit]:
        with self._store.reading():  # one connection for the search's many reads
            hits = self._kernel.retriever.search(
                self.info,
                self.index,
                self.user,
                query,
                k=k,
                filters=filters,
                weights=weights,
                now=self.now(),
            )
        ids = tuple(h.item.id for h in hits)
        self._kernel.access_log.record(ids)
        self._kernel.events.emit(Retrieved(self.cube_id, self.user, query, ids))
        return hits

    def operations(self, *, after: int = 0, limit: int = 1000) -> list[Operation]:
        return self._store.operations(self.cube_id, self.user, after=after, limit=limit)

    def stats(self) -> dict[str, Any]:
        """Counts by status and kind, index size and log position."""
        counts = self._store.counts(self.cube_id, self.user)
        return {
            "cube": self.info.name,
            "items": sum(counts["status"].values()),
            "by_status": counts["status"],
            "by_kind": counts["kind"],
            "indexed_vectors": len(self.index),
            "log_seq": self._store.max_seq(self.cube_id),
            "embedder": self.info.embedder.to_dict(),
        }

    def export_records(self) -> Iterable[dict[str, Any]]:
        return self._store.export_records(self.cube_id, self.user)

    # -- access control ------------------------------------------------------------------

    def require(self, needed: Permission) -> None:
        """Raises: PermissionDeniedError: the user lacks `needed` on this cube."""
        granted = self._store.permission(self.cube_id, self.user)
        if granted is None or not granted.allows(needed):
            raise PermissionDeniedError(
                f"user {self.user!r} lacks {needed.value} permission on cube "
                f"{self.info.name!r}; an admin can run "
                f"`memos cube grant {self.info.name} {self.user} {needed.value}`"
            )

    def grant(self, user: str, permission: Permission) -> Grant:
        return self._store.grant(self.cube_id, self.user, user, permission)

    def revoke(self, user: str) -> None:
        self._store.revoke(self.cube_id, self.user, user)

    def grants(self) -> list[Grant]:
        return self._store.grants(self.cube_id, self.user)

    # -- what derived memory needs (the `DerivedHost` protocol) --------------------------

    def read(self, ref: ItemRef) -> MemoryItem:
        """An item by id or uid (the `DerivedHost` read)."""
        return self.get(self.resolve(ref))

    def write_derived(self, draft: ItemDraft) -> MemoryItem:
        if draft.kind is Kind.PLAINTEXT:
            raise InvalidInputError("derived memory is activation or parametric, not plaintext")
        written = self._store.add_items(self.cube_id, self.user, [draft], None, operation="derive")
        self.index.catch_up()
        return self._changed("derive", written)[0]

    def rewrite_derived(
        self, item_id: int, changes: Mapping[str, Any], *, force: bool
    ) -> MemoryItem:
        written = self._store.update_item(
            item_id, self.user, dict(changes), None, cube_id=self.cube_id, force=force,
            operation="rebuild",
        )  # fmt: skip
        self.index.catch_up()
        return self._changed("rebuild", [written])[0]

    def touch(self, item_ids: Iterable[int]) -> None:
        ids = tuple(item_ids)
        self._kernel.access_log.record(ids)
        self._kernel.events.emit(Used(self.cube_id, ids))
