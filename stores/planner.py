"""Fresh planner statistics on PostgreSQL after bulk writes.

PostgreSQL plans from table statistics that autovacuum refreshes only some time after a
table changes. Right after a bulk load they still describe a near-empty table, and the
planner answers "these 100 ids of this cube" by scanning the cube's whole status index
instead of fetching the ids by primary key: 5 ms instead of 0.03 ms at 30k items, growing
with the cube (bench/store.py). So a process that has itself grown the tables by a fifth
since it last looked (and by at least `MIN_ROWS`) analyzes them, once, after its commit.
The postings table is vacuumed too: BM25 scoring reads only its index, and an index-only
scan still visits the table for every row on a page VACUUM has not yet marked visible
(at 100k items 140k such visits made counting and scoring a query twice as slow).
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger(__name__)

MIN_ROWS = 1000
# Tables whose row counts drive the plans of search and catch-up.
TABLES = ("memos_items", "memos_embeddings", "memos_links", "memos_lexical",
          "memos_lexical_postings")  # fmt: skip
# Tables read by index-only scans: VACUUM (which also analyzes) rather than ANALYZE alone.
VACUUMED = ("memos_lexical_postings",)


class PlannerStatistics:
    """Counts rows this process added and analyzes the tables once they pass a fifth of
    what the statistics last counted. A no-op on SQLite (its planner needs no counts for
    these lookups)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.enabled = engine.dialect.name == "postgresql"
        self._lock = threading.Lock()
        self._grown = 0
        self._counted = 0  # memos_items' rows as of the last ANALYZE

    def grew(self, rows: int) -> None:
        if not self.enabled or rows <= 0:
            return
        with self._lock:
            self._grown += rows
            if self._grown < max(MIN_ROWS, self._counted // 5):
                return
            self._grown = 0
        try:
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                for table in TABLES:
                    verb = "VACUUM (ANALYZE)" if table in VACUUMED else "ANALYZE"
                    conn.exec_driver_sql(f"{verb} {table}")
                counted = conn.execute(
                    text("SELECT reltuples FROM pg_class WHERE oid = 'memos_items'::regclass")
                ).scalar_one()
        except SQLAlchemyError as exc:
            # Stale statistics cost speed, never correctness: the write has committed.
            log.warning("could not refresh PostgreSQL statistics: %s", exc)
            return
        with self._lock:
            self._counted = max(int(counted), 0)
