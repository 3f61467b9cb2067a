"""The kernel of one opened memos: the store, the embedder, each cube's vector index, the
retriever and usage counting, shared by every user view (`MemOS.as_user`)."""

from __future__ import annotations

import hashlib
import shutil
import threading
from pathlib import Path

from memos.config import Settings
from memos.errors import IndexMismatchError
from memos.kernel.events import EventBus
from memos.kernel.usage import AccessLog
from memos.models import CubeInfo
from memos.protocols import Embedder
from memos.retrieval.cube_index import CubeIndex
from memos.retrieval.factory import index_backend
from memos.retrieval.hybrid import HybridRetriever
from memos.retrieval.rerank import Reranker
from memos.stores.engine import sqlite_url
from memos.stores.sql import SqlStore
from memos.timeutil import Clock


class Kernel:
    """Owns the parts below the SDK; `CubeKernel` is one cube of it as one user sees it."""

    def __init__(
        self,
        store: SqlStore,
        embedder: Embedder,
        home: Path,
        settings: Settings,
        clock: Clock,
        *,
        reranker: Reranker | None = None,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.home = home
        self.settings = settings
        self.clock = clock
        self.events = EventBus()
        self.access_log = AccessLog(store, clock)
        self.retriever = HybridRetriever(
            store, embedder, reranker=reranker, unwritten=self.access_log.unwritten
        )
        self.index_backend = index_backend(settings.vectors or settings.index)
        self._indexes: dict[int, CubeIndex] = {}
        self._lock = threading.Lock()
        self.closed = False
        url = store.engine.url.render_as_string(hide_password=True)
        default = sqlite_url(home / "memos.db")
        # Indexes are local caches of one database; never mix two databases' cube ids.
        self.index_root = (
            home
            / "indexes"
            / ("local" if url == default else hashlib.sha256(url.encode()).hexdigest()[:16])
        )

    def index_of(self, cube: CubeInfo) -> CubeIndex:
        """The cube's vector index, opened (and caught up with the log) on first use."""
        with self._lock:
            index = self._indexes.get(cube.id)
            if index is None:
                index = CubeIndex(
                    self.store,
                    cube,
                    self.index_root / str(cube.id),
                    snapshot_ops=self.settings.index_snapshot_ops,
                    backend=self.index_backend,
                )
                self._indexes[cube.id] = index
            return index

    def drop_index(self, cube_id: int) -> None:
        """Delete a dropped cube's index files."""
        with self._lock:
            index = self._indexes.pop(cube_id, None)
        if index is not None:
            index.destroy()
        shutil.rmtree(self.index_root / str(cube_id), ignore_errors=True)

    def check_embedder(self, info: CubeInfo) -> None:
        """Raises: IndexMismatchError: the cube was built with another embedder."""
        mine = self.embedder.spec
        if info.embedder != mine:
            theirs = info.embedder
            raise IndexMismatchError(
                f"cube {info.name!r} was built with embedder {theirs.model} "
                f"({theirs.dim}-d, {theirs.metric}) but this memos uses {mine.model} "
                f"({mine.dim}-d, {mine.metric}); open it with the same embedder "
                "(MEMOS_EMBEDDER), or export it and import it under the new one"
            )

    def flush(self) -> None:
        """Write batched access counts and index snapshots."""
        self.access_log.flush()
        with self._lock:
            indexes = list(self._indexes.values())
        for index in indexes:
            index.flush()

    def close(self) -> None:
        if self.closed:
            return
        self.flush()
        self.closed = True
        with self._lock:
            indexes = list(self._indexes.values())
        for index in indexes:
            index.close()
        self.index_backend.close()
        self.store.close()
