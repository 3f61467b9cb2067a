"""SQLite's lexical index: one FTS5 table per cube (porter stemming, FTS5's own bm25,
statistics per cube), written in the item's transaction."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, text

from memos.models import MemoryItem
from memos.stores.lexical import indexable, informative
from memos.text import lexical_text, query_terms


class Fts5Lexical:
    """SQLite FTS5, one table per cube (FTS5 keeps its BM25 statistics per table), rowid =
    item id."""

    def __init__(self) -> None:
        # Tables known to exist. A rolled-back transaction may take a table it created with
        # it (and its cube id may be handed out again), so `reset` empties this on rollback.
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

    def reset(self) -> None:
        self._ready.clear()
        self._sizes.clear()

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
