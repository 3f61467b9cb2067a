"""The shared core of the SQL store: records, write helpers and access checks.

`SqlStore` (stores/sql.py) is assembled from this base and one mixin per area: items
(stores/items.py), links (stores/links.py), the log that derived indexes replay
(stores/oplog.py) and export/import (stores/transfer.py).
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any

import numpy as np
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    CursorResult,
    Engine,
    any_,
    bindparam,
    delete,
    event,
    insert,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY

from memos.errors import ConfigError, ConflictError, NotFoundError, PermissionDeniedError
from memos.models import (
    CubeInfo,
    EmbedderSpec,
    Kind,
    MemoryItem,
    Permission,
    Status,
    Visibility,
)
from memos.protocols import FloatArray
from memos.stores import schema
from memos.stores.engine import reading, transaction
from memos.stores.lexical import LexicalIndex
from memos.stores.lexical_postgres import PostgresLexical
from memos.stores.lexical_sqlite import Fts5Lexical
from memos.stores.planner import PlannerStatistics
from memos.stores.rows import cube_from_row, item_from_row, item_values
from memos.stores.schema import cube_acl, cubes, embeddings, item_versions
from memos.stores.schema import items as items_table
from memos.stores.schema import oplog as oplog_table
from memos.timeutil import Clock, utcnow

# Everyone: a grant to this user applies to all users.
EVERYONE = "*"
SYSTEM_ACTOR = "memos:system"
TTL_ACTOR = "memos:ttl"

# Fields `update` may change; status moves only through the lifecycle.
UPDATABLE_FIELDS = frozenset(
    {
        "content",
        "type",
        "tags",
        "keywords",
        "context",
        "attributes",
        "source",
        "source_ref",
        "author",
        "valid_from",
        "valid_to",
        "expires_at",
        "importance",
        "confidence",
        "visibility",
        "tier",
        "artifact",
        "size_bytes",
        "stale",
        "derived_from",
        "supersedes",
        "superseded_by",
        "merged_into",
        "created_by",
    }
)

EXPIRABLE = (Status.GENERATED, Status.ACTIVATED, Status.MERGED, Status.ARCHIVED)


def lexical_for(dialect: str) -> LexicalIndex:
    """Raises: ConfigError: no lexical index for this database."""
    if dialect == "sqlite":
        return Fts5Lexical()
    if dialect == "postgresql":
        return PostgresLexical()
    raise ConfigError(f"no lexical index for database {dialect!r}")


def new_uid(clock: Clock) -> str:
    """A time-ordered public id: 12 hex digits of milliseconds, then 20 random."""
    millis = int(clock().timestamp() * 1000)
    return f"{millis:012x}{secrets.token_hex(10)}"


UPDATE_ITEM = update(items_table).where(items_table.c.id == bindparam("target_id"))


def inserted_id(result: CursorResult[Any]) -> int:
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def vector_bytes(vector: FloatArray) -> bytes:
    return np.ascontiguousarray(vector, dtype=np.float32).tobytes()


class StoreBase:
    """Engine, clock and the helpers every area of the store uses."""

    def __init__(self, engine: Engine, *, clock: Clock = utcnow) -> None:
        self.engine = engine
        self.clock = clock
        self._cubes: dict[int, CubeInfo] = {}
        self._known_users: set[str] = set()
        self.lexical = lexical_for(engine.dialect.name)
        self.statistics = PlannerStatistics(engine)
        # What the lexical index caches may have been undone with a transaction.
        event.listen(engine, "rollback", lambda _connection: self.lexical.reset())

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def id_in(self, column: ColumnElement[Any], ids: Sequence[int]) -> ColumnElement[bool]:
        """`column IN ids`; on PostgreSQL as `= ANY(array)`: one parameter instead of one
        per id keeps the statement short to render and send on every search."""
        values = [int(i) for i in ids]
        if self.dialect == "postgresql":
            return column == any_(bindparam(None, values, type_=ARRAY(BigInteger)))
        return column.in_(values)

    def reading(self) -> AbstractContextManager[None]:
        """A read session: the reads inside share one connection and transaction."""
        return reading(self.engine)

    def _ensure_user(self, conn: Connection, name: str) -> None:
        if name in self._known_users:  # users are never deleted, so this cache stays true
            return
        exists = conn.execute(
            select(schema.users.c.name).where(schema.users.c.name == name)
        ).first()
        if exists is None:
            conn.execute(insert(schema.users).values(name=name, created_at=self.clock()))
        self._known_users.add(name)

    def cube_by_id(self, cube_id: int) -> CubeInfo:
        """Raises: NotFoundError: no cube has that id."""
        cached = self._cubes.get(cube_id)
        if cached is not None:
            return cached
        with transaction(self.engine, write=False) as conn:
            row = conn.execute(select(cubes).where(cubes.c.id == cube_id)).mappings().first()
        if row is None:
            raise NotFoundError(f"no cube with id {cube_id}")
        cube = cube_from_row(row)
        self._cubes[cube_id] = cube
        return cube

    def _permission(self, conn: Connection, cube: CubeInfo, user: str) -> Permission | None:
        if user == cube.owner:
            return Permission.ADMIN
        rows = conn.execute(
            select(cube_acl.c.permission).where(
                cube_acl.c.cube_id == cube.id, cube_acl.c.user.in_((user, EVERYONE))
            )
        ).scalars()
        granted = [Permission(p) for p in rows]
        return max(granted, key=lambda p: p.rank) if granted else None

    def _require(
        self, conn: Connection, cube_id: int, actor: str, needed: Permission
    ) -> tuple[CubeInfo, Permission]:
        cube = self.cube_by_id(cube_id)
        granted = self._permission(conn, cube, actor)
        if granted is None or not granted.allows(needed):
            raise PermissionDeniedError(
                f"user {actor!r} lacks {needed.value} permission on cube {cube.name!r}; "
                f"an admin can run `memos cube grant {cube.name} {actor} {needed.value}`"
            )
        return cube, granted

    def _check_read(
        self, cube: CubeInfo, granted: Permission | None, item: MemoryItem, actor: str
    ) -> None:
        if item.visibility is Visibility.PUBLIC:
            return
        if granted is None:
            raise PermissionDeniedError(
                f"user {actor!r} lacks read permission on cube {cube.name!r}; "
                f"an admin can run `memos cube grant {cube.name} {actor} read`"
            )
        if (
            item.visibility is Visibility.PRIVATE
            and item.owner != actor
            and granted is not Permission.ADMIN
        ):
            raise PermissionDeniedError(f"item {item.id} is private to {item.owner!r}")

    def _readable(
        self, conn: Connection, item_id: int, actor: str, cube_id: int | None
    ) -> MemoryItem:
        row = (
            conn.execute(select(items_table).where(items_table.c.id == item_id)).mappings().first()
        )
        if row is None or (cube_id is not None and int(row["cube_id"]) != cube_id):
            raise NotFoundError(f"no memory item with id {item_id} in this cube")
        item = item_from_row(row)
        cube = self.cube_by_id(item.cube_id)
        self._check_read(cube, self._permission(conn, cube, actor), item, actor)
        return item

    def _insert_cube(
        self,
        conn: Connection,
        name: str,
        owner: str,
        embedder: EmbedderSpec,
        attributes: Mapping[str, Any],
    ) -> int:
        """Raises: ConflictError: a cube of that name exists."""
        if conn.execute(select(cubes.c.id).where(cubes.c.name == name)).first():
            raise ConflictError(f"a cube named {name!r} already exists; choose another name")
        self._ensure_user(conn, owner)
        return inserted_id(
            conn.execute(
                insert(cubes),
                {
                    "name": name,
                    "owner": owner,
                    "embedder_model": embedder.model,
                    "embedder_dim": embedder.dim,
                    "embedder_metric": embedder.metric,
                    "created_at": self.clock(),
                    "attributes": dict(attributes),
                },
            )
        )

    def _log(
        self,
        conn: Connection,
        cube_id: int,
        item_id: int | None,
        operation: str,
        actor: str,
        payload: Mapping[str, Any],
    ) -> int:
        values = {
            "cube_id": cube_id,
            "item_id": item_id,
            "operation": operation,
            "actor": actor,
            "at": self.clock(),
            "payload": {
                k: (str(v) if isinstance(v, Permission) else v) for k, v in payload.items()
            },
        }
        # Parameters passed apart from the statement: it compiles once and is cached.
        return inserted_id(conn.execute(insert(oplog_table), values))

    def _snapshot(
        self, conn: Connection, item: MemoryItem, operation: str, actor: str, seq: int
    ) -> None:
        values = item_values(item)
        values.update(
            item_id=item.id,
            recorded_at=item.updated_at,
            operation=operation,
            actor=actor,
            op_seq=seq,
        )
        conn.execute(insert(item_versions), values)

    def _store_change(
        self,
        conn: Connection,
        item: MemoryItem,
        operation: str,
        actor: str,
        payload: Mapping[str, Any],
    ) -> int:
        """Write an existing item's new state: row, version and log entry."""
        values = item_values(item)
        values["target_id"] = item.id
        conn.execute(UPDATE_ITEM, values)
        self.lexical.put(conn, [item])
        seq = self._log(conn, item.cube_id, item.id, operation, actor, payload)
        self._snapshot(conn, item, operation, actor, seq)
        return seq

    def _put_vector(self, conn: Connection, item: MemoryItem, vector: FloatArray) -> None:
        conn.execute(delete(embeddings).where(embeddings.c.item_id == item.id))
        conn.execute(
            insert(embeddings),
            {"item_id": item.id, "cube_id": item.cube_id, "vector": vector_bytes(vector)},
        )

    def _mark_dependents_stale(
        self, conn: Connection, source: MemoryItem, actor: str, reason: str
    ) -> None:
        """Derived memory built from `source` must not be used until rebuilt."""
        rows = conn.execute(
            select(items_table).where(
                items_table.c.cube_id == source.cube_id,
                items_table.c.kind != Kind.PLAINTEXT.value,
                items_table.c.status != Status.DELETED.value,
                items_table.c.stale.is_(False),
            )
        ).mappings()
        for row in list(rows):
            derived = item_from_row(row)
            if any(int(d.get("id", -1)) == source.id for d in derived.derived_from):
                new = dataclasses.replace(
                    derived, stale=True, version=derived.version + 1, updated_at=self.clock()
                )
                self._store_change(
                    conn, new, "stale", actor, {"source": source.id, "reason": reason}
                )
