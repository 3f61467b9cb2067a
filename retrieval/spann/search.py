"""The query path: nearest centroids, query-aware pruning, one read per posting, scoring,
deduplication, exact re-scoring.

A posting is probed if its centroid is within (1 + eps) of the nearest one (squared L2), up
to max_probe, and beyond that only while the probed postings hold too few records for k.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from memos.protocols import FloatArray, IdArray
from memos.retrieval.spann.layout import Layout
from memos.retrieval.spann.postings import TableArray
from memos.retrieval.spann.threads import parallel_map, single_thread

# Records scored per result wanted: replicas repeat ids and some records are stale.
OVERFETCH = 3
# Batches of at least this many queries are spread over threads.
PARALLEL_FROM = 8


def search(
    layout: Layout, queries: FloatArray, k: int, max_probe: int, eps: float
) -> tuple[IdArray, FloatArray]:
    nq = len(queries)
    out_ids = np.full((nq, max(k, 0)), -1, dtype=np.int64)
    out_scores = np.zeros((nq, max(k, 0)), dtype=np.float32)
    if k <= 0 or len(layout.ids) == 0:
        return out_ids, out_scores
    if not layout.clustered:
        _exact(layout, queries, k, out_ids, out_scores)
        return out_ids, out_scores
    rerank = k if layout.codec.exact else max(layout.params.rerank, 2 * k)
    if nq < PARALLEL_FROM:
        _batch(layout, queries, k, rerank, max_probe, eps, out_ids, out_scores)
        return out_ids, out_scores
    # Several threads, each on a contiguous slice of the queries, writing into views of out.
    bounds = np.linspace(0, nq, min(nq // 4, 64) + 1).astype(int)
    parts = [slice(int(a), int(b)) for a, b in itertools.pairwise(bounds)]
    parallel_map(
        lambda part: _batch(
            layout, queries[part], k, rerank, max_probe, eps, out_ids[part], out_scores[part]
        ),
        parts,
    )
    return out_ids, out_scores


def _batch(
    layout: Layout,
    queries: FloatArray,
    k: int,
    rerank: int,
    max_probe: int,
    eps: float,
    out_ids: IdArray,
    out_scores: FloatArray,
) -> None:
    need = OVERFETCH * rerank
    with layout.state_lock:
        table = layout.postings.table
        alive = table["alive"] == 1
        mean_length = max(1.0, float(table["length"][alive].mean())) if alive.any() else 1.0
        probe_k = min(max(max_probe, math.ceil(need / mean_length) + 1), layout.centroid_index.live)
        with single_thread():
            pids, distances = layout.centroid_index.search(queries, probe_k)
    for row in range(len(queries)):
        found_ids, found_scores = _one(
            layout, queries[row], pids[row], distances[row], k, rerank, max_probe, eps
        )
        out_ids[row, : len(found_ids)] = found_ids
        out_scores[row, : len(found_ids)] = found_scores


def _probes(
    layout: Layout, pids: IdArray, distances: FloatArray, need: int, max_probe: int, eps: float
) -> tuple[IdArray, TableArray]:
    """Which postings to read, and their rows as of now (call under the state lock)."""
    keep = pids >= 0
    pids, distances = pids[keep], distances[keep]
    table = layout.postings.table
    rows = table[pids]
    live = rows["alive"] == 1
    pids, distances, rows = pids[live], distances[live], rows[live]
    if len(pids) == 0:
        return pids, rows
    close = int(np.searchsorted(distances, (1.0 + eps) * distances[0], side="right"))
    chosen = max(1, min(close, max_probe))
    held = np.cumsum(rows["length"].astype(np.int64))
    if held[chosen - 1] < need:  # too few records for k: read on in distance order
        chosen = max(chosen, min(len(pids), int(np.searchsorted(held, need)) + 1))
    return pids[:chosen], rows[:chosen].copy()


def _one(
    layout: Layout,
    query: FloatArray,
    pids: IdArray,
    distances: FloatArray,
    k: int,
    rerank: int,
    max_probe: int,
    eps: float,
) -> tuple[IdArray, FloatArray]:
    postings = layout.postings
    with layout.state_lock:
        chosen, rows = _probes(layout, pids, distances, OVERFETCH * rerank, max_probe, eps)
        pinned = postings.acquire({int(f) for f in rows["file"]})
    total = int(rows["length"].astype(np.int64).sum())
    scorer = layout.codec.scorer()
    try:
        buffer = scorer.buffer(total)
        meta = postings.read_into(chosen, rows, {d.number: d for d in pinned}, buffer)
    finally:
        postings.release(pinned)
    want = min(total, OVERFETCH * rerank)
    idmap = layout.ids
    version = idmap.version
    with single_thread():
        while True:
            scores, positions = scorer.top(query, want)
            candidates = meta[positions]
            ids = np.ascontiguousarray(candidates["id"])
            slots = candidates["slot"].astype(np.int64)
            current, crcs = idmap.lookup(ids)
            valid = current == slots
            ids, scores, slots, crcs = ids[valid], scores[valid], slots[valid], crcs[valid]
            _, first = np.unique(ids, return_index=True)
            first.sort()  # the best-scored copy of each id, best first
            if len(first) >= rerank or want >= total:
                break
            want = min(total, want * 4)
    first = first[:rerank]
    ids, scores, slots, crcs = ids[first], scores[first], slots[first], crcs[first]
    if not layout.codec.exact:
        exact_rows, bad = layout.read_rows(slots, crcs)
        if idmap.version != version:  # a write landed meanwhile: drop what it removed
            still = idmap.lookup(ids)[0] == slots
        else:
            still = np.ones(len(ids), dtype=bool)
        if (bad & still).any():
            raise layout.corrupt_rows()
        keep = still & ~bad
        ids, scores = ids[keep], layout.score(exact_rows[keep], query)
        order = np.argsort(-scores, kind="stable")
        ids, scores = ids[order], scores[order]
    return ids[:k], scores[:k]


def _exact(
    layout: Layout, queries: FloatArray, k: int, out_ids: IdArray, out_scores: FloatArray
) -> None:
    """Brute force over every live row: the whole index while it is small."""
    with layout.state_lock:
        entries = layout.ids.entries()
    ids = np.ascontiguousarray(entries["id"])
    slots = entries["slot"].astype(np.int64)
    rows, bad = layout.read_rows(slots, np.ascontiguousarray(entries["crc"]))
    if bad.any():
        current, _ = layout.ids.lookup(ids[bad])
        if (current == slots[bad]).any():
            raise layout.corrupt_rows()
        ids, rows = ids[~bad], rows[~bad]
    take = min(k, len(ids))
    if take == 0:
        return
    for row, query in enumerate(queries):
        scores = layout.score(rows, query)
        best = np.argpartition(-scores, take - 1)[:take] if take < len(scores) else np.arange(take)
        best = best[np.argsort(-scores[best], kind="stable")]
        out_ids[row, :take] = ids[best]
        out_scores[row, :take] = scores[best]
