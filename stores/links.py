"""Links between items of one cube."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, insert, or_, select

from memos.errors import InvalidInputError, NotFoundError
from memos.models import Link, Permission, Status
from memos.stores.base import StoreBase, inserted_id
from memos.stores.engine import transaction
from memos.stores.rows import link_from_row
from memos.stores.schema import items as items_table
from memos.stores.schema import links as links_table


@dataclass(frozen=True, slots=True)
class LinkDraft:
    """A link to create: source, destination, kind, why, and weight (graph expansion
    passes `weight` times the source's score to the destination)."""

    src_id: int
    dst_id: int
    kind: str = "related"
    reason: str | None = None
    weight: float = 1.0
    # Who made it when not the acting user themselves, e.g. an agent
    # ("zettelkasten:offline"); None records the actor.
    created_by: str | None = None


class LinkOps(StoreBase):
    """Typed, directed edges between items of one cube."""

    def add_link(
        self,
        cube_id: int,
        actor: str,
        src_id: int,
        dst_id: int,
        kind: str,
        *,
        reason: str | None = None,
        weight: float = 1.0,
    ) -> Link:
        """Link two items of the cube; linking an existing edge returns it unchanged.

        Raises:
            NotFoundError: either item is missing from the cube or forgotten.
            InvalidInputError: an item linked to itself.
        """
        return self.add_links(cube_id, actor, [LinkDraft(src_id, dst_id, kind, reason, weight)])[0]

    def add_links(self, cube_id: int, actor: str, drafts: Sequence[LinkDraft]) -> list[Link]:
        """Create many links in one transaction (all or none); existing edges are returned
        unchanged.

        Raises:
            NotFoundError: an endpoint is missing from the cube or forgotten.
            InvalidInputError: an item linked to itself.
        """
        for draft in drafts:
            if draft.src_id == draft.dst_id:
                raise InvalidInputError(f"item {draft.src_id} cannot be linked to itself")
        links: list[Link] = []
        with transaction(self.engine, write=True) as conn:
            self._require(conn, cube_id, actor, Permission.WRITE)
            wanted = sorted({d.src_id for d in drafts} | {d.dst_id for d in drafts})
            live: set[int] = set()
            for start in range(0, len(wanted), 500):
                live.update(
                    int(i)
                    for i in conn.execute(
                        select(items_table.c.id).where(
                            items_table.c.cube_id == cube_id,
                            items_table.c.id.in_(wanted[start : start + 500]),
                            items_table.c.status != Status.DELETED.value,
                        )
                    ).scalars()
                )
            missing = set(wanted) - live
            if missing:
                raise NotFoundError(
                    f"no live item with id {min(missing)} in this cube; cannot link"
                )
            now = self.clock()
            for draft in drafts:
                existing = (
                    conn.execute(
                        select(links_table).where(
                            links_table.c.src_id == draft.src_id,
                            links_table.c.dst_id == draft.dst_id,
                            links_table.c.kind == draft.kind,
                        )
                    )
                    .mappings()
                    .first()
                )
                if existing is not None:
                    links.append(link_from_row(existing))
                    continue
                values = {
                    "cube_id": cube_id,
                    "src_id": draft.src_id,
                    "dst_id": draft.dst_id,
                    "kind": draft.kind,
                    "reason": draft.reason,
                    "weight": draft.weight,
                    "created_by": draft.created_by or actor,
                    "created_at": now,
                }
                link_id = inserted_id(conn.execute(insert(links_table), values))
                self._log(
                    conn, cube_id, draft.src_id, "link", actor,
                    {"dst": draft.dst_id, "kind": draft.kind},
                )  # fmt: skip
                links.append(link_from_row({**values, "id": link_id}))
        return links

    def remove_link(self, cube_id: int, actor: str, link_id: int) -> None:
        """Raises: NotFoundError: no such link in the cube."""
        with transaction(self.engine, write=True) as conn:
            self._require(conn, cube_id, actor, Permission.WRITE)
            row = (
                conn.execute(
                    select(links_table).where(
                        links_table.c.id == link_id, links_table.c.cube_id == cube_id
                    )
                )
                .mappings()
                .first()
            )
            if row is None:
                raise NotFoundError(f"no link with id {link_id} in this cube")
            conn.execute(delete(links_table).where(links_table.c.id == link_id))
            self._log(
                conn,
                cube_id,
                int(row["src_id"]),
                "unlink",
                actor,
                {"dst": int(row["dst_id"]), "kind": row["kind"]},
            )

    def links(self, item_id: int, actor: str, *, cube_id: int | None = None) -> list[Link]:
        """Links from or to an item. Raises: NotFoundError, PermissionDeniedError."""
        with transaction(self.engine, write=False) as conn:
            self._readable(conn, item_id, actor, cube_id)
            rows = conn.execute(
                select(links_table)
                .where(or_(links_table.c.src_id == item_id, links_table.c.dst_id == item_id))
                .order_by(links_table.c.id)
            ).mappings()
            return [link_from_row(r) for r in rows]

    def cube_links(self, cube_id: int, actor: str) -> list[Link]:
        with transaction(self.engine, write=False) as conn:
            self._require(conn, cube_id, actor, Permission.READ)
            rows = conn.execute(
                select(links_table)
                .where(links_table.c.cube_id == cube_id)
                .order_by(links_table.c.id)
            ).mappings()
            return [link_from_row(r) for r in rows]
