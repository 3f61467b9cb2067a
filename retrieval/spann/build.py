"""Laying out postings from a set of vectors: the bulk build, and the moment a small exact
index grows past `flat_limit` and forms its clustered layout."""

from __future__ import annotations

import math

import numpy as np

from memos.faults import crash_point
from memos.progress import status
from memos.protocols import FloatArray, IdArray
from memos.retrieval.spann.centroids import CentroidIndex
from memos.retrieval.spann.clustering import (
    SAMPLE_PER_CENTROID,
    balanced_kmeans,
    nearest,
    settle,
    split_oversize,
)
from memos.retrieval.spann.codec import Codec
from memos.retrieval.spann.idmap import SlotArray
from memos.retrieval.spann.layout import Layout, records
from memos.retrieval.spann.strays import Strays
from memos.retrieval.spann.threads import parallel_map

# Vectors the codec learns its levels from.
TRAINING_SAMPLE = 20_000
# A cluster under this fraction of `posting_size` is dissolved into its neighbours, using
# each vector's DISSOLVE_WIDTH nearest centroids.
SMALL = 0.25
DISSOLVE_WIDTH = 4
# A cluster past this multiple of `posting_size` is cut into pieces: loose enough that few
# need cutting, tight enough to bound a probe's cost where the data is dense.
BALANCE = 1.5
# Vectors per encoding task.
ENCODE_CHUNK = 65_536


def _sample(vectors: FloatArray, count: int, seed: int) -> FloatArray:
    if len(vectors) <= count:
        return vectors
    pick = np.random.default_rng(seed).choice(len(vectors), count, replace=False)
    return vectors[np.sort(pick)]


def spread(vectors: FloatArray, centre: FloatArray) -> float:
    """A posting's radius: the mean squared distance of its vectors to its centroid."""
    delta = vectors - centre
    return float(np.einsum("ij,ij->", delta, delta) / max(len(vectors), 1))


def train_codec(layout: Layout, vectors: FloatArray, seed: int = 0) -> None:
    if not layout.codec.trained:
        layout.codec.train(_sample(vectors, TRAINING_SAMPLE, seed))


def cluster(
    vectors: FloatArray, posting_size: int, posting_max: int, seed: int = 0
) -> tuple[FloatArray, list[np.ndarray]]:
    """Centroids and members of balanced postings: k-means on a sample, one pass assigning
    every vector to its nearest centroid, then k-means again inside the clusters that came
    out too large (dense regions), cutting them into pieces of about `posting_size`.

    Every vector lands in its nearest posting or, in a cut cluster, the nearest of its
    pieces. Forcing vectors into a second-nearest posting to balance sizes would cost
    findability later: inserts split the postings around such a vector and push its
    posting further down its own ranking, past what a query probes.
    """
    wanted = max(1, round(len(vectors) / posting_size))
    sample = _sample(vectors, wanted * SAMPLE_PER_CENTROID, seed + 1)
    centroids = balanced_kmeans(sample, wanted, seed=seed)
    limit = min(posting_max, math.ceil(BALANCE * posting_size))
    candidates, _ = nearest(vectors, centroids, DISSOLVE_WIDTH)
    labels = _dissolve_small(candidates, max(1, int(SMALL * posting_size)))
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], np.arange(len(centroids) + 1))
    kept: list[FloatArray] = []
    members: list[np.ndarray] = []
    for number in range(len(centroids)):
        rows = order[bounds[number] : bounds[number + 1]]
        if len(rows) == 0:
            continue
        if len(rows) <= limit:
            kept.append(centroids[number])
            members.append(rows)
            continue
        pieces = split_oversize(vectors, rows, posting_size, limit, seed + number)
        centres = np.stack([vectors[piece].mean(axis=0) for piece in pieces]).astype(np.float32)
        # Pieces cut by separate k-means runs never compared centroids: settle each vector
        # in the nearest one.
        labels, centres = settle(vectors[rows], centres, limit)
        for piece in range(len(centres)):
            mine = rows[labels == piece]
            if len(mine):
                kept.append(centres[piece])
                members.append(mine)
    return np.stack(kept).astype(np.float32), members


def _dissolve_small(candidates: np.ndarray, least: int) -> np.ndarray:
    """Nearest-centroid labels, after dropping centroids that fewer than `least` vectors
    chose: their vectors go to their nearest remaining centroid, which is then their
    nearest outright, so nothing is placed anywhere but its nearest posting."""
    labels = candidates[:, 0].copy()
    sizes = np.bincount(labels, minlength=int(candidates.max()) + 1)
    small = sizes < least
    small[sizes == 0] = False
    if small.all():
        return labels
    moving = np.flatnonzero(small[labels])
    open_columns = ~small[candidates[moving]]
    has = open_columns.any(axis=1)
    first = open_columns.argmax(axis=1)
    labels[moving[has]] = candidates[moving[has], first[has]]
    return labels


def lay_out(
    layout: Layout,
    ids: IdArray,
    slots: SlotArray,
    vectors: FloatArray,
    codec: Codec | None = None,
) -> None:
    """Cluster and write postings for vectors already stored in rows `slots`, then publish
    them all at once, replacing any postings there were. Readers see the old layout until
    the publish. `codec` replaces the index's (freshly trained) codec."""
    params = layout.params
    if codec is None:
        codec = layout.codec
        train_codec(layout, vectors)
    with status(f"clustering {len(vectors):,} vectors"):
        centroids, members = cluster(vectors, params.posting_size, params.posting_max)
    chunks = [slice(s, s + ENCODE_CHUNK) for s in range(0, len(vectors), ENCODE_CHUNK)]
    codes = np.concatenate(parallel_map(lambda c: codec.encode(vectors[c]), chunks))
    postings = layout.postings
    if postings.active < 0:
        postings.new_file()
    with status(f"writing {len(members):,} postings"):
        rows = postings.write_extents([(records(ids[m], slots[m]), codes[m]) for m in members])
    crash_point("spann-layout-before-publish")
    radii = np.asarray([spread(vectors[m], c) for m, c in zip(members, centroids, strict=True)])
    fresh = CentroidIndex(layout.dim)
    with layout.state_lock:
        for old in postings.alive_ids().tolist():
            layout.garbage += int(postings.table["length"][old])
            postings.drop(old)
        pids = np.asarray([postings.allocate_id() for _ in rows], dtype=np.int64)
        for pid, row in zip(pids.tolist(), rows, strict=True):
            postings.publish(pid, row)
        fresh.set(pids, centroids, radii)
        layout.centroid_index = fresh
        layout.codec = codec
        layout.strays = Strays()
        layout.clustered = True
        layout.laid_out = len(ids)


def form(layout: Layout, *, retrain: bool = False) -> None:
    """Turn the exact small index into the clustered layout, from its own rows; or, with
    `retrain`, lay out a small clustered index afresh under a codec trained on all of it
    (its first one learnt from too few topics)."""
    with layout.state_lock:
        entries = layout.ids.entries()
    slots = entries["slot"].astype(np.int64)
    rows, bad = layout.read_rows(slots, np.ascontiguousarray(entries["crc"]))
    if bad.any():
        raise layout.corrupt_rows()
    codec = None
    if retrain:
        codec = Codec(layout.codec.kind, layout.dim, layout.metric)
        codec.train(_sample(rows, TRAINING_SAMPLE, 0))
    lay_out(layout, np.ascontiguousarray(entries["id"]), slots, rows, codec)
