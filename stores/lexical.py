"""The lexical index: BM25 over item text, inside the SQL database, written in the same
transaction as the item so it can never drift from it.

SQLite uses one FTS5 table per cube (porter stemming, built-in bm25, statistics per
cube). PostgreSQL uses a tsvector column with a GIN index for matching (English stemming)
and computes, per cube, the same BM25 formula as FTS5 in SQL (k1 = 1.2, b = 0.75,
idf = ln((N - n + 0.5) / (n + 0.5)) floored at 1e-6), because PostgreSQL's own ts_rank has
no inverse document frequency. Query terms lose
stopwords and are OR-ed on both, so both behave alike; stemmers differ in details.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from sqlalchemy import Connection, text

from memos.errors import ConfigError
from memos.models import Kind, MemoryItem, Status
from memos.text import lexical_text, query_terms


def indexable(item: MemoryItem) -> bool:
    return (
        item.kind is Kind.PLAINTEXT
        and item.content is not None
        and item.status is not Status.DELETED
    )


class LexicalIndex(Protocol):
    """BM25 search over the text of a cube's items, stored beside them in SQL. Term
    statistics are per cube: one cube's text never shifts another's ranking."""

    def install(self, conn: Connection) -> None:
        """Create shared tables if missing (idempotent)."""
        ...

    def put(self, conn: Connection, items: Sequence[MemoryItem]) -> None:
        """Index the items (replacing earlier text); non-indexable ones are removed."""
        ...

    def delete(self, conn: Connection, cube_id: int, item_ids: Sequence[int]) -> None: ...

    def drop(self, conn: Connection, cube_id: int) -> None:
        """Remove everything of a cube."""
        ...

    def search(
        self, conn: Connection, cube_id: int, query: str, limit: int
    ) -> list[tuple[int, float]]:
        """(item id, BM25 score) best first; higher = better."""
        ...

    def compact(self, conn: Connection, cube_id: int) -> None:
        """Physically drop deleted entries (after a hard forget)."""
        ...


# Terms in at least half of a cube's documents add nothing to BM25 (FTS5 floors their idf
# at 1e-6) yet make FTS5 score every document holding them: 75 ms a query at 100k items when
# each text carries a word like "note". Large cubes leave them out of the match; small ones
# keep them, since there term frequency and length still order the few matches.
_PRUNE_FROM = 2000


def informative(terms: list[str], size: int, count: Callable[[str, int], int]) -> list[str]:
    """The terms that can move a BM25 score, given the cube's document count and a capped
    document-frequency count; all of them on small cubes, and never none."""
    if size < _PRUNE_FROM or len(terms) < 2:
        return terms
    half = size // 2
    found = {term: count(term, half) for term in terms}
    kept = [term for term in terms if found[term] < half]
    return kept or [min(terms, key=found.__getitem__)]


class Fts5Lexical:
    """SQLite FTS5, one table per cube (FTS5 keeps its BM25 statistics per table), rowid =
    item id."""

    def __init__(self) -> None:
        # Cube ids are never reused, so a table known to exist stays known.
        self._ready: set[int] = set()
        # Documents per cube table, dropped on every write from this process; another
        # process's writes leave it stale, which only moves the pruning threshold a little.
        self._sizes: dict[int, int] = {}

    @staticmethod
    def _table(cube_id: int) -> str:
        return f"memos_fts_{int(cube_id)}"

    def _exists(self, conn: Connection, cube_id: int) -> bool:
        if cube_id not in self._ready:
            found = conn.execute(
                text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = :name"),
                {"name": self._table(cube_id)},
            ).first()
            if found is None:
                return False
            self._ready.add(cube_id)
        return True

    def install(self, conn: Connection) -> None:
        """Tables are made per cube, on first use."""

    def put(self, conn: Connection, items: Sequence[MemoryItem]) -> None:
        by_cube: dict[int, list[MemoryItem]] = {}
        for item in items:
            by_cube.setdefault(item.cube_id, []).append(item)
        for cube_id, group in by_cube.items():
            table = self._table(cube_id)
            if not self._exists(conn, cube_id):
                conn.exec_driver_sql(
                    f"CREATE VIRTUAL TABLE IF NOT EXISTS {table} USING fts5("
                    "body, tokenize = 'porter unicode61 remove_diacritics 2')"
                )
                self._ready.add(cube_id)
            self.delete(conn, cube_id, [i.id for i in group])
            self._sizes.pop(cube_id, None)
            rows = [{"id": i.id, "body": lexical_text(i)} for i in group if indexable(i)]
            if rows:
                conn.execute(text(f"INSERT INTO {table} (rowid, body) VALUES (:id, :body)"), rows)

    def delete(self, conn: Connection, cube_id: int, item_ids: Sequence[int]) -> None:
        if item_ids and self._exists(conn, cube_id):
            self._sizes.pop(cube_id, None)
            conn.execute(
                text(f"DELETE FROM {self._table(cube_id)} WHERE rowid = :id"),
                [{"id": i} for i in item_ids],
            )

    def drop(self, conn: Connection, cube_id: int) -> None:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {self._table(cube_id)}")
        self._ready.discard(cube_id)
        self._sizes.pop(cube_id, None)

    def search(
        self, conn: Connection, cube_id: int, query: str, limit: int
    ) -> list[tuple[int, float]]:
        terms = query_terms(query)
        if not terms or not self._exists(conn, cube_id):
            return []
        table = self._table(cube_id)
        terms = self._informative(conn, cube_id, terms)
        rows = conn.execute(
            text(
                f"SELECT rowid, -bm25({table}) FROM {table} WHERE {table} MATCH :expression "
                f"ORDER BY bm25({table}) LIMIT :limit"
            ),
            {"expression": " OR ".join(f'"{term}"' for term in terms), "limit": limit},
        )
        return [(int(r[0]), float(r[1])) for r in rows]

    def _informative(self, conn: Connection, cube_id: int, terms: list[str]) -> list[str]:
        table = self._table(cube_id)
        size = self._sizes.get(cube_id)
        if size is None:
            size = int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
            self._sizes[cube_id] = size
        counted = text(
            f"SELECT count(*) FROM (SELECT 1 FROM {table} WHERE {table} MATCH :term LIMIT :cap)"
        )

        def count(term: str, cap: int) -> int:
            return int(conn.execute(counted, {"term": f'"{term}"', "cap": cap}).scalar_one())

        return informative(terms, size, count)

    def compact(self, conn: Connection, cube_id: int) -> None:
        # Merging all segments rewrites the index without the deleted entries; with
        # secure_delete the freed pages are zeroed.
        if self._exists(conn, cube_id):
            table = self._table(cube_id)
            conn.exec_driver_sql(f"INSERT INTO {table} ({table}) VALUES ('optimize')")


_PG_BM25 = """
WITH terms AS (
    SELECT DISTINCT lexeme FROM unnest(to_tsvector('english', :query))
),
q AS (
    SELECT string_agg(quote_literal(lexeme), ' | ')::tsquery AS query FROM terms
),
docs AS (
    SELECT l.item_id, l.tsv, l.doclen FROM memos_lexical l, q
    WHERE l.cube_id = :cube AND q.query IS NOT NULL AND l.tsv @@ q.query
),
tf AS (
    SELECT d.item_id, d.doclen, u.lexeme, coalesce(array_length(u.positions, 1), 1) AS tf
    FROM docs d, unnest(d.tsv) u
    WHERE u.lexeme IN (SELECT lexeme FROM terms)
),
df AS (SELECT lexeme, count(*) AS df FROM tf GROUP BY lexeme),
stats AS (
    SELECT count(*) AS n, greatest(avg(doclen), 1) AS avgdl FROM memos_lexical
    WHERE cube_id = :cube
)
SELECT tf.item_id,
       sum(greatest(ln((stats.n - df.df + 0.5) / (df.df + 0.5)), 1e-6)
           * tf.tf * 2.2 / (tf.tf + 1.2 * (0.25 + 0.75 * tf.doclen / stats.avgdl))) AS score
