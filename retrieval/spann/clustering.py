"""Clustering: hierarchical balanced k-means into small postings, boundary replication with
the RNG rule, and the balanced two-way split used when a posting overflows."""

from __future__ import annotations

import math
from collections.abc import Callable

import faiss
import numpy as np
import numpy.typing as npt

from memos.protocols import FloatArray
from memos.retrieval.spann.threads import parallel_map, single_thread

Labels = npt.NDArray[np.int64]
# Top-level clusters whose postings a vector's replicas are drawn from, besides its own.
NEIGHBOUR_CLUSTERS = 4
# Vectors per task when assigning them to top-level clusters.
ASSIGN_CHUNK = 20_000


def kmeans(vectors: FloatArray, k: int, *, seed: int, niter: int = 10) -> FloatArray:
    k = max(1, min(k, len(vectors)))
    if k == 1:
        return np.asarray(vectors.mean(axis=0, keepdims=True), dtype=np.float32)
    model = faiss.Kmeans(
        vectors.shape[1], k, niter=niter, seed=seed, min_points_per_centroid=1, verbose=False
    )
    with single_thread(len(vectors) * k * vectors.shape[1] * niter):
        model.train(np.ascontiguousarray(vectors, dtype=np.float32))
    return np.asarray(model.centroids, dtype=np.float32)


def squared_distances(a: FloatArray, b: FloatArray) -> FloatArray:
    """All pairwise squared L2 distances, (len(a), len(b)).

    faiss on the calling thread, not numpy: numpy's BLAS starts its own thread team even for
    a (1500 x 384) by (384 x 2) product, which on a busy machine stalls for milliseconds.
    """
    with single_thread():
        out = faiss.pairwise_distances(
            np.ascontiguousarray(a, dtype=np.float32), np.ascontiguousarray(b, dtype=np.float32)
        )
    return np.asarray(np.maximum(out, 0.0), dtype=np.float32)


def nearest(vectors: FloatArray, centroids: FloatArray, k: int = 1) -> tuple[Labels, FloatArray]:
    index = faiss.IndexFlatL2(vectors.shape[1])
    index.add(np.ascontiguousarray(centroids, dtype=np.float32))
    with single_thread(len(vectors) * len(centroids) * vectors.shape[1]):
        distances, labels = index.search(np.ascontiguousarray(vectors, dtype=np.float32), k)
    return np.asarray(labels, dtype=np.int64), np.asarray(distances, dtype=np.float32)


def _means(vectors: FloatArray, labels: Labels, count: int) -> FloatArray:
    order = np.argsort(labels, kind="stable")
    sizes = np.bincount(labels, minlength=count)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    sums = np.zeros((count, vectors.shape[1]), dtype=np.float32)
    present = sizes > 0
    if present.any():
        sums[present] = np.add.reduceat(vectors[order], starts[present], axis=0)
    return (sums / np.maximum(sizes, 1)[:, None]).astype(np.float32)


def split_oversize(
    vectors: FloatArray, members: Labels, size: int, limit: int, seed: int
) -> list[Labels]:
    """Split a cluster until every piece is at most `limit` long (the balance bound)."""
    if len(members) <= limit:
        return [members]
    parts = max(2, round(len(members) / size))
    centroids = kmeans(vectors[members], parts, seed=seed)
    labels, _ = nearest(vectors[members], centroids)
    pieces = [members[labels[:, 0] == c] for c in range(len(centroids))]
    pieces = [p for p in pieces if len(p)]
    if len(pieces) == 1:  # k-means could not separate them (duplicates): cut in order
        pieces = np.array_split(members, parts)
    out: list[Labels] = []
    for number, piece in enumerate(pieces):
        out.extend(split_oversize(vectors, piece, size, limit, seed + number + 1))
    return out


