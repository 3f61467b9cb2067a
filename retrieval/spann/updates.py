"""In-place updates, after SPFresh: appends to the nearest posting, splits of postings that
overflow (splits.py), tombstone removal; and what keeps every vector findable.

Findability rests on one invariant: every vector sits in one of the few postings nearest
to it, so that a query for the vector itself probes it (a query reads at least 12). The
first cut of issue #18 kept it badly: a query probed only postings within (1 + eps) of its
nearest centroid's distance, and a vector whose posting had split around it, or that was
one of the first of a new topic, sat in a posting ranked 2nd to 5th at nearly twice that
distance, and was cut. Now:

- an insert goes to its nearest posting, looked up again after any posting that the same
  batch overflows has split (new pieces change what is nearest);
- a vector far outside even its nearest posting (the first of a topic no posting covers)
  starts a posting of its own, with its batch's neighbours (`_seed`);
- a record placed far outside its posting all the same is watched (strays.py) and moved
  once the postings that grow around it push its own out of its nearest few (`watch`);
- a posting that new, much tighter postings grow inside has its records re-ranked, and
  those it no longer serves move (`_crowding`);
- a small index whose codec was trained on too few topics is laid out afresh (`form`).

Every function here runs under the index's write lock, after the write-ahead log holds the
call, and publishes its metadata changes under the state lock once its disk writes are done.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from memos.faults import crash_point
from memos.protocols import FloatArray, IdArray
from memos.retrieval.spann.blocks import SubCodes
from memos.retrieval.spann.build import form, spread
from memos.retrieval.spann.clustering import split_oversize, squared_distances
from memos.retrieval.spann.idmap import SlotArray
from memos.retrieval.spann.layout import Layout, records
from memos.retrieval.spann.params import PROBE_MIN
from memos.retrieval.spann.postings import MetaArray
from memos.retrieval.spann.splits import split
from memos.retrieval.spann.strays import ENTRY as STRAY_ENTRY
from memos.retrieval.spann.strays import FLOOR, SAFE, register

# A small index (up to this many times `flat_limit`) whose codec drifted is laid out afresh
# under a codec trained on all of it; a larger one has a broad enough training sample.
REFORM_LIMIT = 16
# A vector farther from its nearest centroid than NOVEL times that posting's radius (mean
# squared distance of its records; at least FLOOR times the typical one) starts a posting.
NOVEL = 4.0
# A new centroid crowds a posting when it lies inside it (nearer its centroid than its
# radius) and the posting is more than WIDER times as wide as the new one's. Postings of
# like width, as on diffuse data, lie inside each other's radius all the time without
# moving their records' rankings much: re-ranking those on every split cost 6x in insert
# rate on bench/ann.py's data and moved 33 of 30,000 records.
WIDER = 2.0
# A crowded posting keeps the records that still rank it among their CROWDED nearest: half
# of what a query probes at least (PROBE_MIN).
CROWDED = PROBE_MIN // 2


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
    elif layout.codec.drifted and len(layout.ids) <= REFORM_LIMIT * layout.params.flat_limit:
        form(layout, retrain=True)


def remove(layout: Layout, ids: IdArray) -> None:
    freed = []
    with layout.state_lock:
        for item_id in ids.tolist():
            before = layout.ids.delete(item_id)
            if before is not None:
                freed.append(before[0])
    layout.free_rows(freed)


def _place(layout: Layout, ids: IdArray, slots: SlotArray, vectors: FloatArray) -> None:
    codes = layout.codec.encode(vectors)
    layout.codec.observe(vectors, codes)
    meta = records(ids, slots)
    # Only this writer moves centroids, so reading them needs no lock.
    nearest, distance = layout.centroid_index.search(vectors, 1)
    novel = _novel(layout, nearest[:, 0], distance[:, 0])
    rest = np.flatnonzero(~novel)
    if novel.any():
        _seed(layout, meta[novel], codes[novel], vectors[novel])
        nearest[rest], distance[rest] = layout.centroid_index.search(vectors[rest], 1)
    # Full postings split first, with the records bound for them; then the others look
    # again (new postings change what is nearest), so none lands in a posting that a nearer
    # new one has already outranked.
    fits = _split_full(layout, meta, codes, rest, nearest[rest, 0])
    if len(fits) < len(rest):
        nearest, distance = layout.centroid_index.search(vectors[fits], 1)
    else:
        nearest, distance = nearest[fits], distance[fits]
    _append(layout, meta[fits], codes[fits], nearest[:, 0], distance[:, 0])


def _groups(targets: IdArray) -> tuple[IdArray, IdArray, IdArray]:
    """Rows sorted by target, the bounds of each target's run, and the targets."""
    order = np.argsort(targets, kind="stable")
    ordered = targets[order]
    starts = np.flatnonzero(np.concatenate([[True], np.diff(ordered) != 0]))
    return order, np.concatenate([starts, [len(order)]]), ordered[starts]


