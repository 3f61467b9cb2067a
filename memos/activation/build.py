"""Building, rebuilding and loading activation items (KV caches of memory prefixes)."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from memos.activation.kvfile import KVCache, check_storage, decode, encode, read_header
from memos.errors import NotFoundError
from memos.models import Kind, MemoryItem
from memos.progress import status
from memos.runtime.derived import (
    check_model,
    current_sources,
    describe,
    record_new,
    record_rebuilt,
    source_items,
)
from memos.runtime.identity import ModelIdentity, require_same
from memos.runtime.prompts import check_template

if TYPE_CHECKING:
    from memos.cube import ItemRef, MemCube
    from memos.runtime.parts import RuntimeParts

KV_TYPE = "kv_cache"
CREATED_BY = "memos.activation"


def build(
    cube: MemCube,
    parts: RuntimeParts,
    refs: Iterable[ItemRef] | ItemRef,
    *,
    template: str | None = None,
    storage: str = "native",
) -> MemoryItem:
    """A new activation item: the KV cache of the prefix made from `refs`."""
    check_storage(storage)
    sources = source_items(cube, refs)
    digest, size, attributes = _materialise(parts, sources, check_template(template), storage)
    return record_new(
        cube,
        kind=Kind.ACTIVATION,
        type=KV_TYPE,
        content=_content(sources, attributes),
        artifact=digest,
        size=size,
        sources=sources,
        attributes=attributes,
        created_by=CREATED_BY,
    )


def rebuild(
    cube: MemCube, parts: RuntimeParts, item: MemoryItem, *, force: bool = False
) -> MemoryItem:
    """Rebuild from the sources' current versions, leaving out forgotten ones."""
    sources = current_sources(cube, item)
    template = check_template(item.attributes.get("template"))
    storage = check_storage(str(item.attributes.get("storage", "native")))
    digest, size, attributes = _materialise(parts, sources, template, storage)
    return record_rebuilt(
        cube,
        parts,
        item,
        content=_content(sources, attributes),
        artifact=digest,
        size=size,
        sources=sources,
        attributes=attributes,
        force=force,
    )


def _content(sources: Sequence[MemoryItem], attributes: dict[str, Any]) -> str:
    # Describes the cache without quoting its sources: forgetting a source purges its text,
    # and a copy here would survive in this item's versions.
    return (
        f"KV cache of {describe(sources)} ({attributes['prefix_tokens']} tokens, "
        f"{attributes['model']['model']}, {attributes['storage']})"
    )


def _materialise(
    parts: RuntimeParts, sources: Sequence[MemoryItem], template: str, storage: str
) -> tuple[str, int, dict[str, Any]]:
    runtime = parts.runtime
    prefix = runtime.prompter.prefix_ids([s.content or "" for s in sources], template)
    started = time.perf_counter()
    with status(f"building a KV cache over {len(prefix)} tokens"):
        layers = runtime.prefill(prefix)
    seconds = time.perf_counter() - started
    data = encode(layers, prefix, runtime.identity, storage)
    digest = parts.kv_store.put(data)
    if storage == "native":
        cache = KVCache(layers, tuple(prefix), runtime.identity, storage)
    else:  # keep in memory exactly what a load from disk gives
        cache = decode(data, dtype=runtime.dtype)
    parts.tiers.put(digest, cache)
    parts.tiers.enforce_disk(protect=[digest])
    attributes = {
        "model": runtime.identity.to_dict(),
        "template": template,
        "prompt_format": "chat" if runtime.prompter.chat else "plain",
        "storage": storage,
        "prefix_tokens": len(prefix),
        "layers": len(layers),
        "bytes_per_token": round(len(data) / len(prefix), 1),
        "prefill_s": round(seconds, 4),
    }
    return digest, len(data), attributes


def load(cube: MemCube, parts: RuntimeParts, item: MemoryItem) -> KVCache:
    """The cache of a usable activation item, from the closest tier; a cold item (file
    evicted by the disk budget, or never on this host) is rebuilt from its sources.

    Raises:
        ModelMismatchError: built by another model, dtype or tokenizer.
        BackendError: the file is corrupt.
    """
    runtime = parts.runtime
    check_model(item, runtime.identity)
    what = f"KV cache #{item.id}"

    def checked(data: bytes) -> KVCache:
        built = ModelIdentity.from_dict(read_header(data)["identity"])
        require_same(built, runtime.identity, what)
        return decode(data, dtype=runtime.dtype, device="cpu")

    assert item.artifact is not None
    try:
        return parts.tiers.get(item.artifact, checked)
    except NotFoundError:
        pass
    # Cold. The item is fresh, so its sources are still the versions it records.
    template = check_template(item.attributes.get("template"))
    storage = check_storage(str(item.attributes.get("storage", "native")))
    sources = current_sources(cube, item)
    digest, size, attributes = _materialise(parts, sources, template, storage)
    if digest != item.artifact:  # same model, same tokens: usually the very same bytes
        record_rebuilt(
            cube,
            parts,
            item,
            content=_content(sources, attributes),
            artifact=digest,
            size=size,
            sources=sources,
            attributes=attributes,
            force=True,
        )
    return parts.tiers.get(digest, checked)


def where(parts: RuntimeParts, item: MemoryItem) -> str:
    """The tier an activation item's cache is in now, from this process's view."""
    if item.artifact is None:
        return "cold"
    if parts.runtime.loaded:
        return parts.tiers.where(item.artifact).value
    return "disk" if parts.kv_store.contains(item.artifact) else "cold"
