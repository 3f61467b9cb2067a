"""The SQL schema: one definition for SQLite and PostgreSQL.

Table names carry a `memos_` prefix so a shared PostgreSQL database can hold other data.
Item rows and version rows share one column list: a version is a full snapshot.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.types import TypeDecorator, TypeEngine

# Bump on any change to the tables below (or to the lexical tables of stores/lexical.py),
# and add the step that takes an older database there to stores/migrations.py.
SCHEMA_VERSION = 8


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out.

    PostgreSQL stores naive UTC `timestamp`s. SQLite stores the same fixed-width text
    SQLAlchemy's DATETIME writes ('2025-01-01 09:00:00.000001', which sorts as time
    does), parsed with `datetime.fromisoformat`: several times faster than the generic
    parser, and row decoding is most of a search's cost.
    """

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(32))
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("memos stores aware datetimes only")
        naive = value.astimezone(UTC).replace(tzinfo=None)
        if dialect.name == "sqlite":
            return naive.isoformat(sep=" ", timespec="microseconds")
        return naive

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]


USAGE_COUNTERS = (
    "runs",
    "messages",
    "llm_calls",
    "llm_failures",
    "prompt_tokens",
    "completion_tokens",
)

# SQLite needs INTEGER for AUTOINCREMENT; PostgreSQL gets 64-bit ids.
Id = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData()

