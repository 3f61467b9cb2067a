"""Posting codes: product quantisation with 4-bit codes, scanned by faiss's fast-scan kernels.

"pq2" spends 2 bits per dimension: each pair of dimensions is one 4-bit code, a point of a
4 x 4 grid (4 levels per dimension). "pq4" spends 4 bits per dimension: 16 levels each.
The levels are Lloyd-Max quantisers of each dimension, learnt from a sample. That makes the
codebook a product grid rather than a k-means one: on bench/ann.py's data it ranks about as
well (recall@10 0.970 against 0.975 at 48 re-ranked), needs no k-means per subspace to
train, and encodes by comparisons, about 20x faster than faiss's PQ encoder, which matters
for builds and inserts. Codes are not residuals, so one query table serves every posting
and a vector keeps its code when it moves between postings. Search re-scores the best few
exactly from the full-precision vector file.
"""

from __future__ import annotations

import faiss
import numpy as np

from memos.errors import BackendError
from memos.protocols import FloatArray
from memos.retrieval.spann.blocks import SubCodes
from memos.retrieval.spann.files import REBUILD_HINT

CODECS = {"pq2": 2, "pq4": 4}  # codec -> bits per dimension
# "auto" picks pq2 from this many dimensions up: below it, 2-bit codes rank too coarsely
# for a short exact re-score to recover (at 16 dimensions a vector could fall out of its
# own top 16 candidates).
PQ2_FROM = 128


def pick(kind: str, dim: int) -> str:
    if kind != "auto":
        return kind
    return "pq2" if dim >= PQ2_FROM else "pq4"


LLOYD_PASSES = 12
# Sample rows and queries the score error is measured on.
ERROR_SAMPLE = 2_000
ERROR_QUERIES = 32
# Rows of an insert batch checked against the measured error, and how much worse than the
# training sample they may code before the codec counts as drifted.
OBSERVE_ROWS = 128
DRIFT = 3.0
# Vectors encoded per numpy pass (bounds the temporaries).
ENCODE_CHUNK = 32_768


def faiss_metric(metric: str) -> int:
    return int(faiss.METRIC_INNER_PRODUCT if metric == "ip" else faiss.METRIC_L2)


