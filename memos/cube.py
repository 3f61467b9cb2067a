"""MemCube: a named, owned container of memories, and the SDK's main working object.

A thin facade: each method parses its input (`memos.requests`) and makes one call to the
kernel (`memos.kernel.CubeKernel`) or to a feature (`memos.agents`, `memos.activation`,
`memos.parametric`, `memos.runtime`), which get this cube through narrow protocols.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from memos import validation
from memos.agents.ledger import usage_totals
from memos.cube_agents import AgentMemory
from memos.cube_derived import DerivedMemory
from memos.errors import InvalidInputError
from memos.kernel import CubeKernel
from memos.models import (
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
)
from memos.protocols import ItemRef
from memos.requests import (
    AddRequest,
    SearchRequest,
    UpdateRequest,
    add_drafts,
    link_requests,
    parse,
)
from memos.retrieval.cube_index import IndexReport
from memos.retrieval.hybrid import SearchWeights
from memos.stores.jsonl import write_export
from memos.stores.links import LinkDraft
from memos.timeutil import parse_time

if TYPE_CHECKING:
    from memos.mos import MemOS

__all__ = ["ItemRef", "MemCube"]


class MemCube(AgentMemory, DerivedMemory):
    """Memories of one cube, as seen by the acting user of the `MemOS` that opened it."""

    def __init__(self, mos: MemOS, info: CubeInfo) -> None:
        self._mos = mos
        self._kernel = CubeKernel(mos.kernel, info, mos.user)
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

    def _id(self, ref: ItemRef) -> int:
        return self._kernel.resolve(ref)

    def _context(self) -> dict[str, int]:
        return {"max_chars": self._kernel.max_content_chars}

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
        request = parse(AddRequest, {**fields, "content": content}, **self._context())
        return self._kernel.write([request.draft()])[0]

    def add_many(self, records: Iterable[str | Mapping[str, Any]]) -> list[MemoryItem]:
        """Remember many texts (strings, or mappings with `content` and the fields of
        `add`) in one transaction and one embedding batch; nothing is stored if any record
        is invalid."""
        return self._kernel.write(add_drafts(records, **self._context()))

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
        changes = self._changes(content, ttl, meta)
        return self._kernel.rewrite(self._id(item), changes, force=force)

    def revise(
        self,
        item: ItemRef,
        content: str | None = None,
        *,
        created_by: str,
        operation: str = "revise",
        force: bool = False,
        **meta: Any,
    ) -> MemoryItem:
        """`update` on behalf of an agent: the version records `created_by` (who and why,
        e.g. 'zettelkasten:evolve:note#42') and `operation`, so `revert` can take it back."""
        changes = self._changes(content, None, meta)
        changes["created_by"] = validation.optional_text(
            created_by, field="created_by", max_chars=256
        )
        if not isinstance(operation, str) or not 0 < len(operation) <= 64:
            raise InvalidInputError("operation must be a name of 1-64 characters")
        return self._kernel.rewrite(self._id(item), changes, force=force, operation=operation)

    def _changes(self, content: str | None, ttl: Any, meta: Mapping[str, Any]) -> dict[str, Any]:
        request = parse(UpdateRequest, {**meta, "content": content, "ttl": ttl}, **self._context())
        changes = request.changes()
        if "ttl" in changes:
            changes["expires_at"] = self._kernel.now() + changes.pop("ttl")
        return changes

    def set_status(self, item: ItemRef, status: Status | str) -> MemoryItem:
        """Move an item through the lifecycle (see `memos.lifecycle`).

        Raises:
            InvalidTransitionError: the state machine does not allow the move.
        """
        target = validation.status(status)
        if target is Status.DELETED:
            return self.forget(item)
        if target is Status.MERGED:
            raise InvalidInputError("merging needs a target: use merge(item, into=other)")
        return self._kernel.set_status(self._id(item), target)

    def activate(self, item: ItemRef) -> MemoryItem:
        return self.set_status(item, Status.ACTIVATED)

    def archive(self, item: ItemRef) -> MemoryItem:
        return self.set_status(item, Status.ARCHIVED)

    def freeze(self, item: ItemRef) -> MemoryItem:
        return self.set_status(item, Status.FROZEN)

    def merge(self, item: ItemRef, into: ItemRef) -> MemoryItem:
        """Fold `item` into `into`; it stays in history with `merged_into` set."""
        source, target = self._id(item), self.get(into).id
        if source == target:
            raise InvalidInputError(f"item #{source} cannot be merged into itself")
        return self._kernel.set_status(source, Status.MERGED, changes={"merged_into": target})

    def forget(self, item: ItemRef, *, hard: bool = False) -> MemoryItem:
        """Forget an item: it leaves search and `get`. `hard=True` also purges its text,
        author and source reference from every version, its vector, its links and text
        other items copied from it; KV caches and adapters built from it go stale and their
        files are deleted.

        Raises:
            NotFoundError: no such item in this cube.
        """
        return self._kernel.forget(self._id(item), hard=hard)

    def supersede(
        self, old: ItemRef, *, by: ItemRef, at: datetime | str | None = None
    ) -> tuple[MemoryItem, MemoryItem]:
        """Mark `old` as replaced by `by` from `at` (default: when `by` became valid); the
        old fact answers `as_of` questions, default search returns the current one."""
        when = parse_time(at, field="at")
        return self._kernel.supersede(self._id(old), self._id(by), at=when)

    def revert(self, item: ItemRef, version: int) -> MemoryItem:
        """Make an earlier version current again, as a new version."""
        return self._kernel.revert(self._id(item), validation.item_id(version, field="version"))

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
        return self.link_many([{"src": src, "dst": dst, "kind": kind, "reason": reason,
                                "weight": weight}])[0]  # fmt: skip

    def link_many(self, edges: Iterable[tuple[ItemRef, ItemRef] | Mapping[str, Any]]) -> list[Link]:
        """Create links in one transaction, all or none: (src, dst) pairs or mappings with
        `src`, `dst` and optionally `kind`, `reason`, `weight`, `created_by`."""
        return self._kernel.link_many([
            LinkDraft(self._id(spec.src), self._id(spec.dst), spec.kind, spec.reason,
                      spec.weight, spec.created_by)
            for spec in link_requests(edges)
        ])  # fmt: skip

    def unlink(self, link_id: int) -> None:
        self._kernel.unlink(validation.item_id(link_id, field="link id"))

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
        return self._kernel.get(
            self._id(item),
            as_of=parse_time(as_of, field="as_of"),
            known_at=parse_time(known_at, field="known_at"),
        )

    def history(self, item: ItemRef) -> list[Version]:
        """Every version of an item, oldest first."""
        return self._kernel.history(self._id(item))

    def links(self, item: ItemRef) -> list[Link]:
        """Links from and to an item, as far as the user may see their ends."""
        return self._kernel.links(self._id(item))

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
        return self._kernel.items(
            statuses=validation.each(status, validation.status, field="status"),
            kinds=validation.each(kind, validation.kind, field="kind"),
            types=validation.each(type, validation.item_type, field="type"),
            limit=validation.limit(limit),
            offset=validation.offset(offset),
        )

    def search(
        self,
        query: str,
        *,
        k: int = 10,
        weights: SearchWeights | Mapping[str, float] | None = None,
        **filters: Any,
    ) -> list[Hit]:
        """The k memories that best answer `query`, best first (higher score = better).

        Hybrid retrieval (`memos.retrieval.hybrid`): vector and BM25 candidates fused,
        boosted when the query names an item's author, expanded over links, weighed by
        importance, recency and use; `hit.scores` explains each score by signal. Filters:
        `types`, `sources`, `authors`, `tags` (all must be present), `statuses` (default
        generated, activated, frozen), `valid_from`/`valid_to` (validity overlaps),
        `recorded_from`/`recorded_to`, `as_of` (the version valid then). `weights`
        overrides `SearchWeights` fields, e.g. `{"graph": 0}`.

        Raises:
            InvalidInputError: empty query, k out of range, a bad filter or weight.
            PermissionDeniedError: the user may not read this cube.
        """
        request = parse(SearchRequest, {**filters, "query": query, "k": k}, **self._context())
        return self._kernel.search(
            request.query, k=request.k, filters=request.filters(),
            weights=weights if isinstance(weights, SearchWeights)
            else SearchWeights.of(validation.weights(weights)),
        )  # fmt: skip

    def operations(self, *, after: int = 0, limit: int = 1000) -> list[Operation]:
        """The cube's operation log past sequence number `after`."""
        return self._kernel.operations(
            after=validation.offset(after), limit=validation.limit(limit)
        )

    def verify_index(self) -> IndexReport:
        """Compare the cube's vector index with SQL (counts, presence, log place, and a
        sample of vectors finding themselves); `rebuild_index` repairs a failed one."""
        return self._kernel.index.verify()

    def rebuild_index(self) -> IndexReport:
        """Build the cube's vector index again from the vectors in SQL."""
        self._kernel.index.rebuild()
        return self._kernel.index.verify()

    def stats(self) -> dict[str, Any]:
        """Counts by status and kind, index size, log position and LLM usage."""
        found = self._kernel.stats()
        found["llm_usage"] = usage_totals(self._mos.kernel.store, self.id)
        return found

    # -- sharing ------------------------------------------------------------------------

    def grant(self, user: str, permission: Permission | str) -> Grant:
        """Give a user read, write or admin on this cube ('*' means everyone)."""
        return self._kernel.grant(validation.user_name(user), validation.permission(permission))

    def revoke(self, user: str) -> None:
        self._kernel.revoke(validation.user_name(user))

    def grants(self) -> list[Grant]:
        return self._kernel.grants()

    def export_jsonl(self, path: str | Path) -> int:
        """Write the cube, versions and links included, to a JSONL file; returns the
        number of items written."""
        return write_export(self._kernel.export_records(), validation.output_file(path))
