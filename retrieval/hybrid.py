"""Hybrid retrieval: vector + BM25, fused, expanded over links, re-weighted, re-ranked.

The stages, in order (each one's contribution is in `Hit.scores`):

1. candidates: the top `pool` of the vector index and of the lexical index, filtered
   (status, TTL, visibility, type, source, author, tags, time) in SQL;
2. fusion: `vector * cos + lexical * bm25 / max(bm25)`; a candidate seen by one signal
   only gets its exact cosine from the stored vector;
3. author: items whose author the query names are boosted (`x (1 + author)`);
4. graph: neighbours of the strongest hits gain `graph * link weight * their score`;
5. priors: importance, recency of the last change, access count, (without `as_of`)
   a discount for facts whose validity has ended, and a boost for items valid on a date
   the query names (`when`);
6. re-ranking of the head by an optional `Reranker`;
7. `as_of`: hits are mapped to the version valid then (dropped if none was).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, timedelta
from typing import Protocol

import numpy as np

from memos.errors import InvalidInputError, NotFoundError
from memos.models import Candidate, CubeInfo, Hit, SearchFilters
from memos.protocols import Embedder, FloatArray, IdArray, SearchSource
from memos.retrieval.rerank import Reranker
from memos.text import mentions, query_dates

_HALF_LIFE_DAYS = 30.0
# Weights scale signals in [0, 1]; beyond this one signal drowns the rest anyway.
MAX_WEIGHT = 1000.0


class VectorSearch(Protocol):
    """A cube's vector index as retrieval uses it (caught up with the log on each call)."""

    def search(self, query: FloatArray, k: int) -> tuple[IdArray, FloatArray]: ...


@dataclass(frozen=True, slots=True)
class SearchWeights:
    """Per-signal weights; 0 turns a stage off.

    The defaults were picked from a small grid on LoCoMo conversations 0-4 only; recall on
    the held-out conversations 5-9 is reported beside them in docs/BENCHMARKS.md.
    """

    vector: float = 0.75
    lexical: float = 0.5
    author: float = 0.7
    graph: float = 0.3
    importance: float = 0.2
    recency: float = 0.05
    access: float = 0.05
    ended: float = 0.5
    rerank: float = 0.5
    when: float = 0.3

    @classmethod
    def of(cls, value: SearchWeights | Mapping[str, float] | None) -> SearchWeights:
        """Weights from an instance, a partial mapping, or None (defaults).

        Raises:
            InvalidInputError: an unknown name or a negative weight.
        """
        if value is None:
            return cls()
        if isinstance(value, SearchWeights):
            return value
        known = {f.name for f in fields(cls)}
        unknown = set(value) - known
        if unknown:
            raise InvalidInputError(
                f"unknown search weight(s) {', '.join(sorted(unknown))}; known: "
                f"{', '.join(sorted(known))}"
            )
        for name, weight in value.items():
            if (
                isinstance(weight, bool)
                or not isinstance(weight, int | float)
                or not math.isfinite(weight)
                or not 0 <= weight <= MAX_WEIGHT
            ):
                raise InvalidInputError(
                    f"search weight {name} must be a finite number >= 0 and <= "
                    f"{MAX_WEIGHT:g}, got {weight!r}"
                )
        return replace(cls(), **{k: float(v) for k, v in value.items()})