def _split_full(
    layout: Layout, meta: MetaArray, codes: SubCodes, rows: IdArray, targets: IdArray
) -> IdArray:
    """Split the postings that `rows` would overflow, giving them those rows; return the
    rows left to append."""
    if len(rows) == 0:
        return rows
    order, bounds, pids = _groups(targets)
    counts = np.diff(bounds)
    lengths = layout.postings.table["length"][pids].astype(np.int64)
    left = []
    for group in range(len(pids)):
        mine = order[bounds[group] : bounds[group + 1]]
        if lengths[group] + counts[group] <= layout.params.posting_max:
            left.append(mine)
            continue
        pieces = split(layout, int(pids[group]), meta[rows[mine]], codes[rows[mine]])
        if pieces is not None:
            watch(layout, *pieces)
    kept = np.sort(np.concatenate(left)) if left else np.zeros(0, dtype=np.int64)
    return rows[kept]


def _append(
    layout: Layout, meta: MetaArray, codes: SubCodes, targets: IdArray, distance: FloatArray
) -> None:
    """Append records in place to their postings, all at once; a posting they would
    overflow (a split nearby may have filled it) is split with them instead."""
    while len(meta):
        kept = _split_full(layout, meta, codes, np.arange(len(meta)), targets)
        if len(kept) == len(meta):
            break  # nothing split, so nothing else changed: the rest fits
        meta, codes, targets, distance = meta[kept], codes[kept], targets[kept], distance[kept]
    if len(meta) == 0:
        return
    order, bounds, pids = _groups(targets)
    postings = layout.postings
    before = postings.table["length"][pids].astype(np.int64)
    counts = np.diff(bounds)
    updated = postings.append(pids, meta[order], codes[order], bounds.tolist())
    crash_point("spann-append")
    added = np.add.reduceat(distance[order].astype(np.float64), bounds[:-1])
    with layout.state_lock:
        postings.publish_appends(pids, updated)
        register(layout.strays, layout.centroid_index, meta, targets, distance)
        layout.centroid_index.widen(pids, added, before, counts)


def _novel(layout: Layout, nearest: IdArray, distance: FloatArray) -> np.ndarray:
    """Vectors far outside even their nearest posting: the first of a region (a new topic)
    that no posting covers yet. Appended to that posting they would be stranded: once the
    region has postings of its own, theirs sinks below all of them in the ranking a query
    for them probes. On diffuse data (bench/ann.py) no vector is that far out."""
    centroids = layout.centroid_index
    floor = FLOOR * centroids.typical_radius()
    far: np.ndarray = distance > NOVEL * np.maximum(centroids.radii[nearest], floor)
    return far


def _seed(layout: Layout, meta: MetaArray, codes: SubCodes, vectors: FloatArray) -> None:
    """New postings for novel vectors, grouped by proximity (each group around a leader)."""
    params = layout.params
    # Two records of one posting lie about twice its radius apart (squared).
    reach = NOVEL * layout.centroid_index.typical_radius()
    labels = np.full(len(vectors), -1, dtype=np.int64)
    waiting = np.arange(len(vectors))
    groups: list[IdArray] = []
    while len(waiting):
        near = squared_distances(vectors[waiting], vectors[waiting[:1]])[:, 0] <= reach
        near[0] = True
        labels[waiting[near]] = len(groups)
        groups.append(waiting[near])
        waiting = waiting[~near]
    members: list[IdArray] = []
    for group in groups:
        members.extend(
            split_oversize(vectors, group, params.posting_size, params.posting_max, len(members))
        )
    centres = np.stack([vectors[m].mean(axis=0) for m in members]).astype(np.float32)
    radii = np.asarray([spread(vectors[m], c) for m, c in zip(members, centres, strict=True)])
    rows = layout.postings.write_extents([(meta[m], codes[m]) for m in members])
    crash_point("spann-seed-before-publish")
    with layout.state_lock:
        pids = np.asarray([layout.postings.allocate_id() for _ in rows], dtype=np.int64)
        layout.centroid_index.set(pids, centres, radii)
        for pid, row, mine, centre in zip(pids.tolist(), rows, members, centres, strict=True):
            layout.postings.publish(pid, row)
            distance = squared_distances(vectors[mine], centre[None])[:, 0]
            homes = np.full(len(mine), pid)
            register(layout.strays, layout.centroid_index, meta[mine], homes, distance)
    watch(layout, pids, centres)