class Codec:
    """Encodes vectors into 4-bit subquantizer codes; `codebook` is faiss's PQ table."""

    def __init__(self, kind: str, dim: int, metric: str, state: bytes | None = None) -> None:
        self.kind = kind = pick(kind, dim)
        self.dim = dim
        self.metric = metric
        bits = CODECS[kind]
        self.levels_per_dim = 1 << bits
        self.dims_per_code = 4 // bits
        # pq2 codes pairs of dimensions; an odd dimension is padded with a constant zero.
        self.code_dim = dim + (-dim) % self.dims_per_code
        self.subquantizers = self.code_dim // self.dims_per_code
        self.levels: FloatArray | None = None
        # Root-mean-square score error of a code (estimate minus exact) against a query like
        # the data: how far a re-score must look past its shortlist.
        self.score_error = 0.0
        # Mean squared coding error relative to the squared norm, on the training sample.
        self.fit_error = 0.0
        # New vectors code much worse than the training sample did: they come from a
        # region it did not cover (a small index trained on its first few topics).
        self.drifted = False
        if state is not None:
            values = np.frombuffer(state, dtype=np.float32)
            if values.size != self.code_dim * self.levels_per_dim + 2:
                raise BackendError(f"SPANN codec state does not fit {kind}; {REBUILD_HINT}")
            self.levels = values[:-2].reshape(self.code_dim, self.levels_per_dim).copy()
            self.score_error, self.fit_error = float(values[-2]), float(values[-1])

    @property
    def trained(self) -> bool:
        return self.levels is not None

    def train(self, sample: FloatArray) -> None:
        """Learn each dimension's levels (Lloyd-Max: the levels that minimise squared error)."""
        data = self._pad(np.ascontiguousarray(sample, dtype=np.float32))
        count, width = data.shape
        levels = self.levels_per_dim
        ordered = np.sort(data, axis=0)
        # Start from quantiles, so that every level begins with its share of the points.
        picks = np.minimum(((np.arange(levels) + 0.5) / levels * count).astype(int), count - 1)
        found = np.ascontiguousarray(ordered[picks].T, dtype=np.float64)
        offsets = levels * np.arange(width)
        for _ in range(LLOYD_PASSES):
            cells = self._cells(data, found.astype(np.float32)) + offsets
            sums = np.bincount(cells.ravel(), weights=data.ravel(), minlength=levels * width)
            counts = np.bincount(cells.ravel(), minlength=levels * width)
            means = sums / np.maximum(counts, 1)
            found = np.where(counts > 0, means, found.ravel()).reshape(width, levels)
            found.sort(axis=1)
        self.levels = found.astype(np.float32)
        rows = np.asarray(sample[:ERROR_SAMPLE], dtype=np.float32)
        coded = self.encode(rows)
        self.score_error = self._score_error(rows, coded)
        self.fit_error = self._fit_error(rows, coded)

    def observe(self, vectors: FloatArray, codes: SubCodes) -> None:
        """Check how new vectors code. Worse than the training sample: widen `score_error`
        (search then re-scores further down its shortlist rather than miss what the codes
        rank too low), and past DRIFT times worse, mark the codec `drifted`."""
        if len(vectors) < 2:
            return
        step = max(1, len(vectors) // OBSERVE_ROWS)
        rows = np.ascontiguousarray(vectors[::step], dtype=np.float32)
        self.score_error = max(self.score_error, self._score_error(rows, codes[::step]))
        if self._fit_error(rows, codes[::step]) > DRIFT * max(self.fit_error, 1e-12):
            self.drifted = True

    def _fit_error(self, rows: FloatArray, codes: SubCodes) -> float:
        delta = self.decode(codes) - rows
        norms = np.einsum("ij,ij->i", rows, rows)
        return float(np.einsum("ij,ij->", delta, delta) / max(float(norms.sum()), 1e-30))

    def _score_error(self, rows: FloatArray, codes: SubCodes) -> float:
        queries = rows[-ERROR_QUERIES:]
        estimate = self.decode(codes)
        # einsum, not `@`: numpy's BLAS wakes a thread team even for these small products.
        error = np.einsum("ij,kj->ik", estimate - rows, queries)
        if self.metric == "l2":
            norms = np.einsum("ij,ij->i", estimate, estimate) - np.einsum("ij,ij->i", rows, rows)
            error = norms[:, None] - 2 * error
        return float(np.sqrt(np.mean(error**2)))

    def state(self) -> bytes:
        assert self.levels is not None
        tail = np.asarray([self.score_error, self.fit_error], dtype=np.float32)
        return self.levels.tobytes() + tail.tobytes()

    def codebook(self) -> FloatArray:
        """faiss's PQ centroids, (subquantizers, 16, dims per code)."""
        assert self.levels is not None
        if self.dims_per_code == 1:
            return np.ascontiguousarray(self.levels[:, :, None])
        code = np.arange(16)
        first, second = self.levels[0::2], self.levels[1::2]
        return np.ascontiguousarray(np.stack([first[:, code & 3], second[:, code >> 2]], axis=-1))

    def encode(self, vectors: FloatArray) -> SubCodes:
        assert self.levels is not None
        out = np.empty((len(vectors), self.subquantizers), dtype=np.uint8)
        for start in range(0, len(vectors), ENCODE_CHUNK):
            part = self._pad(np.asarray(vectors[start : start + ENCODE_CHUNK], dtype=np.float32))
            cells = self._cells(part, self.levels).astype(np.uint8)
            if self.dims_per_code == 2:
                out[start : start + len(part)] = cells[:, 0::2] | (cells[:, 1::2] << 2)
            else:
                out[start : start + len(part)] = cells
        return out

    def decode(self, codes: SubCodes) -> FloatArray:
        """The grid point each code stands for (for clustering during splits)."""
        assert self.levels is not None
        flat_levels = self.levels.ravel()
        out = np.empty((len(codes), self.code_dim), dtype=np.float32)
        offsets = self.levels_per_dim * np.arange(self.code_dim)
        if self.dims_per_code == 2:
            out[:, 0::2] = flat_levels.take((codes & 3) + offsets[0::2])
            out[:, 1::2] = flat_levels.take((codes >> 2) + offsets[1::2])
        else:
            out[:] = flat_levels.take(codes + offsets)
        return np.ascontiguousarray(out[:, : self.dim])

    def pad_queries(self, queries: FloatArray) -> FloatArray:
        return self._pad(np.ascontiguousarray(queries, dtype=np.float32))

    def _pad(self, rows: FloatArray) -> FloatArray:
        if self.code_dim == rows.shape[1]:
            return rows
        return np.pad(rows, ((0, 0), (0, self.code_dim - rows.shape[1])))

    def _cells(self, rows: FloatArray, levels: FloatArray) -> np.ndarray:
        """Each value's level index: how many midpoints between levels it lies above."""
        bounds = (levels[:, 1:] + levels[:, :-1]) / 2  # (dims, levels - 1)
        counted = np.zeros(rows.shape, dtype=np.uint8)
        for column in bounds.T:  # broadcast comparisons: faster than a gathered search
            counted += rows > column
        return counted
