"""Laying out postings from a set of vectors: the bulk build, and the moment a small exact
index grows past `flat_limit` and forms its clustered layout."""

from __future__ import annotations

import numpy as np

from memos.faults import crash_point
from memos.progress import status
from memos.protocols import FloatArray, IdArray
from memos.retrieval.spann.centroids import CentroidIndex
from memos.retrieval.spann.clustering import (
    bound_postings,
    build_assignment,
    hierarchical_clusters,
    refine,
)
from memos.retrieval.spann.idmap import SlotArray
from memos.retrieval.spann.layout import Layout, records

# Vectors the scalar quantiser learns its ranges from.
TRAINING_SAMPLE = 100_000


def train_codec(layout: Layout, vectors: FloatArray, seed: int = 0) -> None:
    if layout.codec.trained:
        return
    if len(vectors) > TRAINING_SAMPLE:
        pick = np.random.default_rng(seed).choice(len(vectors), TRAINING_SAMPLE, replace=False)
        vectors = vectors[np.sort(pick)]
    layout.codec.train(vectors)


def lay_out(layout: Layout, ids: IdArray, slots: SlotArray, vectors: FloatArray) -> None:
    """Cluster, replicate and write postings for vectors already stored in rows `slots`,
    then publish them all at once. Readers see the old layout until the publish."""
    params = layout.params
    train_codec(layout, vectors)
    with status(f"clustering {len(vectors):,} vectors"):
        limit = 2 * params.posting_size
        centroids, labels, groups = hierarchical_clusters(vectors, params.posting_size, limit)
        centroids, labels, groups = refine(
            vectors, centroids, labels, groups, params.posting_size, limit
        )
        assignment = build_assignment(
            vectors, centroids, labels, groups, params.replicas, params.replica_eps
        )
        members = bound_postings(assignment, vectors, centroids, params.posting_max)
    codes = layout.codec.encode(vectors)
    postings = layout.postings
    if postings.active < 0:
        postings.new_file()
    with status(f"writing {len(members):,} postings"):
        rows = [postings.write_extent(records(ids[m], slots[m]), codes[m]) for m in members]
    crash_point("spann-layout-before-publish")
    with layout.state_lock:
        pids = np.asarray([postings.allocate_id() for _ in rows], dtype=np.int64)
    fresh = CentroidIndex.build(layout.dim, pids, centroids)
    with layout.state_lock:
        for pid, row in zip(pids.tolist(), rows, strict=True):
            postings.publish(pid, row)
        layout.set_centroids(pids, centroids)
        layout.centroid_index = fresh
        layout.clustered = True


def form(layout: Layout) -> None:
    """Turn the exact small index into the clustered layout, from its own rows."""
    with layout.state_lock:
        entries = layout.ids.entries()
    slots = entries["slot"].astype(np.int64)
    rows, bad = layout.read_rows(slots, np.ascontiguousarray(entries["crc"]))
    if bad.any():
        raise layout.corrupt_rows()
    lay_out(layout, np.ascontiguousarray(entries["id"]), slots, rows)