FROM tf JOIN df USING (lexeme), stats
GROUP BY tf.item_id
ORDER BY score DESC, tf.item_id
LIMIT :limit
"""


class PostgresLexical:
    """PostgreSQL full-text search with BM25 ranking computed in SQL."""

    def __init__(self) -> None:
        self._sizes: dict[int, int] = {}  # as in Fts5Lexical

    def install(self, conn: Connection) -> None:
        conn.exec_driver_sql(
            "CREATE TABLE IF NOT EXISTS memos_lexical ("
            " item_id BIGINT PRIMARY KEY REFERENCES memos_items(id) ON DELETE CASCADE,"
            " cube_id BIGINT NOT NULL REFERENCES memos_cubes(id) ON DELETE CASCADE,"
            " tsv tsvector NOT NULL, doclen INTEGER NOT NULL)"
        )
        conn.exec_driver_sql(
            "CREATE INDEX IF NOT EXISTS ix_memos_lexical_tsv ON memos_lexical USING gin (tsv)"
        )
        conn.exec_driver_sql(
            "CREATE INDEX IF NOT EXISTS ix_memos_lexical_cube ON memos_lexical (cube_id)"
        )

    def put(self, conn: Connection, items: Sequence[MemoryItem]) -> None:
        if not items:
            return
        for cube_id in {i.cube_id for i in items}:
            self._sizes.pop(cube_id, None)
        conn.execute(
            text("DELETE FROM memos_lexical WHERE item_id = ANY(:ids)"),
            {"ids": [i.id for i in items]},
        )
        rows = [
            {"id": i.id, "cube": i.cube_id, "body": lexical_text(i)} for i in items if indexable(i)
        ]
        if rows:
            # doclen counts every token position, the length BM25 normalises by.
            conn.execute(
                text(
                    "INSERT INTO memos_lexical (item_id, cube_id, tsv, doclen) "
                    "SELECT :id, :cube, v, coalesce((SELECT sum(coalesce("
                    "array_length(u.positions, 1), 1)) FROM unnest(v) u), 0) "
                    "FROM to_tsvector('english', :body) AS v"
                ),
                rows,
            )

    def delete(self, conn: Connection, cube_id: int, item_ids: Sequence[int]) -> None:
        if item_ids:
            self._sizes.pop(cube_id, None)
            conn.execute(
                text("DELETE FROM memos_lexical WHERE item_id = ANY(:ids)"),
                {"ids": list(item_ids)},
            )

    def drop(self, conn: Connection, cube_id: int) -> None:
        self._sizes.pop(cube_id, None)
        conn.execute(text("DELETE FROM memos_lexical WHERE cube_id = :cube"), {"cube": cube_id})

    def search(
        self, conn: Connection, cube_id: int, query: str, limit: int
    ) -> list[tuple[int, float]]:
        terms = query_terms(query)
        if not terms:
            return []
        size = self._sizes.get(cube_id)
        if size is None:
            size = int(
                conn.execute(
                    text("SELECT count(*) FROM memos_lexical WHERE cube_id = :cube"),
                    {"cube": cube_id},
                ).scalar_one()
            )
            self._sizes[cube_id] = size
        counted = text(
            "SELECT count(*) FROM (SELECT 1 FROM memos_lexical WHERE cube_id = :cube"
            " AND tsv @@ plainto_tsquery('english', :term) LIMIT :cap) AS hits"
        )

        def count(term: str, cap: int) -> int:
            found = conn.execute(counted, {"cube": cube_id, "term": term, "cap": cap})
            return int(found.scalar_one())

        terms = informative(terms, size, count)
        rows = conn.execute(
            text(_PG_BM25), {"query": " ".join(terms), "cube": cube_id, "limit": limit}
        )
        return [(int(r[0]), float(r[1])) for r in rows]

    def compact(self, conn: Connection, cube_id: int) -> None:
        """Dead tuples go with VACUUM, which cannot run inside a transaction."""


def lexical_for(dialect: str) -> LexicalIndex:
    """Raises: ConfigError: no lexical index for this database."""
    if dialect == "sqlite":
        return Fts5Lexical()
    if dialect == "postgresql":
        return PostgresLexical()
    raise ConfigError(f"no lexical index for database {dialect!r}")
