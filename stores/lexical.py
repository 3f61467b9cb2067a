"""The lexical index: BM25 over item text, inside the SQL database, written in the same
transaction as the item so it can never drift from it.

SQLite uses one FTS5 table per cube (stores/lexical_sqlite.py). PostgreSQL keeps an
inverted index of its own (stores/lexical_postgres.py): a postings table of (cube, lexeme,
item, term frequency, document length) under a B-tree, read only for the query's terms,
scored with the same BM25 as FTS5 (k1 = 1.2, b = 0.75, idf = ln((N - n + 0.5) / (n + 0.5))
floored at 1e-6). Query terms lose stopwords and are OR-ed on both, so both behave alike;
stemmers differ in details.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from sqlalchemy import Connection

from memos.models import Kind, MemoryItem, Status


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

    def reset(self) -> None:
        """Forget what is cached about tables and statistics (after a rollback)."""
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
