"""Derived memory items (KV caches, adapters): their sources, freshness and records.

A derived item records `derived_from` as `{"id", "uid", "version"}` of each plaintext
source; the store marks it stale when a source is updated, forgotten, reverted or expires.
This module resolves sources, refuses stale or foreign artifacts, and writes the item
(a new one, or a new version on rebuild) through the kernel's `DerivedHost` protocol. KV
caches and adapters are two `Recipe`s over one build/rebuild path.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from memos import validation
from memos.errors import (
    BackendError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    StaleMemoryError,
)
from memos.faults import crash_point
from memos.models import ItemDraft, Kind, MemoryItem, Status, Tier, Visibility
from memos.protocols import DerivedHost, ItemRef
from memos.runtime.identity import ModelIdentity, require_same

if TYPE_CHECKING:
    from memos.runtime.parts import RuntimeParts

# Sources a rebuild keeps: still true knowledge. Deleted, expired and merged ones drop out.
LIVE_SOURCES = frozenset({Status.GENERATED, Status.ACTIVATED, Status.FROZEN, Status.ARCHIVED})
NOUNS = {Kind.ACTIVATION: "KV cache", Kind.PARAMETRIC: "adapter"}
COMMANDS = {Kind.ACTIVATION: "kv", Kind.PARAMETRIC: "lora"}


def source_items(cube: DerivedHost, refs: Iterable[ItemRef] | ItemRef) -> list[MemoryItem]:
    """The plaintext items to build from, in the order given, without repeats.

    Raises:
        InvalidInputError: no items, or one is not plaintext.
        NotFoundError, PermissionDeniedError: as `cube.get`.
    """
    found: list[MemoryItem] = []
    for ref in validation.item_refs(refs):
        item = cube.read(ref)
        if item.kind is not Kind.PLAINTEXT or item.content is None:
            raise InvalidInputError(
                f"item #{item.id} is {item.kind.value} memory; derived memory is built from "
                "plaintext items"
            )
        if all(item.id != seen.id for seen in found):
            found.append(item)
    if not found:
        raise InvalidInputError("give at least one plaintext item id to build from")
    return found


def source_refs(items: Sequence[MemoryItem]) -> tuple[dict[str, Any], ...]:
    return tuple({"id": i.id, "uid": i.uid, "version": i.version} for i in items)


def current_sources(cube: DerivedHost, item: MemoryItem) -> list[MemoryItem]:
    """The live versions of an item's sources; forgotten or expired ones are left out.

    Raises:
        ConflictError: none is left.
    """
    live: list[MemoryItem] = []
    for ref in item.derived_from:
        try:
            source = cube.read(int(ref["id"]))
        except NotFoundError:
            continue  # forgotten: the rebuilt memory must not contain it
        if source.status in LIVE_SOURCES and source.content is not None:
            live.append(source)
    if not live:
        raise ConflictError(
            f"every memory {NOUNS[item.kind]} #{item.id} was built from is gone; forget it "
            f"(cube.forget({item.id}, hard=True))"
        )
    return live


def usable(cube: DerivedHost, ref: ItemRef, kind: Kind) -> MemoryItem:
    """A derived item that may be used now.

    Raises:
        InvalidInputError: the item is another kind of memory.
        StaleMemoryError: a source changed or was forgotten since it was built.
        ConflictError: it is archived.
    """
    item = cube.read(ref)
    noun = NOUNS[kind]
    if item.kind is not kind:
        article = "an" if noun[0] in "aeiou" else "a"
        raise InvalidInputError(
            f"item #{item.id} is {item.kind.value} memory, not {article} {noun}"
        )
    if item.stale:
        raise StaleMemoryError(
            f"{noun} #{item.id} is stale: a memory it was built from changed or was "
            f"forgotten; rebuild it with cube.rebuild({item.id}) "
            f"(`memos {COMMANDS[kind]} rebuild {item.id}`)"
        )
    if item.status is Status.ARCHIVED:
        raise ConflictError(
            f"{noun} #{item.id} is archived; restore it with cube.activate({item.id}) first"
        )
    if item.artifact is None:
        raise BackendError(f"{noun} #{item.id} has no artifact; rebuild it")
    return item


def check_model(item: MemoryItem, current: ModelIdentity) -> None:
    """Raises: ModelMismatchError: the item was built by another model."""
    recorded = item.attributes.get("model")
    if not isinstance(recorded, Mapping):
        raise BackendError(f"{NOUNS[item.kind]} #{item.id} does not record its model; rebuild it")
    require_same(ModelIdentity.from_dict(recorded), current, f"{NOUNS[item.kind]} #{item.id}")


def visibility_of(sources: Sequence[MemoryItem]) -> Visibility:
    """A cache or adapter can say what its sources say, so it is private when any is."""
    if any(s.visibility is Visibility.PRIVATE for s in sources):
        return Visibility.PRIVATE
    return Visibility.SHARED


@dataclass(frozen=True, slots=True)
class Made:
    """What a recipe produced: the artifact's digest and size, and what to record."""

    digest: str
    size: int
    attributes: dict[str, Any]


