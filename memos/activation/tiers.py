"""Tiers for loaded KV caches: GPU and CPU RAM in process, disk underneath.

Each in-process tier holds caches under a byte budget; RAM holds loaded caches that fit
and, when the model runs on an accelerator, the GPU tier holds device copies of the
hottest (inclusive: evicting a GPU copy leaves the RAM copy). Which cache leaves a full
tier is an `EvictionPolicy`: `LeastRecentlyUsed` (the baseline) or `CostAware`, which
keeps the caches whose loss would cost the most per byte, and among equally costly ones
the most recently used (GreedyDual-Size).

The disk tier is the artifact store: when its KV files exceed their budget the least
recently used files are deleted and their items become `cold`; a fresh (not stale) cold
item is rebuilt from its plaintext on next use, since derived memory can always be made
again from its sources.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from memos.activation.kvfile import KVCache
from memos.errors import ConfigError
from memos.models import Tier
from memos.stores.artifacts import FileArtifactStore

# Until a load has been timed, assume this disk read rate (bytes per second).
_DEFAULT_READ_BPS = 500e6


@dataclass
class Entry:
    """A cache held in a tier, with what eviction weighs."""

    cache: KVCache
    size: int
    cost_s: float  # seconds that losing it costs (`TierCache.miss_cost`)
    last_used: int = 0
    priority: float = 0.0


class EvictionPolicy(Protocol):
    """Orders a tier's entries for eviction: the lowest priority leaves first."""

    name: str

    def priority(self, entry: Entry, tick: int) -> float: ...

    def evicted(self, entry: Entry) -> None:
        """Called with each evicted entry (GreedyDual ages everything through it)."""
        ...


class LeastRecentlyUsed:
    """The baseline: the entry used longest ago leaves first."""

    name = "lru"

    def priority(self, entry: Entry, tick: int) -> float:
        return float(tick)

    def evicted(self, entry: Entry) -> None:
        """LRU keeps no state beyond recency."""


class CostAware:
    """GreedyDual-Size: priority = age + miss cost / bytes, set when an entry is stored or
    used. The age term (the priority of the last evicted entry) rises over time, so among
    entries of equal cost per byte the one used longest ago leaves first (this is LRU), and
    a cache that is dear to lose for its size (`TierCache.miss_cost`) outlives cheaper
    ones used as recently.

    Not weighed by use counts (GreedyDual-Size-Frequency, this policy until 2026-12-05):
    on agent traces whose topics come and go, a finished topic's caches keep the counts
    they earned and hold RAM the next topic needs; on the scheduler benchmark's four traces
    that cost up to 15 points of byte hit rate against LRU (docs/BENCHMARKS.md)."""

    name = "cost"

    def __init__(self) -> None:
        self.age = 0.0

    def priority(self, entry: Entry, tick: int) -> float:
        return self.age + entry.cost_s * 1e9 / max(entry.size, 1)

    def evicted(self, entry: Entry) -> None:
        self.age = max(self.age, entry.priority)


