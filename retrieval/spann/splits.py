"""Splitting a posting that overflows: cut it in two (or more, when a large batch lands on
it) and reassign around it, after SPFresh.

Each record of the split posting goes to the nearest of the new pieces and the postings
around it that has room (appended to those in place), and the pieces' centroids follow
their records for a round. Records of the neighbouring postings stay where they are,
although a new piece may now be nearer to some of them (SPFresh's LIRE moves those): one
split moves a record's own posting at most two places down its ranking, and on
bench/ann.py's data moving them cost 2.5x in insert rate and 0.6 points of recall@10
after growing 2x, and lost no inserted vector's top-1. The records that do sink far are
the few placed far outside their posting, which the stray watch follows (strays.py).
"""

from __future__ import annotations

import numpy as np

from memos.faults import crash_point
from memos.protocols import FloatArray, IdArray
from memos.retrieval.spann.blocks import SubCodes
from memos.retrieval.spann.clustering import (
    assign_with_room,
    means,
    split_oversize,
    split_two,
    squared_distances,
)
from memos.retrieval.spann.layout import Layout
from memos.retrieval.spann.postings import MetaArray
from memos.retrieval.spann.strays import register

# Postings around a split that may receive its records.
NEIGHBOURS = 8
# Rounds of assigning a split's vectors and moving its pieces' centroids to their means.
SETTLE_ROUNDS = 2
# Below this fill a rewritten posting is left whole rather than split: cleaning out stale
# records made room, and postings that are cut too small cost probes.
REFILL = 0.75


def split(
    layout: Layout, pid: int, extra: MetaArray, extra_codes: SubCodes
) -> tuple[IdArray, FloatArray] | None:
    """Rewrite a full posting without stale records, or cut it into pieces and reassign
    around it; return the pieces' posting ids and centroids, if it was cut."""
    postings = layout.postings
    old = postings.table[pid].copy()
    meta, codes = postings.read(pid, old)
    meta, codes = layout.unique_valid(
        np.concatenate([meta, extra]), np.concatenate([codes, extra_codes])
    )
    if len(meta) <= int(REFILL * layout.params.posting_max):
        row = postings.write_extent(meta, codes)
        with layout.state_lock:
            postings.publish(pid, row)
            layout.garbage += int(old["length"])
        return None
    # Exact rows give the pieces good centroids; the CRCs are checked when search reads them.
    vectors = layout.vectors.read(meta["slot"].astype(np.int64))
    centroids = layout.centroid_index
    near, _ = centroids.search(centroids.vectors[pid][None], NEIGHBOURS + 1)
    near = near[0][(near[0] >= 0) & (near[0] != pid)]
    labels, centres = _cut(layout, vectors, pid, near)
    plan = _Plan(layout, centres, near)
    distances = squared_distances(vectors, plan.centres)
    for target in np.unique(labels).tolist():
        rows = np.flatnonzero(labels == target)
        plan.take(target, meta[rows], codes[rows], distances[rows, target])
    return plan.publish(pid, int(old["length"]))


def _cut(
    layout: Layout, vectors: FloatArray, seed: int, near: IdArray
) -> tuple[IdArray, FloatArray]:
    """Pieces of an overflowing posting: where each vector goes (a piece, or len(pieces) + i
    for neighbour near[i]) and the pieces' centroids. Each vector goes to the nearest piece
    or neighbour with room, and the pieces' centroids follow their vectors for a round."""
    params = layout.params
    if len(vectors) > 2 * params.posting_max:  # a large batch landed on one posting
        parts = split_oversize(
            vectors, np.arange(len(vectors)), params.posting_size, params.posting_max, seed
        )
        centres = np.stack([vectors[rows].mean(axis=0) for rows in parts]).astype(np.float32)
    else:
        _, centres = split_two(vectors, seed=seed)
    around = layout.centroid_index.vectors[near]
    lengths = layout.postings.table["length"][near].astype(np.int64)
    room = np.concatenate(
        [np.full(len(centres), params.posting_max), np.maximum(params.posting_max - lengths, 0)]
    )
    for _ in range(SETTLE_ROUNDS):
        labels = assign_with_room(vectors, np.concatenate([centres, around]), room)
        moved = means(vectors, labels, len(centres) + len(near))[: len(centres)]
        held = np.bincount(labels, minlength=len(centres))[: len(centres)]
        centres = np.where(held[:, None] > 0, moved, centres).astype(np.float32)
    return labels, centres


