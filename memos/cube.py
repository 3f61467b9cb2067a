"""MemCube: a named, owned container of memories, and the SDK's main working object."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from memos import validation
from memos.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from memos.models import (
    SEARCHABLE_STATUSES,
    CubeInfo,
    Grant,
    Hit,
    Kind,
    Link,
    MemoryItem,
    Operation,
    Permission,
    SearchFilters,
    Status,
    Version,
    Visibility,
)
from memos.retrieval.hybrid import SearchWeights
from memos.retrieval.text import vector_text
from memos.stores.base import ItemDraft, Written
from memos.stores.jsonl import write_export
from memos.stores.links import LinkDraft
from memos.stores.sql import SqlStore
from memos.timeutil import parse_time, parse_ttl

if TYPE_CHECKING:
    from memos.agents.concepts import Abstraction, Concept, ConceptChange
    from memos.agents.events import Utterance
    from memos.agents.graph import MemoryGraph
    from memos.agents.reader import MemReader
    from memos.agents.report import IngestReport
    from memos.agents.zettelkasten import NoteResult, NoteSettings
    from memos.mos import MemOS
    from memos.parametric.data import QAFunction
    from memos.protocols import LLMClient
    from memos.retrieval.cube_index import CubeIndex
    from memos.runtime.cube_runtime import CubeRuntime, Generation

ItemRef = int | str


def _window(
    start: datetime | str | None, end: datetime | str | None, name: str
) -> tuple[datetime | None, datetime | None]:
    low = parse_time(start, field=f"{name}_from")
    high = parse_time(end, field=f"{name}_to")
    if low is not None and high is not None and high <= low:
        raise InvalidInputError(f"{name}_to must be after {name}_from")
    return low, high


def _enum(value: Any, enum: type[Any], field: str) -> Any:
    try:
        return enum(value)
    except ValueError:
        choices = ", ".join(e.value for e in enum)
        raise InvalidInputError(f"{field} {value!r} is not one of: {choices}") from None


class MemCube:
    """Memories of one cube, as seen by the acting user of the `MemOS` that opened it."""

    def __init__(self, mos: MemOS, info: CubeInfo) -> None:
        self._mos = mos
        self.info = info

    def __repr__(self) -> str:
        return f"MemCube(name={self.info.name!r}, id={self.info.id}, user={self.user!r})"

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def id(self) -> int:
        return self.info.id

    @property
    def user(self) -> str:
        return self._mos.user

    @property
    def _store(self) -> SqlStore:
        return self._mos.store

    @property
    def _index(self) -> CubeIndex:
        return self._mos.index_of(self.info)

    # -- helpers ------------------------------------------------------------------------

    def _id(self, ref: ItemRef) -> int:
        """An item id from an int id, a numeric string, or a uid."""
        if isinstance(ref, bool):
            raise InvalidInputError(f"{ref!r} is not an item id")
        if isinstance(ref, int):
            return ref
        if isinstance(ref, str) and ref.strip().isdigit():
            return int(ref.strip())
        if isinstance(ref, str) and ref.strip():
            return int(self._store.resolve_uid(ref.strip(), self.id))
        raise InvalidInputError(f"{ref!r} is not an item id or uid")

    def _content(self, text: object) -> str:
        return validation.content(text, max_chars=self._mos.settings.max_content_chars)

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        return self._mos.embedder.embed_documents(texts)

    def _draft(
        self,
        content: object,
        *,
        type: str = "fact",
        source: str | None = None,
        source_ref: str | None = None,
        tags: Iterable[str] | str | None = None,
        keywords: Iterable[str] | str | None = None,
        context: str | None = None,
        valid_from: datetime | str | None = None,
        valid_to: datetime | str | None = None,
        ttl: timedelta | float | str | None = None,
        attributes: Mapping[str, Any] | None = None,
        importance: float = 0.5,
        confidence: float = 1.0,
        visibility: Visibility | str = Visibility.SHARED,
        author: str | None = None,
        status: Status | str = Status.ACTIVATED,
        created_by: str | None = None,
    ) -> ItemDraft:
        start = parse_time(valid_from, field="valid_from")
        end = parse_time(valid_to, field="valid_to")
        if start is not None and end is not None and end <= start:
            raise InvalidInputError("valid_to must be after valid_from")
        life = parse_ttl(ttl)
        initial = _enum(status, Status, "status")
        if initial not in (Status.GENERATED, Status.ACTIVATED):
            raise InvalidInputError("a new memory starts as 'generated' or 'activated'")
        return ItemDraft(
            content=self._content(content),
            type=validation.item_type(type),
            status=initial,
            source=validation.optional_text(source, field="source", max_chars=128),
            source_ref=validation.optional_text(source_ref, field="source_ref"),
            tags=validation.labels(tags),
            keywords=validation.labels(keywords, field="keywords"),
            context=validation.optional_text(context, field="context", max_chars=4096),
            valid_from=start,
            valid_to=end,
            ttl=life,
            attributes=validation.attributes(attributes),
            importance=validation.unit_interval(importance, field="importance"),
            confidence=validation.unit_interval(confidence, field="confidence"),
            visibility=_enum(visibility, Visibility, "visibility"),
            author=validation.optional_text(author, field="author", max_chars=128),
            created_by=created_by,
        )

    def _write_many(self, drafts: Sequence[ItemDraft]) -> list[MemoryItem]:
        vectors = self._embed([vector_text(d.content or "", d.author) for d in drafts])
        written = self._store.add_items(self.id, self.user, drafts, vectors)
        self._index.apply(written, vectors, np.zeros(0, dtype=np.int64))
        return [w.item for w in written]

    # -- writing ------------------------------------------------------------------------

    def add(self, content: str, **fields: Any) -> MemoryItem:
        """Remember a piece of text.

        Fields: type, source, source_ref, tags, keywords, context, valid_from, valid_to,
        ttl (seconds, timedelta or '7d'), attributes, importance, confidence, visibility,
        author, status ('activated' or 'generated').

        Raises:
            InvalidInputError: empty or oversized text, a bad date, type or field.
            PermissionDeniedError: the user may not write to this cube.
        """
        return self._write_many([self._draft(content, **fields)])[0]

    def add_many(self, records: Iterable[str | Mapping[str, Any]]) -> list[MemoryItem]:
        """Remember many texts in one transaction and one embedding batch.

        Each record is a string or a mapping with `content` and the fields of `add`.
        Nothing is stored if any record is invalid.
        """
        drafts = []
        for position, record in enumerate(records):
            try:
                if isinstance(record, str):
                    drafts.append(self._draft(record))
                else:
                    fields = dict(record)
                    drafts.append(self._draft(fields.pop("content", None), **fields))
            except InvalidInputError as exc:
                raise InvalidInputError(f"record {position}: {exc}") from None
            except TypeError as exc:
                raise InvalidInputError(f"record {position}: {exc}") from None
        return self._write_many(drafts) if drafts else []

    def update(
        self,
        item: ItemRef,
        content: str | None = None,
        *,
        force: bool = False,
        ttl: timedelta | float | str | None = None,
        **meta: Any,
    ) -> MemoryItem:
        """Change an item's text and/or metadata; the old state stays as a version.

        Raises:
            NotFoundError: no such item in this cube.
            ConflictError: the item is frozen (pass force=True), archived, merged or gone.
        """
        item_id = self._id(item)
        changes = self._changes(meta)
        if ttl is not None:
            life = parse_ttl(ttl)
            assert life is not None
            changes["expires_at"] = self._mos.clock() + life
        vector = None
        if content is not None:
            changes["content"] = self._content(content)
        if "content" in changes or "author" in changes:
            # The vector covers author and content, so either change re-embeds.
            current = self._store.get_item(item_id, self.user, cube_id=self.id)
            text = changes.get("content", current.content) or ""
            vector = self._embed([vector_text(text, changes.get("author", current.author))])[0]
        if not changes:
            raise InvalidInputError("nothing to update: give new content or a field to change")
        written = self._store.update_item(
            item_id, self.user, changes, vector, cube_id=self.id, force=force
        )
        self._reindex(written, vector)
        return written.item

    def _changes(self, meta: Mapping[str, Any]) -> dict[str, Any]:
        checks: dict[str, Any] = {
            "type": validation.item_type,
            "tags": validation.labels,
            "keywords": lambda v: validation.labels(v, field="keywords"),
            "context": lambda v: validation.optional_text(v, field="context", max_chars=4096),
            "source": lambda v: validation.optional_text(v, field="source", max_chars=128),
            "source_ref": lambda v: validation.optional_text(v, field="source_ref"),
            "author": lambda v: validation.optional_text(v, field="author", max_chars=128),
            "valid_from": lambda v: parse_time(v, field="valid_from"),
            "valid_to": lambda v: parse_time(v, field="valid_to"),
            "attributes": validation.attributes,
            "importance": lambda v: validation.unit_interval(v, field="importance"),
            "confidence": lambda v: validation.unit_interval(v, field="confidence"),
            "visibility": lambda v: _enum(v, Visibility, "visibility"),
        }
        unknown = set(meta) - set(checks)
        if unknown:
            raise InvalidInputError(
                f"cannot update {', '.join(sorted(unknown))}; "
                f"updatable: {', '.join(sorted(checks))}"
            )
        return {key: checks[key](value) for key, value in meta.items()}

    def _reindex(self, written: Written, vector: np.ndarray | None) -> None:
        vectors = None if vector is None else vector.reshape(1, -1)
        removed = np.zeros(0, dtype=np.int64)
        if written.item.status is Status.DELETED or written.item.content is None:
            removed = np.asarray([written.item.id], dtype=np.int64)
            vectors = None
        self._index.apply([written] if vectors is not None else [], vectors, removed)
        if vectors is None:
            # A write with no vector still advances the log; let the index note it.
            self._index.catch_up()

    def set_status(self, item: ItemRef, status: Status | str) -> MemoryItem:
        """Move an item through the lifecycle (see `memos.lifecycle`).

        Raises:
            InvalidTransitionError: the state machine does not allow the move.
        """
        target = _enum(status, Status, "status")
        if target is Status.DELETED:
            return self.forget(item)
        written = self._store.set_status(self._id(item), self.user, target, cube_id=self.id)
        self._index.catch_up()
        return written.item

    def activate(self, item: ItemRef) -> MemoryItem:
        return self.set_status(item, Status.ACTIVATED)

    def archive(self, item: ItemRef) -> MemoryItem:
        return self.set_status(item, Status.ARCHIVED)

    def freeze(self, item: ItemRef) -> MemoryItem:
        return self.set_status(item, Status.FROZEN)

    def merge(self, item: ItemRef, into: ItemRef) -> MemoryItem:
        """Fold `item` into `into`; it stays in history with `merged_into` set."""
        target = self.get(into)
        written = self._store.set_status(
            self._id(item),
            self.user,
            Status.MERGED,
            cube_id=self.id,
            changes={"merged_into": target.id},
        )
        self._index.catch_up()
        return written.item

    def forget(self, item: ItemRef, *, hard: bool = False) -> MemoryItem:
        """Forget an item: it leaves search and `get`. `hard=True` also purges its text from
        every version, its vector and its links; derived KV caches and adapters go stale.

        Raises:
            NotFoundError: no such item in this cube.
        """
        written = self._store.forget(self._id(item), self.user, hard=hard, cube_id=self.id)
        self._reindex(written, None)
        if hard:
            # The vector must not survive in an index snapshot either.
            self._index.flush()
            # Nor the KV caches and adapters that encode its text (files and memory).
            self._mos.runtime_parts.purge(self._store.engine, written.item)
        return written.item

    def supersede(
        self, old: ItemRef, *, by: ItemRef, at: datetime | str | None = None
    ) -> tuple[MemoryItem, MemoryItem]:
        """Mark `old` as replaced by `by` from `at` (default: when `by` became valid).
        The old fact keeps its history and answers `as_of` questions; default search
        returns only the current one. Returns (old, new) as stored."""
        ended, replacing = self._store.supersede(
            self._id(old), self._id(by), self.user,
            at=parse_time(at, field="at"), cube_id=self.id,
        )  # fmt: skip
        self._index.catch_up()
        return ended.item, replacing.item

    def revert(self, item: ItemRef, version: int) -> MemoryItem:
        """Make an earlier version current again, as a new version."""
        item_id = self._id(item)
        old = next((v for v in self.history(item_id) if v.version == version), None)
        if old is None:
            raise NotFoundError(f"item {item_id} has no version {version}")
        if old.content is None:
            raise NotFoundError(f"version {version} of item {item_id} was purged")
        vector = self._embed([vector_text(old.content, old.item.author)])[0]
        written = self._store.revert(item_id, self.user, version, vector, cube_id=self.id)
        self._reindex(written, vector)
        return written.item

    def link(
        self,
        src: ItemRef,
        dst: ItemRef,
        *,
        kind: str = "related",
        reason: str | None = None,
        weight: float = 1.0,
    ) -> Link:
        """Link two items of this cube (idempotent for the same kind)."""
        return self._store.add_link(
            self.id,
            self.user,
            self._id(src),
            self._id(dst),
            validation.link_kind(kind),
            reason=validation.optional_text(reason, field="reason", max_chars=4096),
            weight=float(weight),
        )

    def link_many(self, edges: Iterable[tuple[ItemRef, ItemRef] | Mapping[str, Any]]) -> list[Link]:
        """Create many links in one transaction: (src, dst) pairs or mappings with `src`,
        `dst` and optionally `kind`, `reason`, `weight`, `created_by` (an agent making the
        link on the user's behalf). All or none are created."""
        drafts = []
        for edge in edges:
            spec = dict(edge) if isinstance(edge, Mapping) else {"src": edge[0], "dst": edge[1]}
            drafts.append(
                LinkDraft(
                    self._id(spec["src"]), self._id(spec["dst"]),
                    validation.link_kind(str(spec.get("kind", "related"))),
                    validation.optional_text(spec.get("reason"), field="reason", max_chars=4096),
                    float(spec.get("weight", 1.0)),
                    validation.optional_text(
                        spec.get("created_by"), field="created_by", max_chars=128
                    ),
                )
            )  # fmt: skip
        return self._store.add_links(self.id, self.user, drafts) if drafts else []

    def unlink(self, link_id: int) -> None:
        self._store.remove_link(self.id, self.user, link_id)

    # -- reading ------------------------------------------------------------------------

    def get(
        self,
        item: ItemRef,
        *,
        as_of: datetime | str | None = None,
        known_at: datetime | str | None = None,
    ) -> MemoryItem:
        """An item now; with `as_of`, the version true in the world then; with `known_at`,
        what memos had recorded by then.

        Raises:
            NotFoundError: no such item, forgotten, or not valid at that time.
            PermissionDeniedError: the user may not read it.
        """
        self._store.expire_due(self.id)
        return self._store.get_item(
            self._id(item),
            self.user,
            cube_id=self.id,
            as_of=parse_time(as_of, field="as_of"),
            known_at=parse_time(known_at, field="known_at"),
        )

    def history(self, item: ItemRef) -> list[Version]:
        """Every version of an item, oldest first."""
        return self._store.history(self._id(item), self.user, cube_id=self.id)

    def links(self, item: ItemRef) -> list[Link]:
        """Links from and to an item."""
        return self._store.links(self._id(item), self.user, cube_id=self.id)

    def items(
        self,
        *,
        status: Iterable[Status | str] | None = None,
        kind: Iterable[Kind | str] | None = None,
        type: Iterable[str] | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[MemoryItem]:
        """Items of the cube, newest first."""
        self._store.expire_due(self.id)
        return self._store.list_items(
            self.id,
            self.user,
            statuses=None if status is None else [_enum(s, Status, "status") for s in status],
            kinds=None if kind is None else [_enum(k, Kind, "kind") for k in kind],
            types=None if type is None else list(type),
            limit=limit,
            offset=offset,
        )

    def search(
        self,
        query: str,
        *,
        k: int = 10,
        types: Iterable[str] | None = None,
        sources: Iterable[str] | None = None,
        authors: Iterable[str] | None = None,
        tags: Iterable[str] | None = None,
        statuses: Iterable[Status | str] | None = None,
        valid_from: datetime | str | None = None,
        valid_to: datetime | str | None = None,
        recorded_from: datetime | str | None = None,
        recorded_to: datetime | str | None = None,
        as_of: datetime | str | None = None,
        weights: SearchWeights | Mapping[str, float] | None = None,
    ) -> list[Hit]:
        """The k memories that best answer `query`, best first (higher score = better).

        Hybrid retrieval (see `memos.retrieval.hybrid`): vector and BM25 candidates fused,
        boosted when the query names an item's author, expanded over links, weighed by
        importance, recency and use. `hit.scores` explains each score by signal.

        Filters: `types`, `sources`, `authors`, `tags` (all must be present), `statuses`
        (default generated, activated, frozen), `valid_from`/`valid_to` (validity overlaps
        the range), `recorded_from`/`recorded_to` (recorded in the range), `as_of` (valid
        at that time; the version valid then is returned). `weights` overrides
        `SearchWeights` fields, e.g. `{"graph": 0}`.

        Raises:
            InvalidInputError: empty query, k out of range, a bad filter or weight.
            PermissionDeniedError: the user may not read this cube.
        """
        text = validation.content(
            query, max_chars=self._mos.settings.max_content_chars, field="query"
        )
        filters = SearchFilters(
            statuses=(
                SEARCHABLE_STATUSES
                if statuses is None
                else frozenset(_enum(s, Status, "status") for s in statuses)
            ),
            types=frozenset(validation.item_type(t) for t in types or ()),
            sources=frozenset(validation.labels(sources, field="sources")),
            authors=frozenset(validation.labels(authors, field="authors")),
            tags=frozenset(validation.labels(tags)),
            valid_during=_window(valid_from, valid_to, "valid"),
            recorded_during=_window(recorded_from, recorded_to, "recorded"),
            as_of=parse_time(as_of, field="as_of"),
        )
        return self._mos.retriever.search(
            self.info, self._index, self.user, text, k=validation.top_k(k), filters=filters,
            weights=SearchWeights.of(weights), now=self._mos.clock(),
        )  # fmt: skip

    def operations(self, *, after: int = 0, limit: int = 1000) -> list[Operation]:
        """The cube's operation log past sequence number `after`."""
        return self._store.operations(self.id, self.user, after=after, limit=limit)

    def stats(self) -> dict[str, Any]:
        """Counts by status and kind, index size, and log position."""
        from memos.agents.ledger import usage_totals

        counts = self._store.counts(self.id, self.user)
        return {
            "cube": self.name,
            "items": sum(counts["status"].values()),
            "by_status": counts["status"],
            "by_kind": counts["kind"],
            "indexed_vectors": len(self._index),
            "log_seq": self._store.max_seq(self.id),
            "embedder": self.info.embedder.to_dict(),
            "llm_usage": usage_totals(self._store, self.id),  # MemReader's cost, per operation
        }

    # -- sharing ------------------------------------------------------------------------

    def grant(self, user: str, permission: Permission | str) -> Grant:
        """Give a user read, write or admin on this cube ('*' means everyone)."""
        return self._store.grant(
            self.id,
            self.user,
            validation.user_name(user),
            _enum(permission, Permission, "permission"),
        )

    def revoke(self, user: str) -> None:
        self._store.revoke(self.id, self.user, validation.user_name(user))

    def grants(self) -> list[Grant]:
        return self._store.grants(self.id, self.user)

    def export_jsonl(self, path: str | Path) -> int:
        """Write the cube, every version and link included, to a JSONL file; returns the
        number of items written."""
        return write_export(self._store.export_records(self.id, self.user), Path(path))

    # -- derived memory: KV caches and LoRA adapters (memos.runtime) ---------------------

    @property
    def runtime(self) -> CubeRuntime:
        """The runtime model as this cube uses it: `generate`, `perplexity`, `evaluate`,
        `unload`, `merged`, `kv_stats`. The model loads on first real use."""
        from memos.runtime.cube_runtime import CubeRuntime

        return CubeRuntime(self, self._mos.runtime_parts)

    def build_activation(
        self,
        item_ids: Iterable[ItemRef] | ItemRef,
        *,
        template: str | None = None,
        storage: str = "native",
    ) -> MemoryItem:
        """Activation memory: the KV cache of a prefix rendered from these plaintext items
        (`memos.runtime.prompts` documents the template). `storage` is 'native' (lossless),
        'float16', 'bfloat16' or 'int8' (per-channel scales).

        Raises:
            InvalidInputError: no items, a non-plaintext item, or a bad template/storage.
        """
        from memos.activation.build import build

        return build(self, self._mos.runtime_parts, item_ids, template=template, storage=storage)

    def generate(
        self,
        prompt: str,
        *,
        activation: ItemRef | None = None,
        adapters: Iterable[ItemRef] | ItemRef = (),
        memories: Iterable[ItemRef] | None = None,
        template: str | None = None,
        max_new_tokens: int = 32,
    ) -> Generation:
        """Greedy generation: after a KV cache (`activation`), or the same memory prefix
        recomputed from text (`memories`), with adapters stacked. Same tokens either way.

        Raises:
            StaleMemoryError: the cache or an adapter is stale; `rebuild` it.
            ModelMismatchError: it was built with another model.
        """
        return self.runtime.generate(
            prompt,
            activation=activation,
            adapters=adapters,
            memories=memories,
            template=template,
            max_new_tokens=max_new_tokens,
        )

    def distill(
        self,
        item_ids: Iterable[ItemRef] | ItemRef,
        *,
        rank: int = 8,
        steps: int | None = None,
        seed: int = 0,
        learning_rate: float = 1e-3,
        batch_size: int = 8,
        target_loss: float | None = None,
        heldout_fraction: float = 0.2,
        anchor_weight: float = 1.0,
        qa: QAFunction | None = None,
    ) -> MemoryItem:
        """Parametric memory: a LoRA adapter trained on these plaintext items (statements
        and question-answer pairs, some held out). `steps=None` picks about ten passes over
        the data; `target_loss` stops early; `qa` adds pairs (default: paraphrases from
        the configured LLM, `mos.llm`, if any); `anchor_weight` keeps the model's general
        language close to the base (0: off).

        Raises:
            InvalidInputError: no items, a non-plaintext item, or a bad hyper-parameter.
        """
        from memos.parametric.data import llm_pairs
        from memos.parametric.distill import distill
        from memos.parametric.train import TrainingPlan

        client = self._mos.llm
        if qa is None and client is not None:
            qa = llm_pairs(client)  # paraphrased questions, besides the templates

        plan = TrainingPlan(
            rank=rank,
            alpha=2 * rank,
            learning_rate=learning_rate,
            steps=steps,
            batch_size=batch_size,
            target_loss=target_loss,
            seed=seed,
            heldout_fraction=heldout_fraction,
            anchor_weight=anchor_weight,
        )
        return distill(self, self._mos.runtime_parts, item_ids, plan, qa=qa)

    def rebuild(
        self, item: ItemRef, *, force: bool = False, qa: QAFunction | None = None
    ) -> MemoryItem:
        """Rebuild a KV cache or adapter from its sources' current versions, leaving out
        forgotten ones (a new version of the item, fresh again).

        Raises:
            InvalidInputError: the item is plaintext.
            ConflictError: it is frozen (pass force=True) or archived, or no source is left.
        """
        current = self.get(item)
        parts = self._mos.runtime_parts
        if current.kind is Kind.ACTIVATION:
            from memos.activation.build import rebuild as rebuild_cache

            return rebuild_cache(self, parts, current, force=force)
        if current.kind is Kind.PARAMETRIC:
            from memos.parametric.data import llm_pairs
            from memos.parametric.distill import rebuild as retrain

            client = self._mos.llm
            if qa is None and client is not None:
                qa = llm_pairs(client)
            return retrain(self, parts, current, force=force, qa=qa)
        raise InvalidInputError(f"item #{current.id} is plaintext; only derived memory rebuilds")

    # -- agents: Zettelkasten notes, concept memory, the link graph (memos.agents) -------

    def _llm(self, llm: LLMClient | None) -> LLMClient | None:
        """The LLM given, else one configured on the MemOS, else None (offline paths)."""
        return llm if llm is not None else getattr(self._mos, "llm", None)

    def ingest(
        self,
        records: Iterable[Mapping[str, Any] | str | Utterance] | Mapping[str, Any],
        *,
        source: str | None = None,
        reader: MemReader | None = None,
        llm: LLMClient | None = None,
    ) -> IngestReport:
        """MemReader: turn chat messages (`{role or speaker, content, timestamp?, id?}`) and
        platform events (`{platform, actor, timestamp, text, id, ...}`) into memories with
        provenance, reconciled with what the cube holds: duplicates skipped, extensions
        stored as new versions, contradicted states superseded (`as_of` still finds them).
        The LLM (`llm`, else the MemOS's) extracts when configured; otherwise, or when its
        answer is unusable, a deterministic extractor does. `source` names messages'
        source (default 'chat'; events use their platform). Returns what was added,
        updated, superseded and skipped, with reasons and the LLM cost, which also adds to
        the cube's totals in `stats()`. See `memos.agents.reader`.

        Raises:
            InvalidInputError: a malformed record (nothing is stored).
            PermissionDeniedError: the user may not write to this cube.
            ConfigError: the LLM server refused its credentials.
        """
        from memos.agents.ledger import record_usage
        from memos.agents.reader import MemReader

        granted = self._store.permission(self.id, self.user)
        if granted is None or not granted.allows(Permission.WRITE):
            raise PermissionDeniedError(
                f"user {self.user!r} lacks write permission on cube {self.name!r}; an admin "
                f"can run `memos cube grant {self.name} {self.user} write`"
            )
        chosen = reader if reader is not None else MemReader(self._llm(llm))
        report = chosen.ingest(self, records, source=source)
        record_usage(self._store, self.id, "ingest", messages=report.messages, usage=report.usage)
        return report

    def revise(
        self,
        item: ItemRef,
        content: str | None = None,
        *,
        created_by: str,
        operation: str = "revise",
        force: bool = False,
        **meta: Any,
    ) -> MemoryItem:
        """`update` on behalf of an agent: the new version records `created_by` (who and
        why, e.g. 'zettelkasten:evolve:note#42') and `operation`, so `history` audits the
        change and `revert` takes it back.

        Raises:
            NotFoundError, ConflictError: as for `update`.
        """
        item_id = self._id(item)
        changes = self._changes(meta)
        changes["created_by"] = validation.optional_text(
            created_by, field="created_by", max_chars=256
        )
        if not isinstance(operation, str) or not 0 < len(operation) <= 64:
            raise InvalidInputError("operation must be a name of 1-64 characters")
        vector = None
        if content is not None:
            changes["content"] = self._content(content)
        if "content" in changes or "author" in changes:
            current = self._store.get_item(item_id, self.user, cube_id=self.id)
            text = changes.get("content", current.content) or ""
            vector = self._embed([vector_text(text, changes.get("author", current.author))])[0]
        written = self._store.update_item(
            item_id, self.user, changes, vector, cube_id=self.id, force=force, operation=operation
        )
        self._reindex(written, vector)
        return written.item

    def note(
        self,
        content: str,
        *,
        agent: str | None = None,
        llm: LLMClient | None = None,
        settings: NoteSettings | None = None,
        **fields: Any,
    ) -> NoteResult:
        """Add a Zettelkasten note (A-MEM): constructed (keywords, tags, context), linked
        to its nearest neighbours with kinds and reasons, and evolving their context and
        tags as new versions. Offline without an LLM. `agent` is the note's author;
        `fields` are those of `add` (source, tags, attributes, valid_from, ...).
        See `memos.agents.zettelkasten`.

        Raises:
            InvalidInputError: empty or oversized text, or a field note() sets itself.
        """
        from memos.agents.zettelkasten import NoteTaker

        taker = NoteTaker(self, llm=self._llm(llm), settings=settings)
        return taker.add(self._content(content), agent=agent, **fields)

    def graph(self) -> MemoryGraph:
        """A networkx view of the cube's links as the user may see them, built now (the
        links table stays the source of truth). See `memos.agents.graph`."""
        from memos.agents.graph import MemoryGraph

        links = self._store.cube_links(self.id, self.user)
        ids = sorted({link.src_id for link in links} | {link.dst_id for link in links})
        items: list[MemoryItem] = []
        for start in range(0, len(ids), 5000):
            chunk = ids[start : start + 5000]
            items += self._store.fetch(self.id, self.user, chunk, limit=len(chunk))
        return MemoryGraph.build(items, links)

    def abstract(
        self,
        trace: str | Sequence[str],
        *,
        outcome: str | bool = "success",
        task: str | None = None,
        used: Iterable[ItemRef] = (),
        llm: LLMClient | None = None,
    ) -> Abstraction:
        """Concept memory (ArcMemo): store a solution trace and distil reusable concepts
        from it, merging with same-named ones; `used` concepts get the outcome counted.
        See `memos.agents.concepts` for the offline heuristic.

        Raises:
            InvalidInputError: an empty trace or an outcome other than success/failure.
        """
        from memos.agents.concepts import ConceptMemory

        memory = ConceptMemory(self, llm=self._llm(llm))
        return memory.abstract(trace, outcome=outcome, task=task, used=used)

    def concepts_for(self, problem: str, *, k: int = 5) -> list[Concept]:
        """The k concepts whose cues best fit a problem, through the index."""
        from memos.agents.concepts import ConceptMemory

        return ConceptMemory(self).retrieve(problem, k=k)

    def record_concept_use(self, concepts: Iterable[ItemRef], *, success: bool) -> list[Concept]:
        """Count that these concepts were applied, and whether it worked (test-time update:
        the success rate becomes each concept's importance)."""
        from memos.agents.concepts import ConceptMemory

        return ConceptMemory(self).record_use(concepts, success=success)

    def add_concept(
        self,
        name: str,
        *,
        kind: str,
        description: str,
        cues: Iterable[str] = (),
        parameters: Iterable[str] = (),
        notes: Iterable[str] = (),
    ) -> ConceptChange:
        """Store a concept by hand; one with the same name is merged into (a new version).

        Raises:
            InvalidInputError: a bad kind, an empty name or description, overlong lists.
        """
        from memos.agents.concepts import ConceptMemory, spec_of

        spec = spec_of(name, kind=kind, description=description, cues=cues,
                       parameters=parameters, notes=notes)  # fmt: skip
        return ConceptMemory(self).add(spec)

    def concepts(self, *, kind: str | None = None, limit: int = 1000) -> list[Concept]:
        """Live concepts, newest first."""
        from memos.agents.concepts import ConceptMemory

        return ConceptMemory(self).all(kind=kind, limit=limit)
