"""SqlStore: the source of truth for cubes, items, versions, links, ACLs and the log.

Every mutation writes the item row, an immutable version row and an operation-log entry in
one transaction. Access control is enforced here, on every read and write path, so no
caller above can forget it.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import (
    Connection,
    CursorResult,
    Engine,
    and_,
    bindparam,
    delete,
    func,
    insert,
    inspect,
    or_,
    select,
    update,
)

from memos.errors import (
    BackendError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from memos.lifecycle import MUTABLE_STATES, check_transition
from memos.models import (
    SEARCHABLE_STATUSES,
    CubeInfo,
    EmbedderSpec,
    Grant,
    Kind,
    Link,
    MemoryItem,
    Operation,
    Permission,
    Status,
    Tier,
    Version,
    Visibility,
)
from memos.protocols import FloatArray, IdArray
from memos.stores import schema
from memos.stores.engine import make_engine, transaction
from memos.stores.jsonl import export_item, item_from_record, resolve_references
from memos.stores.rows import (
    cube_from_row,
    grant_from_row,
    item_from_row,
    item_values,
    link_from_row,
    operation_from_row,
    version_from_row,
)
from memos.stores.schema import SCHEMA_VERSION, cube_acl, cubes, embeddings, item_versions
from memos.stores.schema import items as items_table
from memos.stores.schema import links as links_table
from memos.stores.schema import oplog as oplog_table
from memos.timeutil import utcnow

Clock = Callable[[], datetime]

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

_EXPIRABLE = (Status.GENERATED, Status.ACTIVATED, Status.MERGED, Status.ARCHIVED)


def new_uid(clock: Clock) -> str:
    """A time-ordered public id: 12 hex digits of milliseconds, then 20 random."""
    millis = int(clock().timestamp() * 1000)
    return f"{millis:012x}{secrets.token_hex(10)}"


@dataclass(frozen=True, slots=True)
class ItemDraft:
    """What a caller supplies to create an item; the store fills in the rest."""

    content: str | None
    kind: Kind = Kind.PLAINTEXT
    type: str = "fact"
    status: Status = Status.ACTIVATED
    tags: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    context: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    source: str | None = None
    source_ref: str | None = None
    author: str | None = None
    created_by: str | None = None
    derived_from: tuple[dict[str, Any], ...] = ()
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    expires_at: datetime | None = None
    ttl: timedelta | None = None
    importance: float = 0.5
    confidence: float = 1.0
    tier: Tier = Tier.DISK
    visibility: Visibility = Visibility.SHARED
    artifact: str | None = None
    size_bytes: int | None = None
    owner: str | None = None
    uid: str | None = None


@dataclass(frozen=True, slots=True)
class Written:
    """The result of a write: the item as stored and the log sequence number it got."""

    item: MemoryItem
    seq: int


_UPDATE_ITEM = update(items_table).where(items_table.c.id == bindparam("target_id"))


def _inserted_id(result: CursorResult[Any]) -> int:
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def _vector_bytes(vector: FloatArray) -> bytes:
    return np.ascontiguousarray(vector, dtype=np.float32).tobytes()


class SqlStore:
    """The SQLAlchemy store; one schema on SQLite and PostgreSQL."""

    def __init__(self, engine: Engine, *, clock: Clock = utcnow) -> None:
        self.engine = engine
        self.clock = clock
        self._cubes: dict[int, CubeInfo] = {}
        self._known_users: set[str] = set()

    @classmethod
    def open(cls, url: str, *, clock: Clock = utcnow, busy_timeout_s: float = 30.0) -> SqlStore:
        """Connect, create the schema on first use, and check its version.

        Raises:
            BackendError: the database is unreachable, corrupt, or of another schema version.
        """
        store = cls(make_engine(url, busy_timeout_s=busy_timeout_s), clock=clock)
        store.initialise()
        return store

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def close(self) -> None:
        self.engine.dispose()

    def initialise(self) -> None:
        with transaction(self.engine, write=True) as conn:
            tables = set(inspect(conn).get_table_names())
            if schema.meta.name not in tables:
                if tables & {t.name for t in schema.metadata.sorted_tables}:
                    raise BackendError(
                        "the database has memos tables but no schema version; "
                        "it was not created by memos or is damaged"
                    )
                schema.metadata.create_all(conn)
                conn.execute(
                    insert(schema.meta).values(key="schema_version", value=str(SCHEMA_VERSION))
                )
                return
            found = conn.execute(
                select(schema.meta.c.value).where(schema.meta.c.key == "schema_version")
            ).scalar()
        if found != str(SCHEMA_VERSION):
            raise BackendError(
                f"the database has memos schema version {found}, this memos needs "
                f"{SCHEMA_VERSION}; use the memos release that created it, or export and "
                "re-import the data"
            )

    def integrity_check(self) -> list[str]:
        """Problems the database engine finds in its own files (SQLite only)."""
        if self.dialect != "sqlite":
            return []
        with transaction(self.engine, write=False) as conn:
            rows = conn.exec_driver_sql("PRAGMA quick_check").fetchall()
        return [str(r[0]) for r in rows if r[0] != "ok"]

    # -- users, cubes and access control ------------------------------------------------

    def _ensure_user(self, conn: Connection, name: str) -> None:
        if name in self._known_users:  # users are never deleted, so this cache stays true
            return
        exists = conn.execute(
            select(schema.users.c.name).where(schema.users.c.name == name)
        ).first()
        if exists is None:
            conn.execute(insert(schema.users).values(name=name, created_at=self.clock()))
        self._known_users.add(name)

    def users(self) -> list[str]:
        with transaction(self.engine, write=False) as conn:
            return list(conn.execute(select(schema.users.c.name).order_by("name")).scalars())

    def create_cube(
        self, name: str, owner: str, embedder: EmbedderSpec, attributes: Mapping[str, Any]
    ) -> CubeInfo:
        """Raises: ConflictError: a cube of that name exists."""
        with transaction(self.engine, write=True) as conn:
            if conn.execute(select(cubes.c.id).where(cubes.c.name == name)).first():
                raise ConflictError(f"a cube named {name!r} already exists")
            self._ensure_user(conn, owner)
            now = self.clock()
            cube_id = _inserted_id(
                conn.execute(
                    insert(cubes).values(
                        name=name,
                        owner=owner,
                        embedder_model=embedder.model,
                        embedder_dim=embedder.dim,
                        embedder_metric=embedder.metric,
                        created_at=now,
                        attributes=dict(attributes),
                    )
                )
            )
            self._log(conn, cube_id, None, "create_cube", owner, {"name": name})
        return self.cube_by_id(int(cube_id))

    def cube_by_name(self, name: str) -> CubeInfo:
        """Raises: NotFoundError: no cube has that name."""
        with transaction(self.engine, write=False) as conn:
            row = conn.execute(select(cubes).where(cubes.c.name == name)).mappings().first()
        if row is None:
            raise NotFoundError(f"no cube named {name!r}; `memos cube list` shows the cubes")
        cube = cube_from_row(row)
        self._cubes[cube.id] = cube
        return cube

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

    def list_cubes(self, actor: str) -> list[CubeInfo]:
        """The cubes `actor` may read, by name."""
        with transaction(self.engine, write=False) as conn:
            rows = conn.execute(select(cubes).order_by(cubes.c.name)).mappings().all()
            found = [cube_from_row(r) for r in rows]
            return [c for c in found if self._permission(conn, c, actor) is not None]

    def drop_cube(self, cube_id: int, actor: str) -> None:
        """Delete a cube and everything in it. Raises: PermissionDeniedError."""
        with transaction(self.engine, write=True) as conn:
            self._require(conn, cube_id, actor, Permission.ADMIN)
            # Explicit deletes: SQLite only cascades with foreign keys on, and being
            # explicit keeps both databases on the same path.
            for table in (oplog_table, links_table, embeddings, cube_acl):
                conn.execute(delete(table).where(table.c.cube_id == cube_id))
            item_ids = select(items_table.c.id).where(items_table.c.cube_id == cube_id)
            conn.execute(delete(item_versions).where(item_versions.c.item_id.in_(item_ids)))
            conn.execute(delete(items_table).where(items_table.c.cube_id == cube_id))
            conn.execute(delete(cubes).where(cubes.c.id == cube_id))
        self._cubes.pop(cube_id, None)

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

    def permission(self, cube_id: int, user: str) -> Permission | None:
        with transaction(self.engine, write=False) as conn:
            return self._permission(conn, self.cube_by_id(cube_id), user)

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

    def grant(self, cube_id: int, actor: str, user: str, permission: Permission) -> Grant:
        """Give `user` a permission on the cube. Raises: PermissionDeniedError."""
        with transaction(self.engine, write=True) as conn:
            self._require(conn, cube_id, actor, Permission.ADMIN)
            if user != EVERYONE:
                self._ensure_user(conn, user)
            conn.execute(
                delete(cube_acl).where(cube_acl.c.cube_id == cube_id, cube_acl.c.user == user)
            )
            values = {
                "cube_id": cube_id,
                "user": user,
                "permission": permission.value,
                "granted_by": actor,
                "granted_at": self.clock(),
            }
            conn.execute(insert(cube_acl).values(**values))
            self._log(conn, cube_id, None, "grant", actor, {"user": user, "permission": permission})
        return grant_from_row(values)

    def revoke(self, cube_id: int, actor: str, user: str) -> None:
        """Remove `user`'s grant. Raises: PermissionDeniedError, NotFoundError."""
        with transaction(self.engine, write=True) as conn:
            self._require(conn, cube_id, actor, Permission.ADMIN)
            removed = conn.execute(
                delete(cube_acl).where(cube_acl.c.cube_id == cube_id, cube_acl.c.user == user)
            ).rowcount
            if not removed:
                raise NotFoundError(f"user {user!r} has no grant on this cube")
            self._log(conn, cube_id, None, "revoke", actor, {"user": user})

    def grants(self, cube_id: int, actor: str) -> list[Grant]:
        with transaction(self.engine, write=False) as conn:
            self._require(conn, cube_id, actor, Permission.READ)
            rows = conn.execute(
                select(cube_acl).where(cube_acl.c.cube_id == cube_id).order_by(cube_acl.c.user)
            ).mappings()
            return [grant_from_row(r) for r in rows]

    # -- writes -------------------------------------------------------------------------

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
        return _inserted_id(conn.execute(insert(oplog_table), values))

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
        conn.execute(_UPDATE_ITEM, values)
        seq = self._log(conn, item.cube_id, item.id, operation, actor, payload)
        self._snapshot(conn, item, operation, actor, seq)
        return seq

    def add_items(
        self,
        cube_id: int,
        actor: str,
        drafts: Sequence[ItemDraft],
        vectors: FloatArray | None,
        *,
        operation: str = "add",
    ) -> list[Written]:
        """Insert items (and their vectors) in one transaction.

        Raises:
            PermissionDeniedError: `actor` may not write to the cube.
        """
        if vectors is not None and len(vectors) != len(drafts):
            raise InvalidInputError("one vector per item is required")
        if not drafts:
            return []
        with transaction(self.engine, write=True) as conn:
            self._require(conn, cube_id, actor, Permission.WRITE)
            self._ensure_user(conn, actor)
            now = self.clock()
            fresh = [self._new_item(cube_id, actor, draft, now) for draft in drafts]
            rows = [{**item_values(item), "access_count": 0} for item in fresh]
            # One multi-row statement per table: a batch costs little more than one row.
            ids = (
                conn.execute(
                    insert(items_table).returning(items_table.c.id, sort_by_parameter_order=True),
                    rows,
                )
                .scalars()
                .all()
            )
            stored = [dataclasses.replace(i, id=int(n)) for i, n in zip(fresh, ids, strict=True)]
            entries = [
                {
                    "cube_id": cube_id,
                    "item_id": item.id,
                    "operation": operation,
                    "actor": actor,
                    "at": now,
                    "payload": {"kind": item.kind.value, "type": item.type},
                }
                for item in stored
            ]
            seqs = (
                conn.execute(
                    insert(oplog_table).returning(oplog_table.c.seq, sort_by_parameter_order=True),
                    entries,
                )
                .scalars()
                .all()
            )
            conn.execute(
                insert(item_versions),
                [
                    {
                        **row,
                        "item_id": item.id,
                        "recorded_at": now,
                        "operation": operation,
                        "actor": actor,
                        "op_seq": int(seq),
                    }
                    for row, item, seq in zip(rows, stored, seqs, strict=True)
                ],
            )
            if vectors is not None:
                conn.execute(
                    insert(embeddings),
                    [
                        {"item_id": item.id, "cube_id": cube_id, "vector": _vector_bytes(vector)}
                        for item, vector in zip(stored, vectors, strict=True)
                    ],
                )
        return [Written(item, int(seq)) for item, seq in zip(stored, seqs, strict=True)]

    def _new_item(self, cube_id: int, actor: str, draft: ItemDraft, now: datetime) -> MemoryItem:
        return MemoryItem(
            id=0,
            uid=draft.uid or new_uid(self.clock),
            cube_id=cube_id,
            kind=draft.kind,
            type=draft.type,
            content=draft.content,
            status=draft.status,
            version=1,
            created_at=now,
            updated_at=now,
            valid_from=draft.valid_from or now,
            owner=draft.owner or actor,
            artifact=draft.artifact,
            keywords=draft.keywords,
            tags=draft.tags,
            context=draft.context,
            attributes=dict(draft.attributes),
            source=draft.source,
            source_ref=draft.source_ref,
            author=draft.author,
            created_by=draft.created_by,
            derived_from=draft.derived_from,
            valid_to=draft.valid_to,
            expires_at=draft.expires_at or (now + draft.ttl if draft.ttl else None),
            importance=draft.importance,
            confidence=draft.confidence,
            tier=draft.tier,
            size_bytes=(
                draft.size_bytes
                if draft.size_bytes is not None
                else len((draft.content or "").encode())
            ),
            visibility=draft.visibility,
        )

    def _load_for_write(
        self, conn: Connection, item_id: int, actor: str, cube_id: int | None
    ) -> MemoryItem:
        row = (
            conn.execute(select(items_table).where(items_table.c.id == item_id).with_for_update())
            .mappings()
            .first()
        )
        if row is None or (cube_id is not None and int(row["cube_id"]) != cube_id):
            raise NotFoundError(f"no memory item with id {item_id} in this cube")
        item = item_from_row(row)
        _, granted = self._require(conn, item.cube_id, actor, Permission.WRITE)
        if (
            item.visibility is Visibility.PRIVATE
            and item.owner != actor
            and granted is not Permission.ADMIN
        ):
            raise PermissionDeniedError(
                f"item {item_id} is private to {item.owner!r}; only they or a cube admin may "
                "change it"
            )
        return item

    def update_item(
        self,
        item_id: int,
        actor: str,
        changes: Mapping[str, Any],
        vector: FloatArray | None,
        *,
        cube_id: int | None = None,
        force: bool = False,
        operation: str = "update",
    ) -> Written:
        """Apply field changes as a new version.

        Raises:
            NotFoundError, PermissionDeniedError: as for any write.
            ConflictError: the item is frozen (and not forced), merged, archived or gone.
        """
        unknown = set(changes) - UPDATABLE_FIELDS
        if unknown:
            raise InvalidInputError(f"cannot update field(s): {', '.join(sorted(unknown))}")
        with transaction(self.engine, write=True) as conn:
            current = self._load_for_write(conn, item_id, actor, cube_id)
            if current.status not in MUTABLE_STATES:
                raise ConflictError(
                    f"item {item_id} is {current.status.value}; only generated, activated or "
                    "frozen items can be updated (restore an archived item first)"
                )
            if current.status is Status.FROZEN and not force:
                raise ConflictError(f"item {item_id} is frozen; pass force=True to update it")
            now = self.clock()
            fields = dict(changes)
            content_changed = "content" in fields and fields["content"] != current.content
            if content_changed:
                # A new statement is true from now unless the caller says since when.
                fields.setdefault("valid_from", now)
                fields.setdefault("size_bytes", len((fields["content"] or "").encode()))
            new = dataclasses.replace(
                current, **fields, version=current.version + 1, updated_at=now
            )
            seq = self._store_change(
                conn, new, operation, actor, {"fields": sorted(fields), "force": force}
            )
            if vector is not None:
                self._put_vector(conn, new, vector)
            if content_changed:
                self._mark_dependents_stale(conn, new, actor, "source updated")
        return Written(new, seq)

    def set_status(
        self,
        item_id: int,
        actor: str,
        status: Status,
        *,
        cube_id: int | None = None,
        changes: Mapping[str, Any] | None = None,
        operation: str | None = None,
    ) -> Written:
        """Move an item through the lifecycle.

        Raises:
            InvalidTransitionError: the state machine forbids the move.
        """
        with transaction(self.engine, write=True) as conn:
            current = self._load_for_write(conn, item_id, actor, cube_id)
            check_transition(current.status, status)
            new = dataclasses.replace(
                current,
                **dict(changes or {}),
                status=status,
                version=current.version + 1,
                updated_at=self.clock(),
            )
            seq = self._store_change(
                conn,
                new,
                operation or f"status:{status.value}",
                actor,
                {"from": current.status.value, "to": status.value},
            )
            if status in (Status.DELETED, Status.EXPIRED):
                self._mark_dependents_stale(conn, new, actor, f"source {status.value}")
        return Written(new, seq)

    def forget(
        self, item_id: int, actor: str, *, hard: bool = False, cube_id: int | None = None
    ) -> Written:
        """Mark an item deleted; `hard` also purges its text from every version.

        Raises:
            InvalidTransitionError: the item is already deleted and `hard` is not set.
        """
        with transaction(self.engine, write=True) as conn:
            current = self._load_for_write(conn, item_id, actor, cube_id)
            if not (hard and current.status is Status.DELETED):
                check_transition(current.status, Status.DELETED)
            purge: dict[str, Any] = {}
            if hard:
                purge = {
                    "content": None,
                    "keywords": (),
                    "tags": (),
                    "context": None,
                    "attributes": {},
                    "size_bytes": 0,
                }
            new = dataclasses.replace(
                current,
                **purge,
                status=Status.DELETED,
                version=current.version + 1,
                updated_at=self.clock(),
            )
            seq = self._store_change(
                conn, new, "forget:hard" if hard else "forget", actor, {"hard": hard}
            )
            conn.execute(delete(embeddings).where(embeddings.c.item_id == item_id))
            if hard:
                conn.execute(
                    update(item_versions)
                    .where(item_versions.c.item_id == item_id)
                    .values(content=None, keywords=[], tags=[], context=None, attributes={})
                )
                conn.execute(
                    delete(links_table).where(
                        or_(links_table.c.src_id == item_id, links_table.c.dst_id == item_id)
                    )
                )
            self._mark_dependents_stale(conn, new, actor, "source forgotten")
        if hard:
            self._reclaim_space()
        return Written(new, seq)

    def _reclaim_space(self) -> None:
        # With secure_delete the freed pages are zeroed; checkpointing moves that into the
        # main file and truncates the WAL, which still holds the old page images.
        if self.dialect == "sqlite":
            with self.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")

    def revert(
        self,
        item_id: int,
        actor: str,
        version: int,
        vector: FloatArray | None,
        *,
        cube_id: int | None = None,
    ) -> Written:
        """Write a new version whose content and metadata equal an earlier version's.

        Raises:
            NotFoundError: no such version, or its content was purged.
        """
        with transaction(self.engine, write=True) as conn:
            current = self._load_for_write(conn, item_id, actor, cube_id)
            if current.status not in MUTABLE_STATES:
                raise ConflictError(f"item {item_id} is {current.status.value}; cannot revert")
            row = (
                conn.execute(
                    select(item_versions).where(
                        item_versions.c.item_id == item_id, item_versions.c.version == version
                    )
                )
                .mappings()
                .first()
            )
            if row is None:
                raise NotFoundError(f"item {item_id} has no version {version}")
            old = item_from_row(row)
            fields = {name: getattr(old, name) for name in UPDATABLE_FIELDS}
            new = dataclasses.replace(
                current, **fields, version=current.version + 1, updated_at=self.clock()
            )
            seq = self._store_change(conn, new, "revert", actor, {"to_version": version})
            if vector is not None:
                self._put_vector(conn, new, vector)
            if old.content != current.content:
                self._mark_dependents_stale(conn, new, actor, "source reverted")
        return Written(new, seq)

    def _put_vector(self, conn: Connection, item: MemoryItem, vector: FloatArray) -> None:
        conn.execute(delete(embeddings).where(embeddings.c.item_id == item.id))
        conn.execute(
            insert(embeddings),
            {"item_id": item.id, "cube_id": item.cube_id, "vector": _vector_bytes(vector)},
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

    def expire_due(self, cube_id: int) -> list[int]:
        """Move items whose TTL has passed to `expired`; returns their ids."""
        now = self.clock()
        due = and_(
            items_table.c.cube_id == cube_id,
            items_table.c.expires_at <= now,
            items_table.c.status.in_([s.value for s in _EXPIRABLE]),
        )
        with transaction(self.engine, write=False) as conn:
            if conn.execute(select(items_table.c.id).where(due).limit(1)).first() is None:
                return []
        expired: list[int] = []
        with transaction(self.engine, write=True) as conn:
            for row in list(conn.execute(select(items_table).where(due)).mappings()):
                current = item_from_row(row)
                new = dataclasses.replace(
                    current,
                    status=Status.EXPIRED,
                    valid_to=current.valid_to or current.expires_at,
                    version=current.version + 1,
                    updated_at=now,
                )
                self._store_change(conn, new, "expire", TTL_ACTOR, {"from": current.status})
                self._mark_dependents_stale(conn, new, TTL_ACTOR, "source expired")
                expired.append(current.id)
        return expired

    def record_access(self, counts: Mapping[int, tuple[int, datetime]]) -> None:
        """Add batched access counts; usage is telemetry, not a new version."""
        if not counts:
            return
        statement = (
            update(items_table)
            .where(items_table.c.id == bindparam("item_id"))
            .values(
                access_count=items_table.c.access_count + bindparam("n"),
                last_accessed_at=bindparam("at"),
            )
        )
        params = [{"item_id": i, "n": n, "at": at} for i, (n, at) in sorted(counts.items())]
        with transaction(self.engine, write=True) as conn:
            conn.execute(statement, params)

    # -- reads --------------------------------------------------------------------------

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

    def cube_of(self, item_id: int) -> int:
        """The cube an item belongs to. Raises: NotFoundError."""
        with transaction(self.engine, write=False) as conn:
            found = conn.execute(
                select(items_table.c.cube_id).where(items_table.c.id == item_id)
            ).scalar()
        if found is None:
            raise NotFoundError(f"no memory item with id {item_id}")
        return int(found)

    def resolve_uid(self, uid: str, cube_id: int | None = None) -> int:
        """The integer id of an item's public uid. Raises: NotFoundError, InvalidInputError."""
        query = select(items_table.c.id).where(items_table.c.uid == uid)
        if cube_id is not None:
            query = query.where(items_table.c.cube_id == cube_id)
        with transaction(self.engine, write=False) as conn:
            found = list(conn.execute(query.limit(2)).scalars())
        if not found:
            raise NotFoundError(f"no memory item with uid {uid!r}")
        if len(found) > 1:
            raise InvalidInputError(f"uid {uid!r} exists in several cubes; name the cube")
        return int(found[0])

    def get_item(
        self,
        item_id: int,
        actor: str,
        *,
        cube_id: int | None = None,
        as_of: datetime | None = None,
        known_at: datetime | None = None,
        include_deleted: bool = False,
    ) -> MemoryItem:
        """The item now, or as it was valid at `as_of` as known at `known_at`.

        Raises:
            NotFoundError: no such item, it was forgotten, or it was not valid/known then.
            PermissionDeniedError: `actor` may not read it.
        """
        with transaction(self.engine, write=False) as conn:
            current = self._readable(conn, item_id, actor, cube_id)
            if current.status is Status.DELETED and not include_deleted:
                raise NotFoundError(f"item {item_id} was forgotten")
            if as_of is None and known_at is None:
                return current
            rows = conn.execute(
                select(item_versions)
                .where(item_versions.c.item_id == item_id)
                .order_by(item_versions.c.version)
            ).mappings()
            versions = [version_from_row(r) for r in rows]
        return _pick_version(item_id, versions, as_of=as_of, known_at=known_at)

    def history(self, item_id: int, actor: str, *, cube_id: int | None = None) -> list[Version]:
        """Every version of an item, oldest first. Raises: NotFoundError, PermissionDeniedError."""
        with transaction(self.engine, write=False) as conn:
            self._readable(conn, item_id, actor, cube_id)
            rows = conn.execute(
                select(item_versions)
                .where(item_versions.c.item_id == item_id)
                .order_by(item_versions.c.version)
            ).mappings()
            return [version_from_row(r) for r in rows]

    def fetch(
        self,
        cube_id: int,
        actor: str,
        ranked: Sequence[int],
        *,
        limit: int | None = None,
        statuses: Iterable[Status] = SEARCHABLE_STATUSES,
        types: Iterable[str] | None = None,
        include_expired: bool = False,
    ) -> list[MemoryItem]:
        """The first `limit` items of `ranked` (ids, best first) that the actor may read and
        that pass the filters, in rank order.

        Raises:
            PermissionDeniedError: `actor` may not read the cube.
        """
        with transaction(self.engine, write=False) as conn:
            _, granted = self._require(conn, cube_id, actor, Permission.READ)
            if not ranked:
                return []
            # Filter on narrow columns first, then load full rows only for the winners:
            # turning a row into a MemoryItem costs more than the query.
            query = select(items_table.c.id).where(
                items_table.c.cube_id == cube_id,
                items_table.c.id.in_([int(i) for i in ranked]),
                items_table.c.status.in_([Status(s).value for s in statuses]),
            )
            if types is not None:
                query = query.where(items_table.c.type.in_(list(types)))
            if not include_expired:
                query = query.where(
                    or_(items_table.c.expires_at.is_(None), items_table.c.expires_at > self.clock())
                )
            if granted is not Permission.ADMIN:
                query = query.where(
                    or_(
                        items_table.c.visibility != Visibility.PRIVATE.value,
                        items_table.c.owner == actor,
                    )
                )
            allowed = {int(i) for i in conn.execute(query).scalars()}
            chosen = [int(i) for i in ranked if int(i) in allowed][:limit]
            if not chosen:
                return []
            rows = conn.execute(select(items_table).where(items_table.c.id.in_(chosen))).mappings()
            by_id = {int(r["id"]): item_from_row(r) for r in rows}
        return [by_id[i] for i in chosen]

    def list_items(
        self,
        cube_id: int,
        actor: str,
        *,
        statuses: Iterable[Status] | None = None,
        kinds: Iterable[Kind] | None = None,
        types: Iterable[str] | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[MemoryItem]:
        """Items of a cube, newest first, filtered. Raises: PermissionDeniedError."""
        with transaction(self.engine, write=False) as conn:
            _, granted = self._require(conn, cube_id, actor, Permission.READ)
            query = select(items_table).where(items_table.c.cube_id == cube_id)
            if statuses is not None:
                query = query.where(items_table.c.status.in_([Status(s).value for s in statuses]))
            if kinds is not None:
                query = query.where(items_table.c.kind.in_([Kind(k).value for k in kinds]))
            if types is not None:
                query = query.where(items_table.c.type.in_(list(types)))
            if granted is not Permission.ADMIN:
                query = query.where(
                    or_(
                        items_table.c.visibility != Visibility.PRIVATE.value,
                        items_table.c.owner == actor,
                    )
                )
            query = query.order_by(items_table.c.id.desc()).limit(limit).offset(offset)
            return [item_from_row(r) for r in conn.execute(query).mappings()]

    def counts(self, cube_id: int, actor: str) -> dict[str, dict[str, int]]:
        """Item counts by status and by kind. Raises: PermissionDeniedError."""
        with transaction(self.engine, write=False) as conn:
            self._require(conn, cube_id, actor, Permission.READ)
            result: dict[str, dict[str, int]] = {"status": {}, "kind": {}}
            for column, key in ((items_table.c.status, "status"), (items_table.c.kind, "kind")):
                rows = conn.execute(
                    select(column, func.count())
                    .where(items_table.c.cube_id == cube_id)
                    .group_by(column)
                )
                result[key] = {str(value): int(count) for value, count in rows}
            return result

    # -- links --------------------------------------------------------------------------

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
            link_id = _inserted_id(conn.execute(insert(links_table).values(**values)))
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

    # -- the operation log and the vectors that derived indexes replay ------------------

    def max_seq(self, cube_id: int) -> int:
        with transaction(self.engine, write=False) as conn:
            found = conn.execute(
                select(func.max(oplog_table.c.seq)).where(oplog_table.c.cube_id == cube_id)
            ).scalar()
        return int(found or 0)

    def operations(
        self, cube_id: int, actor: str, *, after: int = 0, limit: int = 1000
    ) -> list[Operation]:
        """The operation log of a cube past `after`. Raises: PermissionDeniedError."""
        with transaction(self.engine, write=False) as conn:
            self._require(conn, cube_id, actor, Permission.READ)
            rows = conn.execute(
                select(oplog_table)
                .where(oplog_table.c.cube_id == cube_id, oplog_table.c.seq > after)
                .order_by(oplog_table.c.seq)
                .limit(limit)
            ).mappings()
            return [operation_from_row(r) for r in rows]

    def touched_since(
        self, cube_id: int, seq: int, *, recorded_after: datetime | None = None
    ) -> tuple[list[int], int]:
        """Items changed by log entries past `seq` (or recorded after a time), and the
        highest sequence number seen."""
        condition = oplog_table.c.seq > seq
        if recorded_after is not None:
            # PostgreSQL hands out sequence numbers before commit, so a slow transaction can
            # commit a number below one already applied; re-reading recent entries catches it.
            condition = or_(condition, oplog_table.c.at >= recorded_after)
        with transaction(self.engine, write=False) as conn:
            rows = conn.execute(
                select(oplog_table.c.item_id, oplog_table.c.seq).where(
                    oplog_table.c.cube_id == cube_id, condition
                )
            ).all()
        touched = sorted({int(r[0]) for r in rows if r[0] is not None})
        return touched, max([seq, *(int(r[1]) for r in rows)])

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
                        item_id=int(item_id), cube_id=cube_id, vector=_vector_bytes(vector)
                    )
                )
                seq = self._log(conn, cube_id, int(item_id), "embed", SYSTEM_ACTOR, {})
        return seq

    # -- export and import --------------------------------------------------------------

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
        for link in self.cube_links(cube_id, actor):
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
            if conn.execute(select(cubes.c.id).where(cubes.c.name == name)).first():
                raise ConflictError(
                    f"a cube named {name!r} already exists; import under another name"
                )
            self._ensure_user(conn, actor)
            cube_id = int(
                _inserted_id(
                    conn.execute(
                        insert(cubes).values(
                            name=name,
                            owner=actor,
                            embedder_model=embedder.model,
                            embedder_dim=embedder.dim,
                            embedder_metric=embedder.metric,
                            created_at=self.clock(),
                            attributes=dict(header.get("attributes") or {}),
                        )
                    )
                )
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
                item_id = int(_inserted_id(conn.execute(insert(items_table).values(**values))))
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


def _pick_version(
    item_id: int,
    versions: Sequence[Version],
    *,
    as_of: datetime | None,
    known_at: datetime | None,
) -> MemoryItem:
    """Bi-temporal choice: among versions recorded by `known_at`, the latest recorded one
    whose validity covers `as_of` (later knowledge overrides earlier for the same time)."""
    known = [v for v in versions if known_at is None or v.recorded_at <= known_at]
    if not known:
        raise NotFoundError(f"item {item_id} was not yet recorded at {known_at}")
    if as_of is None:
        chosen = known[-1]
    else:
        covering = [
            v
            for v in known
            if v.item.valid_from <= as_of and (v.item.valid_to is None or as_of < v.item.valid_to)
        ]
        if not covering:
            raise NotFoundError(f"item {item_id} was not valid at {as_of.isoformat()}")
        chosen = covering[-1]
    if chosen.item.status is Status.DELETED:
        raise NotFoundError(f"item {item_id} was forgotten by then")
    return chosen.item
