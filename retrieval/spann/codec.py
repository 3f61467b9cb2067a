"""How postings store vectors, and the faiss kernels that score a query against them.

A `Scorer` is a faiss flat index whose code buffer search reads postings into directly,
so scoring a few thousand codes costs one SIMD scan and no copies.
"""

from __future__ import annotations

import threading
from typing import Any

import faiss
import numpy as np
import numpy.typing as npt

from memos.protocols import FloatArray
from memos.retrieval.spann.threads import single_thread

CodeArray = npt.NDArray[np.uint8]

_QUANTIZERS = {"sq8": faiss.ScalarQuantizer.QT_8bit, "float16": faiss.ScalarQuantizer.QT_fp16}


def faiss_metric(metric: str) -> int:
    return int(faiss.METRIC_INNER_PRODUCT if metric == "ip" else faiss.METRIC_L2)


class Codec:
    """Encodes vectors into posting codes; exact for "float32", approximate otherwise."""

    def __init__(self, kind: str, dim: int, metric: str, state: bytes | None = None) -> None:
        self.kind = kind
        self.dim = dim
        self.metric = metric
        self.exact = kind == "float32"
        self._template: Any = None
        if not self.exact:
            if state is not None:
                self._template = faiss.deserialize_index(np.frombuffer(state, dtype=np.uint8))
            else:
                self._template = faiss.IndexScalarQuantizer(
                    dim, _QUANTIZERS[kind], faiss_metric(metric)
                )
                if kind == "float16":
                    self._template.is_trained = True
        self.code_size = dim * 4 if self.exact else int(self._template.code_size)
        self._local = threading.local()

    @property
    def trained(self) -> bool:
        return self.exact or bool(self._template.is_trained)

    def train(self, sample: FloatArray) -> None:
        if self.exact or self.kind == "float16":
            return
        # Widen the learned per-dimension ranges a little: vectors added later fall
        # slightly outside a sample's extremes, and clipped codes rank them too low.
        self._template.sq.rangestat = faiss.ScalarQuantizer.RS_minmax
        self._template.sq.rangestat_arg = 0.05
        self._template.train(np.ascontiguousarray(sample, dtype=np.float32))

    def state(self) -> bytes | None:
        if self.exact:
            return None
        return bytes(faiss.serialize_index(self._template))

    def encode(self, vectors: FloatArray) -> CodeArray:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if self.exact:
            return vectors.view(np.uint8).reshape(len(vectors), self.code_size)
        with single_thread(vectors.size * 16):
            return np.asarray(self._template.sa_encode(vectors), dtype=np.uint8)

    def decode(self, codes: CodeArray) -> FloatArray:
        codes = np.ascontiguousarray(codes, dtype=np.uint8)
        if self.exact:
            return codes.view(np.float32).reshape(len(codes), self.dim)
        with single_thread(codes.size * 16):
            return np.asarray(self._template.sa_decode(codes), dtype=np.float32)

    def scorer(self) -> Scorer:
        """This thread's scorer (faiss indexes are not safe to share while filled)."""
        found: Scorer | None = getattr(self._local, "scorer", None)
        if found is None:
            index: Any
            if self.exact:
                index = (faiss.IndexFlatIP if self.metric == "ip" else faiss.IndexFlatL2)(self.dim)
            else:
                index = faiss.clone_index(self._template)
            found = Scorer(index, self.code_size, self.metric)
            self._local.scorer = found
        return found


class Scorer:
    def __init__(self, index: Any, code_size: int, metric: str) -> None:
        self._index = index
        self._code_size = code_size
        self._negate = metric == "l2"

    def buffer(self, count: int) -> CodeArray:
        """A writable view of the code buffer, sized for `count` codes."""
        size = count * self._code_size
        self._index.codes.resize(max(size, 1))
        self._index.ntotal = count
        return np.asarray(faiss.rev_swig_ptr(self._index.codes.data(), size), dtype=np.uint8)

    def top(self, query: FloatArray, count: int) -> tuple[FloatArray, npt.NDArray[np.int64]]:
        """Best `count` positions in the buffer by score (higher = closer), best first."""
        count = min(count, int(self._index.ntotal))
        if count <= 0:
            return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
        distances, positions = self._index.search(query.reshape(1, -1), count)
        scores = np.asarray(distances[0], dtype=np.float32)
        return (-scores if self._negate else scores), np.asarray(positions[0], dtype=np.int64)
