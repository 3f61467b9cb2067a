"""Export and import of a whole cube as records (the JSONL format is stores/jsonl.py)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import insert, select, update

from memos.models import CubeInfo, EmbedderSpec, Permission, Version, Visibility
from memos.stores.base import EVERYONE, StoreBase, inserted_id
from memos.stores.engine import transaction
from memos.stores.jsonl import export_item, item_from_record, resolve_references
from memos.stores.rows import (
    grant_from_row,
    item_from_row,
    item_values,
    link_from_row,
    version_from_row,
)
from memos.stores.schema import cube_acl, item_versions
from memos.stores.schema import items as items_table
from memos.stores.schema import links as links_table


class TransferOps(StoreBase):
    """A whole cube to records and back."""

    def export_records(self, cube_id: int, actor: str) -> Iterator[dict[str, Any]]:
        """The cube as records: a header, then each item with every version, then links.
        References between items (supersedes, merged_into, derived_from) travel as uids.

        Raises:
            PermissionDeniedError: `actor` may not read the cube.
        """
        with transaction(self.engine, write=False) as conn:
            cube, granted = self._require(conn, cube_id, actor, Permission.READ)
            acl = [
                grant_from_row(r).to_dict()
                for r in conn.execute(
                    select(cube_acl).where(cube_acl.c.cube_id == cube_id)
                ).mappings()
            ]
            uids = {
                int(i): str(u)
                for i, u in conn.execute(
                    select(items_table.c.id, items_table.c.uid).where(
                        items_table.c.cube_id == cube_id
                    )
                )
            }
        yield {
            "record": "cube",
            "format": "memos-export",
            "format_version": 1,
            "exported_at": self.clock().isoformat(),
            "exported_by": actor,
            **{k: v for k, v in cube.to_dict().items() if k != "id"},
            "acl": [{k: v for k, v in g.items() if k != "cube_id"} for g in acl],
        }
        exported: set[int] = set()
        last = 0
        while True:
            with transaction(self.engine, write=False) as conn:
                rows = list(
                    conn.execute(
                        select(items_table)
                        .where(items_table.c.cube_id == cube_id, items_table.c.id > last)
                        .order_by(items_table.c.id)
                        .limit(1000)
                    ).mappings()
                )
                if not rows:
                    break
                last = int(rows[-1]["id"])
                ids = [int(r["id"]) for r in rows]
                versions: dict[int, list[Version]] = {i: [] for i in ids}
                for vrow in conn.execute(
                    select(item_versions)
                    .where(item_versions.c.item_id.in_(ids))
                    .order_by(item_versions.c.item_id, item_versions.c.version)
                ).mappings():
                    versions[int(vrow["item_id"])].append(version_from_row(vrow))
            for row in rows:
                item = item_from_row(row)
                if (
                    item.visibility is Visibility.PRIVATE
                    and item.owner != actor
                    and granted is not Permission.ADMIN
                ):
                    continue
                exported.add(item.id)
                record = export_item(item, uids)
                record["record"] = "item"
                record["versions"] = [
                    {
                        **export_item(v.item, uids),
                        "recorded_at": v.recorded_at.isoformat(),
                        "operation": v.operation,
                        "actor": v.actor,
                    }
                    for v in versions[item.id]
                ]
                yield record
        with transaction(self.engine, write=False) as conn:
            edges = [
                link_from_row(r)
                for r in conn.execute(
                    select(links_table)
                    .where(links_table.c.cube_id == cube_id)
                    .order_by(links_table.c.id)
                ).mappings()
            ]
        for link in edges:
            if link.src_id in exported and link.dst_id in exported:
                yield {
                    "record": "link",
                    "src_uid": uids[link.src_id],
                    "dst_uid": uids[link.dst_id],
                    "kind": link.kind,
                    "reason": link.reason,
                    "weight": link.weight,
                    "created_by": link.created_by,
                    "created_at": link.created_at.isoformat(),
                }

    def import_records(
        self,
        header: Mapping[str, Any],
        item_records: Sequence[Mapping[str, Any]],
        link_records: Sequence[Mapping[str, Any]],
        actor: str,
        *,
        name: str,
        embedder: EmbedderSpec,
    ) -> CubeInfo:
        """Create cube `name` from validated export records, in one transaction.

        Raises:
            ConflictError: the cube name is taken.
        """
        with transaction(self.engine, write=True) as conn:
            cube_id = self._insert_cube(
                conn, name, actor, embedder, dict(header.get("attributes") or {})
            )
            for grant in header.get("acl") or ():
                if grant["user"] == actor:
                    continue
                if grant["user"] != EVERYONE:
                    self._ensure_user(conn, grant["user"])
                conn.execute(
                    insert(cube_acl).values(
                        cube_id=cube_id,
                        user=grant["user"],
                        permission=grant["permission"],
                        granted_by=grant["granted_by"],
                        granted_at=grant["granted_at"],
                    )
                )
            self._log(conn, cube_id, None, "import", actor, {"items": len(item_records)})
            ids: dict[str, int] = {}
            for record in item_records:
                current = item_from_record(record, cube_id=cube_id, item_id=0)
                values = item_values(current)
                values["access_count"] = current.access_count
                values["last_accessed_at"] = current.last_accessed_at
                item_id = int(inserted_id(conn.execute(insert(items_table).values(**values))))
                ids[current.uid] = item_id
            for record in item_records:
                item_id = ids[record["uid"]]
                seq = self._log(conn, cube_id, item_id, "import", actor, {})
                refs = resolve_references(record, ids)
                if refs:
                    conn.execute(
                        update(items_table).where(items_table.c.id == item_id).values(**refs)
                    )
                for version in record["versions"]:
                    snapshot = item_from_record(version, cube_id=cube_id, item_id=item_id)
                    values = item_values(snapshot)
                    values.update(resolve_references(version, ids))
                    values.update(
                        item_id=item_id,
                        recorded_at=version["recorded_at"],
                        operation=version["operation"],
                        actor=version["actor"],
                        op_seq=seq,
                    )
                    conn.execute(insert(item_versions).values(**values))
            self.lexical.put(
                conn,
                [
                    item_from_row(r)
                    for r in conn.execute(
                        select(items_table).where(items_table.c.cube_id == cube_id)
                    ).mappings()
                ],
            )
            for link in link_records:
                conn.execute(
                    insert(links_table).values(
                        cube_id=cube_id,
                        src_id=ids[link["src_uid"]],
                        dst_id=ids[link["dst_uid"]],
                        kind=link["kind"],
                        reason=link.get("reason"),
                        weight=float(link.get("weight", 1.0)),
                        created_by=link["created_by"],
                        created_at=link["created_at"],
                    )
                )
        return self.cube_by_id(cube_id)
