"""The operation log and the stored vectors that derived indexes replay."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
from sqlalchemy import delete, insert, select

from memos.models import Kind, MemoryItem, Operation, Permission, Status, Visibility
from memos.protocols import FloatArray, IdArray
from memos.stores.base import SYSTEM_ACTOR, StoreBase, vector_bytes
from memos.stores.engine import transaction
from memos.stores.rows import item_from_row, operation_from_row
from memos.stores.schema import embeddings, log_heads
from memos.stores.schema import items as items_table
from memos.stores.schema import oplog as oplog_table


def _names(payload: dict[str, object], ids: set[int]) -> bool:
    """Whether a log payload names one of `ids` (a link's ends, a copy's sources, ...)."""
    for value in payload.values():
        values = value if isinstance(value, list | tuple) else [value]
        if isinstance(value, dict):
            values = [
                v
                for inner in value.values()
                for v in (inner if isinstance(inner, list) else [inner])
            ]
        if any(isinstance(v, int) and not isinstance(v, bool) and v in ids for v in values):
            return True
    return False


class LogOps(StoreBase):
    """What derived indexes need: log positions, touched items and stored vectors."""

    def max_seq(self, cube_id: int) -> int:
        """The last place given in the cube's log (0 for an empty log)."""
        with transaction(self.engine, write=False) as conn:
            found = conn.execute(
                select(log_heads.c.seq).where(log_heads.c.cube_id == cube_id)
            ).scalar()
        return int(found or 0)

    def operations(
        self, cube_id: int, actor: str, *, after: int = 0, limit: int = 1000
    ) -> list[Operation]:
        """The operation log of a cube past place `after`. Raises: PermissionDeniedError."""
        with transaction(self.engine, write=False) as conn:
            _, granted = self._require(conn, cube_id, actor, Permission.READ)
            query = select(oplog_table).where(
                oplog_table.c.cube_id == cube_id, oplog_table.c.cube_seq > after
            )
            hidden: set[int] = set()
            if granted is not Permission.ADMIN:
                # Another user's private items: their entries, and payloads naming them
                # (a link's far end), are not this reader's to see.
                hidden = {
                    int(i)
                    for i in conn.execute(
                        select(items_table.c.id).where(
                            items_table.c.cube_id == cube_id,
                            items_table.c.visibility == Visibility.PRIVATE.value,
                            items_table.c.owner != actor,
                        )
                    ).scalars()
                }
            rows = conn.execute(query.order_by(oplog_table.c.cube_seq)).mappings()
            found: list[Operation] = []
            for row in rows:
                entry = operation_from_row(row)
                if hidden and (entry.item_id in hidden or _names(entry.payload, hidden)):
                    continue
                found.append(entry)
                if len(found) == limit:
                    break
            return found

    def log_since(self, cube_id: int, seq: int) -> list[tuple[int, int, int | None]]:
        """(place, row id, item id) of the cube's log entries past place `seq`, in order."""
        with transaction(self.engine, write=False) as conn:
            rows = conn.execute(
                select(oplog_table.c.cube_seq, oplog_table.c.seq, oplog_table.c.item_id)
                .where(oplog_table.c.cube_id == cube_id, oplog_table.c.cube_seq > seq)
                .order_by(oplog_table.c.cube_seq)
            ).all()
        return [(int(r[0]), int(r[1]), None if r[2] is None else int(r[2])) for r in rows]

    def index_state(self, cube_id: int, ids: Sequence[int]) -> tuple[IdArray, FloatArray, IdArray]:
        """For derived indexes: which of `ids` belong in the vector index (with vectors)
        and which must be removed."""
        dim = self.cube_by_id(cube_id).embedder.dim
        present: list[int] = []
        vectors: list[FloatArray] = []
        with transaction(self.engine, write=False) as conn:
            for start in range(0, len(ids), 500):
                chunk = [int(i) for i in ids[start : start + 500]]
                rows = conn.execute(
                    select(embeddings.c.item_id, embeddings.c.vector)
                    .join(items_table, items_table.c.id == embeddings.c.item_id)
                    .where(
                        embeddings.c.item_id.in_(chunk),
                        items_table.c.cube_id == cube_id,
                        items_table.c.status != Status.DELETED.value,
                        items_table.c.content.is_not(None),
                    )
                ).all()
                for item_id, blob in rows:
                    present.append(int(item_id))
                    vectors.append(np.frombuffer(blob, dtype=np.float32))
        absent = sorted({int(i) for i in ids} - set(present))
        matrix = np.vstack(vectors) if vectors else np.zeros((0, dim), dtype=np.float32)
        return (
            np.asarray(present, dtype=np.int64),
            matrix.astype(np.float32, copy=False),
            np.asarray(absent, dtype=np.int64),
        )

    def iter_vectors(
        self, cube_id: int, batch: int = 10_000
    ) -> Iterator[tuple[IdArray, FloatArray]]:
        """Every indexable vector of a cube, in batches, for a full index rebuild."""
        last = 0
        while True:
            with transaction(self.engine, write=False) as conn:
                rows = conn.execute(
                    select(embeddings.c.item_id, embeddings.c.vector)
                    .join(items_table, items_table.c.id == embeddings.c.item_id)
                    .where(
                        embeddings.c.cube_id == cube_id,
                        embeddings.c.item_id > last,
                        items_table.c.status != Status.DELETED.value,
                        items_table.c.content.is_not(None),
                    )
                    .order_by(embeddings.c.item_id)
                    .limit(batch)
                ).all()
            if not rows:
                return
            last = int(rows[-1][0])
            yield (
                np.asarray([int(r[0]) for r in rows], dtype=np.int64),
                np.vstack([np.frombuffer(r[1], dtype=np.float32) for r in rows]),
            )

    def items_missing_vectors(self, cube_id: int) -> list[MemoryItem]:
        """Live plaintext items without a stored vector (imported, or written by an older
        process); the cube embeds them."""
        with transaction(self.engine, write=False) as conn:
            rows = conn.execute(
                select(items_table)
                .outerjoin(embeddings, embeddings.c.item_id == items_table.c.id)
                .where(
                    items_table.c.cube_id == cube_id,
                    items_table.c.kind == Kind.PLAINTEXT.value,
                    items_table.c.status != Status.DELETED.value,
                    items_table.c.content.is_not(None),
                    embeddings.c.item_id.is_(None),
                )
            ).mappings()
            return [item_from_row(r) for r in rows]

    def put_vectors(self, cube_id: int, ids: Sequence[int], vectors: FloatArray) -> int:
        """Store vectors for existing items and log it, so indexes pick them up."""
        with transaction(self.engine, write=True) as conn:
            seq = 0
            for item_id, vector in zip(ids, vectors, strict=True):
                conn.execute(delete(embeddings).where(embeddings.c.item_id == int(item_id)))
                conn.execute(
                    insert(embeddings).values(
                        item_id=int(item_id), cube_id=cube_id, vector=vector_bytes(vector)
                    )
                )
                seq = self._log(conn, cube_id, int(item_id), "embed", SYSTEM_ACTOR, {})
        return seq
