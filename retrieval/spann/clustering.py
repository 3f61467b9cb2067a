"""Clustering: k-means on a sample, nearest-centroid assignment, cutting oversize clusters,
and the balanced split of an overflowing posting."""

from __future__ import annotations

import math

import faiss
import numpy as np
import numpy.typing as npt

from memos.protocols import FloatArray
from memos.retrieval.spann.threads import parallel_map, single_thread

Labels = npt.NDArray[np.int64]
# Training points per centroid: k-means on a sample is most of a build's cost.
SAMPLE_PER_CENTROID = 48
KMEANS_PASSES = 10
# Vectors per task when finding nearest centroids.
ASSIGN_CHUNK = 16_384
# Balanced k-means: rounds, how much fuller than average a cluster may get, and how many
# nearest centroids a point may settle for.
BALANCE_ROUNDS = 4
BALANCE_SLACK = 1.2
BALANCE_WIDTH = 8


def kmeans(vectors: FloatArray, k: int, *, seed: int, passes: int = KMEANS_PASSES) -> FloatArray:
    k = max(1, min(k, len(vectors)))
    if k == 1:
        return np.asarray(vectors.mean(axis=0, keepdims=True), dtype=np.float32)
    model = faiss.Kmeans(
        vectors.shape[1], k, niter=passes, seed=seed, min_points_per_centroid=1,
        max_points_per_centroid=1 << 30, verbose=False,
    )  # fmt: skip
    with single_thread(len(vectors) * k * vectors.shape[1] * passes):
        model.train(np.ascontiguousarray(vectors, dtype=np.float32))
    return np.asarray(model.centroids, dtype=np.float32)


def balanced_kmeans(
    sample: FloatArray, k: int, *, seed: int, rounds: int = BALANCE_ROUNDS
) -> FloatArray:
    """k-means whose clusters hold about the same number of points: after plain k-means, a
    few rounds of assigning each point to the nearest of its few nearest centroids that
    still has room, then moving each centroid to its points' mean. Dense regions pull in
    more centroids, so that afterwards the *nearest* centroid assignment of all the data
    comes out nearly balanced: sizes are bounded without sending vectors to a posting that
    is not their nearest (which would cost findability as the index grows)."""
    centroids = kmeans(sample, k, seed=seed)
    if len(centroids) < 2:
        return centroids
    capacity = np.full(len(centroids), math.ceil(BALANCE_SLACK * len(sample) / len(centroids)))
    for _ in range(rounds):
        candidates, distances = nearest(sample, centroids, BALANCE_WIDTH)
        chosen = assign_with_room_from(distances, capacity, candidates)
        left = chosen < 0
        chosen[left] = candidates[left, 0]
        held = np.bincount(chosen, minlength=len(centroids))
        moved = means(sample, chosen, len(centroids))
        centroids = np.where(held[:, None] > 0, moved, centroids).astype(np.float32)
    return centroids


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
    """Each vector's k nearest centroids (squared L2), on both cores for large inputs."""
    k = min(k, len(centroids))
    centroids = np.ascontiguousarray(centroids, dtype=np.float32)

    def part(chunk: slice) -> tuple[Labels, FloatArray]:
        found_d, found = faiss.knn(
            np.ascontiguousarray(vectors[chunk], dtype=np.float32), centroids, k
        )
        return np.asarray(found, dtype=np.int64), np.asarray(found_d, dtype=np.float32)

    chunks = [slice(s, s + ASSIGN_CHUNK) for s in range(0, len(vectors), ASSIGN_CHUNK)]
    if len(chunks) == 1:
        with single_thread():
            return part(chunks[0])
    parts = parallel_map(part, chunks)
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def assign_with_room(vectors: FloatArray, centres: FloatArray, room: Labels) -> Labels:
    """Each vector's nearest centre that still has room (`room[c]` places at centre c).
    Vectors with the most to lose from a second choice (the largest gap between their two
    nearest) choose first. Every vector is placed if the rooms add up to enough."""
    return assign_with_room_from(squared_distances(vectors, centres), room)


def assign_with_room_from(
    distances: FloatArray, room: Labels, candidates: Labels | None = None
) -> Labels:
    """`assign_with_room` from a (vectors, centres) distance matrix; -1 where no room.
    With `candidates`, column j of row i is centre candidates[i, j] (sorted nearest
    first), and `room` is indexed by centre."""
    columns = distances.shape[1]
    ranked = np.argsort(distances, axis=1, kind="stable") if candidates is None else candidates
    count = len(distances)
    labels = np.full(count, -1, dtype=np.int64)
    left = np.maximum(np.asarray(room, dtype=np.int64), 0)
    if columns > 1:
        ordered = np.take_along_axis(distances, np.argsort(distances, axis=1)[:, :2], axis=1)
        order = np.argsort(ordered[:, 0] - ordered[:, 1], kind="stable")
    else:
        order = np.arange(count)
    for column in range(columns):
        todo = order[labels[order] < 0]
        if len(todo) == 0:
            break
        wanted = ranked[todo, column]
        by_target = np.argsort(wanted, kind="stable")  # keeps the choosing order per target
        targets = wanted[by_target]
        place = np.arange(len(targets)) - np.searchsorted(targets, targets)
        fits = place < left[targets]
        labels[todo[by_target[fits]]] = targets[fits]
        left -= np.bincount(targets[fits], minlength=len(left))
    return labels


def settle(
    vectors: FloatArray, centres: FloatArray, capacity: int, rounds: int = 2
) -> tuple[Labels, FloatArray]:
    """A few rounds of assigning vectors to their nearest centre with room, then moving
    each centre to the mean of its vectors: after a cut, every vector sits in the nearest
    of the pieces (pieces cut by different k-means runs never compared their centres)."""
    room = np.full(len(centres), capacity, dtype=np.int64)
    labels = assign_with_room(vectors, centres, room)
    for _ in range(rounds - 1):
        centres = _keep_empty(means(vectors, labels, len(centres)), centres, labels)
        labels = assign_with_room(vectors, centres, room)
    return labels, _keep_empty(means(vectors, labels, len(centres)), centres, labels)


def _keep_empty(moved: FloatArray, before: FloatArray, labels: Labels) -> FloatArray:
    empty = np.bincount(labels, minlength=len(before)) == 0
    return np.where(empty[:, None], before, moved).astype(np.float32)


def split_oversize(
    vectors: FloatArray, members: Labels, size: int, limit: int, seed: int
) -> list[Labels]:
    """Split a cluster until every piece is at most `limit` long."""
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


def split_two(vectors: FloatArray, *, seed: int) -> tuple[npt.NDArray[np.bool_], FloatArray]:
    """Cut a posting into two equal halves; return (side of each vector, the two centroids).

    The cut is a balanced 2-means: start from the principal direction (a few power
    iterations), refine the two means twice, and split at the median of the difference in
    distance, so both halves get the same number of vectors. Cheaper than a k-means call
    for a few thousand vectors, and balanced by construction.
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


def means(vectors: FloatArray, labels: Labels, count: int) -> FloatArray:
    order = np.argsort(labels, kind="stable")
    sizes = np.bincount(labels, minlength=count)
    sums = np.zeros((count, vectors.shape[1]), dtype=np.float32)
    present = sizes > 0
    if present.any():
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        sums[present] = np.add.reduceat(vectors[order], starts[present], axis=0)
    return (sums / np.maximum(sizes, 1)[:, None]).astype(np.float32)
