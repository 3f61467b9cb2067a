"""A cube's vector index, kept in step with the SQL operation log.

SQL is the source of truth and vectors are stored there too, so this index can always be
rebuilt. It records the last log sequence number it has applied; on open (and before each
search) it replays what it missed, which covers a crash between a SQL commit and the index
write, and writes made by other processes.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from memos.errors import BackendError, ConflictError, IndexMismatchError, NotFoundError
from memos.faults import crash_point
from memos.models import CubeInfo, Written
from memos.progress import status
from memos.protocols import FloatArray, IdArray, VectorLog
from memos.retrieval.flat import SNAPSHOT as FLAT_SNAPSHOT
from memos.retrieval.flat import FlatIndex
from memos.retrieval.spann import SpannIndex

log = logging.getLogger(__name__)

IDENTITY = "cube.json"
# PostgreSQL hands out log numbers before commit; entries this recent are re-read.
LATE_COMMIT_GRACE = timedelta(seconds=60)
# How often a PostgreSQL-backed index re-reads the recent window without new entries.
WINDOW_CHECK_S = 2.0


class CubeIndex:
    """Owns one cube's `SpannIndex` and its catch-up from the log."""

    def __init__(self, store: VectorLog, cube: CubeInfo, path: Path, *, snapshot_ops: int) -> None:
        self.store = store
        self.cube = cube
        self.path = path
        self.snapshot_ops = snapshot_ops
        self._lock = threading.RLock()
        self._since_flush = 0
        self._window_checked = 0.0
        self._synced_at = store.clock()
        self._recent: dict[int, datetime] = {}
        self._scratch: Path | None = None
        self.index = self._open()
        self.catch_up()

    def _identity(self) -> dict[str, object]:
        return {
            "cube_id": self.cube.id,
            "name": self.cube.name,
            "created_at": self.cube.created_at.isoformat(),
        }

    def _open(self) -> SpannIndex | FlatIndex:
        spec = self.cube.embedder
        identity_file = self.path / IDENTITY
        if identity_file.exists():
            try:
                same = json.loads(identity_file.read_text()) == self._identity()
            except (OSError, ValueError):
                same = False
            if not same:
                # Left over from another database or an earlier cube of the same id.
                shutil.rmtree(self.path)
        # The exact snapshot of earlier versions is superseded by the SPANN index.
        (self.path / FLAT_SNAPSHOT).unlink(missing_ok=True)
        index: SpannIndex | FlatIndex | None
        try:
            index = SpannIndex.open(self.path, dim=spec.dim, metric=spec.metric)
        except NotFoundError:
            index = None
        except (BackendError, IndexMismatchError) as exc:
            log.warning("rebuilding the vector index of cube %r: %s", self.cube.name, exc)
            index = None
        except ConflictError:
            return self._private_index()
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
        identity_file.write_text(json.dumps(self._identity()))
        return index

    def _private_index(self) -> FlatIndex:
        """Another process holds this cube's index: keep an exact one in memory instead."""
        log.warning(
            "the vector index of cube %r is open in another process; using a private "
            "in-memory exact index rebuilt from the database",
            self.cube.name,
        )
        self._scratch = Path(tempfile.mkdtemp(prefix="memos-index-"))
        spec = self.cube.embedder
        index = FlatIndex(self._scratch, spec.dim, spec.metric)
        top = self.store.max_seq(self.cube.id)
        for ids, vectors in self.store.iter_vectors(self.cube.id):
            index.add(ids, vectors)
        index.mark_applied(top)
        return index

    def _rebuild(self) -> SpannIndex:
        """A fresh index holding every vector in SQL, built in one pass."""
        spec = self.cube.embedder
        shutil.rmtree(self.path, ignore_errors=True)
        top = self.store.max_seq(self.cube.id)
        batches = list(self.store.iter_vectors(self.cube.id)) if top else []
        if not batches:
            return SpannIndex.create(self.path, spec.dim, spec.metric)
        with status(f"building the vector index of cube {self.cube.name!r}"):
            index = SpannIndex.build(
                self.path,
                np.concatenate([ids for ids, _ in batches]),
                np.concatenate([vectors for _, vectors in batches]),
                spec.metric,
            )
        index.mark_applied(top)
        index.flush()
        return index

    def _reopen_if_taken(self) -> None:
        """Opening this cube's index again in this process (another MemOS on the same home)
        takes it over and closes ours; open it back, catching up from the log."""
        if isinstance(self.index, SpannIndex) and self.index.closed:
            self.index = self._open()

    def catch_up(self) -> None:
        """Apply log entries this index has not seen yet."""
        with self._lock:
            self._reopen_if_taken()
            applied = self.index.applied_seq
            top = self.store.max_seq(self.cube.id)
            window = None
            if self.store.dialect == "postgresql":
                now = time.monotonic()
                if top <= applied and now - self._window_checked < WINDOW_CHECK_S:
                    return
                self._window_checked = now
                window = self._synced_at - LATE_COMMIT_GRACE
            elif top <= applied:
                return
            started = self.store.clock()
            entries = self.store.log_since(self.cube.id, applied, recorded_after=window)
            fresh = [e for e in entries if e[0] > applied or e[0] not in self._recent]
            touched = sorted({item for _, item, _ in fresh if item is not None})
            if touched:
                present, vectors, absent = self.store.index_state(self.cube.id, touched)
                self.index.remove(absent)
                self.index.add(present, vectors)
            self.index.mark_applied(max([applied, *(seq for seq, _, _ in entries)]))
            if window is not None:
                self._remember(fresh, window)
            self._synced_at = started
            self._after_change(len(touched))

    def _remember(self, entries: list[tuple[int, int | None, datetime]], window: datetime) -> None:
        """Track entries inside the late-commit window so each is applied once."""
        self._recent.update({seq: at for seq, _, at in entries})
        self._recent = {seq: at for seq, at in self._recent.items() if at >= window}

    def apply(self, written: list[Written], vectors: FloatArray | None, removed: IdArray) -> None:
        """Reflect this process's own committed writes without re-reading them."""
        crash_point("index-before-apply")
        with self._lock:
            self._reopen_if_taken()
            if vectors is not None and len(written):
                ids = np.asarray([w.item.id for w in written], dtype=np.int64)
                self.index.add(ids, vectors)
            self.index.remove(removed)
            seqs = sorted(w.seq for w in written)
            contiguous = bool(seqs) and seqs[-1] - seqs[0] == len(seqs) - 1
            # Advance only if no other writer slipped a log entry in between; otherwise
            # replay, which also picks up that writer's change.
            in_step = contiguous and seqs[0] == self.index.applied_seq + 1
            if in_step:
                self.index.mark_applied(seqs[-1])
                if self.store.dialect == "postgresql":
                    now = self.store.clock()
                    self._recent.update(dict.fromkeys(seqs, now))
            self._after_change(len(written))
        if not in_step:
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
            # Posting and vector files are checked as they are first read.
            with self._lock:
                if isinstance(self.index, SpannIndex) and self.index.closed:
                    self._reopen_if_taken()
                else:
                    log.warning("rebuilding the vector index of cube %r: %s", self.cube.name, exc)
                    self._close_index()
                    self.index = self._rebuild()
                    (self.path / IDENTITY).write_text(json.dumps(self._identity()))
                    self._since_flush = 0
            self.catch_up()
            return self.index.search(query, k)

    def __len__(self) -> int:
        return len(self.index)

    def flush(self) -> None:
        with self._lock:
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