class _Plan:
    """Where the records around a split go: targets 0..pieces-1 are the new pieces (whose
    records are written as new extents), the rest the neighbours (appended in place)."""

    def __init__(self, layout: Layout, centres: FloatArray, near: IdArray) -> None:
        self.layout = layout
        self.pieces = len(centres)
        self.near = near
        self.centres = np.concatenate([centres, layout.centroid_index.vectors[near]])
        lengths = layout.postings.table["length"][near].astype(np.int64)
        self.room = np.concatenate(
            [np.full(len(centres), layout.params.posting_max), layout.params.posting_max - lengths]
        )
        self.meta: list[list[MetaArray]] = [[] for _ in self.centres]
        self.codes: list[list[SubCodes]] = [[] for _ in self.centres]
        self.distances: list[FloatArray] = [np.zeros(0, np.float32) for _ in self.centres]
        self.spread = np.zeros(len(self.centres))  # summed squared distances of the records

    def take(self, target: int, meta: MetaArray, codes: SubCodes, distances: FloatArray) -> None:
        self.meta[target].append(meta)
        self.codes[target].append(codes)
        self.distances[target] = np.concatenate([self.distances[target], distances])
        self.spread[target] += float(distances.sum())
        self.room[target] -= len(meta)

    def held(self, target: int) -> int:
        return sum(len(m) for m in self.meta[target])

    def publish(self, pid: int, old_length: int) -> tuple[IdArray, FloatArray]:
        layout = self.layout
        postings = layout.postings
        kept = [t for t in range(self.pieces) if self.held(t)]
        rows = postings.write_extents(
            [(np.concatenate(self.meta[t]), np.concatenate(self.codes[t])) for t in kept]
        )
        gaining = [t for t in range(self.pieces, len(self.centres)) if self.held(t)]
        targets = self.near[[t - self.pieces for t in gaining]].astype(np.int64)
        counts = np.asarray([self.held(t) for t in gaining], dtype=np.int64)
        appended = None
        if gaining:
            appended = postings.append(
                targets,
                np.concatenate([np.concatenate(self.meta[t]) for t in gaining]),
                np.concatenate([np.concatenate(self.codes[t]) for t in gaining]),
                np.concatenate([[0], np.cumsum(counts)]).tolist(),
            )
        crash_point("spann-split-before-publish")
        centroids = layout.centroid_index
        with layout.state_lock:
            if appended is not None:
                before = postings.table["length"][targets].astype(np.int64)
                postings.publish_appends(targets, appended)
                centroids.widen(targets, self.spread[gaining], before, counts)
            layout.garbage += old_length
            if kept:
                pids = np.asarray([pid] + [postings.allocate_id() for _ in kept[1:]])
                for new_pid, row in zip(pids.tolist(), rows, strict=True):
                    postings.publish(new_pid, row)
                sizes = np.asarray([self.held(t) for t in kept])
                centroids.set(pids, self.centres[kept], self.spread[kept] / sizes)
            else:  # every record went to a neighbour
                pids = np.zeros(0, dtype=np.int64)
                postings.drop(pid)
                centroids.retire(np.asarray([pid], dtype=np.int64))
            self._watch_strays(pid, pids, kept, gaining, targets)
        return pids, self.centres[kept]

    def _watch_strays(
        self, pid: int, pids: IdArray, kept: list[int], gaining: list[int], targets: IdArray
    ) -> None:
        """Register the records placed far outside their new posting (under the state lock)."""
        layout = self.layout
        layout.strays.forget_homes(np.asarray([pid], dtype=np.int64))
        homes = np.concatenate([pids, targets]).astype(np.int64)
        chosen = kept + gaining
        for home, target in zip(homes.tolist(), chosen, strict=True):
            meta = np.concatenate(self.meta[target])
            homes = np.full(len(meta), home)
            register(layout.strays, layout.centroid_index, meta, homes, self.distances[target])
