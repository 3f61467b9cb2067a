"""Batched access counting: search records hits in memory and writes them in bulk, so the
hot path never pays a database write per hit."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from datetime import datetime

from memos.protocols import AccessSink
from memos.timeutil import Clock


class AccessLog:
    """Accumulates (count, last access) per item; flushes by size, age or on close.

    `unwritten` reports the counts not in the store yet, so a reader of counts (the search
    prior) sees the same totals whenever the last flush happened: a ranking must not
    depend on how many seconds ago the batch was written. Another process (a server and a
    CLI on one database) sees them once they are written."""

    def __init__(
        self, store: AccessSink, clock: Clock, *, max_pending: int = 512, max_age_s: float = 5.0
    ) -> None:
        self.store = store
        self.clock = clock
        self.max_pending = max_pending
        self.max_age_s = max_age_s
        self._pending: dict[int, tuple[int, datetime]] = {}
        # Counts taken out of `_pending` by a flush whose write has not committed yet.
        self._writing: list[dict[int, tuple[int, datetime]]] = []
        self._oldest = 0.0
        self._lock = threading.Lock()

    def record(self, item_ids: Iterable[int]) -> None:
        now = self.clock()
        with self._lock:
            if not self._pending:
                self._oldest = time.monotonic()
            for item_id in item_ids:
                count, _ = self._pending.get(item_id, (0, now))
                self._pending[item_id] = (count + 1, now)
            due = (
                len(self._pending) >= self.max_pending
                or time.monotonic() - self._oldest >= self.max_age_s
            )
        if due:
            self.flush()

    def unwritten(self, item_ids: Iterable[int]) -> dict[int, int]:
        """Accesses of `item_ids` recorded here and not yet in the store (0s left out)."""
        found: dict[int, int] = {}
        with self._lock:
            batches = (self._pending, *self._writing)
            for item_id in item_ids:
                n = sum(batch[item_id][0] for batch in batches if item_id in batch)
                if n:
                    found[item_id] = n
        return found

    def flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, {}
            if pending:
                self._writing.append(pending)
        if not pending:
            return
        try:
            self.store.record_access(pending)
        finally:
            with self._lock:
                self._writing = [b for b in self._writing if b is not pending]
