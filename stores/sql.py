"""SqlStore: the source of truth for cubes, items, versions, links, ACLs and the log.

Every mutation writes the item row, an immutable version row and an operation-log entry in
one transaction. Access control is enforced here, on every read and write path, so no
caller above can forget it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, insert, select

from memos.errors import NotFoundError
from memos.models import CubeInfo, EmbedderSpec, Grant, Permission
from memos.stores import schema
from memos.stores.base import EVERYONE
from memos.stores.catalog import CatalogOps
from memos.stores.engine import before_commit, make_engine, transaction
from memos.stores.items import ItemOps
from memos.stores.keys import KeyOps
from memos.stores.links import LinkOps
from memos.stores.logheads import seal_log
from memos.stores.migrations import upgrade
from memos.stores.oplog import LogOps
from memos.stores.rows import cube_from_row, grant_from_row
from memos.stores.scheduling import SchedulingOps
from memos.stores.schema import cube_acl, cubes, embeddings, item_versions
from memos.stores.schema import items as items_table
from memos.stores.schema import links as links_table
from memos.stores.schema import oplog as oplog_table
from memos.stores.search import SearchOps
from memos.stores.transfer import TransferOps
from memos.stores.usage import UsageOps
from memos.timeutil import Clock, utcnow


class SqlStore(
    ItemOps,
    LinkOps,
    LogOps,
    SearchOps,
    TransferOps,
    CatalogOps,
    UsageOps,
    KeyOps,
    SchedulingOps,
):
    """The SQLAlchemy store; one schema on SQLite and PostgreSQL."""

    @classmethod
    def open(cls, url: str, *, clock: Clock = utcnow, busy_timeout_s: float = 30.0) -> SqlStore:
        """Connect, create the schema on first use, and check its version.

        Raises:
            BackendError: the database is unreachable, corrupt, or of another schema version.
        """
        store = cls(make_engine(url, busy_timeout_s=busy_timeout_s), clock=clock)
        store.initialise()
        return store

    def close(self) -> None:
        self.engine.dispose()

    def initialise(self) -> list[int]:
        """Create the schema, or migrate an older one; returns the versions applied."""
        applied = upgrade(self.engine, self.lexical)
        # From here on every write transaction seals its log entries (stores/logheads.py);
        # not before: an older schema has no place for them until migrated.
        before_commit(self.engine, seal_log)
        return applied

    def integrity_check(self) -> list[str]:
        """Problems the database engine finds in its own files (SQLite only)."""
        if self.dialect != "sqlite":
            return []
        with transaction(self.engine, write=False) as conn:
            rows = conn.exec_driver_sql("PRAGMA quick_check").fetchall()
        return [str(r[0]) for r in rows if r[0] != "ok"]

    # -- users, cubes and access control ------------------------------------------------

    def users(self) -> list[str]:
        with transaction(self.engine, write=False) as conn:
            return list(conn.execute(select(schema.users.c.name).order_by("name")).scalars())

    def create_cube(
        self, name: str, owner: str, embedder: EmbedderSpec, attributes: Mapping[str, Any]
    ) -> CubeInfo:
        """Raises: ConflictError: a cube of that name exists."""
        with transaction(self.engine, write=True) as conn:
            cube_id = self._insert_cube(conn, name, owner, embedder, attributes)
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
            self.lexical.drop(conn, cube_id)
            for table in (oplog_table, links_table, embeddings, cube_acl, schema.llm_usage,
                          schema.log_heads, schema.scheduler_log):  # fmt: skip
                conn.execute(delete(table).where(table.c.cube_id == cube_id))
            item_ids = select(items_table.c.id).where(items_table.c.cube_id == cube_id)
            conn.execute(delete(item_versions).where(item_versions.c.item_id.in_(item_ids)))
            conn.execute(delete(items_table).where(items_table.c.cube_id == cube_id))
            conn.execute(delete(cubes).where(cubes.c.id == cube_id))
        self._cubes.pop(cube_id, None)

    def permission(self, cube_id: int, user: str) -> Permission | None:
        with transaction(self.engine, write=False) as conn:
            return self._permission(conn, self.cube_by_id(cube_id), user)

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
