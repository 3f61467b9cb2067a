"""What agents spent on LLMs, per cube, kept in the database so every process and host
adds to the same totals (`memos stats` shows them).

The totals live as one JSON value per cube in the store's key-value table `memos_meta`,
updated under a row lock, so no schema change is needed and concurrent ingests add up.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import insert, select, update

from memos.agents.llm.base import Usage
from memos.errors import ConflictError
from memos.stores.engine import transaction
from memos.stores.schema import meta
from memos.stores.sql import SqlStore

_FIELDS = ("runs", "messages", "llm_calls", "llm_failures", "prompt_tokens", "completion_tokens")


def _key(cube_id: int) -> str:
    return f"llm_usage:cube:{cube_id}"


def record_usage(
    store: SqlStore, cube_id: int, operation: str, *, messages: int, usage: Usage
) -> None:
    """Add one run of `operation` (e.g. 'ingest') to the cube's totals."""
    delta = {
        "runs": 1,
        "messages": messages,
        "llm_calls": usage.calls,
        "llm_failures": usage.failures,
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
    }
    for attempt in range(2):
        try:
            _add(store, _key(cube_id), operation, delta)
            return
        except ConflictError:
            # Two first runs raced to insert the row; the second adds to the first's.
            if attempt:
                raise


def _add(store: SqlStore, key: str, operation: str, delta: dict[str, int]) -> None:
    with transaction(store.engine, write=True) as conn:
        stored = conn.execute(
            select(meta.c.value).where(meta.c.key == key).with_for_update()
        ).scalar()
        totals = _parse(stored)
        current = totals.get(operation)
        if not isinstance(current, dict):
            current = totals[operation] = {}
        for name, value in delta.items():
            current[name] = int(current.get(name, 0)) + value
        text = json.dumps(totals, sort_keys=True)
        if stored is None:
            conn.execute(insert(meta).values(key=key, value=text))
        else:
            conn.execute(update(meta).where(meta.c.key == key).values(value=text))


def _parse(stored: str | None) -> dict[str, Any]:
    try:
        value = json.loads(stored) if stored else {}
    except ValueError:
        return {}  # a damaged counter restarts; it is bookkeeping, not memory
    return value if isinstance(value, dict) else {}


def usage_totals(store: SqlStore, cube_id: int) -> dict[str, dict[str, float]]:
    """Totals per operation, with LLM calls and tokens per message."""
    with transaction(store.engine, write=False) as conn:
        stored = conn.execute(select(meta.c.value).where(meta.c.key == _key(cube_id))).scalar()
    report: dict[str, dict[str, float]] = {}
    for operation, counts in _parse(stored).items():
        if not isinstance(counts, dict):
            continue
        row: dict[str, float] = {name: int(counts.get(name, 0)) for name in _FIELDS}
        per = max(row["messages"], 1)
        row["llm_calls_per_message"] = round(row["llm_calls"] / per, 3)
        tokens = row["prompt_tokens"] + row["completion_tokens"]
        row["tokens_per_message"] = round(tokens / per, 1)
        report[str(operation)] = row
    return report
