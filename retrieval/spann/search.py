"""The query path: nearest centroids, one read per probed posting, a fast-scan over their
codes, deduplication, exact re-scoring of the best few.

A query reads its nearest postings: `max_probe` of them, or, with a record budget, as many
as hold that many records (at least PROBE_MIN). There is no distance-ratio pruning: with
large postings it saved little, and it is what lost freshly inserted vectors (a vector
kept in a posting that later splits around it can sit twice as far from its posting's
centroid as from the nearest one, and such postings were cut).
"""

from __future__ import annotations

import itertools

import numpy as np

from memos.protocols import FloatArray, IdArray
from memos.retrieval.spann.layout import Layout
from memos.retrieval.spann.params import PROBE_MIN
from memos.retrieval.spann.postings import META, MetaArray
from memos.retrieval.spann.scanner import Scanner
from memos.retrieval.spann.threads import parallel_map, single_thread

# Estimated candidates fetched per exact re-score: some are stale or repeated.
OVERFETCH = 1.25
# A candidate is re-scored while its estimate is within MARGIN standard deviations of the
# codes' error of the k-th best exact score, up to STRETCH times `rerank` candidates.
MARGIN = 3.0
STRETCH = 4
# Batches of at least this many queries are spread over threads.
PARALLEL_FROM = 8


