"""In-place updates, after SPFresh: appends to the nearest postings, splits of postings that
overflow with a local reassignment around them, and tombstone removal.

Every function here runs under the index's write lock, after the write-ahead log holds the
call, and publishes its metadata changes under the state lock once its disk writes are done.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from memos.faults import crash_point
from memos.protocols import FloatArray, IdArray
from memos.retrieval.spann.build import form
from memos.retrieval.spann.centroids import CentroidIndex
from memos.retrieval.spann.clustering import (
    insert_assignment,
    split_oversize,
    split_two,
    squared_distances,
)
from memos.retrieval.spann.codec import CodeArray
from memos.retrieval.spann.idmap import SlotArray
from memos.retrieval.spann.layout import Layout, records
from memos.retrieval.spann.postings import META, MetaArray
from memos.retrieval.spann.threads import parallel_map, single_thread

# Postings around a split that its records may move to (judged by centroid distance alone),
# and the nearest of them whose records are read to see if they should move in (LIRE).
NEIGHBOURS = 6
PULL_FROM = 3
# Below this fill a rewritten posting is left whole rather than split: cleaning out stale
# records made room, and postings that are cut too small cost probes.
REFILL = 0.75
# New vectors per task when looking up their nearest postings.
SEARCH_CHUNK = 256
# A narrower centroid-graph walk than queries get: a new vector's nearest postings need not be
# exact, its replicas and later splits cover near misses.
INSERT_EFFORT = 32


def insert(layout: Layout, ids: IdArray, vectors: FloatArray) -> None:
    slots, crcs = layout.write_rows(vectors)
    if layout.clustered:
        order = np.argsort(ids)
        layout.pending = (ids[order], slots[order])
        try:
            _place(layout, ids, slots, vectors)
        finally:
            layout.pending = None
    with layout.state_lock:
        freed = layout.ids.set_many(ids, slots, crcs)
    layout.free_rows(freed)
    if not layout.clustered and len(layout.ids) > layout.params.flat_limit:
        form(layout)
    if layout.centroid_index.needs_rebuild:
        refresh_centroids(layout)


def remove(layout: Layout, ids: IdArray) -> None:
    freed = []
    with layout.state_lock:
        for item_id in ids.tolist():
            before = layout.ids.delete(item_id)
            if before is not None:
                freed.append(before[0])
    layout.free_rows(freed)


def refresh_centroids(layout: Layout) -> None:
    """Rebuild the centroid graph without its dead rows; readers use the old one meanwhile."""
    with layout.state_lock:
        pids = layout.postings.alive_ids()
        vectors = layout.centroids[pids].copy()
    fresh = CentroidIndex.build(layout.dim, pids, vectors)
    with layout.state_lock:
        layout.centroid_index = fresh


def _place(layout: Layout, ids: IdArray, slots: SlotArray, vectors: FloatArray) -> None:
    params = layout.params
    width = max(1, min(2 * params.replicas, layout.centroid_index.live))
    # Only this writer changes the centroid index, so searching it needs no lock.
    index = layout.centroid_index
    chunks = [slice(s, s + SEARCH_CHUNK) for s in range(0, len(vectors), SEARCH_CHUNK)]
    found = parallel_map(
        lambda chunk: index.search(vectors[chunk], width, effort=INSERT_EFFORT), chunks
    )
    candidates = np.concatenate([c for c, _ in found])
    distances = np.concatenate([d for _, d in found])
    chosen = insert_assignment(
        candidates, distances, layout.centroids, params.replicas, params.replica_eps
    )
    flat = chosen.reshape(-1)
    rows = np.repeat(np.arange(len(vectors)), chosen.shape[1])[flat >= 0]
    targets = flat[flat >= 0]
    order = np.argsort(targets, kind="stable")
    rows, targets = rows[order], targets[order]
    meta = records(ids, slots)[rows]
    codes = layout.codec.encode(vectors)[rows]
    starts = np.flatnonzero(np.concatenate([[True], np.diff(targets) != 0]))
    bounds = np.concatenate([starts, [len(targets)]])
    pids = targets[starts]
    table = layout.postings.table
    fits = table["length"][pids].astype(np.int64) + np.diff(bounds) <= split_limit(layout)
    # Postings with room take their records in place, all at once...
    fitting = np.flatnonzero(fits)
    if len(fitting):
        picks = np.concatenate([np.arange(bounds[g], bounds[g + 1]) for g in fitting])
        sizes = np.diff(bounds)[fitting]
        local = np.concatenate([[0], np.cumsum(sizes)]).tolist()
        updated = layout.postings.append(pids[fitting], meta[picks], codes[picks], local)
        crash_point("spann-append")
        with layout.state_lock:
            layout.postings.publish_appends(pids[fitting], updated)
    # ...full ones are split, one by one.
    for group in np.flatnonzero(~fits).tolist():
        part = slice(int(bounds[group]), int(bounds[group + 1]))
        split(layout, int(pids[group]), meta[part], codes[part])


def unique_valid(layout: Layout, meta: MetaArray, codes: CodeArray) -> tuple[MetaArray, CodeArray]:
    keep = layout.valid(meta)
    meta, codes = meta[keep], codes[keep]
    _, first = np.unique(meta["id"], return_index=True)
    first.sort()
    return meta[first], codes[first]


def split_limit(layout: Layout) -> int:
    """Length past which a posting is split (its extent holds up to `posting_max`)."""
    return min(layout.postings.capacity, 2 * layout.params.posting_size)


def split(layout: Layout, pid: int, extra: MetaArray, extra_codes: CodeArray) -> None:
    """Rewrite a full posting without stale records, or cut it into balanced pieces and
    reassign around it (SPFresh's LIRE): its records nearer a neighbouring posting move
    there, and the neighbours' records nearer a new piece are copied in."""
    postings = layout.postings
    meta, codes = postings.read(pid, postings.table[pid].copy())
    meta, codes = unique_valid(
        layout, np.concatenate([meta, extra]), np.concatenate([codes, extra_codes])
    )
    limit = split_limit(layout)
    refill = int(REFILL * limit)
    if len(meta) <= refill:
        row = postings.write_extent(meta, codes)
        with layout.state_lock:
            postings.publish(pid, row)
        return
    vectors = layout.codec.decode(codes)
    if len(meta) <= 2 * limit:
        side, centres = split_two(vectors, seed=pid)
        piece = side.astype(np.int64)
    else:  # a large batch landed on one posting: cut as the build would
        parts = split_oversize(
            vectors, np.arange(len(meta)), layout.params.posting_size, limit, pid
        )
        piece = np.empty(len(meta), dtype=np.int64)
        for number, rows in enumerate(parts):
            piece[rows] = number
        centres = np.stack([vectors[rows].mean(axis=0) for rows in parts]).astype(np.float32)
    with single_thread():
        near, _ = layout.centroid_index.search(layout.centroids[pid][None, :], NEIGHBOURS + 1)
    near = near[0][(near[0] >= 0) & (near[0] != pid)]
    stay = _move_out(layout, meta, codes, vectors, piece, centres, near, limit)
    around = _neighbourhood(layout, near[:PULL_FROM])
    rows_out = []
    for number in range(len(centres)):
        mine = np.flatnonzero((piece == number) & stay)
        part_meta, part_codes = _pull_in(meta[mine], codes[mine], centres[number], around, refill)
        rows_out.append(postings.write_extent(part_meta, part_codes))
    crash_point("spann-split-before-publish")
    with layout.state_lock:
        pids = np.asarray([pid] + [postings.allocate_id() for _ in rows_out[1:]], dtype=np.int64)
        for new_pid, row in zip(pids.tolist(), rows_out, strict=True):
            postings.publish(new_pid, row)
        layout.set_centroids(pids, centres)
        layout.centroid_index.retire(pids[:1])
        layout.centroid_index.add(pids, centres)


def _move_out(
    layout: Layout,
    meta: MetaArray,
    codes: CodeArray,
    vectors: FloatArray,
    piece: IdArray,
    centres: FloatArray,
    near: IdArray,
    limit: int,
) -> np.ndarray:
    """Append records now closer to a neighbour than to their piece there; return which stay."""
    stay = np.ones(len(meta), dtype=bool)
    if len(near) == 0:
        return stay
    own = squared_distances(vectors, centres)[np.arange(len(meta)), piece]
    to_near = squared_distances(vectors, layout.centroids[near])
    best = to_near.argmin(axis=1)
    moving = to_near[np.arange(len(meta)), best] < own
    table = layout.postings.table
    for target_at in np.unique(best[moving]).tolist():
        target = np.asarray([near[target_at]], dtype=np.int64)
        rows = np.flatnonzero(moving & (best == target_at))
        rows = rows[: max(0, limit - int(table["length"][target[0]]))]
        if len(rows) == 0:
            continue
        updated = layout.postings.append(target, meta[rows], codes[rows], [0, len(rows)])
        with layout.state_lock:
            layout.postings.publish_appends(target, updated)
        stay[rows] = False
    return stay


@dataclass
class _Neighbourhood:
    """Valid records of the postings around a split, decoded."""

    meta: MetaArray
    codes: CodeArray
    vectors: FloatArray
    own: FloatArray  # squared distance of each record to its own posting's centroid


def _neighbourhood(layout: Layout, near: IdArray) -> _Neighbourhood:
    metas, codes, owners = [], [], []
    for pid in near.tolist():
        meta, code = layout.postings.read(pid, layout.postings.table[pid].copy())
        meta, code = unique_valid(layout, meta, code)
        metas.append(meta)
        codes.append(code)
        owners.append(np.full(len(meta), pid, dtype=np.int64))
    if not metas:
        empty = np.zeros((0, layout.dim), dtype=np.float32)
        return _Neighbourhood(
            np.zeros(0, dtype=META), np.zeros((0, 0), np.uint8), empty, empty[:, 0]
        )
    code_all = np.concatenate(codes)
    vectors = layout.codec.decode(code_all)
    delta = vectors - layout.centroids[np.concatenate(owners)]
    own = np.einsum("ij,ij->i", delta, delta)
    return _Neighbourhood(np.concatenate(metas), code_all, vectors, own)


def _pull_in(
    meta: MetaArray, codes: CodeArray, centroid: FloatArray, hood: _Neighbourhood, limit: int
) -> tuple[MetaArray, CodeArray]:
    """Copy in neighbours' records that are now closer to this half than to their own posting."""
    room = limit - len(meta)
    if room <= 0 or len(hood.meta) == 0:
        return meta, codes
    closer = np.flatnonzero(squared_distances(hood.vectors, centroid[None, :])[:, 0] < hood.own)
    ids = hood.meta["id"][closer]
    fresh = ~np.isin(ids, meta["id"])
    closer, ids = closer[fresh], ids[fresh]
    _, first = np.unique(ids, return_index=True)
    closer = closer[np.sort(first)][:room]
    if len(closer) == 0:
        return meta, codes
    return np.concatenate([meta, hood.meta[closer]]), np.concatenate([codes, hood.codes[closer]])
