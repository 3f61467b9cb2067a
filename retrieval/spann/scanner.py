"""Scoring a query against the postings it probes, with faiss's fast-scan kernels.

A `Scanner` owns a scratch `IndexIVFPQFastScan` whose inverted lists are filled, per query,
with the probed postings' code blocks: search reads each posting straight into list j's
buffer, then one `search_preassigned` call scans them all with SIMD lookup tables and
keeps the best candidates in C++. Codes are not residuals, so one lookup table serves
every list and the scratch index never needs the real centroids. List j's ids are
positions in the caller's record buffer (j * capacity + offset), so a hit names its record.
Buffers grow to the largest query seen and are then reused.
"""

from __future__ import annotations

from typing import Any

import faiss
import numpy as np
import numpy.typing as npt

from memos.protocols import FloatArray
from memos.retrieval.spann.blocks import block_bytes, blocks_for
from memos.retrieval.spann.codec import Codec, faiss_metric


class Scanner:
    def __init__(self, codec: Codec, capacity: int) -> None:
        self.codec = codec
        self.capacity = capacity
        self.block_bytes = block_bytes(codec.subquantizers)
        self._lists = 0
        self.lists = 0  # filled by the last `buffers` call
        self._index: Any = None
        self._invlists: Any = None
        self._quantizer: Any = None
        self._positions = np.arange(capacity, dtype=np.int64)
        self._records = np.zeros(0, dtype=np.uint8)

    def _grow(self, lists: int) -> None:
        codec = self.codec
        self._quantizer = faiss.IndexFlatL2(codec.code_dim)  # never searched
        index: Any = faiss.IndexIVFPQFastScan(
            self._quantizer, codec.code_dim, lists, codec.subquantizers, 4,
            faiss_metric(codec.metric),
        )  # fmt: skip
        faiss.copy_array_to_vector(codec.codebook().ravel(), index.pq.centroids)
        index.by_residual = False
        index.is_trained = True
        self._index = index
        self._invlists = faiss.downcast_InvertedLists(index.invlists)
        self._lists = lists

    def buffers(self, lengths: list[int]) -> list[npt.NDArray[np.uint8]]:
        """Size list j for lengths[j] codes; return writable views of their code blocks."""
        if len(lengths) > self._lists:
            self._grow(max(len(lengths), 2 * self._lists, 16))
        self.lists = len(lengths)
        views = []
        invlists = self._invlists
        for j, length in enumerate(lengths):
            invlists.resize(j, length)
            if length:
                ids = faiss.rev_swig_ptr(invlists.get_ids(j), length)
                ids[:] = self._positions[:length] + j * self.capacity
                size = blocks_for(length) * self.block_bytes
                views.append(faiss.rev_swig_ptr(invlists.get_codes(j), size))
            else:
                views.append(np.zeros(0, dtype=np.uint8))
        return views

    def records(self, lists: int, span: int) -> npt.NDArray[np.uint8]:
        """A buffer for `lists` postings' records, `span` bytes each (reused across calls)."""
        size = lists * span
        if len(self._records) < size:
            self._records = np.empty(max(size, 2 * len(self._records)), dtype=np.uint8)
        return self._records[:size]

    def top(
        self, query: FloatArray, lists: int, count: int
    ) -> tuple[FloatArray, npt.NDArray[np.int64]]:
        """The best `count` records over lists 0..lists-1 (filled by `buffers`): estimated
        scores (higher = closer) and record positions, best first."""
        if lists == 0 or count <= 0:
            return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
        padded = self.codec.pad_queries(query.reshape(1, -1))
        distances = np.empty((1, count), dtype=np.float32)
        labels = np.empty((1, count), dtype=np.int64)
        assign = np.arange(lists, dtype=np.int64)
        self._index.nprobe = lists
        self._index.search_preassigned_c(
            1, faiss.swig_ptr(padded), count, faiss.swig_ptr(assign),
            faiss.swig_ptr(np.zeros(lists, dtype=np.float32)), faiss.swig_ptr(distances),
            faiss.swig_ptr(labels), False,
        )  # fmt: skip
        found = labels[0] >= 0
        scores = distances[0][found]
        if self.codec.metric == "l2":
            scores = -scores
        return scores, labels[0][found]
