"""What retrieval asks of the store: lexical hits, narrow candidate rows, link
neighbourhoods. Every call checks read permission like any other read."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import ColumnElement, and_, or_, select

from memos.models import Candidate, Permission, SearchFilters, Visibility
from memos.protocols import FloatArray
from memos.stores.base import StoreBase
from memos.stores.engine import transaction
from memos.stores.schema import embeddings
from memos.stores.schema import items as items_table
from memos.stores.schema import links as links_table

_CANDIDATE_COLUMNS = (
    items_table.c.id,
    items_table.c.author,
    items_table.c.tags,
    items_table.c.version,
    items_table.c.valid_from,
    items_table.c.valid_to,
    items_table.c.updated_at,
    items_table.c.importance,
    items_table.c.access_count,
)


def _overlaps(
    start_column: Any, end_column: Any | None, window: tuple[datetime | None, datetime | None]
) -> list[ColumnElement[bool]]:
    """Conditions keeping rows whose [start, end) interval overlaps the window."""
    start, end = window
    conditions: list[ColumnElement[bool]] = []
    if end is not None:
        conditions.append(start_column < end)
    if start is not None:
        if end_column is None:
            conditions.append(start_column >= start)
        else:
            conditions.append(or_(end_column.is_(None), end_column > start))
    return conditions


class SearchOps(StoreBase):
    """Reads that the hybrid retriever composes."""

    def lexical_search(
        self, cube_id: int, actor: str, query: str, limit: int
    ) -> list[tuple[int, float]]:
        """BM25 hits (item id, score) of the cube, best first, before any filtering.

        Raises:
            PermissionDeniedError: `actor` may not read the cube.
        """
        with transaction(self.engine, write=False) as conn:
            self._require(conn, cube_id, actor, Permission.READ)
            return self.lexical.search(conn, cube_id, query, limit)

    def _admitted(
        self, cube_id: int, actor: str, granted: Permission, filters: SearchFilters
    ) -> list[ColumnElement[bool]]:
        """SQL conditions for the items of a cube that `actor` may see and `filters` admit
        (tags are checked in Python: JSON arrays query differently on each database)."""
        now = self.clock()
        conditions: list[ColumnElement[bool]] = [
            items_table.c.cube_id == cube_id,
            items_table.c.status.in_([s.value for s in filters.statuses]),
            items_table.c.kind.in_([k.value for k in filters.kinds]),
            or_(items_table.c.expires_at.is_(None), items_table.c.expires_at > now),
            *_overlaps(items_table.c.valid_from, items_table.c.valid_to, filters.valid_during),
            *_overlaps(items_table.c.created_at, None, filters.recorded_during),
        ]
        if granted is not Permission.ADMIN:
            conditions.append(
                or_(
                    items_table.c.visibility != Visibility.PRIVATE.value,
                    items_table.c.owner == actor,
                )
            )
        for column, wanted in (
            (items_table.c.type, filters.types),
            (items_table.c.source, filters.sources),
            (items_table.c.author, filters.authors),
        ):
            if wanted:
                conditions.append(column.in_(sorted(wanted)))
        if filters.as_of is None:
            # A fact replaced by a newer one (the reader's supersession) is history: it
            # answers `as_of` questions only.
            conditions.append(
                or_(
                    items_table.c.superseded_by.is_(None),
                    items_table.c.valid_to.is_(None),
                    items_table.c.valid_to > now,
                )
            )
        else:
            # An item updated since may have had an earlier version valid then; the
            # retriever resolves those through the version history.
            conditions.append(
                or_(
                    and_(
                        items_table.c.valid_from <= filters.as_of,
                        or_(
                            items_table.c.valid_to.is_(None),
                            items_table.c.valid_to > filters.as_of,
                        ),
                    ),
                    items_table.c.version > 1,
                )
            )
        return conditions

    def admitted_ids(
        self, cube_id: int, actor: str, filters: SearchFilters, limit: int
    ) -> list[int] | None:
        """Every item id the filters admit, or None when there are more than `limit`
        (then the caller should rely on the indexes instead of scoring them all).

        Raises:
            PermissionDeniedError: `actor` may not read the cube.
        """
        with transaction(self.engine, write=False) as conn:
            _, granted = self._require(conn, cube_id, actor, Permission.READ)
            rows = conn.execute(
                select(items_table.c.id, items_table.c.tags)
                .where(*self._admitted(cube_id, actor, granted, filters))
                .limit(limit + 1)
            ).all()
        if len(rows) > limit:
            return None
        return [int(r[0]) for r in rows if filters.tags <= set(r[1] or ())]

    def candidates(
        self, cube_id: int, actor: str, ids: Sequence[int], filters: SearchFilters
    ) -> dict[int, Candidate]:
        """Narrow rows of the items among `ids` that the actor may read and the filters
        admit; expired (TTL) items never pass.

        Raises:
            PermissionDeniedError: `actor` may not read the cube.
        """
        with transaction(self.engine, write=False) as conn:
            _, granted = self._require(conn, cube_id, actor, Permission.READ)
            if not ids:
                return {}
            query = select(*_CANDIDATE_COLUMNS).where(
                self.id_in(items_table.c.id, ids),
                *self._admitted(cube_id, actor, granted, filters),
            )
            found: dict[int, Candidate] = {}
            for row in conn.execute(query):
                candidate = Candidate(
                    id=int(row.id), author=row.author, tags=tuple(row.tags or ()),
                    version=int(row.version), valid_from=row.valid_from, valid_to=row.valid_to,
                    updated_at=row.updated_at, importance=float(row.importance),
                    access_count=int(row.access_count),
                )  # fmt: skip
                if filters.tags <= set(candidate.tags):
                    found[candidate.id] = candidate
            return found

    def vectors_of(self, cube_id: int, item_ids: Sequence[int]) -> dict[int, FloatArray]:
        """Stored vectors of items (for exact scores of candidates an index did not
        return); callers pass ids that already passed `candidates`."""
        if not item_ids:
            return {}
        with transaction(self.engine, write=False) as conn:
            rows = conn.execute(
                select(embeddings.c.item_id, embeddings.c.vector).where(
                    embeddings.c.cube_id == cube_id,
                    self.id_in(embeddings.c.item_id, item_ids),
                )
            ).all()
        return {int(r[0]): np.frombuffer(r[1], dtype=np.float32) for r in rows}

    def neighbours(
        self, cube_id: int, item_ids: Sequence[int]
    ) -> list[tuple[int, int, str, float]]:
        """Links touching the given items: (src, dst, kind, weight). Callers filter the
        far ends through `candidates`, which checks permission."""
        if not item_ids:
            return []
        ids = [int(i) for i in item_ids]
        with transaction(self.engine, write=False) as conn:
            rows = conn.execute(
                select(
                    links_table.c.src_id, links_table.c.dst_id, links_table.c.kind,
                    links_table.c.weight,
                ).where(
                    links_table.c.cube_id == cube_id,
                    or_(
                        self.id_in(links_table.c.src_id, ids),
                        self.id_in(links_table.c.dst_id, ids),
                    ),
                )
            ).all()  # fmt: skip
        return [(int(r[0]), int(r[1]), str(r[2]), float(r[3])) for r in rows]
