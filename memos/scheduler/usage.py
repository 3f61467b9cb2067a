"""What the scheduler watches: which memory prefixes generations read, how often, and how
long they are; plus the time a token of prefill costs here.

Every generation over retrieved memories reads a sequence of (item, version) pairs; each
of its leading runs is a prefix a cache could cover. Counting uses per run is reuse-based
admission: a run seen once is not worth a cache, a run seen again probably is. Keys hold
versions, so an updated memory starts new runs and the old ones fade.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Collection
from dataclasses import dataclass

from memos.kernel.events import Generated
from memos.models import MemoryItem

PrefixKey = tuple[int, str, tuple[tuple[int, int], ...]]  # (cube, template, sources)
# Before any generation has been timed: SmolLM2-135M on one CPU core reads ~150 tokens/s.
_DEFAULT_TOKEN_S = 0.006
# Runs remembered at most; the least used go first.
_MAX_PREFIXES = 50_000


@dataclass
class Prefix:
    """A leading run of memories that generations have read."""

    key: PrefixKey
    tokens: int
    uses: int = 0
    last_used: float = 0.0
    cache: int | None = None  # the activation item built for it

    @property
    def cube_id(self) -> int:
        return self.key[0]

    @property
    def template(self) -> str:
        return self.key[1]

    @property
    def sources(self) -> tuple[tuple[int, int], ...]:
        return self.key[2]

    def subject(self) -> str:
        return "prefix " + ",".join(f"#{item}v{version}" for item, version in self.sources)


class UsageTracker:
    """Counts prefix reuse and times prefill; safe to feed from any thread."""

    def __init__(self) -> None:
        self._prefixes: dict[PrefixKey, Prefix] = {}
        # (cube, item) -> the runs that contain it: a change finds its runs without a scan.
        self._by_item: dict[tuple[int, int], set[PrefixKey]] = {}
        self._token_s = _DEFAULT_TOKEN_S
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def generated(self, event: Generated) -> None:
        """Count each leading run of the generation's memories as used once more."""
        now = time.monotonic()
        with self._lock:
            if event.cached:
                self.hits += 1
            else:
                self.misses += 1
                if event.tokens and event.ttft_s > 0:
                    # Without a cache the time to first token is mostly prefill.
                    per_token = event.ttft_s / max(event.tokens[-1], 1)
                    self._token_s = 0.8 * self._token_s + 0.2 * per_token
            for length in range(1, len(event.sources) + 1):
                key = (event.cube_id, event.template, event.sources[:length])
                found = self._prefixes.get(key)
                if found is None:
                    found = self._add(Prefix(key, event.tokens[length]))
                found.uses += 1
                found.last_used = now
            if len(self._prefixes) > _MAX_PREFIXES:
                self._shrink()

    def _add(self, prefix: Prefix) -> Prefix:
        self._prefixes[prefix.key] = prefix
        for item, _ in prefix.sources:
            self._by_item.setdefault((prefix.cube_id, item), set()).add(prefix.key)
        return prefix

    def _drop(self, key: PrefixKey) -> None:
        prefix = self._prefixes.pop(key, None)
        if prefix is None:
            return
        for item, _ in prefix.sources:
            keys = self._by_item.get((prefix.cube_id, item))
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._by_item[(prefix.cube_id, item)]

    def _shrink(self) -> None:
        ranked = sorted(
            self._prefixes.values(), key=lambda p: (p.cache is not None, p.uses, p.last_used)
        )
        for prefix in ranked[: len(self._prefixes) - _MAX_PREFIXES * 9 // 10]:
            self._drop(prefix.key)

    def prefill_s(self, tokens: int) -> float:
        """Estimated seconds to prefill `tokens` tokens here."""
        return tokens * self._token_s

    def candidates(self, min_uses: int, min_tokens: int) -> list[Prefix]:
        """Uncached runs used at least `min_uses` times, of at least `min_tokens` tokens."""
        with self._lock:
            return [
                p
                for p in self._prefixes.values()
                if p.cache is None and p.uses >= min_uses and p.tokens >= min_tokens
            ]

    def uncovered(self, prefix: Prefix, also: Collection[PrefixKey] = ()) -> int:
        """Reads of `prefix` that no cached longer run (nor one in `also`, say chosen for
        caching in this pass) would serve. A generation uses the cache of its longest
        cached leading run, so once [a, b, c] is cached, a cache of [a, b] only serves the
        reads of [a, b] that went on with something other than c. Each read is counted
        once: a cached run's reads include those of its own longer runs, so only the
        shortest cached runs beyond `prefix` are subtracted."""
        covering = set(also)
        length = len(prefix.sources)
        with self._lock:
            served = 0
            for key in self._by_item.get((prefix.cube_id, prefix.sources[0][0]), ()):
                found = self._prefixes.get(key)
                if (
                    found is None
                    or len(key[2]) <= length
                    or key[:2] != prefix.key[:2]
                    or key[2][:length] != prefix.sources
                    or (found.cache is None and key not in covering)
                ):
                    continue
                between = ((*key[:2], key[2][:n]) for n in range(length + 1, len(key[2])))
                if not any(self._covers(k, covering) for k in between):
                    served += found.uses
            return max(prefix.uses - served, 0)

    def _covers(self, key: PrefixKey, covering: set[PrefixKey]) -> bool:
        found = self._prefixes.get(key)
        return key in covering or (found is not None and found.cache is not None)

    def cached(self) -> list[Prefix]:
        with self._lock:
            return [p for p in self._prefixes.values() if p.cache is not None]

    def mark_cached(self, key: PrefixKey, item_id: int | None) -> None:
        with self._lock:
            found = self._prefixes.get(key)
            if found is not None:
                found.cache = item_id

    def adopt(self, cube_id: int, cache: MemoryItem) -> None:
        """Know an existing prefix cache (built by an earlier process)."""
        sources = tuple((int(d["id"]), int(d["version"])) for d in cache.derived_from)
        key = (cube_id, str(cache.attributes.get("template", "")), sources)
        tokens = int(cache.attributes.get("prefix_tokens", 0))
        with self._lock:
            found = self._prefixes.get(key) or self._add(Prefix(key, tokens))
            found.cache = cache.id

    def forget_item(self, cube_id: int, item_id: int, *, before: int | None = None) -> None:
        """Runs containing the item (only its versions below `before`, when given) will not
        be read again: it was forgotten, or changed to a new version."""
        with self._lock:
            for key in list(self._by_item.get((cube_id, item_id), ())):
                if before is None or any(
                    item == item_id and version < before for item, version in key[2]
                ):
                    self._drop(key)

    def forget_cube(self, cube_id: int) -> None:
        with self._lock:
            for key in [k for k in self._prefixes if k[0] == cube_id]:
                self._drop(key)

    def __len__(self) -> int:
        return len(self._prefixes)