def eviction_policy(name: str) -> EvictionPolicy:
    """Raises: ConfigError: an unknown policy name."""
    if name == "lru":
        return LeastRecentlyUsed()
    if name == "cost":
        return CostAware()
    raise ConfigError(f"unknown KV eviction policy {name!r}; use 'cost' or 'lru'")


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
        policy: str = "cost",
    ) -> None:
        self.store = store
        self.accelerator = accelerator
        self.budgets = {
            Tier.GPU: gpu_bytes if accelerator else 0,
            Tier.CPU: ram_bytes,
            Tier.DISK: disk_bytes,
        }
        self.policies = {Tier.GPU: eviction_policy(policy), Tier.CPU: eviction_policy(policy)}
        self._memory: dict[Tier, dict[str, Entry]] = {Tier.GPU: {}, Tier.CPU: {}}
        self._used = {Tier.GPU: 0, Tier.CPU: 0}
        self._tick = 0
        self._read_bps = _DEFAULT_READ_BPS
        self.counters: Counter[str] = Counter()
        self._lock = threading.RLock()

    @property
    def policy(self) -> str:
        return self.policies[Tier.CPU].name

    def get(
        self, digest: str, decode: Callable[[bytes], KVCache], *, cost_s: float = 0.0
    ) -> KVCache:
        """The cache, from the closest tier that has it, promoted toward the model;
        `cost_s` is what recomputing it would cost (eviction weighs it).

        Raises:
            NotFoundError: the file is gone (the item is cold).
            BackendError: the file is corrupt.
        """
        with self._lock:
            self._tick += 1
            gpu = self._memory[Tier.GPU]
            if self.accelerator and digest in gpu:
                self._used_now(Tier.GPU, gpu[digest])
                self.counters["gpu_hits"] += 1
                self.counters["hit_bytes"] += gpu[digest].size
                return gpu[digest].cache
            found = self._memory[Tier.CPU].get(digest)
            if found is not None:
                self._used_now(Tier.CPU, found)
                self.counters["ram_hits"] += 1
                self.counters["hit_bytes"] += found.size
                loaded = found.cache
            else:
                started = time.perf_counter()
                data = self.store.get(digest)
                loaded = decode(data)
                self._timed_read(len(data), time.perf_counter() - started)
                self.store.touch(digest)
                self.counters["disk_loads"] += 1
                self.counters["miss_bytes"] += loaded.nbytes
                self.counters["bytes_moved"] += len(data)
                self._insert(Tier.CPU, digest, loaded, cost_s)
            return self._to_accelerator(digest, loaded, cost_s)

    def worth_loading(self, digest: str, size: int, cost_s: float) -> bool:
        """Whether reading a cache beats recomputing it: in memory always; from disk when
        its estimated read time (bytes / the measured read rate) is below `cost_s`."""
        with self._lock:
            if digest in self._memory[Tier.CPU] or digest in self._memory[Tier.GPU]:
                return True
            return size / self._read_bps < cost_s

    def miss_cost(self, size: int, cost_s: float) -> float:
        """Seconds that losing a held cache costs: every cache in memory is also on disk,
        so the cheaper of reading it back and recomputing it (`cost_s`, its prefill).

        Weighing recompute time alone ranks caches by prefill seconds per byte, which is
        highest for the smallest prefixes (a forward pass has a fixed cost): such a policy
        keeps many small caches and drops the large ones that save the most bytes."""
        read_s = size / self._read_bps
        return min(cost_s, read_s) if cost_s > 0 else read_s

    def _timed_read(self, size: int, seconds: float) -> None:
        if seconds > 0 and size > 1 << 16:  # tiny reads time the syscall, not the disk
            self._read_bps = 0.8 * self._read_bps + 0.2 * (size / seconds)

    def put(self, digest: str, cache: KVCache, *, cost_s: float = 0.0) -> None:
        """Keep a freshly built cache hot (it was just written to disk)."""
        with self._lock:
            self._tick += 1
            self._insert(Tier.CPU, digest, cache.to("cpu"), cost_s)
            self._to_accelerator(digest, cache, cost_s)

    def _to_accelerator(self, digest: str, cache: KVCache, cost_s: float) -> KVCache:
        if not self.accelerator:
            return cache
        on_device = cache.to(self.accelerator)
        if digest not in self._memory[Tier.GPU]:
            self.counters["bytes_moved"] += on_device.nbytes
        self._insert(Tier.GPU, digest, on_device, cost_s)
        return on_device

    def _used_now(self, tier: Tier, entry: Entry) -> None:
        entry.last_used = self._tick
        entry.priority = self.policies[tier].priority(entry, self._tick)

    def _insert(self, tier: Tier, digest: str, cache: KVCache, cost_s: float) -> None:
        entries = self._memory[tier]
        if digest in entries:
            self._used_now(tier, entries[digest])
            return
        size = cache.nbytes
        budget = self.budgets[tier]
        if size > budget:
            self.counters[f"{tier.value}_too_large"] += 1
            return  # served this once, never cached: it would evict everything else
        policy = self.policies[tier]
        entry = Entry(cache, size, self.miss_cost(size, cost_s), last_used=self._tick)
        entry.priority = policy.priority(entry, self._tick)
        while entries and self._used[tier] + size > budget:
            victim = min(entries, key=lambda d: (entries[d].priority, entries[d].last_used))
            gone = entries.pop(victim)
            policy.evicted(gone)
            self._used[tier] -= gone.size
            self.counters[f"{tier.value}_evictions"] += 1
        entries[digest] = entry
        self._used[tier] += size

    def drop(self, digest: str) -> None:
        """Forget a cache in every in-process tier (its file is the caller's business)."""
        with self._lock:
            for tier, entries in self._memory.items():
                gone = entries.pop(digest, None)
                if gone is not None:
                    self._used[tier] -= gone.size

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

    def used(self, tier: Tier) -> int:
        """Bytes held in a tier now."""
        if tier is Tier.DISK:
            return sum(self.store.sizes().values())
        with self._lock:
            return self._used.get(tier, 0)

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
                "policy": self.policy,
                "tiers": tiers,
                "counters": dict(self.counters),
            }
