"""The batched access log: counts reach the store in bulk and stay visible until they do."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from memos.kernel.usage import AccessLog
from memos.testing import FakeClock


class _Sink:
    """A store that records batches and, while writing one, asks the log what is unwritten."""

    def __init__(self) -> None:
        self.log: AccessLog | None = None
        self.batches: list[dict[int, int]] = []
        self.seen_while_writing: list[dict[int, int]] = []

    def record_access(self, counts: Mapping[int, tuple[int, datetime]]) -> None:
        assert self.log is not None
        self.seen_while_writing.append(self.log.unwritten([1, 2, 3]))
        self.batches.append({i: n for i, (n, _) in counts.items()})


def test_unwritten_counts_cover_pending_and_in_flight_batches() -> None:
    sink = _Sink()
    log = AccessLog(sink, FakeClock(), max_pending=3, max_age_s=3600)
    sink.log = log
    log.record([1, 2])
    log.record([1])
    assert log.unwritten([1, 2, 3]) == {1: 2, 2: 1}  # nothing written yet
    log.record([3])  # the third distinct item fills the batch: it is written
    assert sink.batches == [{1: 2, 2: 1, 3: 1}]
    # A search running during the write still sees the batch being written.
    assert sink.seen_while_writing == [{1: 2, 2: 1, 3: 1}]
    assert log.unwritten([1, 2, 3]) == {}  # written: the store has them now
    log.record([2])
    assert log.unwritten([2, 3]) == {2: 1}
    log.flush()
    assert sink.batches[-1] == {2: 1} and log.unwritten([2]) == {}