def _cluster_group(
    vectors: FloatArray, members: Labels, size: int, limit: int, seed: int
) -> list[Labels]:
    parts = max(1, round(len(members) / size))
    if parts == 1:
        pieces = [members]
    else:
        centroids = kmeans(vectors[members], parts, seed=seed)
        labels, _ = nearest(vectors[members], centroids)
        pieces = [members[labels[:, 0] == c] for c in range(len(centroids))]
    out: list[Labels] = []
    for piece in pieces:
        out.extend(p for p in split_oversize(vectors, piece, size, limit, seed) if len(p))
    return out


def hierarchical_clusters(
    vectors: FloatArray, size: int, limit: int, *, seed: int = 0
) -> tuple[FloatArray, Labels, Labels]:
    """Cluster into pieces of about `size` (never over `limit`) by two levels of k-means.

    Returns centroids, each vector's cluster, and each cluster's top-level group.
    """
    n = len(vectors)
    want = max(1, round(n / size))
    groups = max(1, round(math.sqrt(want)))
    top = kmeans(vectors, groups, seed=seed, niter=20)
    chunks = [slice(s, s + ASSIGN_CHUNK) for s in range(0, n, ASSIGN_CHUNK)]
    top_labels = np.concatenate(
        parallel_map(lambda chunk: nearest(vectors[chunk], top)[0][:, 0], chunks)
    )
    order = np.argsort(top_labels, kind="stable")
    bounds = np.searchsorted(top_labels[order], np.arange(len(top) + 1))
    members = [order[bounds[g] : bounds[g + 1]] for g in range(len(top))]
    pieces = parallel_map(
        lambda g: _cluster_group(vectors, members[g], size, limit, seed + g + 1), range(len(top))
    )
    clusters = [piece for group in pieces for piece in group]
    group_of = np.repeat(np.arange(len(top)), [len(group) for group in pieces])
    labels = np.empty(n, dtype=np.int64)
    for number, piece in enumerate(clusters):
        labels[piece] = number
    return _means(vectors, labels, len(clusters)), labels, group_of.astype(np.int64)


def select_replicas(
    candidates: Labels, distances: FloatArray, pairs: FloatArray, replicas: int, eps: float
) -> Labels:
    """Pick each vector's postings among sorted candidates (column 0 always).

    A candidate is taken if it is within (1 + eps) of the nearest and no posting already
    taken lies closer to it than the vector does (the RNG rule: such a posting already
    covers that direction, so the replica would be redundant). `pairs[n, i, j]` is the
    squared distance between candidates i and j of vector n.
    """
    n, m = candidates.shape
    chosen = np.zeros((n, m), dtype=bool)
    chosen[:, 0] = candidates[:, 0] >= 0
    taken = chosen[:, 0].astype(np.int64)
    closest = np.minimum(distances[:, 0], distances.min(axis=1))
    bound = (1.0 + eps) * closest + 1e-12
    for j in range(1, m):
        ok = (candidates[:, j] >= 0) & (distances[:, j] <= bound) & (taken < replicas)
        if not ok.any():
            continue
        blocked = (chosen[:, :j] & (pairs[:, :j, j] < distances[:, j : j + 1])).any(axis=1)
        ok &= ~blocked
        chosen[:, j] = ok
        taken += ok
    out = np.full((n, replicas), -1, dtype=np.int64)
    rank = np.cumsum(chosen, axis=1) - 1
    rows, cols = np.nonzero(chosen)
    out[rows, rank[rows, cols]] = candidates[rows, cols]
    return out


def _pools(centroids: FloatArray, groups: Labels) -> list[Labels]:
    """For each top-level group, its clusters and those of its nearest groups, sorted."""
    count = int(groups.max()) + 1
    group_centroids = _means(centroids, groups, count)
    neighbours, _ = nearest(group_centroids, group_centroids, min(count, NEIGHBOUR_CLUSTERS))
    return [np.flatnonzero(np.isin(groups, row[row >= 0])) for row in neighbours]


def _by_group(labels: Labels, groups: Labels) -> list[Labels]:
    """Vector rows per top-level group of their cluster."""
    vector_group = groups[labels]
    order = np.argsort(vector_group, kind="stable")
    bounds = np.searchsorted(vector_group[order], np.arange(int(groups.max()) + 2))
    return [order[bounds[g] : bounds[g + 1]] for g in range(int(groups.max()) + 1)]