class Recipe(Protocol):
    """How one kind of derived memory is made from plaintext sources (a KV cache, an
    adapter). Build, rebuild and cold reload all go through `derive` / `rebuild` below."""

    @property
    def kind(self) -> Kind: ...

    @property
    def type(self) -> str: ...

    @property
    def created_by(self) -> str: ...

    def materialise(self, parts: RuntimeParts, sources: Sequence[MemoryItem]) -> Made:
        """Run the model over the sources and store the artifact."""
        ...

    def describe(self, sources: Sequence[MemoryItem], made: Made) -> str:
        """The item's text: names its sources by id, never quotes them (forgetting a
        source purges its text, and a copy here would survive in this item's versions)."""
        ...


def derive(
    host: DerivedHost, parts: RuntimeParts, recipe: Recipe, refs: Iterable[ItemRef] | ItemRef
) -> MemoryItem:
    """A new derived item made by `recipe` from the plaintext items `refs`."""
    sources = source_items(host, refs)
    made = recipe.materialise(parts, sources)
    # The artifact is written (atomically, by content hash) but no item points at it yet: a
    # crash here leaves an unused file, never an item with a missing or torn one.
    crash_point("derive-before-record")
    draft = ItemDraft(
        visibility=visibility_of(sources),
        content=recipe.describe(sources, made),
        kind=recipe.kind,
        type=recipe.type,
        artifact=made.digest,
        size_bytes=made.size,
        derived_from=source_refs(sources),
        attributes=dict(made.attributes),
        tier=Tier.DISK,
        created_by=recipe.created_by,
        source="memos",
    )
    return host.write_derived(draft)


def rebuild(
    host: DerivedHost,
    parts: RuntimeParts,
    recipe: Recipe,
    item: MemoryItem,
    *,
    force: bool = False,
    sources: Sequence[MemoryItem] | None = None,
) -> MemoryItem:
    """A new version of a derived item from its sources' current versions (forgotten ones
    left out); the old artifact is released unless another fresh item shares it.

    Raises:
        ConflictError: the item is frozen (pass force=True) or archived, or no source is left.
    """
    chosen = list(sources) if sources is not None else current_sources(host, item)
    made = recipe.materialise(parts, chosen)
    return record_rebuilt(host, parts, item, recipe, made, chosen, force=force)


def record_rebuilt(
    host: DerivedHost,
    parts: RuntimeParts,
    item: MemoryItem,
    recipe: Recipe,
    made: Made,
    sources: Sequence[MemoryItem],
    *,
    force: bool,
) -> MemoryItem:
    """Point a derived item at a freshly made artifact, as a new version."""
    changes: dict[str, Any] = {
        "content": recipe.describe(sources, made),
        "artifact": made.digest,
        "size_bytes": made.size,
        "derived_from": source_refs(sources),
        "attributes": dict(made.attributes),
        "visibility": visibility_of(sources),
        "stale": False,
    }
    written = host.rewrite_derived(item.id, changes, force=force)
    if item.artifact != made.digest:
        parts.release_unused(written, item.artifact)
    return written


def describe(items: Sequence[MemoryItem], limit: int = 8) -> str:
    shown = ", ".join(f"#{i.id}" for i in items[:limit])
    more = f" and {len(items) - limit} more" if len(items) > limit else ""
    return f"{shown}{more}"
