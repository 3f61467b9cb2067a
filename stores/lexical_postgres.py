"""PostgreSQL's lexical index: an inverted index of our own, BM25-scored in SQL.

`memos_lexical` holds one row per indexed item (its length in tokens); the postings table
holds one row per (cube, lexeme, item) with the term frequency and the document length,
clustered by its primary key (cube, lexeme, item). A query reads only the postings of its
own terms, through that key: the work is proportional to the matching postings, never to
the cube (a tsvector scan computed BM25 by unnesting every matching document and counted
the whole cube per query: 40x slower at 20k items). Lexemes come from PostgreSQL's English
text search configuration, as `to_tsvector` makes them.

The key carries tf and doclen (`INCLUDE`), so scoring reads the index alone (an index-only
scan, once VACUUM has marked the pages visible: stores/planner.py runs it after bulk
loads); at 100k items that halves the scoring query. Document frequencies of common terms
are cached for a few seconds per process: counting a term held by 10k-50k documents costs
milliseconds, and a few writes move such a count by well under one percent.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Sequence

from sqlalchemy import Connection, text

from memos.models import MemoryItem
from memos.stores.lexical import indexable, informative
from memos.text import lexical_text, query_terms

# BM25 as FTS5 computes it: k1 = 1.2, b = 0.75; idf floored at 1e-6.
_K1, _B = 1.2, 0.75
# Another process's writes leave cached cube statistics stale; they only nudge scores
# (document count and mean length), so a few seconds of staleness is fine.
_STATS_TTL_S = 10.0
# Document frequencies from this many documents up are cached as long as cube statistics.
# Smaller ones are counted on every query: cheap, and a term that is new (df 0) or rare
# must count a document added a moment ago, or the match would be lost, not nudged.
_DF_CACHE_FROM = 1000

_INSTALL = (
    "CREATE TABLE IF NOT EXISTS memos_lexical ("
    " item_id BIGINT PRIMARY KEY REFERENCES memos_items(id) ON DELETE CASCADE,"
    " cube_id BIGINT NOT NULL REFERENCES memos_cubes(id) ON DELETE CASCADE,"
    " doclen INTEGER NOT NULL)",
    "CREATE INDEX IF NOT EXISTS ix_memos_lexical_cube ON memos_lexical (cube_id)",
    "CREATE TABLE IF NOT EXISTS memos_lexical_postings ("
    " cube_id BIGINT NOT NULL,"
    " lexeme TEXT NOT NULL,"
    " item_id BIGINT NOT NULL REFERENCES memos_items(id) ON DELETE CASCADE,"
    " tf REAL NOT NULL,"
    " doclen REAL NOT NULL,"
    " PRIMARY KEY (cube_id, lexeme, item_id) INCLUDE (tf, doclen))",
    "CREATE INDEX IF NOT EXISTS ix_memos_lexical_postings_item ON memos_lexical_postings (item_id)",
)

# One statement per item: the document row, then its postings from the same tsvector.
_PUT = """
WITH v AS (SELECT to_tsvector('english', :body) AS tsv),
doc AS (
    INSERT INTO memos_lexical (item_id, cube_id, doclen)
    SELECT :id, :cube,
           coalesce((SELECT sum(coalesce(array_length(u.positions, 1), 1)) FROM unnest(v.tsv) u),
                    0)
    FROM v
    RETURNING doclen
)
INSERT INTO memos_lexical_postings (cube_id, lexeme, item_id, tf, doclen)
SELECT :cube, u.lexeme, :id, coalesce(array_length(u.positions, 1), 1), doc.doclen
FROM v, doc, unnest(v.tsv) u
"""

# The query's lexemes (in order) and, per lexeme not in :known, how many documents hold it
# (counting stops at :cap: a lexeme in half the cube is left out anyway); -1 for known ones.
_TERMS = """
SELECT t.lexeme,
       CASE WHEN t.lexeme = ANY(CAST(:known AS text[])) THEN -1 ELSE
       (SELECT count(*) FROM (
            SELECT 1 FROM memos_lexical_postings p
            WHERE p.cube_id = :cube AND p.lexeme = t.lexeme LIMIT :cap) AS hits) END AS df
FROM (SELECT DISTINCT lexeme FROM unnest(to_tsvector('english', :query))) AS t
"""

_SCORE = f"""
SELECT p.item_id,
       sum(q.idf * p.tf * {_K1 + 1} / (p.tf + {_K1 * (1 - _B)} + CAST(:slope AS real) * p.doclen))
           AS score
