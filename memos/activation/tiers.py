"""Tiers for loaded KV caches: GPU and CPU RAM in process, disk underneath.

Each in-process tier is an LRU under a byte budget; RAM holds every loaded cache that fits
and, when the model runs on an accelerator, the GPU tier holds device copies of the hottest
(inclusive: evicting a GPU copy leaves the RAM copy). The disk tier is the artifact store:
when its KV files exceed their budget the least recently used files are deleted and their
items become `cold`; a fresh (not stale) cold item is rebuilt from its plaintext on next
use, since derived memory can always be made again from its sources.
"""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

from memos.activation.kvfile import KVCache
from memos.models import Tier
from memos.stores.artifacts import FileArtifactStore


class TierCache:
    """Loaded KV caches by artifact digest, kept under per-tier byte budgets."""

    def __init__(
        self,
        store: FileArtifactStore,
        *,
        ram_bytes: int,
        disk_bytes: int,
        gpu_bytes: int = 0,
        accelerator: str | None = None,
    ) -> None:
        self.store = store
        self.accelerator = accelerator
        self.budgets = {
            Tier.GPU: gpu_bytes if accelerator else 0,
            Tier.CPU: ram_bytes,
            Tier.DISK: disk_bytes,
        }
        self._memory: dict[Tier, OrderedDict[str, KVCache]] = {
            Tier.GPU: OrderedDict(),
            Tier.CPU: OrderedDict(),
        }
        self._used = {Tier.GPU: 0, Tier.CPU: 0}
        self.counters: Counter[str] = Counter()
        self._lock = threading.RLock()

    def get(self, digest: str, decode: Callable[[bytes], KVCache]) -> KVCache:
        """The cache, from the closest tier that has it, promoted toward the model.

        Raises:
            NotFoundError: the file is gone (the item is cold).
            BackendError: the file is corrupt.
        """
        with self._lock:
            gpu = self._memory[Tier.GPU]
            if self.accelerator and digest in gpu:
                gpu.move_to_end(digest)
                self.counters["gpu_hits"] += 1
                return gpu[digest]
            ram = self._memory[Tier.CPU]
            loaded = ram.get(digest)
            if loaded is not None:
                ram.move_to_end(digest)
                self.counters["ram_hits"] += 1
            else:
                loaded = decode(self.store.get(digest))
                self.store.touch(digest)
                self.counters["disk_loads"] += 1
                self._insert(Tier.CPU, digest, loaded)
            return self._to_accelerator(digest, loaded)

    def put(self, digest: str, cache: KVCache) -> None:
        """Keep a freshly built cache hot (it was just written to disk)."""
        with self._lock:
            self._insert(Tier.CPU, digest, cache.to("cpu"))
            self._to_accelerator(digest, cache)

    def _to_accelerator(self, digest: str, cache: KVCache) -> KVCache:
        if not self.accelerator:
            return cache
        on_device = cache.to(self.accelerator)
        self._insert(Tier.GPU, digest, on_device)
        return on_device

    def _insert(self, tier: Tier, digest: str, cache: KVCache) -> None:
        entries = self._memory[tier]
        if digest in entries:
            entries.move_to_end(digest)
            return
        size = cache.nbytes
        budget = self.budgets[tier]
        if size > budget:
            self.counters[f"{tier.value}_too_large"] += 1
            return  # served this once, never cached: it would evict everything else
        while entries and self._used[tier] + size > budget:
            _, evicted = entries.popitem(last=False)
            self._used[tier] -= evicted.nbytes
            self.counters[f"{tier.value}_evictions"] += 1
        entries[digest] = cache
        self._used[tier] += size

    def drop(self, digest: str) -> None:
        """Forget a cache in every in-process tier (its file is the caller's business)."""
        with self._lock:
            for tier, entries in self._memory.items():
                gone = entries.pop(digest, None)
                if gone is not None:
                    self._used[tier] -= gone.nbytes

    def clear(self) -> None:
        with self._lock:
            for digest in list(self._memory[Tier.CPU]) + list(self._memory[Tier.GPU]):
                self.drop(digest)

    def where(self, digest: str) -> Tier:
        """The closest tier holding a cache; COLD when no copy exists."""
        if digest in self._memory[Tier.GPU]:
            return Tier.GPU
        if digest in self._memory[Tier.CPU]:
            return Tier.CPU
        return Tier.DISK if self.store.contains(digest) else Tier.COLD

    def enforce_disk(self, protect: Iterable[str] = ()) -> list[str]:
        """Delete least recently used KV files until the disk budget holds; returns them."""
        keep = set(protect)
        with self._lock:
            sizes = self.store.sizes()
            total = sum(sizes.values())
            deleted: list[str] = []
            for digest in sorted(sizes, key=self.store.last_used):
                if total <= self.budgets[Tier.DISK]:
                    break
                if digest in keep:
                    continue
                self.store.delete(digest)
                self.drop(digest)
                total -= sizes[digest]
                deleted.append(digest)
                self.counters["disk_evictions"] += 1
            return deleted

    def stats(self) -> dict[str, Any]:
        """Entries, bytes and budget per tier, and hit/load/eviction counters."""
        sizes = self.store.sizes()
        with self._lock:
            tiers: dict[str, Any] = {
                tier.value: {
                    "entries": len(self._memory[tier]),
                    "bytes": self._used[tier],
                    "budget_bytes": self.budgets[tier],
                }
                for tier in (Tier.GPU, Tier.CPU)
            }
            tiers[Tier.DISK.value] = {
                "entries": len(sizes),
                "bytes": sum(sizes.values()),
                "budget_bytes": self.budgets[Tier.DISK],
            }
            return {
                "accelerator": self.accelerator,
                "tiers": tiers,
                "counters": dict(self.counters),
            }
