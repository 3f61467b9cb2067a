"""A cube's vector index, kept in step with the SQL operation log.

SQL is the source of truth and vectors are stored there too, so this index can always be
rebuilt. It records the last place of the cube's log it has applied; on open, and before
each search, it replays what it missed: a crash between a SQL commit and the index write,
and writes by other processes or hosts. Places are given in commit order (stores/
logheads.py), so replaying past the last applied place never skips a late-committing
writer, and replay is idempotent: it re-reads each touched item's current vector.

One process at a time holds a cube's disk index (a lock in its folder); another process
of the same host keeps a private exact index rebuilt from SQL instead, so concurrent
writers on a new cube never fail after their write was committed.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from memos.errors import BackendError, ConflictError, IndexMismatchError, NotFoundError
from memos.faults import crash_point
from memos.fsutil import atomic_write
from memos.models import CubeInfo, Record, Written
from memos.progress import status
from memos.protocols import FloatArray, IdArray, VectorIndex, VectorLog
from memos.retrieval.factory import IndexBackend, SpannBackend, private_index

log = logging.getLogger(__name__)

IDENTITY = "cube.json"
# Bumped when log places change meaning (v5: per-cube places in commit order), so an index
# built against the old numbering rebuilds instead of replaying from the wrong place.
LOG_FORMAT = "cube-seq-1"
# How many of a cube's vectors `verify` looks up by themselves.
VERIFY_SAMPLE = 256
# The exact snapshot file of releases before the SPANN index (retrieval/flat.py's name).
_OLD_SNAPSHOT = "index.npz"


@dataclass(frozen=True, slots=True)
class IndexReport(Record):
    """What `CubeIndex.verify` found: counts on both sides and what disagrees."""

    cube: str
    backend: str
    sql_vectors: int
    index_vectors: int
    missing: int
    extra: int
    applied_seq: int
    log_seq: int
    sampled: int
    self_found: int

    @property
    def ok(self) -> bool:
        return (
            self.missing == 0
            and self.extra == 0
            and self.applied_seq == self.log_seq
            and self.self_found == self.sampled
        )


class CubeIndex:
    """Owns one cube's vector index and its catch-up from the log."""

    def __init__(
        self,
        store: VectorLog,
        cube: CubeInfo,
        path: Path,
        *,
        snapshot_ops: int,
        backend: IndexBackend | None = None,
    ) -> None:
        self.store = store
        self.cube = cube
        self.path = path
        self.snapshot_ops = snapshot_ops
        self.backend = backend or SpannBackend()
        self._lock = threading.RLock()
        self._since_flush = 0
        self._scratch: Path | None = None
        # Row ids of log entries this process applied itself, not yet passed by a replay.
        self._own: set[int] = set()
        self.index = self._open()
        self.catch_up()

    def _identity(self) -> dict[str, object]:
        return {
            "cube_id": self.cube.id,
            "name": self.cube.name,
            "created_at": self.cube.created_at.isoformat(),
            "log": LOG_FORMAT,
        }

    @contextlib.contextmanager
    def _held(self) -> Iterator[None]:
        """This index's lock, taken after a database connection. A search holds its read
        connection while it waits here; a holder of the lock that then asked the pool for
        a connection could find every one held by such a waiter, and wait for them as
        they wait for it (until the pool times out). One order, connection first, cannot
        cycle."""
        with self.store.reading(), self._lock:
            yield

    @contextlib.contextmanager
    def _opening(self) -> Iterator[None]:
        """Serialise opening, creating and rebuilding this cube's index folder among the
        processes of this host (their first writes to a new cube race here)."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(
                self.path.parent / f".{self.path.name}.open", os.O_RDWR | os.O_CREAT, 0o600
            )
        except OSError as exc:
            raise BackendError(
                f"cannot use the index folder {self.path.parent}: {exc.strerror}; check that "
                "the memos home's indexes/ folder is a writable directory"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def _open(self) -> VectorIndex:
        try:
            with self._opening():
                return self._open_locked()
        except ConflictError:
            return self._private_index()
        except OSError as exc:
            raise BackendError(
                f"the vector index of cube {self.cube.name!r} at {self.path} is unusable "
                f"({exc.strerror}); move that folder away and memos rebuilds it from SQL"
            ) from None

    def _open_locked(self) -> VectorIndex:
        identity_file = self.path / IDENTITY
        if identity_file.exists():
            try:
                same = json.loads(identity_file.read_text()) == self._identity()
            except (OSError, ValueError):
                same = False
            if not same:
                # Left over from another database, an earlier cube of the same id, or the
                # log numbering of an older release.
                shutil.rmtree(self.path)
        if self.backend.name != "flat":
            # The exact snapshot of earlier releases is superseded by the chosen index.
            (self.path / _OLD_SNAPSHOT).unlink(missing_ok=True)
        index: VectorIndex | None
        try:
            index = self.backend.open(self.path, self.cube)
        except NotFoundError:
            index = None
        except (BackendError, IndexMismatchError) as exc:
            log.warning("rebuilding the vector index of cube %r: %s", self.cube.name, exc)
            index = None
        if index is not None and index.applied_seq > self.store.max_seq(self.cube.id):
            log.warning(
                "vector index of cube %r is ahead of the database; rebuilding", self.cube.name
            )
            index.close()
            index = None
        if index is None or (index.applied_seq == 0 and len(index) == 0):
            if index is not None:
                index.close()
            index = self._rebuild()
        # A remote backend (Milvus) keeps nothing in the folder but this identity file.
        self.path.mkdir(parents=True, exist_ok=True)
        atomic_write(identity_file, json.dumps(self._identity()), durable=False)
        return index

    def _private_index(self) -> VectorIndex:
        """Another process holds this cube's index: keep an exact one in memory instead."""
        log.info(
            "the vector index of cube %r is open in another process; using a private "
            "in-memory exact index rebuilt from the database",
            self.cube.name,
        )
        self._scratch = Path(tempfile.mkdtemp(prefix="memos-index-"))
        index = private_index(self._scratch, self.cube)
        top = self.store.max_seq(self.cube.id)
        for ids, vectors in self.store.iter_vectors(self.cube.id):
            index.add(ids, vectors)
        index.mark_applied(top)
        return index

    def _rebuild(self) -> VectorIndex:
        """A fresh index holding every vector in SQL, built in one pass."""
        shutil.rmtree(self.path, ignore_errors=True)
        top = self.store.max_seq(self.cube.id)
        batches = list(self.store.iter_vectors(self.cube.id)) if top else []
        if not batches:
            index = self.backend.create(self.path, self.cube)
            index.mark_applied(top)
            return index
        with status(f"building the vector index of cube {self.cube.name!r}"):
            index = self.backend.build(
                self.path,
                self.cube,
                np.concatenate([ids for ids, _ in batches]),
                np.concatenate([vectors for _, vectors in batches]),
            )
        index.mark_applied(top)
        index.flush()
        return index

    def _reopen_if_taken(self) -> None:
        """Opening this cube's index again in this process (another MemOS on the same home)
        takes it over and closes ours; open it back, catching up from the log."""
        if getattr(self.index, "closed", False):
            self.index = self._open()

    def catch_up(self) -> None:
        """Apply log entries past the last applied place (idempotent)."""
        with self._held():
            self._reopen_if_taken()
            applied = self.index.applied_seq
            if self.store.max_seq(self.cube.id) <= applied:
                return
            entries = self.store.log_since(self.cube.id, applied)
            touched = sorted(
                {item for _, row, item in entries if item is not None and row not in self._own}
            )
            if touched:
                present, vectors, absent = self.store.index_state(self.cube.id, touched)
                self.index.remove(absent)
                self.index.add(present, vectors)
            if entries:
                self.index.mark_applied(entries[-1][0])
                self._own.difference_update(row for _, row, _ in entries)
            self._after_change(len(touched))

    def apply(self, written: list[Written], vectors: FloatArray | None, removed: IdArray) -> None:
        """Reflect this process's own committed writes without re-reading them; the next
        catch-up advances the applied place past them and re-reads only what others did."""
        crash_point("index-before-apply")
        with self._held():
            self._reopen_if_taken()
            if vectors is not None and len(written):
                ids = np.asarray([w.item.id for w in written], dtype=np.int64)
                self.index.add(ids, vectors)
                self._own.update(w.seq for w in written)
            self.index.remove(removed)
        self.catch_up()

    def _after_change(self, count: int) -> None:
        self._since_flush += count
        if self._since_flush >= max(self.snapshot_ops, len(self.index) // 4):
            self.flush()

    def search(self, query: FloatArray, k: int) -> tuple[IdArray, FloatArray]:
        self.catch_up()
        try:
            return self.index.search(query, k)
        except BackendError as exc:
            if not self.backend.local:
                raise  # a service that failed is unreachable, not corrupt: nothing to rebuild
            # Posting and vector files are checked as they are first read.
            with self._held():
                if getattr(self.index, "closed", False):
                    self._reopen_if_taken()
                else:
                    log.warning("rebuilding the vector index of cube %r: %s", self.cube.name, exc)
                    self.rebuild()
            self.catch_up()
            return self.index.search(query, k)

    def rebuild(self) -> None:
        """Throw the index away and build it again from the vectors in SQL."""
        with self._held():
            self._close_index()
            try:
                with self._opening():
                    self.index = self._rebuild()
                    atomic_write(self.path / IDENTITY, json.dumps(self._identity()), durable=False)
            except ConflictError:
                self.index = self._private_index()
            self._since_flush = 0
            self._own.clear()

    def verify(self, *, sample: int = VERIFY_SAMPLE) -> IndexReport:
        """Compare the index with SQL: every stored vector present and nothing else, caught
        up to the log, and a sample of vectors finding themselves first."""
        with self._held():
            self.catch_up()
            sql_ids: list[IdArray] = []
            probes: list[tuple[int, FloatArray]] = []
            missing = 0
            for ids, vectors in self.store.iter_vectors(self.cube.id):
                sql_ids.append(ids)
                missing += sum(1 for i in ids.tolist() if not self.index.contains(int(i)))
                step = max(1, len(ids) // max(1, sample // 4))
                probes += [(int(ids[n]), vectors[n]) for n in range(0, len(ids), step)]
            sql_count = int(sum(len(ids) for ids in sql_ids))
            found = 0
            chosen = probes[:sample]
            for item_id, vector in chosen:
                # First, or tied with the first: identical texts have identical vectors.
                top, scores = self.index.search(vector.reshape(1, -1), 8)
                best = float(scores[0][0])
                found += any(
                    int(i) == item_id and float(score) >= best - 1e-5
                    for i, score in zip(top[0], scores[0], strict=True)
                )
            return IndexReport(
                cube=self.cube.name,
                backend=type(self.index).__name__,
                sql_vectors=sql_count,
                index_vectors=len(self.index),
                missing=missing,
                extra=max(0, len(self.index) - (sql_count - missing)),
                applied_seq=self.index.applied_seq,
                log_seq=self.store.max_seq(self.cube.id),
                sampled=len(chosen),
                self_found=found,
            )

    def __len__(self) -> int:
        return len(self.index)

    def flush(self) -> None:
        with self._held():
            self._reopen_if_taken()
            self.index.flush()
            self._since_flush = 0

    def close(self) -> None:
        with self._lock:
            self._close_index()

    def _close_index(self) -> None:
        self.index.close()
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None

    def destroy(self) -> None:
        with self._lock:
            self._close_index()
            shutil.rmtree(self.path, ignore_errors=True)
