"""FlatIndex: exact search with faiss, persisted as atomic checksummed snapshots.

It is derived data. A snapshot records the operation-log sequence number it reflects; the
cube replays the log past that number on open, so losing the newest changes to a crash
costs a replay, never correctness. A snapshot that fails its checksum is reported and the
cube rebuilds the index from the vectors kept in SQL.
"""

from __future__ import annotations

import hashlib
import json
import threading
import zipfile
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from memos.errors import BackendError, IndexMismatchError, InvalidInputError
from memos.fsutil import atomic_file
from memos.protocols import FloatArray, IdArray

SNAPSHOT = "flat.npz"
FORMAT = "memos-flat-1"


def _checksum(ids: IdArray, vectors: FloatArray) -> str:
    digest = hashlib.sha256()
    digest.update(np.ascontiguousarray(ids).tobytes())
    digest.update(np.ascontiguousarray(vectors).tobytes())
    return digest.hexdigest()


class FlatIndex:
    """Brute-force inner-product (or L2) index over an id map, exact by construction."""

    def __init__(self, path: Path, dim: int, metric: str = "ip") -> None:
        if metric not in ("ip", "l2"):
            raise InvalidInputError(f"metric must be 'ip' or 'l2', got {metric!r}")
        self.path = path
        self.dim = dim
        self.metric = metric
        base = faiss.IndexFlatIP(dim) if metric == "ip" else faiss.IndexFlatL2(dim)
        self._index: Any = faiss.IndexIDMap2(base)
        # faiss's remove_ids scans every vector; knowing which ids exist lets a plain
        # insert of new ids skip that scan.
        self._ids: set[int] = set()
        self._applied_seq = 0
        self._saved_seq = 0
        self._dirty = False
        self._lock = threading.RLock()

    # -- lifecycle ---------------------------------------------------------------------

    @classmethod
    def open(cls, path: Path, dim: int, metric: str = "ip") -> FlatIndex:
        """Load the snapshot under `path`, or start empty if there is none.

        Raises:
            BackendError: the snapshot is unreadable or fails its checksum.
            IndexMismatchError: the snapshot was built with another dimension or metric.
        """
        index = cls(path, dim, metric)
        snapshot = path / SNAPSHOT
        if snapshot.exists():
            index._load(snapshot)
        return index

    def _load(self, snapshot: Path) -> None:
        try:
            with np.load(snapshot, allow_pickle=False) as data:
                meta = json.loads(bytes(data["meta"]).decode())
                ids = np.asarray(data["ids"], dtype=np.int64)
                vectors = np.asarray(data["vectors"], dtype=np.float32)
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
            raise BackendError(f"vector index snapshot {snapshot} is unreadable: {exc}") from None
        if meta.get("format") != FORMAT:
            raise BackendError(f"vector index snapshot {snapshot} has unknown format")
        if meta["dim"] != self.dim or meta["metric"] != self.metric:
            raise IndexMismatchError(
                f"index at {snapshot} holds {meta['dim']}-d {meta['metric']} vectors, "
                f"the cube expects {self.dim}-d {self.metric}"
            )
        if _checksum(ids, vectors) != meta["checksum"]:
            raise BackendError(f"vector index snapshot {snapshot} fails its checksum")
        if len(ids):
            self._index.add_with_ids(vectors.reshape(-1, self.dim), ids)
            self._ids.update(ids.tolist())
        self._applied_seq = self._saved_seq = int(meta["applied_seq"])

    def flush(self) -> None:
        with self._lock:
            if not self._dirty and self._saved_seq == self._applied_seq:
                return
            ids, vectors = self._arrays()
            meta = {
                "format": FORMAT,
                "dim": self.dim,
                "metric": self.metric,
                "applied_seq": self._applied_seq,
                "count": len(ids),
                "checksum": _checksum(ids, vectors),
            }
            self.path.mkdir(parents=True, exist_ok=True)
            target = self.path / SNAPSHOT
            with atomic_file(target) as handle:
                np.savez(
                    handle,
                    ids=ids,
                    vectors=vectors,
                    meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8),
                )
            self._saved_seq = self._applied_seq
            self._dirty = False

    def close(self) -> None:
        self.flush()

    def _arrays(self) -> tuple[IdArray, FloatArray]:
        count = self._index.ntotal
        ids = faiss.vector_to_array(self._index.id_map).astype(np.int64)
        if count == 0:
            return ids, np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._index.index.reconstruct_n(0, count)
        return ids, np.asarray(vectors, dtype=np.float32)

    # -- VectorIndex -------------------------------------------------------------------

    @property
    def applied_seq(self) -> int:
        return self._applied_seq

    @property
    def unsaved(self) -> bool:
        return self._dirty or self._saved_seq != self._applied_seq

    def mark_applied(self, seq: int) -> None:
        with self._lock:
            self._applied_seq = max(self._applied_seq, seq)

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def add(self, ids: IdArray, vectors: FloatArray) -> None:
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self.dim or len(ids) != len(vectors):
            raise InvalidInputError(
                f"expected {len(ids)} vectors of dimension {self.dim}, got shape {vectors.shape}"
            )
        if len(ids) == 0:
            return
        if len(set(ids.tolist())) != len(ids):
            raise InvalidInputError("duplicate ids in one add")
        with self._lock:
            if not self._ids.isdisjoint(ids.tolist()):
                self._index.remove_ids(faiss.IDSelectorBatch(ids))
            self._index.add_with_ids(vectors, ids)
            self._ids.update(ids.tolist())
            self._dirty = True

    def remove(self, ids: IdArray) -> None:
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        if len(ids) == 0:
            return
        with self._lock:
            present = self._ids.intersection(ids.tolist())
            if present:
                self._index.remove_ids(faiss.IDSelectorBatch(np.fromiter(present, np.int64)))
                self._ids.difference_update(present)
                self._dirty = True

    def search(self, queries: FloatArray, k: int) -> tuple[IdArray, FloatArray]:
        queries = np.ascontiguousarray(queries, dtype=np.float32).reshape(-1, self.dim)
        with self._lock:
            if k <= 0 or self._index.ntotal == 0:
                shape = (len(queries), max(k, 0))
                return np.full(shape, -1, dtype=np.int64), np.zeros(shape, dtype=np.float32)
            scores, ids = self._index.search(queries, k)
        scores = np.asarray(scores, dtype=np.float32)
        if self.metric == "l2":
            scores = -scores  # higher = closer everywhere in memos
        scores[ids < 0] = 0.0
        return np.asarray(ids, dtype=np.int64), scores

    def contains(self, item_id: int) -> bool:
        return item_id in self._ids
