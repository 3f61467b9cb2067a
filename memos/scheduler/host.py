"""What the scheduler needs from the kernel, as narrow protocols, and the implementation
over a running memos (`KernelHost`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, Protocol

from memos.config import Settings
from memos.kernel import CubeKernel, Kernel
from memos.models import CubeInfo, MemoryItem
from memos.runtime.parts import RuntimeParts


class SchedulerStore(Protocol):
    """System-level reads and the decision log (stores/scheduling.py)."""

    def all_cubes(self) -> list[CubeInfo]: ...

    def idle_items(self, cube_id: int, idle_before: datetime, limit: int) -> list[MemoryItem]: ...

    def settled_items(
        self, cube_id: int, *, min_uses: int, changed_before: datetime, limit: int
    ) -> list[MemoryItem]: ...

    def derived_by(self, cube_id: int, created_by: str) -> list[MemoryItem]: ...

    def expire_due(self, cube_id: int) -> list[int]: ...

    def record_decisions(self, rows: Iterable[Mapping[str, Any]]) -> None: ...

    def decisions(self, cube_id: int | None, limit: int) -> list[dict[str, Any]]: ...


class SchedulerHost(Protocol):
    """The scheduler's view of one memos: time, settings, the store's system reads, a
    cube as its owner sees it (for writes), and the runtime parts (built lazily)."""

    @property
    def settings(self) -> Settings: ...

    @property
    def store(self) -> SchedulerStore: ...

    def now(self) -> datetime: ...

    def as_owner(self, cube: CubeInfo) -> CubeKernel: ...

    def parts(self) -> RuntimeParts: ...

    def model_loaded(self) -> bool:
        """Whether a runtime model is loaded (KV work never loads one by itself)."""
        ...


class KernelHost:
    """`SchedulerHost` over a `Kernel` and the facade's lazily built runtime parts."""

    def __init__(self, kernel: Kernel, parts: Callable[[], RuntimeParts]) -> None:
        self._kernel = kernel
        self._parts = parts
        self._views: dict[int, CubeKernel] = {}

    @property
    def settings(self) -> Settings:
        return self._kernel.settings

    @property
    def store(self) -> SchedulerStore:
        return self._kernel.store

    def now(self) -> datetime:
        return self._kernel.clock()

    def as_owner(self, cube: CubeInfo) -> CubeKernel:
        view = self._views.get(cube.id)
        if view is None:
            view = self._views[cube.id] = CubeKernel(self._kernel, cube, cube.owner)
        return view

    def parts(self) -> RuntimeParts:
        return self._parts()

    def model_loaded(self) -> bool:
        parts = self._parts()
        return parts.runtime_loaded
