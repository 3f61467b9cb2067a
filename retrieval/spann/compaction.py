"""Compaction: copy every live posting, without stale records, into a fresh data file.

It works in small chunks, each under the write lock, so writers wait for one chunk at most
and readers never wait: every posting stays readable at its old extent until its new one is
published. The old files are deleted by the first checkpoint that no longer names them.
"""

from __future__ import annotations

import threading
from contextlib import AbstractContextManager

from memos.faults import crash_point
from memos.retrieval.spann.layout import Layout
from memos.retrieval.spann.updates import unique_valid

CHUNK = 64


def compact(
    layout: Layout, write_lock: AbstractContextManager[object], stop: threading.Event
) -> bool:
    """Rewrite postings into a new file; return False if stopped before the end."""
    postings = layout.postings
    with write_lock:
        layout.dead = 0
        if not layout.clustered:
            return True
        target = postings.new_file()
        todo = postings.alive_ids()
    for start in range(0, len(todo), CHUNK):
        if stop.is_set():
            return False
        with write_lock:
            for pid in todo[start : start + CHUNK].tolist():
                row = postings.table[pid].copy()
                if row["alive"] != 1 or int(row["file"]) == target:
                    continue  # split or rewritten since the list was taken
                meta, codes = postings.read(pid, row)
                meta, codes = unique_valid(layout, meta, codes)
                fresh = postings.write_extent(meta, codes)
                with layout.state_lock:
                    postings.publish(pid, fresh)
            crash_point("spann-compact-chunk")
    return True


def stale_fraction(layout: Layout) -> float:
    return layout.dead / max(1, len(layout.ids))