FROM unnest(CAST(:lexemes AS text[]), CAST(:idfs AS real[])) AS q(lexeme, idf)
JOIN memos_lexical_postings p ON p.cube_id = :cube AND p.lexeme = q.lexeme
GROUP BY p.item_id
ORDER BY score DESC, p.item_id
LIMIT :limit
"""


class PostgresLexical:
    """BM25 over a postings table (see the module docstring)."""

    def __init__(self) -> None:
        # Per cube: (documents, mean length, when read). Dropped on this process's writes.
        self._stats: dict[int, tuple[int, float, float]] = {}
        # Per cube: lexeme -> (document frequency, when counted), for common lexemes only.
        self._df: dict[int, dict[str, tuple[int, float]]] = {}
        self._lock = threading.Lock()

    def install(self, conn: Connection) -> None:
        for statement in _INSTALL:
            conn.exec_driver_sql(statement)

    def reset(self) -> None:
        with self._lock:
            self._stats.clear()
            self._df.clear()

    def _forget_stats(self, cube_ids: set[int]) -> None:
        # Common lexemes' counts stay: a write moves them by a fraction of a percent.
        with self._lock:
            for cube_id in cube_ids:
                self._stats.pop(cube_id, None)

    def put(self, conn: Connection, items: Sequence[MemoryItem]) -> None:
        if not items:
            return
        self._forget_stats({i.cube_id for i in items})
        ids = [i.id for i in items]
        conn.execute(
            text("DELETE FROM memos_lexical_postings WHERE item_id = ANY(:ids)"), {"ids": ids}
        )
        conn.execute(text("DELETE FROM memos_lexical WHERE item_id = ANY(:ids)"), {"ids": ids})
        rows = [
            {"id": i.id, "cube": i.cube_id, "body": lexical_text(i)} for i in items if indexable(i)
        ]
        if rows:
            conn.execute(text(_PUT), rows)

    def delete(self, conn: Connection, cube_id: int, item_ids: Sequence[int]) -> None:
        if item_ids:
            self._forget_stats({cube_id})
            with self._lock:  # a hard forget may take many documents at once
                self._df.pop(cube_id, None)
            ids = list(item_ids)
            conn.execute(
                text("DELETE FROM memos_lexical_postings WHERE item_id = ANY(:ids)"), {"ids": ids}
            )
            conn.execute(text("DELETE FROM memos_lexical WHERE item_id = ANY(:ids)"), {"ids": ids})

    def drop(self, conn: Connection, cube_id: int) -> None:
        self._forget_stats({cube_id})
        with self._lock:
            self._df.pop(cube_id, None)
        for table in ("memos_lexical_postings", "memos_lexical"):
            conn.execute(text(f"DELETE FROM {table} WHERE cube_id = :cube"), {"cube": cube_id})

    def _cube_stats(self, conn: Connection, cube_id: int) -> tuple[int, float]:
        with self._lock:
            cached = self._stats.get(cube_id)
        if cached is not None and time.monotonic() - cached[2] < _STATS_TTL_S:
            return cached[0], cached[1]
        count, mean = conn.execute(
            text("SELECT count(*), avg(doclen) FROM memos_lexical WHERE cube_id = :cube"),
            {"cube": cube_id},
        ).one()
        found = (int(count), float(mean or 1.0), time.monotonic())
        with self._lock:
            self._stats[cube_id] = found
        return found[0], found[1]

    def search(
        self, conn: Connection, cube_id: int, query: str, limit: int
    ) -> list[tuple[int, float]]:
        terms = query_terms(query)
        if not terms:
            return []
        size, mean = self._cube_stats(conn, cube_id)
        if size == 0:
            return []
        df = self._frequencies(conn, cube_id, " ".join(terms), max(size // 2, 1))
        if not df:
            return []
        kept = informative(sorted(df), size, lambda lexeme, _cap: df[lexeme])
        idfs = [max(math.log((size - df[t] + 0.5) / (df[t] + 0.5)), 1e-6) for t in kept]
        rows = conn.execute(
            text(_SCORE),
            {
                "cube": cube_id,
                "lexemes": kept,
                "idfs": idfs,
                "slope": _K1 * _B / max(mean, 1.0),
                "limit": limit,
            },
        )
        return [(int(r[0]), float(r[1])) for r in rows]

    def _frequencies(self, conn: Connection, cube_id: int, query: str, cap: int) -> dict[str, int]:
        """Document frequency (capped at `cap`) of each of the query's lexemes held by any
        document; common lexemes from the cache while it is fresh."""
        now = time.monotonic()
        with self._lock:
            cached = {
                lexeme: count
                for lexeme, (count, when) in self._df.get(cube_id, {}).items()
                if now - when < _STATS_TTL_S
            }
        found = conn.execute(
            text(_TERMS), {"cube": cube_id, "query": query, "cap": cap, "known": list(cached)}
        ).all()
        df: dict[str, int] = {}
        counted: dict[str, tuple[int, float]] = {}
        for row_lexeme, row_count in found:
            lexeme, count = str(row_lexeme), int(row_count)
            if count < 0:
                count = cached[lexeme]
            elif count >= _DF_CACHE_FROM:
                counted[lexeme] = (count, now)
            if count:
                df[lexeme] = count
        if counted:
            with self._lock:
                self._df.setdefault(cube_id, {}).update(counted)
        return df

    def explain(self, conn: Connection, cube_id: int, lexemes: Sequence[str]) -> str:
        """The plan of the scoring query (tests check it reads postings by key)."""
        plan = conn.execute(
            text("EXPLAIN " + _SCORE),
            {"cube": cube_id, "lexemes": list(lexemes), "idfs": [1.0] * len(lexemes),
             "slope": 0.1, "limit": 100},
        )  # fmt: skip
        return "\n".join(str(r[0]) for r in plan)

    def compact(self, conn: Connection, cube_id: int) -> None:
        """Dead tuples go with VACUUM, which cannot run inside a transaction."""
