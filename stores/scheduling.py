"""What the scheduler reads and writes with the system's rights: cubes, cold and hot items,
and its decision log. No permission checks: the scheduler acts for the cube's owner, and
what it learns here never leaves the process except as its own decisions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import desc, func, insert, select

from memos.models import CubeInfo, Kind, MemoryItem, Status
from memos.stores.base import StoreBase
from memos.stores.engine import transaction
from memos.stores.rows import cube_from_row, item_from_row
from memos.stores.schema import cubes, scheduler_log
from memos.stores.schema import items as items_table

_LIVE = (Status.ACTIVATED.value,)


class SchedulingOps(StoreBase):
    """System-level reads and the decision log."""

    def all_cubes(self) -> list[CubeInfo]:
        with transaction(self.engine, write=False) as conn:
            rows = conn.execute(select(cubes).order_by(cubes.c.id)).mappings().all()
        return [cube_from_row(r) for r in rows]

    def idle_items(self, cube_id: int, idle_before: datetime, limit: int) -> list[MemoryItem]:
        """Live plaintext items neither used nor changed since `idle_before`, oldest first."""
        last = func.coalesce(items_table.c.last_accessed_at, items_table.c.updated_at)
        with transaction(self.engine, write=False) as conn:
            rows = conn.execute(
                select(items_table)
                .where(
                    items_table.c.cube_id == cube_id,
                    items_table.c.kind == Kind.PLAINTEXT.value,
                    items_table.c.status.in_(_LIVE),
                    items_table.c.updated_at < idle_before,
                    last < idle_before,
                )
                .order_by(last)
                .limit(limit)
            ).mappings()
            return [item_from_row(r) for r in rows]

    def settled_items(
        self, cube_id: int, *, min_uses: int, changed_before: datetime, limit: int
    ) -> list[MemoryItem]:
        """Live plaintext items used at least `min_uses` times and unchanged since
        `changed_before`, most used first (candidates for parametric memory)."""
        with transaction(self.engine, write=False) as conn:
            rows = conn.execute(
                select(items_table)
                .where(
                    items_table.c.cube_id == cube_id,
                    items_table.c.kind == Kind.PLAINTEXT.value,
                    items_table.c.status.in_((Status.ACTIVATED.value, Status.FROZEN.value)),
                    items_table.c.access_count >= min_uses,
                    items_table.c.updated_at <= changed_before,
                    items_table.c.content.is_not(None),
                )
                .order_by(desc(items_table.c.access_count), items_table.c.id)
                .limit(limit)
            ).mappings()
            return [item_from_row(r) for r in rows]

    def derived_by(self, cube_id: int, created_by: str) -> list[MemoryItem]:
        """Live derived items of a cube that `created_by` made (the scheduler's own)."""
        with transaction(self.engine, write=False) as conn:
            rows = conn.execute(
                select(items_table).where(
                    items_table.c.cube_id == cube_id,
                    items_table.c.kind != Kind.PLAINTEXT.value,
                    items_table.c.status != Status.DELETED.value,
                    items_table.c.created_by == created_by,
                )
            ).mappings()
            return [item_from_row(r) for r in rows]

    def record_decisions(self, rows: Iterable[Mapping[str, Any]]) -> None:
        values = [dict(r) for r in rows]
        if values:
            with transaction(self.engine, write=True) as conn:
                conn.execute(insert(scheduler_log), values)

    def decisions(self, cube_id: int | None, limit: int) -> list[dict[str, Any]]:
        """The newest decisions (of one cube, or all), newest first."""
        query = select(scheduler_log).order_by(desc(scheduler_log.c.id)).limit(limit)
        if cube_id is not None:
            query = query.where(scheduler_log.c.cube_id == cube_id)
        with transaction(self.engine, write=False) as conn:
            return [dict(r) for r in conn.execute(query).mappings()]
