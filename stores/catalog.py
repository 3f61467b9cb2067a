"""The artifact catalog: which item rows point at which KV-cache and adapter files.

Artifacts are shared by content hash (two items built from identical text share one file),
so deleting a file asks the catalog first. These reads bypass item permissions on purpose:
forgetting a source must reach every derived copy of its text, whoever owns it.
"""

from __future__ import annotations

from sqlalchemy import select

from memos.models import Kind, MemoryItem, Status
from memos.stores.base import StoreBase
from memos.stores.engine import transaction
from memos.stores.rows import item_from_row
from memos.stores.schema import items as items_table

DERIVED_KINDS = (Kind.ACTIVATION.value, Kind.PARAMETRIC.value)


class CatalogOps(StoreBase):
    """Lookups from artifacts to the items that use them."""

    def derived_items(self, cube_id: int, source_id: int) -> list[MemoryItem]:
        """Activation and parametric items of a cube built from `source_id`, whatever their
        owner or visibility."""
        with transaction(self.engine, write=False) as conn:
            rows = conn.execute(
                select(items_table).where(
                    items_table.c.cube_id == cube_id,
                    items_table.c.kind.in_(DERIVED_KINDS),
                    items_table.c.artifact.is_not(None),
                )
            ).mappings()
            found = [item_from_row(r) for r in rows]
        return [i for i in found if any(int(d.get("id", -1)) == source_id for d in i.derived_from)]

    def artifact_in_use(self, digest: str, *, excluding: int) -> bool:
        """Whether a live, fresh item other than `excluding` still points at an artifact."""
        with transaction(self.engine, write=False) as conn:
            found = conn.execute(
                select(items_table.c.id)
                .where(
                    items_table.c.artifact == digest,
                    items_table.c.id != excluding,
                    items_table.c.status != Status.DELETED.value,
                    items_table.c.stale.is_(False),
                )
                .limit(1)
            ).first()
        return found is not None

    def artifact_users(self, digests: list[str]) -> dict[str, list[int]]:
        """Ids of the live items that point at each of `digests`."""
        if not digests:
            return {}
        users: dict[str, list[int]] = {d: [] for d in digests}
        with transaction(self.engine, write=False) as conn:
            rows = conn.execute(
                select(items_table.c.id, items_table.c.artifact).where(
                    items_table.c.artifact.in_(digests),
                    items_table.c.status != Status.DELETED.value,
                )
            )
            for item_id, digest in rows:
                users[str(digest)].append(int(item_id))
        return users

    def cube_artifacts(self, cube_id: int) -> list[tuple[Kind, str]]:
        """The kind and digest of every artifact the cube's derived items point at."""
        with transaction(self.engine, write=False) as conn:
            rows = conn.execute(
                select(items_table.c.kind, items_table.c.artifact).where(
                    items_table.c.cube_id == cube_id,
                    items_table.c.kind.in_(DERIVED_KINDS),
                    items_table.c.artifact.is_not(None),
                )
            )
            return sorted({(Kind(kind), str(digest)) for kind, digest in rows})