meta = Table(
    "memos_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

users = Table(
    "memos_users",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("created_at", UtcDateTime, nullable=False),
)

cubes = Table(
    "memos_cubes",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", String(128), nullable=False, unique=True),
    Column("owner", String(128), nullable=False),
    Column("embedder_model", String(512), nullable=False),
    Column("embedder_dim", Integer, nullable=False),
    Column("embedder_metric", String(16), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("attributes", JSON, nullable=False),
    sqlite_autoincrement=True,
)

cube_acl = Table(
    "memos_cube_acl",
    metadata,
    Column("cube_id", Id, ForeignKey("memos_cubes.id", ondelete="CASCADE"), primary_key=True),
    Column("user", String(128), primary_key=True),
    Column("permission", String(16), nullable=False),
    Column("granted_by", String(128), nullable=False),
    Column("granted_at", UtcDateTime, nullable=False),
)


def _item_columns() -> list[Column[Any]]:
    """Content and metadata columns shared by items and their version snapshots."""
    return [
        Column("uid", String(64), nullable=False),
        Column("cube_id", Id, ForeignKey("memos_cubes.id", ondelete="CASCADE"), nullable=False),
        Column("kind", String(16), nullable=False),
        Column("type", String(64), nullable=False),
        Column("content", Text, nullable=True),
        Column("artifact", String(128), nullable=True),
        Column("keywords", JSON, nullable=False),
        Column("tags", JSON, nullable=False),
        Column("context", Text, nullable=True),
        Column("attributes", JSON, nullable=False),
        Column("status", String(16), nullable=False),
        Column("supersedes", Id, nullable=True),
        Column("superseded_by", Id, nullable=True),
        Column("merged_into", Id, nullable=True),
        Column("stale", Boolean, nullable=False),
        Column("source", String(128), nullable=True),
        Column("source_ref", String(512), nullable=True),
        Column("author", String(128), nullable=True),
        Column("created_by", String(256), nullable=True),
        Column("derived_from", JSON, nullable=False),
        Column("created_at", UtcDateTime, nullable=False),
        Column("updated_at", UtcDateTime, nullable=False),
        Column("valid_from", UtcDateTime, nullable=False),
        Column("valid_to", UtcDateTime, nullable=True),
        Column("expires_at", UtcDateTime, nullable=True),
        Column("importance", Float, nullable=False),
        Column("confidence", Float, nullable=False),
        Column("tier", String(8), nullable=False),
        Column("size_bytes", BigInteger, nullable=False),
        Column("owner", String(128), nullable=False),
        Column("visibility", String(16), nullable=False),
    ]


ITEM_FIELDS = tuple(column.name for column in _item_columns())

items = Table(
    "memos_items",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("version", Integer, nullable=False),
    *_item_columns(),
    Column("access_count", BigInteger, nullable=False, default=0),
    Column("last_accessed_at", UtcDateTime, nullable=True),
    UniqueConstraint("cube_id", "uid", name="uq_memos_items_cube_uid"),
    Index("ix_memos_items_cube_status", "cube_id", "status"),
    Index("ix_memos_items_cube_expires", "cube_id", "expires_at"),
    Index("ix_memos_items_cube_source_ref", "cube_id", "source_ref"),
    sqlite_autoincrement=True,
)

item_versions = Table(
    "memos_item_versions",
    metadata,
    Column("item_id", Id, ForeignKey("memos_items.id", ondelete="CASCADE"), primary_key=True),
    Column("version", Integer, primary_key=True),
    *_item_columns(),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("operation", String(32), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("op_seq", Id, nullable=True),
)

embeddings = Table(
    "memos_embeddings",
    metadata,
    Column("item_id", Id, ForeignKey("memos_items.id", ondelete="CASCADE"), primary_key=True),
    Column("cube_id", Id, ForeignKey("memos_cubes.id", ondelete="CASCADE"), nullable=False),
    Column("vector", LargeBinary, nullable=False),
    Index("ix_memos_embeddings_cube", "cube_id"),
)

links = Table(
    "memos_links",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("cube_id", Id, ForeignKey("memos_cubes.id", ondelete="CASCADE"), nullable=False),
    Column("src_id", Id, ForeignKey("memos_items.id", ondelete="CASCADE"), nullable=False),
    Column("dst_id", Id, ForeignKey("memos_items.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(64), nullable=False),
    Column("reason", Text, nullable=True),
    Column("weight", Float, nullable=False),
    Column("created_by", String(128), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("src_id", "dst_id", "kind", name="uq_memos_links_edge"),
    Index("ix_memos_links_dst", "dst_id"),
    Index("ix_memos_links_cube", "cube_id"),
    sqlite_autoincrement=True,
)

oplog = Table(
    "memos_oplog",
    metadata,
    Column("seq", Id, primary_key=True, autoincrement=True),
    Column("cube_id", Id, ForeignKey("memos_cubes.id", ondelete="CASCADE"), nullable=False),
    Column("item_id", Id, nullable=True),
    Column("operation", String(32), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    # Never content: forgetting must not leave text behind in the log.
    Column("payload", JSON, nullable=False),
    # The entry's place in its cube's log, given as the writing transaction commits (see
    # stores/oplog.py): commit order, so a reader never skips a late-committing writer.
    Column("cube_seq", BigInteger, nullable=True),
    Index("ix_memos_oplog_cube_seq", "cube_id", "seq"),
    Index("ux_memos_oplog_cube_log", "cube_id", "cube_seq", unique=True),
    Index(
        "ix_memos_oplog_unsealed",
        "cube_id",
        sqlite_where=text("cube_seq IS NULL"),
        postgresql_where=text("cube_seq IS NULL"),
    ),
    sqlite_autoincrement=True,
)

# Each cube's last given log position; its row lock orders committing writers of a cube.
log_heads = Table(
    "memos_log_heads",
    metadata,
    Column("cube_id", Id, ForeignKey("memos_cubes.id", ondelete="CASCADE"), primary_key=True),
    Column("seq", BigInteger, nullable=False),
)

# What agents spent on LLMs, per cube and operation (MemReader's `ingest`, ...); rows are
# added to in place, so every process and host sums into the same totals.
llm_usage = Table(
    "memos_llm_usage",
    metadata,
    Column("cube_id", Id, ForeignKey("memos_cubes.id", ondelete="CASCADE"), primary_key=True),
    Column("operation", String(64), primary_key=True),
    *(Column(name, BigInteger, nullable=False, default=0) for name in USAGE_COUNTERS),
)

# API keys of `memos serve` (stores/keys.py): only a hash of each secret is kept; the id is
# the public part of the key, printed by `memos keys list` and used to revoke it.
api_keys = Table(
    "memos_api_keys",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("user", String(128), nullable=False),
    Column("scope", String(16), nullable=False),
    Column("secret_hash", String(64), nullable=False),
    Column("label", String(128), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=True),
    Column("last_used_at", UtcDateTime, nullable=True),
    Column("revoked_at", UtcDateTime, nullable=True),
    Index("ix_memos_api_keys_user", "user"),
)

# What the scheduler did and why (memos.scheduler): one row per decision.
scheduler_log = Table(
    "memos_scheduler_log",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("cube_id", Id, ForeignKey("memos_cubes.id", ondelete="CASCADE"), nullable=True),
    Column("at", UtcDateTime, nullable=False),
    Column("policy", String(32), nullable=False),
    Column("action", String(32), nullable=False),
    Column("subject", String(512), nullable=False),
    Column("reason", Text, nullable=False),
    Column("details", JSON, nullable=False),
    Index("ix_memos_scheduler_log_cube", "cube_id", "id"),
    sqlite_autoincrement=True,
)