def watch(layout: Layout, pids: IdArray, fresh: FloatArray) -> None:
    """New centroids (of postings `pids`) appeared: re-rank the records of the postings they
    crowd (`_crowding`); count, per stray, those nearer than its posting, and move the
    strays whose posting fell out of their SAFE nearest to the nearest with room."""
    if len(pids) == 0:
        return
    _crowding(layout, pids, fresh)
    strays = layout.strays
    if len(strays) == 0:
        return
    centroids = layout.centroid_index
    with layout.state_lock:
        entries = strays.entries
        alive = layout.postings.table["alive"][entries["home"]] == 1
        strays.forget(layout.valid(records(entries["id"], entries["slot"])) & alive)
        entries = strays.entries.copy()
    if len(entries) == 0:
        return
    vectors = layout.vectors.read(entries["slot"].astype(np.int64))
    homes = centroids.vectors[entries["home"]]
    own = np.einsum("ij,ij->i", vectors - homes, vectors - homes)
    nearer = (squared_distances(vectors, fresh) < own[:, None]).sum(axis=1)
    with layout.state_lock:
        due = strays.notice(nearer.astype(np.int32))
        if len(due) == 0:
            return
        found, _ = centroids.search(vectors[due], SAFE)
        safe = (found == entries["home"][due, None]).any(axis=1)
        strays.entries["nearer"][due[safe]] = 0
    # A record of the add in progress moves on a later watch, once the id map has it.
    adding = layout.pending[0] if layout.pending is not None else np.zeros(0, np.int64)
    movable = ~safe & ~np.isin(entries["id"][due], adding)
    if movable.any():
        rows = due[movable]
        _rehome(layout, entries[rows], vectors[rows], found[movable, 0])


def _crowding(layout: Layout, pids: IdArray, fresh: FloatArray) -> None:
    """Re-rank the records of each posting that a much tighter new posting landed inside
    (WIDER), and move those whose posting fell out of their CROWDED nearest to the nearest
    with room.

    The stray watch follows records placed far outside their posting; this follows records
    well inside one that a region growing on top of it outranks. A tight new topic inside a
    wide old posting splits again and again, each split putting a centroid nearer to some of
    the old posting's records than its own: one record's posting fell from 6th to 14th of
    its nearest in one batch of 80 inserts, past the 12 a query probes.
    """
    postings = layout.postings
    centroids = layout.centroid_index
    # Every posting, not the new centroid's nearest: a wide posting can hold it and still
    # rank below a dozen tight postings of the new region (unused rows are far, FAR).
    radii = centroids.radii
    inside = squared_distances(fresh, centroids.vectors) < radii[None, :]
    inside &= WIDER * radii[pids, None] < radii[None, :]
    inside[:, pids] = False
    adding = layout.pending[0] if layout.pending is not None else np.zeros(0, np.int64)
    for home in np.flatnonzero(inside.any(axis=0)).tolist():
        row = postings.table[home].copy()
        if row["alive"] != 1:
            continue  # a move below split it
        meta, codes = postings.read(home, row)
        meta, _ = layout.unique_valid(meta, codes)
        # A record of the add in progress was just placed at its nearest posting.
        meta = meta[~np.isin(meta["id"], adding)]
        vectors = layout.vectors.read(meta["slot"].astype(np.int64))
        offset = vectors - centroids.vectors[home]
        own = np.einsum("ij,ij->i", offset, offset)
        nearer = (squared_distances(vectors, fresh) < own[:, None]).any(axis=1)
        if not nearer.any():
            continue
        meta, vectors = meta[nearer], vectors[nearer]
        ranked, _ = centroids.search(vectors, CROWDED)
        lost = ~(ranked == home).any(axis=1)
        if lost.any():
            entries = np.zeros(int(lost.sum()), dtype=STRAY_ENTRY)
            entries["id"], entries["slot"], entries["home"] = (
                meta["id"][lost],
                meta["slot"][lost],
                home,
            )
            _rehome(layout, entries, vectors[lost], ranked[lost, 0])


def _rehome(
    layout: Layout, entries: npt.NDArray[np.void], vectors: FloatArray, targets: IdArray
) -> None:
    """Move strays to their nearest posting, under fresh vector rows, so that the record
    left behind turns stale like a removed one."""
    room = layout.params.posting_max - layout.postings.table["length"][targets].astype(np.int64)
    order = np.argsort(targets, kind="stable")
    place = np.arange(len(order)) - np.searchsorted(targets[order], targets[order])
    fits = np.zeros(len(targets), dtype=bool)
    fits[order] = place < room[order]
    entries, vectors, targets = entries[fits], vectors[fits], targets[fits]
    if len(entries) == 0:
        return
    ids = np.ascontiguousarray(entries["id"])
    slots, crcs = layout.write_rows(vectors)
    layout.strays.forget(~np.isin(layout.strays.entries["id"], ids))
    centres = layout.centroid_index.vectors[targets]
    distances = np.einsum("ij,ij->i", vectors - centres, vectors - centres).astype(np.float32)
    # In place, like any append (each target has room); the id map then points at the
    # fresh rows, which turns the records left behind stale.
    codes = layout.codec.encode(vectors)
    _append(layout, records(ids, slots), codes, targets, distances)
    with layout.state_lock:
        layout.ids.set_many(ids, slots, crcs)
    layout.free_rows(entries["slot"].astype(np.int64).tolist(), erase=False)
