"""The derived-memory parts of one opened memos: runtime model, artifact stores, KV tiers
and loaded adapters. Cheap to build (no torch import, no model load); each part comes to
life on first use, so forgetting a memory in a process that never ran a model still deletes
the artifact files it must."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from memos.config import Settings
from memos.models import Kind, MemoryItem
from memos.protocols import ArtifactCatalog
from memos.stores.artifacts import FileArtifactStore

if TYPE_CHECKING:
    from memos.activation.tiers import TierCache
    from memos.parametric.adapters import AdapterBank
    from memos.runtime.model import Runtime


class RuntimeParts:
    """Runtime model, KV and adapter artifact stores, KV tiers and the adapter bank."""

    def __init__(
        self,
        home: Path,
        settings: Settings,
        catalog: ArtifactCatalog,
        *,
        runtime: Runtime | None = None,
    ) -> None:
        self.home = home
        self.settings = settings
        self.catalog = catalog
        self.kv_store = FileArtifactStore(home / "artifacts" / "kv")
        self.adapter_store = FileArtifactStore(home / "artifacts" / "lora")
        self._runtime = runtime
        self._tiers: TierCache | None = None
        self._adapters: AdapterBank | None = None
        self._lock = threading.RLock()

    @property
    def runtime(self) -> Runtime:
        with self._lock:
            if self._runtime is None:
                from memos.runtime.model import Runtime

                self._runtime = Runtime.from_settings(self.settings, self.home)
            return self._runtime

    @property
    def runtime_loaded(self) -> bool:
        """Whether the runtime model is in memory (nothing here loads it)."""
        return self._runtime is not None and self._runtime.loaded

    @property
    def tiers_loaded(self) -> TierCache | None:
        """The KV tiers if they exist yet (None before any cache was used)."""
        return self._tiers

    @property
    def tiers(self) -> TierCache:
        with self._lock:
            if self._tiers is None:
                from memos.activation.tiers import TierCache

                device = self.runtime.device
                self._tiers = TierCache(
                    self.kv_store,
                    ram_bytes=self.settings.kv_ram_bytes,
                    disk_bytes=self.settings.kv_disk_bytes,
                    gpu_bytes=self.settings.kv_gpu_bytes,
                    accelerator=str(device) if device.type != "cpu" else None,
                    policy=self.settings.kv_eviction,
                )
            return self._tiers

    @property
    def adapters(self) -> AdapterBank:
        with self._lock:
            if self._adapters is None:
                from memos.parametric.adapters import AdapterBank

                self._adapters = AdapterBank(
                    self.runtime, self.adapter_store, max_loaded=self.settings.lora_max_loaded
                )
            return self._adapters

    def kv_stats(self) -> dict[str, Any]:
        """KV tier usage and counters; without loading a model when none is loaded yet
        (then the in-process tiers are empty and only the disk tier has entries)."""
        if self._tiers is not None:
            return {"model_loaded": True, **self._tiers.stats()}
        sizes = self.kv_store.sizes()
        budgets = {
            "gpu": self.settings.kv_gpu_bytes,
            "cpu": self.settings.kv_ram_bytes,
            "disk": self.settings.kv_disk_bytes,
        }
        tiers = {name: {"entries": 0, "bytes": 0, "budget_bytes": b} for name, b in budgets.items()}
        tiers["disk"].update(entries=len(sizes), bytes=sum(sizes.values()))
        return {"model_loaded": False, "accelerator": None, "tiers": tiers, "counters": {}}

    def close(self) -> None:
        """Unload this memos' adapters from the runtime model and empty the KV tiers."""
        with self._lock:
            if self._adapters is not None:
                for digest in self._adapters.loaded():
                    self._adapters.unload(digest)
            if self._tiers is not None:
                self._tiers.clear()

    def store_for(self, kind: Kind) -> FileArtifactStore:
        return self.adapter_store if kind is Kind.PARAMETRIC else self.kv_store

    def release(self, kind: Kind, digest: str) -> None:
        """Drop an artifact from memory (tiers, loaded adapters) and delete its file."""
        with self._lock:
            if kind is Kind.ACTIVATION and self._tiers is not None:
                self._tiers.drop(digest)
            if kind is Kind.PARAMETRIC and self._adapters is not None:
                self._adapters.unload(digest)
        self.store_for(kind).delete(digest)

    def release_unused(self, item: MemoryItem, digest: str | None) -> bool:
        """Release `digest` (once `item`'s artifact) unless another fresh item uses it."""
        if digest is None or self.catalog.artifact_in_use(digest, excluding=item.id):
            return False
        self.release(item.kind, digest)
        return True

    def release_orphans(self, artifacts: Iterable[tuple[Kind, str]]) -> int:
        """Release the artifacts no live item points at any more (after a cube was
        dropped, its caches and adapters must not outlive it); returns how many."""
        wanted = list(artifacts)
        users = self.catalog.artifact_users([digest for _, digest in wanted])
        released = 0
        for kind, digest in wanted:
            if not users.get(digest):
                self.release(kind, digest)
                released += 1
        return released

    def purge(self, item: MemoryItem) -> list[int]:
        """After `item` was hard-forgotten: delete the artifacts that hold its text (its own,
        or those of every KV cache and adapter derived from it), on disk and in memory.
        Returns the ids of the derived items whose artifacts were released."""
        if item.kind is not Kind.PLAINTEXT:
            self.release_unused(item, item.artifact)
            return []
        released = []
        for derived in self.catalog.derived_items(item.cube_id, item.id):
            if self.release_unused(derived, derived.artifact):
                released.append(derived.id)
        return released