def search(
    layout: Layout, queries: FloatArray, k: int, max_probe: int, budget: int | None
) -> tuple[IdArray, FloatArray]:
    nq = len(queries)
    out_ids = np.full((nq, max(k, 0)), -1, dtype=np.int64)
    out_scores = np.zeros((nq, max(k, 0)), dtype=np.float32)
    if k <= 0 or len(layout.ids) == 0:
        return out_ids, out_scores
    if not layout.clustered:
        _exact(layout, queries, k, out_ids, out_scores)
        return out_ids, out_scores
    rerank = max(layout.params.rerank, 4 * k)
    if nq < PARALLEL_FROM:
        _batch(layout, queries, k, rerank, max_probe, budget, out_ids, out_scores)
        return out_ids, out_scores
    # Several threads, each on a contiguous slice of the queries, writing into views of out.
    bounds = np.linspace(0, nq, min(nq // 4, 64) + 1).astype(int)
    parts = [slice(int(a), int(b)) for a, b in itertools.pairwise(bounds)]
    parallel_map(
        lambda part: _batch(
            layout, queries[part], k, rerank, max_probe, budget, out_ids[part], out_scores[part]
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
    budget: int | None,
    out_ids: IdArray,
    out_scores: FloatArray,
) -> None:
    with layout.state_lock:
        pids, _ = layout.centroid_index.search(queries, max_probe)
    for row in range(len(queries)):
        if row + 1 < len(queries):
            # Start fetching the next query's postings (a no-op when they are cached): the
            # disk works on them while this query scans.
            ahead = pids[row + 1]
            size = layout.params.posting_size
            layout.postings.prefetch(ahead[ahead >= 0][: _ahead(budget, max_probe, size)])
        found_ids, found_scores = _one(layout, queries[row], pids[row], k, rerank, budget)
        out_ids[row, : len(found_ids)] = found_ids
        out_scores[row, : len(found_ids)] = found_scores


def _ahead(budget: int | None, max_probe: int, posting_size: int) -> int:
    """Postings worth prefetching for a query: a budget's worth at the target size."""
    return max_probe if budget is None else max(PROBE_MIN, budget // posting_size)


def _one(
    layout: Layout, query: FloatArray, pids: IdArray, k: int, rerank: int, budget: int | None
) -> tuple[IdArray, FloatArray]:
    postings = layout.postings
    pids = pids[pids >= 0]
    with layout.state_lock:
        rows = postings.table[pids]
        live = rows["alive"] == 1  # a split may have retired one since the centroid search
        pids, rows = pids[live], rows[live]
        if budget is not None:
            held = np.cumsum(rows["length"].astype(np.int64))
            enough = max(PROBE_MIN, int(np.searchsorted(held, budget)) + 1)
            pids, rows = pids[:enough], rows[:enough]
        rows = rows.copy()
        pinned = postings.acquire({int(f) for f in rows["file"]})
        codec = layout.codec  # the codes of these rows
    scanner = layout.scanner(codec)
    lengths = rows["length"].astype(np.int64)
    total = int(lengths.sum())
    try:
        views = scanner.buffers(lengths.tolist())
        meta_raw = scanner.records(len(pids), postings.meta_bytes)
        postings.read_into(pids, rows, {d.number: d for d in pinned}, meta_raw, views)
    finally:
        postings.release(pinned)
    meta = meta_raw.view(META)
    version = layout.ids.version
    margin = MARGIN * codec.score_error
    want = min(total, int(OVERFETCH * rerank))
    done = 0
    found_ids = np.zeros(0, dtype=np.int64)
    found_scores = np.zeros(0, dtype=np.float32)
    while True:
        with single_thread():
            ids, estimates, slots, crcs = _shortlist(layout, scanner, query, meta, want)
        if len(ids) < rerank and want < total:
            want = min(total, want * 4)  # stale records and repeats took places
            continue
        # Re-score the best `rerank`, then any candidate whose estimate, given the codes'
        # error, could still beat the k-th best exact score (near-duplicates crowd a short
        # list in an order the codes cannot settle). The shortlist is best first and
        # `done` of it are scored.
        while True:
            upto = max(done, min(rerank, len(ids)))
            if len(found_scores) >= k:
                bar = found_scores[k - 1] - margin
                upto = max(upto, int(np.count_nonzero(estimates > bar)))
            if upto <= done:
                break
            part = slice(done, upto)
            got_ids, got_scores = _rescore(
                layout, query, ids[part], slots[part], crcs[part], version
            )
            found_ids = np.concatenate([found_ids, got_ids])
            found_scores = np.concatenate([found_scores, got_scores])
            order = np.argsort(-found_scores, kind="stable")
            found_ids, found_scores = found_ids[order], found_scores[order]
            done = upto
        cap = min(total, STRETCH * rerank)
        if done < len(ids) or want >= cap:
            break  # the bar stopped it, or there is nothing more to fetch
        want = cap
    # A concurrent write can shift a longer shortlist: keep each id once, at its best.
    _, first = np.unique(found_ids, return_index=True)
    keep = np.sort(first)
    return found_ids[keep][:k], found_scores[keep][:k]


def _shortlist(
    layout: Layout, scanner: Scanner, query: FloatArray, meta: MetaArray, want: int
) -> tuple[IdArray, FloatArray, IdArray, np.ndarray]:
    """The best `want` records by estimated score, keeping the live, first copy of each id:
    ids, estimates, slots and row CRCs, best first."""
    estimates, positions = scanner.top(query, scanner.lists, want)
    candidates = meta[positions]
    ids = np.ascontiguousarray(candidates["id"])
    slots = candidates["slot"].astype(np.int64)
    current, crcs = layout.ids.lookup(ids)
    valid = current == slots
    ids, estimates, slots, crcs = ids[valid], estimates[valid], slots[valid], crcs[valid]
    _, first = np.unique(ids, return_index=True)
    first.sort()  # the best-scored copy of each id, best first
    return ids[first], estimates[first], slots[first], crcs[first]


def _rescore(
    layout: Layout, query: FloatArray, ids: IdArray, slots: IdArray, crcs: np.ndarray, version: int
) -> tuple[IdArray, FloatArray]:
    """Exact scores from the full-precision rows."""
    if len(ids) == 0:
        return ids, np.zeros(0, dtype=np.float32)
    rows, bad = layout.read_rows(slots, crcs)
    if layout.ids.version != version:  # a write landed meanwhile: drop what it removed
        still = layout.ids.lookup(ids)[0] == slots
    else:
        still = np.ones(len(ids), dtype=bool)
    if (bad & still).any():
        raise layout.corrupt_rows()
    keep = still & ~bad
    return ids[keep], layout.score(rows[keep], query)


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