class HybridRetriever:
    """Runs the stages above for one cube; holds no per-query state."""

    def __init__(
        self,
        store: SearchSource,
        embedder: Embedder,
        *,
        reranker: Reranker | None = None,
        pool: int = 100,
        expand_top: int = 50,
        exhaustive_limit: int = 5000,
        unwritten: Callable[[Iterable[int]], Mapping[int, int]] | None = None,
    ) -> None:
        """`unwritten` gives the access counts recorded but not yet in the store (a batched
        access log), so the access prior does not depend on when the batch was written."""
        self.store = store
        self.embedder = embedder
        self.reranker = reranker
        self.pool = pool
        self.expand_top = expand_top
        self.exhaustive_limit = exhaustive_limit
        self.unwritten = unwritten

    def search(
        self,
        cube: CubeInfo,
        index: VectorSearch,
        actor: str,
        query: str,
        *,
        k: int,
        filters: SearchFilters,
        weights: SearchWeights,
        now: datetime,
    ) -> list[Hit]:
        signals: dict[int, dict[str, float]] = {}
        vector: dict[int, float] = {}
        lexical: dict[int, float] = {}
        query_vector = self.embedder.embed_queries([query])
        if weights.vector > 0:
            # The index catches up with the log first (other processes, crash leftovers).
            ids, scores = index.search(query_vector, self.pool)
            vector = {int(i): float(s) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0}
        if weights.lexical > 0:
            lexical = dict(self.store.lexical_search(cube.id, actor, query, self.pool))
        found = self.store.candidates(
            cube.id, actor, sorted(vector.keys() | lexical.keys()), filters
        )
        if len(found) < k and self.pool in (len(vector), len(lexical)):
            # Filters emptied truncated candidate pools (say, 10 concepts among 100k
            # facts): when few enough items pass the filters, score all of them exactly.
            admitted = self.store.admitted_ids(cube.id, actor, filters, self.exhaustive_limit)
            if admitted:
                extra = [i for i in admitted if i not in found]
                found.update(self.store.candidates(cube.id, actor, extra, filters))
        if not found:
            return []
        top_lexical = max(lexical.values(), default=0.0) or 1.0
        self._fill_vectors(cube, found, vector, query_vector)
        named = mentions(query, {c.author for c in found.values() if c.author})
        spans = query_dates(query) if weights.when > 0 else []
        base = {
            i: self._fuse(c, vector, lexical, top_lexical, named, weights, signals)
            for i, c in found.items()
        }
        bonus = self._expand(cube, actor, filters, base, found, weights, vector, query_vector)
        recent = self.unwritten(found) if self.unwritten and weights.access > 0 else {}
        final: dict[int, float] = {}
        for item_id, candidate in found.items():
            if item_id not in base:  # reached through a link only
                base[item_id] = self._fuse(
                    candidate, vector, lexical, top_lexical, named, weights, signals
                )
            parts = signals[item_id]
            if item_id in bonus:
                parts["graph"] = bonus[item_id]
            uses = candidate.access_count + recent.get(item_id, 0)
            prior = self._prior(candidate, uses, weights, filters, now, spans, parts)
            final[item_id] = (base[item_id] + bonus.get(item_id, 0.0)) * prior
        # A candidate with no evidence at all (orthogonal vector, no shared term) is noise.
        ranked = sorted((i for i in final if final[i] > 0), key=lambda i: (-final[i], i))
        if self.reranker is not None and weights.rerank > 0:
            ranked = self._rerank(cube, actor, query, ranked[: max(3 * k, 20)], final, weights,
                                  signals) + ranked[max(3 * k, 20) :]  # fmt: skip
        return self._materialise(cube, actor, ranked, k, filters, final, signals)

    @staticmethod
    def _fuse(
        candidate: Candidate,
        vector: Mapping[int, float],
        lexical: Mapping[int, float],
        top_lexical: float,
        named: set[str],
        weights: SearchWeights,
        signals: dict[int, dict[str, float]],
    ) -> float:
        parts = {
            "vector": max(vector.get(candidate.id, 0.0), 0.0),
            "lexical": lexical.get(candidate.id, 0.0) / top_lexical,
        }
        fused = weights.vector * parts["vector"] + weights.lexical * parts["lexical"]
        parts["fused"] = fused
        if weights.author > 0 and candidate.author in named:
            fused *= 1 + weights.author
            parts["author"] = weights.author
        signals[candidate.id] = parts
        return fused

    def _fill_vectors(
        self,
        cube: CubeInfo,
        found: Mapping[int, Candidate],
        vector: dict[int, float],
        query_vector: FloatArray,
    ) -> None:
        """Exact cosine for candidates the vector index did not return in its pool."""
        missing = [i for i in found if i not in vector]
        if missing:
            stored = self.store.vectors_of(cube.id, missing)
            for item_id, row in stored.items():
                vector[item_id] = float(row @ query_vector[0])

    def _expand(
        self,
        cube: CubeInfo,
        actor: str,
        filters: SearchFilters,
        base: Mapping[int, float],
        found: dict[int, Candidate],
        weights: SearchWeights,
        vector: dict[int, float],
        query_vector: FloatArray,
    ) -> dict[int, float]:
        """Graph stage: neighbours of strong hits inherit a damped share of their score."""
        if weights.graph <= 0:
            return {}
        strong = sorted(base, key=lambda i: -base[i])[: self.expand_top]
        strong_set = set(strong)
        bonus: dict[int, float] = {}
        for src, dst, _kind, link_weight in self.store.neighbours(cube.id, strong):
            for near, far in ((src, dst), (dst, src)):
                if near in strong_set:
                    gain = weights.graph * link_weight * base[near]
                    if gain > bonus.get(far, 0.0):
                        bonus[far] = gain
        new = [i for i in bonus if i not in found]
        if new:
            # The far ends pass the same filters and permission checks as any candidate.
            admitted = self.store.candidates(cube.id, actor, new, filters)
            found.update(admitted)
            self._fill_vectors(cube, admitted, vector, query_vector)
            for item_id in new:
                if item_id not in admitted:
                    del bonus[item_id]
        return bonus

    @staticmethod
    def _prior(
        candidate: Candidate,
        uses: int,
        weights: SearchWeights,
        filters: SearchFilters,
        now: datetime,
        spans: Sequence[tuple[date, date]],
        parts: dict[str, float],
    ) -> float:
        prior = 1.0 + weights.importance * (candidate.importance - 0.5)
        age_days = max((now - candidate.updated_at).total_seconds(), 0.0) / 86400
        prior *= 1.0 + weights.recency * math.pow(0.5, age_days / _HALF_LIFE_DAYS)
        prior *= 1.0 + weights.access * min(1.0, math.log1p(uses) / math.log1p(100))
        if filters.as_of is None and candidate.valid_to is not None and candidate.valid_to <= now:
            prior *= weights.ended
            parts["ended"] = weights.ended
        if spans and _within(candidate.valid_from.date(), spans):
            prior *= 1 + weights.when
            parts["when"] = weights.when
        parts["prior"] = prior
        return prior

    def _rerank(
        self,
        cube: CubeInfo,
        actor: str,
        query: str,
        head: list[int],
        final: dict[int, float],
        weights: SearchWeights,
        signals: dict[int, dict[str, float]],
    ) -> list[int]:
        assert self.reranker is not None
        items = {i.id: i for i in self.store.fetch(cube.id, actor, head, limit=len(head))}
        order = [i for i in head if i in items]
        if not order:
            return head
        scores = np.asarray(
            self.reranker.score(query, [items[i].content or "" for i in order]), dtype=np.float64
        )
        spread = float(scores.max() - scores.min()) or 1.0
        top = max(final[i] for i in order) or 1.0
        for item_id, raw in zip(order, scores, strict=True):
            rerank = (float(raw) - float(scores.min())) / spread
            signals[item_id]["rerank"] = rerank
            final[item_id] = (1 - weights.rerank) * final[item_id] / top + weights.rerank * rerank
        return sorted(order, key=lambda i: (-final[i], i))

    def _materialise(
        self,
        cube: CubeInfo,
        actor: str,
        ranked: Sequence[int],
        k: int,
        filters: SearchFilters,
        final: Mapping[int, float],
        signals: Mapping[int, dict[str, float]],
    ) -> list[Hit]:
        hits: list[Hit] = []
        start = 0
        while len(hits) < k and start < len(ranked):
            batch = list(ranked[start : start + 2 * k])
            start += len(batch)
            for current in self.store.fetch(
                cube.id, actor, batch, limit=len(batch), statuses=filters.statuses
            ):
                item = current
                if filters.as_of is not None and not _valid_at(
                    item.valid_from, item.valid_to, filters.as_of
                ):
                    try:
                        item = self.store.get_item(item.id, actor, as_of=filters.as_of)
                    except NotFoundError:
                        continue
                scores = dict(signals[item.id])
                scores["final"] = final[item.id]
                hits.append(Hit(item=item, score=final[item.id], scores=scores))
                if len(hits) == k:
                    break
        return hits


# Conversations report what happened a few days before: "last night", "on Saturday".
WHEN_SLACK_DAYS = 7


def _within(day: date, spans: Sequence[tuple[date, date]]) -> bool:
    return any(
        first - timedelta(days=1) <= day <= last + timedelta(days=WHEN_SLACK_DAYS)
        for first, last in spans
    )


def _valid_at(start: datetime, end: datetime | None, moment: datetime) -> bool:
    return start <= moment and (end is None or moment < end)
