"""Derived memory items (KV caches, adapters): their sources, freshness and records.

A derived item records `derived_from` as `{"id", "uid", "version"}` of each plaintext
source; the store marks it stale when a source is updated, forgotten, reverted or expires.
This module resolves sources, refuses stale or foreign artifacts, and writes the item
(a new one, or a new version on rebuild). It reaches into the cube's store and index as a
kernel module: the SDK surface stays on `MemCube`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from memos.errors import (
    BackendError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    StaleMemoryError,
)
from memos.models import Kind, MemoryItem, Status, Tier, Visibility
from memos.runtime.identity import ModelIdentity, require_same
from memos.stores.base import ItemDraft

if TYPE_CHECKING:
    from memos.cube import ItemRef, MemCube
    from memos.runtime.parts import RuntimeParts

# Sources a rebuild keeps: still true knowledge. Deleted, expired and merged ones drop out.
LIVE_SOURCES = frozenset({Status.GENERATED, Status.ACTIVATED, Status.FROZEN, Status.ARCHIVED})
NOUNS = {Kind.ACTIVATION: "KV cache", Kind.PARAMETRIC: "adapter"}
COMMANDS = {Kind.ACTIVATION: "kv", Kind.PARAMETRIC: "lora"}


def source_items(cube: MemCube, refs: Iterable[ItemRef] | ItemRef) -> list[MemoryItem]:
    """The plaintext items to build from, in the order given, without repeats.

    Raises:
        InvalidInputError: no items, or one is not plaintext.
        NotFoundError, PermissionDeniedError: as `cube.get`.
    """
    if isinstance(refs, int | str):
        refs = [refs]
    found: list[MemoryItem] = []
    for ref in refs:
        item = cube.get(ref)
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


def current_sources(cube: MemCube, item: MemoryItem) -> list[MemoryItem]:
    """The live versions of an item's sources; forgotten or expired ones are left out.

    Raises:
        ConflictError: none is left.
    """
    live: list[MemoryItem] = []
    for ref in item.derived_from:
        try:
            source = cube.get(int(ref["id"]))
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


def usable(cube: MemCube, ref: ItemRef, kind: Kind) -> MemoryItem:
    """A derived item that may be used now.

    Raises:
        InvalidInputError: the item is another kind of memory.
        StaleMemoryError: a source changed or was forgotten since it was built.
        ConflictError: it is archived.
    """
    item = cube.get(ref)
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


def record_new(
    cube: MemCube,
    *,
    kind: Kind,
    type: str,
    content: str,
    artifact: str,
    size: int,
    sources: Sequence[MemoryItem],
    attributes: Mapping[str, Any],
    created_by: str,
) -> MemoryItem:
    """Store a new derived item pointing at its artifact (no vector: it is not text)."""
    draft = ItemDraft(
        visibility=visibility_of(sources),
        content=content,
        kind=kind,
        type=type,
        artifact=artifact,
        size_bytes=size,
        derived_from=source_refs(sources),
        attributes=dict(attributes),
        tier=Tier.DISK,
        created_by=created_by,
        source="memos",
    )
    written = cube._store.add_items(cube.id, cube.user, [draft], None, operation="derive")
    cube._index.catch_up()
    return written[0].item


def record_rebuilt(
    cube: MemCube,
    parts: RuntimeParts,
    item: MemoryItem,
    *,
    content: str,
    artifact: str,
    size: int,
    sources: Sequence[MemoryItem],
    attributes: Mapping[str, Any],
    force: bool,
) -> MemoryItem:
    """A new version of a derived item on a fresh artifact; the old artifact is released
    unless another fresh item shares it.

    Raises:
        ConflictError: the item is frozen (pass force=True) or archived.
    """
    changes: dict[str, Any] = {
        "content": content,
        "artifact": artifact,
        "size_bytes": size,
        "derived_from": source_refs(sources),
        "attributes": dict(attributes),
        "visibility": visibility_of(sources),
        "stale": False,
    }
    written = cube._store.update_item(
        item.id, cube.user, changes, None, cube_id=cube.id, force=force, operation="rebuild"
    )
    cube._index.catch_up()
    if item.artifact != artifact:
        parts.release_unused(cube._store.engine, written.item, item.artifact)
    return written.item


def describe(items: Sequence[MemoryItem], limit: int = 8) -> str:
    shown = ", ".join(f"#{i.id}" for i in items[:limit])
    more = f" and {len(items) - limit} more" if len(items) > limit else ""
    return f"{shown}{more}"
