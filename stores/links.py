"""Links between items of one cube."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, delete, insert, or_, select

from memos.errors import InvalidInputError, NotFoundError
from memos.models import CubeInfo, Link, Permission, Status, Visibility
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
            cube, granted = self._require(conn, cube_id, actor, Permission.WRITE)
            wanted = {d.src_id for d in drafts} | {d.dst_id for d in drafts}
            # Another user's private item reads as missing: linking must not reveal that
            # it exists, nor hand back the reason of a link its owner made to it.
            missing = wanted - self._visible(conn, cube, granted, actor, wanted)
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
        """Raises: NotFoundError: no such link in the cube (or one whose ends the actor
        may not both read)."""
        with transaction(self.engine, write=True) as conn:
            cube, granted = self._require(conn, cube_id, actor, Permission.WRITE)
            row = (
                conn.execute(
                    select(links_table).where(
                        links_table.c.id == link_id, links_table.c.cube_id == cube_id
                    )
                )
                .mappings()
                .first()
            )
            ends = {int(row["src_id"]), int(row["dst_id"])} if row is not None else set()
            if row is None or self._visible(conn, cube, granted, actor, ends) != ends:
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
        """Links from or to an item whose other end the actor may read too (a private
        item of someone else, or a forgotten one, is never named, nor the link's reason).

        Raises: NotFoundError, PermissionDeniedError: the item itself is not readable."""
        with transaction(self.engine, write=False) as conn:
            item = self._readable(conn, item_id, actor, cube_id)
            cube = self.cube_by_id(item.cube_id)
            found = [
                link_from_row(r)
                for r in conn.execute(
                    select(links_table)
                    .where(or_(links_table.c.src_id == item_id, links_table.c.dst_id == item_id))
                    .order_by(links_table.c.id)
                ).mappings()
            ]
            return self._readable_links(conn, cube, self._permission(conn, cube, actor), actor,
                                        found)  # fmt: skip

    def cube_links(self, cube_id: int, actor: str) -> list[Link]:
        """The cube's links whose two ends the actor may read."""
        with transaction(self.engine, write=False) as conn:
            cube, granted = self._require(conn, cube_id, actor, Permission.READ)
            found = [
                link_from_row(r)
                for r in conn.execute(
                    select(links_table)
                    .where(links_table.c.cube_id == cube_id)
                    .order_by(links_table.c.id)
                ).mappings()
            ]
            return self._readable_links(conn, cube, granted, actor, found)

    def _readable_links(
        self,
        conn: Connection,
        cube: CubeInfo,
        granted: Permission | None,
        actor: str,
        found: Sequence[Link],
    ) -> list[Link]:
        ends = {link.src_id for link in found} | {link.dst_id for link in found}
        visible = self._visible(conn, cube, granted, actor, ends)
        return [link for link in found if link.src_id in visible and link.dst_id in visible]

    def _visible(
        self,
        conn: Connection,
        cube: CubeInfo,
        granted: Permission | None,
        actor: str,
        ids: Iterable[int],
    ) -> set[int]:
        """The ids among `ids` of live items of the cube that the actor may read (the
        rules of `_check_read`)."""
        wanted = sorted(ids)
        visible: set[int] = set()
        for start in range(0, len(wanted), 500):
            query = select(items_table.c.id).where(
                items_table.c.cube_id == cube.id,
                items_table.c.id.in_(wanted[start : start + 500]),
                items_table.c.status != Status.DELETED.value,
            )
            if granted is None:
                query = query.where(items_table.c.visibility == Visibility.PUBLIC.value)
            elif granted is not Permission.ADMIN:
                query = query.where(
                    or_(
                        items_table.c.visibility != Visibility.PRIVATE.value,
                        items_table.c.owner == actor,
                    )
                )
            visible.update(int(i) for i in conn.execute(query).scalars())
        return visible
