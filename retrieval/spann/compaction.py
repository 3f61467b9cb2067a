"""Compaction: copy every live posting, without stale records, into a fresh data file,
leaving behind the extents that splits and moves superseded.

It works in small chunks, each under the write lock, so writers wait for one chunk at most
and readers never wait: every posting stays readable at its old extent until its new one is
published. The old files are deleted by the first checkpoint that no longer names them.
"""

from __future__ import annotations

import threading
from contextlib import AbstractContextManager

from memos.faults import crash_point
from memos.retrieval.spann.layout import Layout

CHUNK = 64


def compact(
    layout: Layout, write_lock: AbstractContextManager[object], stop: threading.Event
) -> bool:
    """Rewrite postings into a new file; return False if stopped before the end."""
    postings = layout.postings
    with write_lock:
        layout.dead = layout.garbage = 0
        if not layout.clustered:
            return True
        target = postings.new_file()
        todo = postings.alive_ids()
    for start in range(0, len(todo), CHUNK):
        if stop.is_set():
            return False
        with write_lock:
            chunk, contents = [], []
            for pid in todo[start : start + CHUNK].tolist():
                row = postings.table[pid].copy()
                if row["alive"] != 1 or int(row["file"]) == target:
                    continue  # split or rewritten since the list was taken
                chunk.append(pid)
                contents.append(layout.unique_valid(*postings.read(pid, row)))
            fresh = postings.write_extents(contents)
            with layout.state_lock:
                for pid, row in zip(chunk, fresh, strict=True):
                    postings.publish(pid, row)
            crash_point("spann-compact-chunk")
    return True


def due(layout: Layout, ratio: float, least: int) -> bool:
    """Stale records past `ratio` of the live ones, or superseded extents holding more
    records than there are live ones (the data files at twice their useful size)."""
    live = max(1, len(layout.ids))
    stale = layout.dead >= least and layout.dead >= ratio * live
    return stale or layout.garbage >= max(least, live)