def _nearest_in_pool(
    vectors: FloatArray,
) -> Callable[[tuple[Labels, Labels, FloatArray]], tuple[Labels, Labels]]:
    def task(work: tuple[Labels, Labels, FloatArray]) -> tuple[Labels, Labels]:
        rows, pool, centroids = work
        if len(rows) == 0:
            return rows, rows
        near, _ = nearest(vectors[rows], centroids[pool], 1)
        return rows, pool[near[:, 0]]

    return task


def refine(
    vectors: FloatArray,
    centroids: FloatArray,
    labels: Labels,
    groups: Labels,
    size: int,
    limit: int,
    *,
    passes: int = 2,
    seed: int = 0,
) -> tuple[FloatArray, Labels, Labels]:
    """Lloyd passes over the whole layout: move each vector to its nearest centroid among its
    group's and the neighbouring groups' clusters, then recompute the means.

    Two-level clustering assigns a vector near a top-level boundary to the best cluster of
    its own group; this corrects that. Clusters that grow past `limit` are split again and
    emptied ones dropped.
    """
    for _ in range(passes):
        pools = _pools(centroids, groups)
        rows_of = _by_group(labels, groups)

        fresh = labels.copy()
        tasks = [(rows_of[g], pools[g], centroids) for g in range(len(pools))]
        for rows, nearest_label in parallel_map(_nearest_in_pool(vectors), tasks):
            fresh[rows] = nearest_label
        labels = fresh
        sizes = np.bincount(labels, minlength=len(centroids))
        moved = _means(vectors, labels, len(centroids))
        centroids = np.where((sizes > 0)[:, None], moved, centroids)
    # Split what grew too big, drop what emptied, and renumber.
    pieces: list[Labels] = []
    piece_groups: list[int] = []
    members = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[members], np.arange(len(centroids) + 1))
    for cluster in range(len(centroids)):
        rows = members[bounds[cluster] : bounds[cluster + 1]]
        for piece in split_oversize(vectors, rows, size, limit, seed + cluster):
            if len(piece):
                pieces.append(piece)
                piece_groups.append(int(groups[cluster]))
    labels = np.empty(len(vectors), dtype=np.int64)
    for number, piece in enumerate(pieces):
        labels[piece] = number
    return _means(vectors, labels, len(pieces)), labels, np.asarray(piece_groups, dtype=np.int64)


def build_assignment(
    vectors: FloatArray,
    centroids: FloatArray,
    labels: Labels,
    groups: Labels,
    replicas: int,
    eps: float,
) -> Labels:
    """Each vector's postings: its own cluster first, then RNG-chosen replicas drawn from
    its group's clusters and those of the groups nearest to it."""
    out = np.full((len(vectors), replicas), -1, dtype=np.int64)
    out[:, 0] = labels
    if replicas == 1:
        return out
    pools = _pools(centroids, groups)
    rows_of = _by_group(labels, groups)

    def assign(group: int) -> tuple[Labels, Labels]:
        rows, pool = rows_of[group], np.union1d(pools[group], labels[rows_of[group]])
        if len(pool) <= 1 or len(rows) == 0:
            return rows, out[rows]
        own = np.searchsorted(pool, labels[rows])  # the pool is sorted and holds them all
        delta = vectors[rows] - centroids[labels[rows]]
        own_distance = np.einsum("ij,ij->i", delta, delta)
        width = min(len(pool), 2 * replicas)
        near, near_distance = nearest(vectors[rows], centroids[pool], width)
        # Put the own cluster first and drop it from the rest of the row.
        mask = near != own[:, None]
        rest = np.argsort(~mask, axis=1, kind="stable")[:, : width - 1]
        cand_local = np.concatenate([own[:, None], np.take_along_axis(near, rest, axis=1)], 1)
        cand_distance = np.concatenate(
            [own_distance[:, None], np.take_along_axis(near_distance, rest, axis=1)], axis=1
        )
        between = squared_distances(centroids[pool], centroids[pool])
        pairs = between[cand_local[:, :, None], cand_local[:, None, :]]
        picked = select_replicas(cand_local, cand_distance, pairs, replicas, eps)
        return rows, np.where(picked >= 0, pool[np.maximum(picked, 0)], -1)

    for rows, chosen in parallel_map(assign, range(len(pools))):
        out[rows] = chosen
    return out


