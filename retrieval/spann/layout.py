"""The live structures of one SPANN index and the lock that keeps readers consistent.

Writers are serialised by the index's write lock. `state_lock` is held only for short
metadata steps: the centroid search and the snapshot of posting rows a reader is about to
read, and the swaps writers make after their disk writes are done. Disk reads, scoring and
re-ranking run outside it, so a split, a compaction chunk or a checkpoint never holds a
reader for longer than a metadata swap.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from memos.errors import BackendError
from memos.protocols import FloatArray, IdArray
from memos.retrieval.spann.blocks import SubCodes
from memos.retrieval.spann.centroids import CentroidIndex
from memos.retrieval.spann.codec import Codec
from memos.retrieval.spann.files import REBUILD_HINT
from memos.retrieval.spann.idmap import CrcArray, IdMap, SlotAllocator, SlotArray
from memos.retrieval.spann.params import SpannParams
from memos.retrieval.spann.postings import META, MetaArray, PostingStore
from memos.retrieval.spann.scanner import Scanner
from memos.retrieval.spann.strays import Strays
from memos.retrieval.spann.vectors import VectorFile, row_crcs


def records(ids: IdArray, slots: SlotArray) -> MetaArray:
    out = np.zeros(len(ids), dtype=META)
    out["id"], out["slot"] = ids, slots
    return out


class Layout:
    def __init__(
        self, directory: Path, dim: int, metric: str, params: SpannParams, codec: Codec
    ) -> None:
        self.directory = directory
        self.dim = dim
        self.metric = metric
        self.params = params
        self.codec = codec
        self.vectors = VectorFile(directory, dim)
        self.postings = PostingStore(directory, codec.subquantizers, params.posting_max)
        self.centroid_index = CentroidIndex(dim)
        self.strays = Strays()
        self.ids = IdMap()
        self.slots = SlotAllocator(0, np.zeros(0, dtype=np.int64))
        self.clustered = False
        # Removed, replaced or moved vectors whose records may still sit in postings.
        self.dead = 0
        # Records in extents that splits superseded: space only compaction gives back.
        self.garbage = 0
        # Vectors when the postings were last laid out whole (build, form): the record
        # budget of a query grows with the index past that (see SpannParams.probe).
        self.laid_out = 0
        # (sorted ids, slots) of an add in progress: its records are in postings before the
        # id map points at them, and a split meanwhile must keep them.
        self.pending: tuple[IdArray, SlotArray] | None = None
        self.state_lock = threading.Lock()
        self._row_checked = np.zeros(0, dtype=bool)
        self._local = threading.local()

    def close(self) -> None:
        self.postings.close()
        self.vectors.close()

    def scanner(self, codec: Codec) -> Scanner:
        """This thread's scanner for `codec` (faiss indexes are not safe to share while
        filled; a re-formed index has a new codec, and a reader keeps the one its postings
        were coded with)."""
        found: Scanner | None = getattr(self._local, "scanner", None)
        if found is None or found.codec is not codec:
            found = Scanner(codec, self.postings.capacity)
            self._local.scanner = found
        return found

    # -- vector rows -------------------------------------------------------------------

    def _checked(self, slots: SlotArray) -> None:
        top = int(slots.max()) + 1 if len(slots) else 0
        if top > len(self._row_checked):
            grown = np.zeros(max(top, 2 * len(self._row_checked)), dtype=bool)
            grown[: len(self._row_checked)] = self._row_checked
            self._row_checked = grown
        self._row_checked[slots] = True

    def write_rows(self, vectors: FloatArray) -> tuple[SlotArray, CrcArray]:
        """Store full-precision vectors in fresh rows; return their slots and CRCs."""
        slots = self.slots.allocate(len(vectors))
        self.vectors.write(slots, vectors)
        self._checked(slots)
        return slots, row_crcs(vectors)

    def read_rows(self, slots: SlotArray, crcs: CrcArray) -> tuple[FloatArray, np.ndarray]:
        """Rows by slot, and which of them fail their CRC (each row is checked the first time
        this process reads it). A failure is corruption only if the id still owns the row: a
        concurrent remove zeroes rows that a reader may already have picked."""
        rows = self.vectors.read(slots)
        checked = self._row_checked
        fresh = np.ones(len(slots), dtype=bool)
        inside = slots < len(checked)
        fresh[inside] = ~checked[slots[inside]]
        bad = np.zeros(len(slots), dtype=bool)
        if fresh.any():
            bad[fresh] = row_crcs(rows[fresh]) != crcs[fresh]
            self._checked(slots[fresh & ~bad])
        return rows, bad

    def corrupt_rows(self) -> BackendError:
        return BackendError(
            f"SPANN vector file {self.vectors.path} fails its checksum; {REBUILD_HINT}"
        )

    def free_rows(self, slots: list[int], *, erase: bool = True) -> None:
        """Rows no id points at any more: zero them now (unless the vector lives on in
        another row), reuse them after a checkpoint."""
        if not slots:
            return
        if erase:
            self.vectors.erase(slots)
        self.slots.release(slots)
        self.dead += len(slots)
        checked = self._row_checked
        inside = [s for s in slots if s < len(checked)]
        checked[inside] = False

    # -- records -----------------------------------------------------------------------

    def valid(self, meta: MetaArray) -> np.ndarray:
        """Which records still name their id's current row, where an add in progress counts
        as done (its id's old row is as good as gone)."""
        ids = np.ascontiguousarray(meta["id"])
        own = meta["slot"].astype(np.int64)
        slots, _ = self.ids.lookup(ids)
        if self.pending is not None and len(ids):
            pending_ids, pending_slots = self.pending
            at = np.minimum(np.searchsorted(pending_ids, ids), len(pending_ids) - 1)
            adding = pending_ids[at] == ids
            slots[adding] = pending_slots[at[adding]]
        return slots == own  # type: ignore[no-any-return]

    def unique_valid(self, meta: MetaArray, codes: SubCodes) -> tuple[MetaArray, SubCodes]:
        """The valid records, each id once (its first record)."""
        keep = self.valid(meta)
        meta, codes = meta[keep], codes[keep]
        _, first = np.unique(meta["id"], return_index=True)
        first.sort()
        return meta[first], codes[first]

    def score(self, rows: FloatArray, query: FloatArray) -> FloatArray:
        if self.metric == "ip":
            return np.asarray(np.einsum("ij,j->i", rows, query), dtype=np.float32)
        delta = rows - query
        return np.asarray(-np.einsum("ij,ij->i", delta, delta), dtype=np.float32)
