"""The LLM-usage ledger: what agents spent, per cube and operation, summed in place so
every process and host adds to the same totals."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from memos.errors import InvalidInputError
from memos.stores.base import StoreBase
from memos.stores.engine import transaction
from memos.stores.schema import USAGE_COUNTERS, llm_usage


class UsageOps(StoreBase):
    """Adding to and reading the per-cube LLM usage totals."""

    def add_usage(self, cube_id: int, operation: str, delta: Mapping[str, int]) -> None:
        """Add counts (names from `USAGE_COUNTERS`) to the cube's totals for `operation`.

        Raises:
            InvalidInputError: an unknown counter or a negative count.
        """
        unknown = set(delta) - set(USAGE_COUNTERS)
        if unknown or any(int(v) < 0 for v in delta.values()):
            raise InvalidInputError(f"bad usage counters: {dict(delta)}")
        values = {name: int(delta.get(name, 0)) for name in USAGE_COUNTERS}
        dialect_insert = pg_insert if self.dialect == "postgresql" else sqlite_insert
        statement = dialect_insert(llm_usage).values(cube_id=cube_id, operation=operation, **values)
        # One statement, atomic on both databases: concurrent runs add up, never overwrite.
        statement = statement.on_conflict_do_update(
            index_elements=[llm_usage.c.cube_id, llm_usage.c.operation],
            set_={name: llm_usage.c[name] + statement.excluded[name] for name in USAGE_COUNTERS},
        )
        with transaction(self.engine, write=True) as conn:
            conn.execute(statement)

    def usage_totals(self, cube_id: int) -> dict[str, dict[str, int]]:
        """Totals per operation."""
        with transaction(self.engine, write=False) as conn:
            rows = conn.execute(select(llm_usage).where(llm_usage.c.cube_id == cube_id)).mappings()
            return {
                str(row["operation"]): {name: int(row[name]) for name in USAGE_COUNTERS}
                for row in rows
            }
