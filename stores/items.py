"""Item operations: add, update, lifecycle moves, forget, revert, TTL, reads."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Text,
    and_,
    bindparam,
    cast,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)

from memos import validation
from memos.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from memos.lifecycle import MUTABLE_STATES, check_transition
from memos.models import (
    SEARCHABLE_STATUSES,
    ItemDraft,
    Kind,
    MemoryItem,
    Permission,
    Status,
    Version,
    Visibility,
    Written,
)
from memos.protocols import FloatArray
from memos.stores.base import (
    EXPIRABLE,
    TTL_ACTOR,
    UPDATABLE_FIELDS,
    StoreBase,
    new_uid,
    vector_bytes,
)
from memos.stores.engine import transaction
from memos.stores.rows import item_from_row, item_values, version_from_row
from memos.stores.schema import embeddings, item_versions
from memos.stores.schema import items as items_table
from memos.stores.schema import links as links_table
from memos.stores.schema import oplog as oplog_table


class ItemOps(StoreBase):
    """Creating, changing, expiring and reading memory items."""

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
            self.lexical.put(conn, stored)
            if vectors is not None:
                conn.execute(
                    insert(embeddings),
                    [
                        {"item_id": item.id, "cube_id": cube_id, "vector": vector_bytes(vector)}
                        for item, vector in zip(stored, vectors, strict=True)
                    ],
                )
        self.statistics.grew(len(stored))
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
        validation.flag(force, field="force")
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
            if new.valid_to is not None and new.valid_to <= new.valid_from:
                raise InvalidInputError(
                    f"valid_to {new.valid_to.isoformat()} must be after the item's valid_from "
                    f"{new.valid_from.isoformat()}; give both to move the window"
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
        """Mark an item deleted; `hard` also purges its text, author and source reference
        from every version, and text copied from it out of every other item of the cube
        (see `_purge_copies`).

        Raises:
            InvalidTransitionError: the item is already deleted and `hard` is not set.
        """
        validation.flag(hard, field="hard")
        with transaction(self.engine, write=True) as conn:
            current = self._load_for_write(conn, item_id, actor, cube_id)
            if not (hard and current.status is Status.DELETED):
                check_transition(current.status, Status.DELETED)
            written = self._forget_in(conn, current, actor, hard=hard, done=set())
            if hard:
                self.lexical.compact(conn, current.cube_id)
        if hard:
            self._reclaim_space()
        return written

    def _forget_in(
        self,
        conn: Connection,
        current: MemoryItem,
        actor: str,
        *,
        hard: bool,
        done: set[int],
        cause: int | None = None,
    ) -> Written:
        done.add(current.id)
        texts = self._texts(conn, current.id) if hard else []
        new = dataclasses.replace(
            current,
            **(_PURGED if hard else {}),
            status=Status.DELETED,
            version=current.version + 1,
            updated_at=self.clock(),
        )
        payload: dict[str, Any] = {"hard": hard}
        if cause is not None:
            payload["copied_from"] = cause
        seq = self._store_change(conn, new, "forget:hard" if hard else "forget", actor, payload)
        conn.execute(delete(embeddings).where(embeddings.c.item_id == current.id))
        if hard:
            purged = item_values(dataclasses.replace(current, **_PURGED))
            conn.execute(
                update(item_versions)
                .where(item_versions.c.item_id == current.id)
                .values(**{name: purged[name] for name in _PURGED})
            )
            conn.execute(
                delete(links_table).where(
                    or_(links_table.c.src_id == current.id, links_table.c.dst_id == current.id)
                )
            )
            self._purge_copies(conn, new, texts, actor, done)
        self._mark_dependents_stale(conn, new, actor, "source forgotten")
        return Written(new, seq)

    @staticmethod
    def _texts(conn: Connection, item_id: int) -> list[str]:
        """The distinct texts an item held, in any version."""
        return [
            str(text)
            for text in conn.execute(
                select(item_versions.c.content)
                .where(item_versions.c.item_id == item_id, item_versions.c.content.is_not(None))
                .distinct()
                .limit(_MAX_QUOTED_TEXTS)
            ).scalars()
        ]

    def _purge_copies(
        self,
        conn: Connection,
        source: MemoryItem,
        texts: Sequence[str],
        actor: str,
        done: set[int],
    ) -> None:
        """Take the text of a hard-forgotten item out of the cube's other items: fields
        whose provenance (`attributes["copied_from"]`, `memos.validation.copied_from`)
        names it, and contexts that quote it (a conversation turn's context is the turn
        before it). In every version that carries it, a context, keywords or tags field
        goes back to its value in the last version that did not (or empty), and the
        reasons of links an item made with such text are cleared; content copied from it
        (a concept distilled from a forgotten trace) rolls the item back, as a new
        version, to its last version without it, and an item with none is forgotten
        too. All in the forget's transaction; the lexical index follows."""
        marker = f'"{validation.COPIED_FROM}"'
        carriers = (
            conn.execute(
                select(item_versions.c.item_id)
                .where(
                    item_versions.c.cube_id == source.cube_id,
                    item_versions.c.item_id != source.id,
                    or_(
                        cast(item_versions.c.attributes, Text).contains(marker, autoescape=True),
                        *_quote_clauses(item_versions.c.context, texts),
                    ),
                )
                .distinct()
            )
            .scalars()
            .all()
        )
        for item_id in sorted(int(i) for i in carriers):
            if item_id not in done:
                self._purge_item(conn, item_id, source.id, texts, actor, done)

    def _purge_item(
        self,
        conn: Connection,
        item_id: int,
        source_id: int,
        texts: Sequence[str],
        actor: str,
        done: set[int],
    ) -> None:
        row = conn.execute(select(items_table).where(items_table.c.id == item_id)).mappings()
        current = item_from_row(row.one())
        versions = [
            version_from_row(r)
            for r in conn.execute(
                select(item_versions)
                .where(item_versions.c.item_id == item_id)
                .order_by(item_versions.c.version)
            ).mappings()
        ]
        plan = _PurgePlan(source_id, texts)
        for version in versions:
            plan.visit(version.item)
        if not plan.fixes and not plan.clear_reasons:
            return
        for number, fixes in plan.fixes.items():
            snapshot = next(v.item for v in versions if v.version == number)
            values = item_values(dataclasses.replace(snapshot, **fixes))
            conn.execute(
                update(item_versions)
                .where(item_versions.c.item_id == item_id, item_versions.c.version == number)
                .values(**{name: values[name] for name in fixes})
            )
        if plan.clear_reasons:
            conn.execute(
                update(links_table).where(links_table.c.src_id == item_id).values(reason=None)
            )
        latest = plan.fixes.get(current.version, {})
        if "content" in latest:
            clean = plan.content_clean
            if clean is None or current.status is Status.DELETED:
                self._forget_in(conn, current, actor, hard=True, done=done, cause=source_id)
                return
            # Back to the last version without the forgotten text, as a new version; its
            # vector goes too (the facade embeds items left without one).
            clean = dataclasses.replace(clean, **plan.fixes.get(clean.version, {}))
            fields = {name: getattr(clean, name) for name in UPDATABLE_FIELDS}
            new = dataclasses.replace(
                current, **fields, version=current.version + 1, updated_at=self.clock()
            )
            self._store_change(conn, new, "purge", actor, {"copied_from": source_id})
            conn.execute(delete(embeddings).where(embeddings.c.item_id == item_id))
            self._mark_dependents_stale(conn, new, actor, "source purged")
        elif latest:
            fixed = dataclasses.replace(current, **latest)
            values = item_values(fixed)
            conn.execute(
                update(items_table)
                .where(items_table.c.id == item_id)
                .values(**{name: values[name] for name in latest})
            )
            self.lexical.put(conn, [fixed])
            self._log(
                conn, current.cube_id, item_id, "purge", actor,
                {"copied_from": source_id, "fields": sorted(latest)},
            )  # fmt: skip

    def _reclaim_space(self) -> None:
        # With secure_delete the freed pages are zeroed; checkpointing moves that into the
        # main file and truncates the WAL, which still holds the old page images.
        if self.dialect == "sqlite":
            with self.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")

    def supersede(
        self,
        old_id: int,
        new_id: int,
        actor: str,
        *,
        at: datetime | None = None,
        cube_id: int | None = None,
    ) -> tuple[Written, Written]:
        """Record that `new_id` replaces `old_id` as of `at` (default: the new item's
        `valid_from`): the old item's validity ends there and both point at each other,
        as new versions, in one transaction.

        Raises:
            InvalidInputError: the two ids are the same, or `at` precedes the old item.
            ConflictError: either item cannot change (frozen, archived, gone).
        """
        if old_id == new_id:
            raise InvalidInputError("an item cannot supersede itself")
        with transaction(self.engine, write=True) as conn:
            old = self._load_for_write(conn, old_id, actor, cube_id)
            new = self._load_for_write(conn, new_id, actor, old.cube_id)
            for item in (old, new):
                if item.status not in MUTABLE_STATES or item.status is Status.FROZEN:
                    raise ConflictError(
                        f"item {item.id} is {item.status.value}; it cannot take part in a "
                        "supersession"
                    )
            end = at or new.valid_from
            if end <= old.valid_from:
                raise InvalidInputError(
                    f"item {old_id} became valid at {old.valid_from.isoformat()}; it cannot "
                    f"be superseded at {end.isoformat()}"
                )
            now = self.clock()
            ended = dataclasses.replace(
                old, valid_to=end, superseded_by=new.id, version=old.version + 1, updated_at=now
            )
            replacing = dataclasses.replace(
                new, supersedes=old.id, version=new.version + 1, updated_at=now
            )
            first = self._store_change(conn, ended, "superseded", actor, {"by": new.id})
            second = self._store_change(conn, replacing, "supersedes", actor, {"old": old.id})
        return Written(ended, first), Written(replacing, second)

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

    def expire_due(self, cube_id: int) -> list[int]:
        """Move items whose TTL has passed to `expired`; returns their ids."""
        now = self.clock()
        due = and_(
            items_table.c.cube_id == cube_id,
            items_table.c.expires_at <= now,
            items_table.c.status.in_([s.value for s in EXPIRABLE]),
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
                self.id_in(items_table.c.id, ranked),
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


def _pick_version(
    item_id: int,
    versions: Sequence[Version],
    *,
    as_of: datetime | None,
    known_at: datetime | None,
) -> MemoryItem:
    """Bi-temporal choice: among versions recorded by `known_at` and valid from `as_of` or
    earlier, the latest recorded one, if its validity still covers `as_of` (later knowledge
    overrides earlier for the same time, including knowledge that the item ended: a
    superseded fact is not valid after its `valid_to` even though its first version was
    open-ended)."""
    known = [v for v in versions if known_at is None or v.recorded_at <= known_at]
    if not known:
        raise NotFoundError(f"item {item_id} was not yet recorded at {known_at}")
    if as_of is None:
        chosen = known[-1]
    else:
        begun = [v for v in known if v.item.valid_from <= as_of]
        if not begun or not (begun[-1].item.valid_to is None or as_of < begun[-1].item.valid_to):
            raise NotFoundError(f"item {item_id} was not valid at {as_of.isoformat()}")
        chosen = begun[-1]
    if chosen.item.status is Status.DELETED:
        raise NotFoundError(f"item {item_id} was forgotten by then")
    return chosen.item


# What a hard forget empties, on the item and on every one of its versions.
_PURGED: dict[str, Any] = {
    "content": None,
    "keywords": (),
    "tags": (),
    "context": None,
    "attributes": {},
    "author": None,
    "source_ref": None,
    "size_bytes": 0,
}
_COPIED_FIELDS: dict[str, Any] = {"context": None, "keywords": (), "tags": ()}
# A text this short is quoted only as a whole turn ("speaker: text"), not as any substring.
_MIN_QUOTE_CHARS = 16
_QUOTE_CHARS = 200
_MAX_QUOTED_TEXTS = 50


def _quote_clauses(column: Any, texts: Sequence[str]) -> list[Any]:
    """SQL conditions that `column` may quote one of `texts` (a superset of `_quotes`:
    LIKE ignores case on SQLite)."""
    clauses = []
    for text in texts:
        body = text.strip()
        if len(body) >= _MIN_QUOTE_CHARS:
            clauses.append(column.contains(body[:_QUOTE_CHARS], autoescape=True))
        elif body:
            clauses.append(column.endswith(f": {text}", autoescape=True))
    return clauses


def _quotes(context: str | None, texts: Sequence[str]) -> bool:
    if not context:
        return False
    for text in texts:
        body = text.strip()
        if len(body) >= _MIN_QUOTE_CHARS and body[:_QUOTE_CHARS] in context:
            return True
        if body and len(body) < _MIN_QUOTE_CHARS and context.endswith(f": {text}"):
            return True
    return False


class _PurgePlan:
    """Walks an item's versions, oldest first, and decides what each must lose of the
    text copied from one forgotten item (`ItemOps._purge_copies`)."""

    def __init__(self, source_id: int, texts: Sequence[str]) -> None:
        self.source_id = source_id
        self.texts = texts
        self.fixes: dict[int, dict[str, Any]] = {}
        self.clear_reasons = False
        # The last version free of the copy: as a whole, and field by field.
        self.content_clean: MemoryItem | None = None
        self.clean: dict[str, tuple[Any, frozenset[int]]] = {
            name: (empty, frozenset()) for name, empty in _COPIED_FIELDS.items()
        }
        # Values that held the copy: a later version keeping one still holds it, even if
        # an update dropped the provenance with the attributes.
        self.copies: dict[str, list[Any]] = {name: [] for name in _COPIED_FIELDS}

    def visit(self, item: MemoryItem) -> None:
        sources = validation.copied_from(item.attributes)
        tainted = {name for name, ids in sources.items() if self.source_id in ids}
        if "content" in tainted:
            self.fixes[item.version] = dict(_PURGED)
            for name in _COPIED_FIELDS:
                self.copies[name].append(getattr(item, name))
            return
        self.content_clean = item
        if _quotes(item.context, self.texts):
            tainted.add("context")
        fixes: dict[str, Any] = {}
        remaining = {name: set(ids) for name, ids in sources.items()}
        for name in _COPIED_FIELDS:
            value = getattr(item, name)
            if name in tainted or (value and value in self.copies[name]):
                self.copies[name].append(value)
                fixes[name], kept = self.clean[name]
                remaining[name] = set(kept)
            else:
                self.clean[name] = (value, frozenset(sources.get(name, ())))
        if "reason" in tainted:
            self.clear_reasons = True
            remaining["reason"].discard(self.source_id)
        if fixes or "reason" in tainted:
            fixes["attributes"] = validation.with_copied_from(dict(item.attributes), remaining)
            self.fixes[item.version] = fixes
