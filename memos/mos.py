"""MemOS: the entry object. `memos.open()` turns settings into parts; MemOS holds them."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from os import PathLike
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from memos import validation
from memos.config import Settings, load_settings
from memos.cube import MemCube
from memos.errors import InvalidInputError, NotFoundError
from memos.fsutil import private_directory, restrict_file
from memos.kernel import CubeKernel, Kernel
from memos.kernel.events import CubeDropped, Event, Forgotten
from memos.models import CubeInfo
from memos.protocols import Embedder, ItemRef, LLMClient
from memos.retrieval.embedders import make_embedder
from memos.retrieval.rerank import Reranker
from memos.runtime.parts import RuntimeParts
from memos.scheduler import KernelHost, Scheduler
from memos.stores.engine import sqlite_url
from memos.stores.jsonl import read_export
from memos.stores.sql import SqlStore
from memos.timeutil import Clock, utcnow

if TYPE_CHECKING:
    from memos.runtime.model import Runtime


class _Shared:
    """What every user view of one opened memos shares: the kernel, and the feature parts
    that load lazily (the runtime model and its artifacts, the agents' LLM)."""

    def __init__(self, kernel: Kernel, runtime: Runtime | None) -> None:
        self.kernel = kernel
        self.scheduler = Scheduler(KernelHost(kernel, self.parts))
        self.lock = threading.Lock()
        self.runtime = runtime
        self.runtime_parts: RuntimeParts | None = None
        self.llm: LLMClient | None = None
        self.llm_ready = False
        self.llm_owned = False

    def parts(self) -> RuntimeParts:
        with self.lock:
            if self.runtime_parts is None:
                kernel = self.kernel
                self.runtime_parts = RuntimeParts(
                    kernel.home, kernel.settings, kernel.store, runtime=self.runtime
                )
            return self.runtime_parts

    def on_event(self, event: Event) -> None:
        """Forgetting must reach the KV caches and adapters that encode an item's text."""
        if isinstance(event, Forgotten) and event.hard:
            self.parts().purge(event.item)
        elif isinstance(event, CubeDropped):
            self.parts().release_orphans(event.artifacts)


class MemOS:
    """The memory operating system for one acting user. Use `memos.open()` to get one."""

    def __init__(self, shared: _Shared, user: str) -> None:
        self._shared = shared
        self.user = validation.user_name(user)

    # -- parts --------------------------------------------------------------------------

    @property
    def kernel(self) -> Kernel:
        return self._shared.kernel

    @property
    def settings(self) -> Settings:
        return self._shared.kernel.settings

    @property
    def home(self) -> Path:
        return self._shared.kernel.home

    @property
    def embedder(self) -> Embedder:
        return self._shared.kernel.embedder

    @property
    def clock(self) -> Clock:
        """Where this memos reads the time (`open(clock=...)`; the wall clock by default)."""
        return self._shared.kernel.clock

    @property
    def scheduler(self) -> Scheduler:
        """Moves memory across kinds and tiers: `tick()` runs a pass now, `status()` tells
        tier use and counters, `decisions()` what it did and why. It watches every
        generation and change; with `memos.open(..., scheduler=True)` it also runs passes
        on a background thread."""
        return self._shared.scheduler

    @property
    def runtime_parts(self) -> RuntimeParts:
        """The runtime model, artifact stores, KV tiers and adapters; nothing heavy loads
        until a model is really used."""
        return self._shared.parts()

    @property
    def llm(self) -> LLMClient | None:
        """The LLM agents use (`open(llm=...)` or MEMOS_LLM), or None: offline paths.
        Built on first use; nothing connects or loads until a call."""
        shared = self._shared
        if not shared.llm_ready:
            from memos.agents.llm.factory import make_llm

            built = make_llm(self.settings, lambda: self.runtime_parts.runtime, self.home)
            with shared.lock:
                if not shared.llm_ready:
                    shared.llm, shared.llm_owned, shared.llm_ready = built, True, True
        return shared.llm

    @contextlib.contextmanager
    def llm_for(self, name: str | None) -> Iterator[LLMClient | None]:
        """The LLM for one run: `name` ('openai', 'local' or 'none') builds one from the
        settings (closed when the block ends); None gives the configured `llm`."""
        if name is None:
            yield self.llm
            return
        from memos.agents.llm.factory import make_llm

        chosen = load_settings(**{**self.settings.model_dump(), "llm": name})
        client = make_llm(chosen, lambda: self.runtime_parts.runtime, self.home)
        try:
            yield client
        finally:
            close = getattr(client, "close", None)
            if callable(close):
                close()

    def as_user(self, user: str) -> MemOS:
        """The same memos, acting as another user (permissions are theirs)."""
        return MemOS(self._shared, user)

    # -- cubes --------------------------------------------------------------------------

    def create_cube(self, name: str, *, attributes: dict[str, Any] | None = None) -> MemCube:
        """Create a cube owned by the acting user.

        Raises:
            ConflictError: the name is taken.
            InvalidInputError: the name is not a valid cube name.
        """
        info = self.kernel.store.create_cube(
            validation.cube_name(name),
            self.user,
            self.embedder.spec,
            validation.attributes(attributes),
        )
        return MemCube(self, info)

    def cube(self, name: str, *, create: bool = False) -> MemCube:
        """Open a cube; with `create=True`, create it first if it does not exist.

        Raises:
            NotFoundError: no such cube (and `create` is off).
            IndexMismatchError: the cube was built with another embedder.
        """
        validation.flag(create, field="create")
        try:
            info = self.kernel.store.cube_by_name(validation.cube_name(name))
        except NotFoundError:
            if not create:
                raise
            return self.create_cube(name)
        self.kernel.check_embedder(info)
        return MemCube(self, info)

    def cube_of(self, item: ItemRef) -> MemCube:
        """The cube that holds an item, by id or uid."""
        ref = validation.item_ref(item)
        store = self.kernel.store
        item_id = ref if isinstance(ref, int) else store.resolve_uid(ref)
        info = store.cube_by_id(store.cube_of(item_id))
        self.kernel.check_embedder(info)
        return MemCube(self, info)

    def cubes(self) -> list[CubeInfo]:
        """The cubes the acting user may read."""
        return self.kernel.store.list_cubes(self.user)

    def drop_cube(self, name: str) -> None:
        """Delete a cube, its items, history, index, KV caches and adapters (admin only)."""
        store = self.kernel.store
        info = store.cube_by_name(validation.cube_name(name))
        artifacts = store.cube_artifacts(info.id)
        store.drop_cube(info.id, self.user)
        self.kernel.drop_index(info.id)
        self.kernel.events.emit(CubeDropped(info.id, tuple(artifacts)))

    def import_jsonl(self, path: str | Path, *, name: str | None = None) -> MemCube:
        """Create a cube from an export file, versions and links included; text is embedded
        again with this memos' embedder. The whole file is validated before anything is
        stored.

        Raises:
            InvalidInputError: the file is not a valid export (the message names the line).
            ConflictError: a cube of that name exists; pass `name=`.
        """
        export = read_export(
            validation.input_file(path, what="export file"),
            max_chars=self.settings.max_content_chars,
        )
        target = validation.cube_name(name or export.header["name"])
        info = self.kernel.store.import_records(
            export.header, export.items, export.links, self.user,
            name=target, embedder=self.embedder.spec,
        )  # fmt: skip
        self.embed_missing(info)
        return MemCube(self, info)

    def embed_missing(self, cube: CubeInfo) -> int:
        """Embed live items that have no stored vector; returns how many."""
        return CubeKernel(self.kernel, cube, cube.owner).embed_missing()

    # -- lifetime -----------------------------------------------------------------------

    def flush(self) -> None:
        """Write batched access counts and index snapshots."""
        self.kernel.flush()

    def close(self) -> None:
        shared = self._shared
        if shared.kernel.closed:
            return
        shared.scheduler.stop()
        if shared.llm_owned:
            close = getattr(shared.llm, "close", None)
            if callable(close):
                close()  # an HTTP client's connections; a client passed in is the caller's
        if shared.runtime_parts is not None:
            shared.runtime_parts.close()  # adapters off a runtime others may share
        shared.kernel.close()

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
    scheduler: bool = False,
    **settings: Any,
) -> MemOS:
    """Open (creating if needed) a memos home, or a database by SQLAlchemy `url`.

    `home` defaults to MEMOS_HOME, else the platform's data directory. `embedder` is an
    `Embedder` or a name ('minilm', 'hash', or a model folder). `runtime` is a
    `memos.runtime.model.Runtime` for KV caches and adapters (default: MEMOS_RUNTIME_MODEL,
    loaded on first use). `reranker` re-orders the head of every search (see
    `memos.retrieval.rerank`). `llm` is an `LLMClient` or 'openai' / 'local' / 'none' for
    the agents (default: MEMOS_LLM; see `memos.agents.llm`). `scheduler=True` runs the
    scheduler's passes on a background thread (`mos.scheduler`; off for the plain SDK, on
    for `memos serve`). Nothing heavy loads here.

    Raises:
        ConfigError: invalid settings.
        BackendError: the database is unreachable, corrupt, or not a memos database.
        InvalidInputError: `home` is not a usable folder.
    """
    if home is not None and (not isinstance(home, str | PathLike) or "\x00" in str(home)):
        raise InvalidInputError(f"home must be a folder path, got {home!r:.80}")
    if not isinstance(embedder, str):
        validation.part(embedder, Embedder, field="embedder")
    if not isinstance(llm, str):
        validation.part(llm, LLMClient, field="llm")
    if clock is not None and not callable(clock):
        raise InvalidInputError("clock must be a function returning aware datetimes")
    for part, method in ((runtime, "generate"), (reranker, "score")):
        if part is not None and not callable(getattr(part, method, None)):
            raise InvalidInputError(
                f"{type(part).__name__} has no {method}(); pass a part of memos"
            )
    if not isinstance(scheduler, bool):
        raise InvalidInputError(f"scheduler must be True or False, got {scheduler!r:.40}")
    chosen = load_settings(
        home=Path(home) if home is not None else None,
        url=url,
        user=user,
        embedder=embedder if isinstance(embedder, str) else None,
        llm=llm if isinstance(llm, str) else None,
        **settings,
    )
    root = chosen.resolved_home()
    if root.exists() and not root.is_dir():
        raise InvalidInputError(f"memos home {root} is a file, not a folder; choose another path")
    try:
        private_directory(root)
    except OSError as exc:
        raise InvalidInputError(f"cannot create the memos home {root}: {exc.strerror}") from None
    database = root / "memos.db"
    store = SqlStore.open(
        chosen.url or sqlite_url(database),
        clock=clock or utcnow,
        busy_timeout_s=chosen.sqlite_busy_timeout_s,
    )
    if chosen.url is None:
        for path in (
            database,
            database.with_name("memos.db-wal"),
            database.with_name("memos.db-shm"),
        ):
            if path.exists():
                restrict_file(path)
    model = embedder if embedder is not None and not isinstance(embedder, str) else None
    kernel = Kernel(
        store, model or make_embedder(chosen.embedder), root, chosen, clock or utcnow,
        reranker=reranker,
    )  # fmt: skip
    shared = _Shared(kernel, runtime)
    kernel.events.subscribe(shared.on_event)
    kernel.events.subscribe(shared.scheduler.observe)
    if llm is not None and not isinstance(llm, str):
        shared.llm, shared.llm_ready = llm, True
    if scheduler:
        shared.scheduler.start()
    return MemOS(shared, chosen.user)