def bound_postings(
    assignment: Labels, vectors: FloatArray, centroids: FloatArray, limit: int
) -> list[Labels]:
    """Members of each posting, primaries first then replicas by distance, cut at `limit`.

    Only replicas are cut: clustering already bounds the primaries.
    """
    n, width = assignment.shape
    rows = np.repeat(np.arange(n, dtype=np.int64), width)
    pids = assignment.reshape(-1)
    rank = np.tile(np.arange(width, dtype=np.int64), n)
    keep = pids >= 0
    rows, pids, rank = rows[keep], pids[keep], rank[keep]
    distance = np.empty(len(rows), dtype=np.float32)
    for start in range(0, len(rows), 65536):  # chunks: a gather of every pair at once is GBs
        chunk = slice(start, start + 65536)
        delta = vectors[rows[chunk]] - centroids[pids[chunk]]
        distance[chunk] = np.einsum("ij,ij->i", delta, delta)
    order = np.lexsort((distance, rank > 0, pids))
    rows, pids = rows[order], pids[order]
    starts = np.searchsorted(pids, np.arange(len(centroids) + 1))
    return [rows[starts[p] : starts[p + 1]][:limit] for p in range(len(centroids))]


def split_two(vectors: FloatArray, *, seed: int) -> tuple[npt.NDArray[np.bool_], FloatArray]:
    """Cut a posting into two equal halves; return (side of each vector, the two centroids).

    The cut is a balanced 2-means: start from the principal direction (a few power
    iterations), refine the two means twice, and split at the median of the difference in
    distance, so both halves get the same number of vectors. Cheaper than a k-means call
    for a few hundred vectors, and balanced by construction.
    """
    n = len(vectors)
    centred = vectors - vectors.mean(axis=0)
    direction: FloatArray = np.asarray(
        np.random.default_rng(seed).standard_normal(vectors.shape[1]), dtype=np.float32
    )
    # einsum, not `@`: numpy's BLAS wakes a thread team even for these small products.
    for _ in range(4):
        direction = np.einsum("ij,i->j", centred, np.einsum("ij,j->i", centred, direction))
        direction /= max(float(np.linalg.norm(direction)), 1e-12)
    lean = np.einsum("ij,j->i", centred, direction)
    for _ in range(3):
        halves = _halves(vectors, lean)
        # Nearer the second mean than the first, by how much: the 2-means assignment score.
        lean = np.einsum("ij,j->i", vectors, halves[1] - halves[0])
    side = np.zeros(n, dtype=bool)
    side[np.argsort(lean, kind="stable")[n // 2 :]] = True
    return side, _halves(vectors, lean)


def _halves(vectors: FloatArray, lean: FloatArray) -> FloatArray:
    """Means of the lower and upper half of the vectors ordered by `lean`."""
    order = np.argsort(lean, kind="stable")
    middle = len(vectors) // 2
    low, high = vectors[order[:middle]], vectors[order[middle:]]
    return np.stack([low.mean(axis=0), high.mean(axis=0)]).astype(np.float32)


def insert_assignment(
    candidates: Labels, distances: FloatArray, centroids: FloatArray, replicas: int, eps: float
) -> Labels:
    """Postings for new vectors from their nearest centroids (sorted, -1 padded)."""
    gathered = centroids[np.maximum(candidates, 0)]
    norms = np.einsum("nmd,nmd->nm", gathered, gathered)
    pairs = (
        norms[:, :, None]
        + norms[:, None, :]
        - 2.0 * np.matmul(gathered, gathered.transpose(0, 2, 1))
    )
    return select_replicas(candidates, distances, pairs, replicas, eps)
