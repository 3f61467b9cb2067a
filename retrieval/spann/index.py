"""SpannIndex: a disk-backed vector index with centroids in RAM and posting lists on disk.

An index is a directory:

    manifest.json         the commit point: parameters, generation, applied_seq, and the
                          name, length and CRC of every file below that it vouches for
    ids.<g>.bin           id -> (vector row, row CRC), sorted by id
    table.<g>.bin         one row per posting: data file, offset, length, CRCs
    centroids.<g>.bin     posting centroids (float32)
    radii.<g>.bin         each posting's mean squared distance of its records to its centroid
    strays.<g>.bin        records placed far outside their posting, watched (strays.py)
    codec.<g>.bin         the trained quantiser's levels and measured errors (codec.py)
    postings.<n>.dat      posting extents of records and fast-scan code blocks, appended to
                          in place (see postings.py)
    vectors.dat           full-precision vectors, one row per slot (for exact re-scoring)
    wal.<g>.log           calls since checkpoint <g>, replayed on open
    lock                  flock'ed while a process has the index open

A call is acknowledged once its write-ahead-log record is written; a checkpoint (flush,
or a full log) fsyncs each data file once, writes the metadata blobs and swaps the
manifest. A build writes every file without syncing and ends with one checkpoint.

Search (search.py): the nearest postings by centroid, up to a record budget; one read per
posting straight into faiss's fast-scan lists; the best candidates by code re-scored from
the full-precision rows. Updates (updates.py, splits.py): appends to the nearest posting,
splits that reassign around themselves, and a watch on records placed far from their
posting, so that every vector stays findable by its own value.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import logging
import os
import threading
import weakref
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from memos.errors import (
    BackendError,
    ConflictError,
    IndexMismatchError,
    InvalidInputError,
    NotFoundError,
)
from memos.faults import crash_point
from memos.protocols import FloatArray, IdArray
from memos.retrieval.spann import compaction, updates
from memos.retrieval.spann.build import lay_out
from memos.retrieval.spann.codec import Codec
from memos.retrieval.spann.files import MANIFEST, read_manifest
from memos.retrieval.spann.idmap import ENTRY, CrcArray, IdMap, SlotAllocator
from memos.retrieval.spann.layout import Layout
from memos.retrieval.spann.params import METRICS, SpannParams
from memos.retrieval.spann.persist import checkpoint, describe, load, remove_leftovers
from memos.retrieval.spann.search import search as run_search
from memos.retrieval.spann.vectors import row_crcs
from memos.retrieval.spann.wal import ADD, APPLIED, REMOVE, WriteAheadLog

log = logging.getLogger(__name__)

LOCK = "lock"
# Vectors per write-ahead-log record: one huge add is logged and applied in pieces.
LOG_CHUNK = 65_536
# Auto-compaction waits for at least this many stale vectors.
COMPACT_MIN = 256


# The open index of each directory in this process, so that opening it again takes over.
_holders: weakref.WeakValueDictionary[str, SpannIndex] = weakref.WeakValueDictionary()
_holders_lock = threading.Lock()


def _lock_directory(path: Path) -> int:
    """Lock the directory for this process. If another SpannIndex object of this process
    still has it open (say, one left by a closed MemOS), that one is checkpointed and closed.

    Raises:
        ConflictError: another process has the index open.
    """
    fd = os.open(path / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            with _holders_lock:
                holder = _holders.get(str(path.resolve()))
            if holder is None or holder.closed:
                raise
            holder.close()
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise ConflictError(
            f"the SPANN index at {path} is open in another process; close it there first"
        ) from None
    return fd


def _check_metric(metric: str) -> None:
    if metric not in METRICS:
        raise InvalidInputError(f"metric must be 'ip' or 'l2', got {metric!r}")


class SpannIndex:
    """Approximate nearest-neighbour search over int64 ids; implements `VectorIndex`.

    Use `create`, `build` or `open`; scores are higher = closer (inner product, or negative
    squared L2 distance). Thread-safe: writers are serialised, readers never wait for a
    whole split, compaction or checkpoint.
    """

    def __init__(self, path: Path, layout: Layout, lock_fd: int) -> None:
        self.path = path
        self.dim = layout.dim
        self.metric = layout.metric
        self.params = layout.params
        self._layout = layout
        self._lock_fd = lock_fd
        self._write_lock = threading.RLock()
        self._wal: WriteAheadLog | None = None
        self._generation = 0
        self._applied_seq = 0
        self._closed = False
        self._stop = threading.Event()
        self._compactor: threading.Thread | None = None
        self._background_error: BaseException | None = None
        # Searches in flight, so that close() waits for them before closing their files.
        self._readers = 0
        self._readers_changed = threading.Condition()
        with _holders_lock:
            _holders[str(path.resolve())] = self

    # -- construction ------------------------------------------------------------------

    @classmethod
    def _fresh(
        cls, path: Path | str, dim: int, metric: str, params: SpannParams | None
    ) -> SpannIndex:
        path = Path(path)
        _check_metric(metric)
        if dim < 1:
            raise InvalidInputError(f"dim must be positive, got {dim}")
        if (path / MANIFEST).exists():
            raise ConflictError(
                f"an index already exists at {path}; open it, or delete it to start over"
            )
        path.mkdir(parents=True, exist_ok=True)
        lock_fd = _lock_directory(path)
        remove_leftovers(path, keep=set())
        params = params or SpannParams()
        layout = Layout(path, dim, metric, params, Codec(params.codec, dim, metric))
        return cls(path, layout, lock_fd)

    @classmethod
    def create(
        cls,
        path: Path | str,
        dim: int = 384,
        metric: str = "ip",
        *,
        params: SpannParams | None = None,
    ) -> SpannIndex:
        """An empty index that grows by `add`.

        Raises:
            ConflictError: an index already exists there, or is open elsewhere.
            InvalidInputError: bad dimension, metric or parameters.
        """
        index = cls._fresh(path, dim, metric, params)
        with index._write_lock:
            index._checkpoint(force=True)
        return index

    @classmethod
    def build(
        cls,
        path: Path | str,
        ids: IdArray,
        vectors: FloatArray,
        metric: str = "ip",
        *,
        params: SpannParams | None = None,
    ) -> SpannIndex:
        """Bulk-build an index over `vectors` (float32, (n, d)) with int64 `ids`.

        Nothing is visible at `path` until the build has finished: a build killed midway
        leaves no index there (and a later build or create cleans up after it).

        Raises:
            ConflictError: an index already exists there.
            InvalidInputError: shapes, duplicate ids or non-finite values.
        """
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2:
            raise InvalidInputError(f"vectors must be a 2-d array, got shape {vectors.shape}")
        ids = _ids(ids, len(vectors))
        _check_vectors(vectors, vectors.shape[1], len(ids))
        index = cls._fresh(path, vectors.shape[1], metric, params)
        layout = index._layout
        try:
            slots = np.arange(len(ids), dtype=np.int64)
            entries = np.zeros(len(ids), dtype=ENTRY)
            entries["id"], entries["slot"] = ids, slots
            # Writing the vector file and checksumming its rows is I/O and zlib, both of
            # which release the GIL: it runs beside the clustering instead of before it.
            with ThreadPoolExecutor(max_workers=1) as background:
                stored = background.submit(_store_rows, layout, slots, vectors)
                if len(ids) > index.params.flat_limit:
                    lay_out(layout, ids, slots, vectors)
                entries["crc"] = stored.result()
            layout.ids = IdMap(entries)
            layout.slots = SlotAllocator(len(ids), slots)
            crash_point("spann-build-before-manifest")
            with index._write_lock:
                index._checkpoint(force=True)
        except BaseException:
            index._release()
            raise
        return index

    @classmethod
    def open(
        cls, path: Path | str, *, dim: int | None = None, metric: str | None = None
    ) -> SpannIndex:
        """Open an index and replay its write-ahead log.

        Raises:
            NotFoundError: there is no index at `path`.
            BackendError: a file is missing, truncated or fails its checksum.
            IndexMismatchError: it holds vectors of another dimension or metric than asked.
            ConflictError: it is open elsewhere.
        """
        path = Path(path)
        if not (path / MANIFEST).exists():
            raise NotFoundError(f"no SPANN index at {path}; create or build one there")
        lock_fd = _lock_directory(path)  # first: taking it over may write a new manifest
        try:
            manifest = read_manifest(path)
            if (dim is not None and manifest["dim"] != dim) or (
                metric is not None and manifest["metric"] != metric
            ):
                raise IndexMismatchError(
                    f"index at {path} holds {manifest['dim']}-d {manifest['metric']} vectors, "
                    f"expected {dim}-d {metric}"
                )
            layout = load(path, manifest)
        except BaseException:
            os.close(lock_fd)
            raise
        index = cls(path, layout, lock_fd)
        index._generation = int(manifest["generation"])
        index._applied_seq = int(manifest["applied_seq"])
        index._wal = WriteAheadLog(path / str(manifest["wal"]), layout.dim)
        try:
            index._replay()
        except BaseException:
            index._release()
            raise
        _return_freed_memory()
        return index

    def _replay(self) -> None:
        assert self._wal is not None
        for record in self._wal.replay():
            if record.kind == ADD and record.vectors is not None:
                updates.insert(self._layout, record.ids, record.vectors)
            elif record.kind == REMOVE:
                updates.remove(self._layout, record.ids)
            elif record.kind == APPLIED:
                self._applied_seq = max(self._applied_seq, record.seq)

    # -- VectorIndex -------------------------------------------------------------------

    @property
    def applied_seq(self) -> int:
        return self._applied_seq

    def mark_applied(self, seq: int) -> None:
        with self._write_lock:
            self._usable()
            if seq > self._applied_seq:
                assert self._wal is not None
                self._wal.append_applied(seq)
                self._applied_seq = seq

    def __len__(self) -> int:
        return len(self._layout.ids)

    def contains(self, item_id: int) -> bool:
        return self._layout.ids.get(int(item_id)) is not None

    def add(self, ids: IdArray, vectors: FloatArray) -> None:
        """Insert vectors; an id already present is replaced.

        Raises:
            InvalidInputError: shapes, duplicate ids or non-finite values.
        """
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        ids = _ids(ids, len(vectors) if vectors.ndim == 2 else -1)
        _check_vectors(vectors, self.dim, len(ids))
        if len(ids) == 0:
            return
        with self._write_lock:
            self._usable()
            assert self._wal is not None
            for start in range(0, len(ids), LOG_CHUNK):
                chunk = slice(start, start + LOG_CHUNK)
                self._wal.append_add(ids[chunk], vectors[chunk])
                crash_point("spann-add-logged")
                with self._failing():
                    updates.insert(self._layout, ids[chunk], vectors[chunk])
            self._after_write()

    def remove(self, ids: IdArray) -> None:
        """Drop ids; unknown ids are ignored. They leave search results at once."""
        ids = np.unique(np.asarray(ids, dtype=np.int64).reshape(-1))
        if len(ids) == 0:
            return
        with self._write_lock:
            self._usable()
            assert self._wal is not None
            self._wal.append_remove(ids)
            crash_point("spann-remove-logged")
            with self._failing():
                updates.remove(self._layout, ids)
            self._after_write()

    def search(
        self,
        queries: FloatArray,
        k: int,
        *,
        max_probe: int | None = None,
    ) -> tuple[IdArray, FloatArray]:
        """Top-k ids and scores per query, best first; -1 (score 0) where fewer than k.

        `max_probe` overrides how many postings this call reads.
        """
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        if queries.size % self.dim or (queries.ndim == 2 and queries.shape[1] != self.dim):
            raise InvalidInputError(
                f"queries must have dimension {self.dim}, got shape {queries.shape}"
            )
        queries = queries.reshape(-1, self.dim)
        if max_probe is not None and int(max_probe) < 1:
            raise InvalidInputError("max_probe must be at least 1")
        layout = self._layout
        growth = len(layout.ids) / max(layout.laid_out, 1) if layout.clustered else 1.0
        probe, budget = self.params.probe(None if max_probe is None else int(max_probe), growth)
        with self._readers_changed:
            if self._closed:
                raise BackendError(f"the SPANN index at {self.path} is closed; open it again")
            self._readers += 1
        try:
            return run_search(self._layout, queries, int(k), probe, budget)
        finally:
            with self._readers_changed:
                self._readers -= 1
                self._readers_changed.notify_all()

    def flush(self) -> None:
        """Checkpoint: make every acknowledged call and `applied_seq` durable, empty the log."""
        with self._write_lock:
            self._usable()
            self._checkpoint()

    def compact(self) -> None:
        """Rewrite postings without removed or replaced vectors now, and checkpoint."""
        with self._write_lock:
            self._usable()
        if self._compactor is not None:
            self._compactor.join()  # one compaction at a time
        compaction.compact(self._layout, self._write_lock, threading.Event())
        with self._write_lock:
            self._usable()
            self._checkpoint(force=True)

    def close(self) -> None:
        """Checkpoint and release the directory. Idempotent."""
        if self._closed:
            return
        self._stop.set()
        if self._compactor is not None:
            self._compactor.join()
        with self._write_lock:
            try:
                if self._background_error is None:
                    self._checkpoint()
            finally:
                self._release()

    @property
    def closed(self) -> bool:
        return self._closed

    def __del__(self) -> None:
        # An index dropped without close() gives its files and lock back; no checkpoint is
        # needed, the log replays on the next open.
        if not getattr(self, "_closed", True):
            with contextlib.suppress(OSError):
                self._release()

    def __enter__(self) -> SpannIndex:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def evict(self) -> None:
        """Drop this index's files from the page cache, to measure or test a cold start.

        Pages a memory map holds stay cached, so the vector file is unmapped first.
        """
        self._layout.vectors.unmap()
        for path in self.path.iterdir():
            if path.is_file():
                fd = os.open(path, os.O_RDONLY)
                try:
                    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                finally:
                    os.close(fd)

    def stats(self) -> dict[str, Any]:
        """Sizes, layout shape and bytes in RAM and on disk."""
        return {
            **describe(self._layout),
            "max_probe": self.params.probe()[0],
            "scan_records": self.params.probe()[1],
            "applied_seq": self._applied_seq,
            "generation": self._generation,
            "wal_bytes": self._wal.bytes if self._wal is not None else 0,
        }

    # -- internals ---------------------------------------------------------------------

    def _usable(self) -> None:
        if self._closed:
            raise BackendError(f"the SPANN index at {self.path} is closed; open it again")
        if self._background_error is not None:
            raise BackendError(
                f"an update of {self.path} failed ({self._background_error}); reopen the "
                "index (its log replays every acknowledged call)"
            )

    @contextlib.contextmanager
    def _failing(self) -> Iterator[None]:
        """A call logged but not fully applied leaves RAM behind the log: refuse further
        writes until a reopen replays it."""
        try:
            yield
        except BaseException as exc:
            self._background_error = exc
            raise

    def _release(self) -> None:
        with self._readers_changed:
            self._closed = True
            self._readers_changed.wait_for(lambda: self._readers == 0)
        if self._wal is not None:
            self._wal.close()
        self._layout.close()
        os.close(self._lock_fd)

    def _checkpoint(self, *, force: bool = False) -> None:
        wal = self._wal
        if not force and wal is not None and wal.bytes == 0:
            return
        self._generation += 1
        with self._failing():
            self._wal = checkpoint(self._layout, self._generation, self._applied_seq, wal)

    def _after_write(self) -> None:
        assert self._wal is not None
        if self._wal.bytes > self.params.wal_bytes:
            self._checkpoint()
        layout = self._layout
        running = self._compactor is not None and self._compactor.is_alive()
        due = compaction.due(layout, self.params.compact_ratio, COMPACT_MIN)
        if layout.clustered and due and not running:
            self._compactor = threading.Thread(
                target=self._compact_in_background, name="spann-compaction", daemon=True
            )
            self._compactor.start()

    def _compact_in_background(self) -> None:
        try:
            finished = compaction.compact(self._layout, self._write_lock, self._stop)
            with self._write_lock:
                if finished and not self._closed:
                    self._checkpoint(force=True)
        except (OSError, BackendError) as exc:
            # Surface it on the next call instead of dying silently in a thread.
            log.error("SPANN compaction of %s failed: %s", self.path, exc)
            self._background_error = exc


def _store_rows(layout: Layout, slots: IdArray, vectors: FloatArray) -> CrcArray:
    layout.vectors.write(slots, vectors)
    return row_crcs(vectors)


def _return_freed_memory() -> None:
    """Loading makes and drops several copies of the id map; glibc keeps freed heap pages
    resident (~5 MiB at 300k ids), so hand them back. A no-op off glibc."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _ids(ids: IdArray, count: int) -> IdArray:
    ids = np.asarray(ids)
    if ids.ndim != 1 or (len(ids) and not np.issubdtype(ids.dtype, np.integer)):
        raise InvalidInputError(f"ids must be a 1-d integer array, got shape {ids.shape}")
    ids = np.ascontiguousarray(ids, dtype=np.int64)
    if count >= 0 and len(ids) != count:
        raise InvalidInputError(f"{len(ids)} ids for {count} vectors")
    if len(np.unique(ids)) != len(ids):
        raise InvalidInputError("duplicate ids in one call; pass each id once")
    return ids


def _check_vectors(vectors: FloatArray, dim: int, count: int) -> None:
    if vectors.ndim != 2 or vectors.shape[1] != dim or len(vectors) != count:
        raise InvalidInputError(
            f"expected {count} vectors of dimension {dim}, got shape {vectors.shape}"
        )
    if not np.isfinite(vectors).all():
        raise InvalidInputError("vectors contain NaN or infinity")
