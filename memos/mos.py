"""MemOS: the entry object. `memos.open()` turns settings into parts; MemOS holds them."""

from __future__ import annotations

import hashlib
import shutil
import threading
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from memos import validation
from memos.config import Settings, load_settings
from memos.cube import MemCube
from memos.errors import IndexMismatchError
from memos.models import CubeInfo
from memos.protocols import Embedder
from memos.retrieval.cube_index import CubeIndex
from memos.retrieval.embedders import make_embedder
from memos.retrieval.hybrid import HybridRetriever
from memos.retrieval.rerank import Reranker
from memos.retrieval.text import vector_text
from memos.stores.artifacts import cube_artifacts
from memos.stores.base import Clock
from memos.stores.engine import sqlite_url
from memos.stores.jsonl import read_export
from memos.stores.sql import SqlStore
from memos.timeutil import utcnow
from memos.usage import AccessLog

if TYPE_CHECKING:
    from memos.protocols import LLMClient
    from memos.runtime.model import Runtime
    from memos.runtime.parts import RuntimeParts


class _Shared:
    """Parts shared by every user view of one opened memos: store, embedder, indexes."""

    def __init__(
        self, store: SqlStore, embedder: Embedder, home: Path, settings: Settings, clock: Clock
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.home = home
        self.settings = settings
        self.clock = clock
        self.access_log = AccessLog(store, clock)
        self.retriever = HybridRetriever(store, embedder, self.access_log)
        self.indexes: dict[int, CubeIndex] = {}
        self.lock = threading.Lock()
        self.closed = False
        # KV caches and adapters: built on first use (memos.runtime.parts).
        self.runtime: Runtime | None = None
        self.runtime_parts: RuntimeParts | None = None
        # The agents' LLM: given to open(), or built from settings on first use.
        self.llm: LLMClient | None = None
        self.llm_ready = False
        self.llm_owned = False
        url = store.engine.url.render_as_string(hide_password=True)
        default = sqlite_url(home / "memos.db")
        # Indexes are local caches of one database; never mix two databases' cube ids.
        self.index_root = (
            home
            / "indexes"
            / ("local" if url == default else hashlib.sha256(url.encode()).hexdigest()[:16])
        )


class MemOS:
    """The memory operating system for one acting user. Use `memos.open()` to get one."""

    def __init__(self, shared: _Shared, user: str) -> None:
        self._shared = shared
        self.user = validation.user_name(user)

    # -- parts --------------------------------------------------------------------------

    @property
    def store(self) -> SqlStore:
        return self._shared.store

    @property
    def embedder(self) -> Embedder:
        return self._shared.embedder

    @property
    def settings(self) -> Settings:
        return self._shared.settings

    @property
    def home(self) -> Path:
        return self._shared.home

    @property
    def clock(self) -> Clock:
        return self._shared.clock

    @property
    def access_log(self) -> AccessLog:
        return self._shared.access_log

    @property
    def retriever(self) -> HybridRetriever:
        return self._shared.retriever

    @property
    def runtime_parts(self) -> RuntimeParts:
        """The runtime model, artifact stores, KV tiers and adapters; nothing heavy loads
        until a model is really used."""
        from memos.runtime.parts import RuntimeParts

        with self._shared.lock:
            if self._shared.runtime_parts is None:
                self._shared.runtime_parts = RuntimeParts(
                    self.home, self.settings, runtime=self._shared.runtime
                )
            return self._shared.runtime_parts

    @property
    def llm(self) -> LLMClient | None:
        """The LLM agents use (`open(llm=...)` or MEMOS_LLM), or None: offline paths.
        Built on first use; nothing connects or loads until a call."""
        if not self._shared.llm_ready:
            from memos.agents.llm.factory import make_llm

            built = make_llm(self.settings, lambda: self.runtime_parts.runtime, self.home)
            with self._shared.lock:
                if not self._shared.llm_ready:
                    self._shared.llm, self._shared.llm_owned = built, True
                    self._shared.llm_ready = True
        return self._shared.llm

    def as_user(self, user: str) -> MemOS:
        """The same memos, acting as another user (permissions are theirs)."""
        return MemOS(self._shared, user)

    def index_of(self, cube: CubeInfo) -> CubeIndex:
        with self._shared.lock:
            index = self._shared.indexes.get(cube.id)
            if index is None:
                index = CubeIndex(
                    self.store,
                    cube,
                    self._shared.index_root / str(cube.id),
                    snapshot_ops=self.settings.index_snapshot_ops,
                )
                self._shared.indexes[cube.id] = index
            return index

    # -- cubes --------------------------------------------------------------------------

    def create_cube(self, name: str, *, attributes: dict[str, Any] | None = None) -> MemCube:
        """Create a cube owned by the acting user.

        Raises:
            ConflictError: the name is taken.
            InvalidInputError: the name is not a valid cube name.
        """
        info = self.store.create_cube(
            validation.cube_name(name),
            self.user,
            self.embedder.spec,
            validation.attributes(attributes),
        )
        return MemCube(self, info)

    def cube(self, name: str) -> MemCube:
        """Open an existing cube.

        Raises:
            NotFoundError: no such cube.
            IndexMismatchError: the cube was built with another embedder.
        """
        info = self.store.cube_by_name(name)
        self._check_embedder(info)
        return MemCube(self, info)

    def cube_of(self, item_id: int) -> MemCube:
        """The cube that holds an item."""
        info = self.store.cube_by_id(self.store.cube_of(item_id))
        self._check_embedder(info)
        return MemCube(self, info)

    def _check_embedder(self, info: CubeInfo) -> None:
        mine = self.embedder.spec
        if info.embedder != mine:
            theirs = info.embedder
            raise IndexMismatchError(
                f"cube {info.name!r} was built with embedder {theirs.model} "
                f"({theirs.dim}-d, {theirs.metric}) but this memos uses {mine.model} "
                f"({mine.dim}-d, {mine.metric}); open it with the same embedder "
                "(MEMOS_EMBEDDER), or export it and import it under the new one"
            )

    def cubes(self) -> list[CubeInfo]:
        """The cubes the acting user may read."""
        return self.store.list_cubes(self.user)

    def drop_cube(self, name: str) -> None:
        """Delete a cube, its items, history and index (admin only)."""
        info = self.store.cube_by_name(name)
        artifacts = cube_artifacts(self.store.engine, info.id)  # its KV caches and adapters
        self.store.drop_cube(info.id, self.user)
        self.runtime_parts.release_orphans(self.store.engine, artifacts)
        with self._shared.lock:
            index = self._shared.indexes.pop(info.id, None)
        if index is not None:
            index.destroy()
        shutil.rmtree(self._shared.index_root / str(info.id), ignore_errors=True)

    def import_jsonl(self, path: str | Path, *, name: str | None = None) -> MemCube:
        """Create a cube from an export file, versions and links included; text is embedded
        again with this memos' embedder. The whole file is validated before anything is
        stored.

        Raises:
            InvalidInputError: the file is not a valid export (the message names the line).
            ConflictError: a cube of that name exists; pass `name=`.
        """
        export = read_export(Path(path))
        target = validation.cube_name(name or export.header["name"])
        info = self.store.import_records(
            export.header,
            export.items,
            export.links,
            self.user,
            name=target,
            embedder=self.embedder.spec,
        )
        cube = MemCube(self, info)
        self.embed_missing(cube)
        return cube

    def embed_missing(self, cube: MemCube) -> int:
        """Embed live items that have no stored vector; returns how many."""
        missing = self.store.items_missing_vectors(cube.id)
        batch = 256
        for start in range(0, len(missing), batch):
            chunk = missing[start : start + batch]
            vectors = self.embedder.embed_documents(
                [vector_text(m.content or "", m.author) for m in chunk]
            )
            self.store.put_vectors(cube.id, [m.id for m in chunk], vectors)
        self.index_of(cube.info).catch_up()
        return len(missing)

    # -- lifetime -----------------------------------------------------------------------

    def flush(self) -> None:
        """Write batched access counts and index snapshots."""
        self._shared.access_log.flush()
        with self._shared.lock:
            indexes = list(self._shared.indexes.values())
        for index in indexes:
            index.flush()

    def close(self) -> None:
        if self._shared.closed:
            return
        self.flush()
        self._shared.closed = True
        if self._shared.llm_owned:
            close = getattr(self._shared.llm, "close", None)
            if callable(close):
                close()  # an HTTP client's connections; a client passed in is the caller's
        if self._shared.runtime_parts is not None:
            self._shared.runtime_parts.close()  # adapters off a runtime others may share
        self.store.close()

    def __enter__(self) -> MemOS:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def open(
    home: str | Path | None = None,
    *,
    url: str | None = None,
    user: str | None = None,
    embedder: Embedder | str | None = None,
    clock: Clock | None = None,
    runtime: Runtime | None = None,
    reranker: Reranker | None = None,
    llm: LLMClient | str | None = None,
    **settings: Any,
) -> MemOS:
    """Open (creating if needed) a memos home, or a database by SQLAlchemy `url`.

    `home` defaults to MEMOS_HOME, else the platform's data directory. `embedder` is an
    `Embedder` or a name ('minilm', 'hash', or a model folder). `runtime` is a
    `memos.runtime.model.Runtime` for KV caches and adapters (default: MEMOS_RUNTIME_MODEL,
    loaded on first use). `reranker` re-orders the head of every search (see
    `memos.retrieval.rerank`). `llm` is an `LLMClient` or 'openai' / 'local' / 'none' for
    the agents (default: MEMOS_LLM; see `memos.agents.llm`). Nothing heavy loads here.

    Raises:
        ConfigError: invalid settings.
        BackendError: the database is unreachable or corrupt.
    """
    chosen = load_settings(
        home=Path(home) if home is not None else None,
        url=url,
        user=user,
        embedder=embedder if isinstance(embedder, str) else None,
        llm=llm if isinstance(llm, str) else None,
        **settings,
    )
    root = chosen.resolved_home()
    root.mkdir(parents=True, exist_ok=True)
    tick = clock or utcnow
    store = SqlStore.open(
        chosen.url or sqlite_url(root / "memos.db"),
        clock=tick,
        busy_timeout_s=chosen.sqlite_busy_timeout_s,
    )
    model = embedder if embedder is not None and not isinstance(embedder, str) else None
    shared = _Shared(store, model or make_embedder(chosen.embedder), root, chosen, tick)
    shared.runtime = runtime
    shared.retriever.reranker = reranker
    if llm is not None and not isinstance(llm, str):
        shared.llm, shared.llm_ready = llm, True
    return MemOS(shared, chosen.user)
