"""The in-RAM centroid index: which postings are nearest to a query.

faiss's HNSW graph cannot delete, so a centroid retired by a split stays in the graph as a
dead row that searches skip (they over-fetch by the dead fraction). The graph is rebuilt
once dead rows pass a quarter of it. Small indexes use an exact flat scan instead, which is
as fast below a thousand centroids and has no recall loss.
"""

from __future__ import annotations

import math
from typing import Any

import faiss
import numpy as np
import numpy.typing as npt

from memos.protocols import FloatArray

HNSW_FROM = 1024
HNSW_M = 48
HNSW_EF_CONSTRUCTION = 200
# Centroids added one split at a time get a cheaper insertion walk.
HNSW_EF_INCREMENTAL = 64
PostingIds = npt.NDArray[np.int64]


class CentroidIndex:
    def __init__(self, dim: int) -> None:
        self.dim = dim
        self._index: Any = faiss.IndexFlatL2(dim)
        self._row_posting = np.zeros(0, dtype=np.int64)  # faiss row -> posting id
        self._posting_row = np.zeros(0, dtype=np.int64)  # posting id -> its live row, or -1
        self._live = 0

    @property
    def live(self) -> int:
        return self._live

    @property
    def dead(self) -> int:
        return len(self._row_posting) - self._live

    @property
    def needs_rebuild(self) -> bool:
        rows = len(self._row_posting)
        small = isinstance(self._index, faiss.IndexFlat)
        return self.dead > max(64, rows // 4) or (small and self._live >= HNSW_FROM)

    @staticmethod
    def build(dim: int, pids: PostingIds, vectors: FloatArray) -> CentroidIndex:
        """A fresh index over live centroids (slow for many; run outside the state lock)."""
        fresh = CentroidIndex(dim)
        if len(pids) >= HNSW_FROM:
            fresh._index = faiss.IndexHNSWFlat(dim, HNSW_M)
            fresh._index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        fresh.add(pids, vectors)
        if isinstance(fresh._index, faiss.IndexHNSW):
            fresh._index.hnsw.efConstruction = HNSW_EF_INCREMENTAL
        return fresh

    def add(self, pids: PostingIds, vectors: FloatArray) -> None:
        if len(pids) == 0:
            return
        first = len(self._row_posting)
        self._index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        rows = np.arange(first, first + len(pids), dtype=np.int64)
        self._row_posting = np.concatenate([self._row_posting, pids])
        top = int(pids.max()) + 1
        if top > len(self._posting_row):
            grown = np.full(max(top, 2 * len(self._posting_row)), -1, dtype=np.int64)
            grown[: len(self._posting_row)] = self._posting_row
            self._posting_row = grown
        self._posting_row[pids] = rows
        self._live += len(pids)

    def retire(self, pids: PostingIds) -> None:
        present = pids[self._posting_row[pids] >= 0]
        self._posting_row[present] = -1
        self._live -= len(present)

    def search(
        self, queries: FloatArray, k: int, *, effort: int = 64
    ) -> tuple[PostingIds, FloatArray]:
        """Nearest live postings per query by squared L2, nearest first; -1 pads.

        `effort` is HNSW's efSearch floor: the breadth of the graph walk.
        """
        nq = len(queries)
        total = len(self._row_posting)
        want = min(total, k + math.ceil(k * 2 * self.dead / max(total, 1)) + 4)
        if want == 0:
            return np.full((nq, k), -1, dtype=np.int64), np.zeros((nq, k), dtype=np.float32)
        params: Any = None
        if isinstance(self._index, faiss.IndexHNSW):
            params = faiss.SearchParametersHNSW(efSearch=max(effort, 2 * want))  # type: ignore[attr-defined]
        distances, rows = self._index.search(
            np.ascontiguousarray(queries, dtype=np.float32), want, params=params
        )
        pids = np.where(rows >= 0, self._row_posting[np.maximum(rows, 0)], -1)
        live = (rows >= 0) & (self._posting_row[np.maximum(pids, 0)] == rows)
        # Live results first, in their order (a stable sort on "is dead"), then cut at k.
        order = np.argsort(~live, axis=1, kind="stable")[:, :k]
        kept = np.take_along_axis(live, order, axis=1)
        out_pids = np.where(kept, np.take_along_axis(pids, order, axis=1), -1)
        out_dist = np.where(kept, np.take_along_axis(distances, order, axis=1), 0.0)
        if out_pids.shape[1] < k:
            pad = k - out_pids.shape[1]
            out_pids = np.pad(out_pids, ((0, 0), (0, pad)), constant_values=-1)
            out_dist = np.pad(out_dist, ((0, 0), (0, pad)))
        return out_pids, out_dist.astype(np.float32)
