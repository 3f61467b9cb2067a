"""Links between items of one cube."""

from __future__ import annotations

from sqlalchemy import delete, insert, or_, select

from memos.errors import InvalidInputError, NotFoundError
from memos.models import Link, Permission, Status
from memos.stores.base import StoreBase, inserted_id
from memos.stores.engine import transaction
from memos.stores.rows import link_from_row
from memos.stores.schema import items as items_table
from memos.stores.schema import links as links_table


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
        if src_id == dst_id:
            raise InvalidInputError("an item cannot be linked to itself")
        with transaction(self.engine, write=True) as conn:
            self._require(conn, cube_id, actor, Permission.WRITE)
            found = conn.execute(
                select(items_table.c.id).where(
                    items_table.c.cube_id == cube_id,
                    items_table.c.id.in_((src_id, dst_id)),
                    items_table.c.status != Status.DELETED.value,
                )
            ).scalars()
            missing = {src_id, dst_id} - {int(i) for i in found}
            if missing:
                raise NotFoundError(
                    f"no live item with id {min(missing)} in this cube; cannot link"
                )
            existing = (
                conn.execute(
                    select(links_table).where(
                        links_table.c.src_id == src_id,
                        links_table.c.dst_id == dst_id,
                        links_table.c.kind == kind,
                    )
                )
                .mappings()
                .first()
            )
            if existing is not None:
                return link_from_row(existing)
            values = {
                "cube_id": cube_id,
                "src_id": src_id,
                "dst_id": dst_id,
                "kind": kind,
                "reason": reason,
                "weight": weight,
                "created_by": actor,
                "created_at": self.clock(),
            }
            link_id = inserted_id(conn.execute(insert(links_table).values(**values)))
            self._log(conn, cube_id, src_id, "link", actor, {"dst": dst_id, "kind": kind})
        return link_from_row({**values, "id": link_id})

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
