"""Activation memory as a `Recipe`: the KV cache of a prefix built from plaintext items,
and loading a cache from the closest tier (rebuilding a cold one from its sources)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from memos.activation.storage import check_storage
from memos.errors import NotFoundError
from memos.models import Kind, MemoryItem
from memos.progress import status
from memos.protocols import DerivedHost
from memos.runtime.derived import Made, check_model, current_sources, describe, record_rebuilt
from memos.runtime.identity import ModelIdentity, require_same
from memos.runtime.prompts import check_template

if TYPE_CHECKING:
    from memos.activation.kvfile import KVCache
    from memos.runtime.parts import RuntimeParts


@dataclass(frozen=True, slots=True)
class KVRecipe:
    """A KV cache over the prefix rendered from the sources with `template`, stored as
    `storage` ('native' lossless, 'float16', 'bfloat16' or 'int8'). An `open_prefix` cache
    holds only the head and the memories (`Prompter.segments`), so a request for these
    memories followed by more continues from it (prefix caching)."""

    template: str
    storage: str = "native"
    open_prefix: bool = False
    kind: Kind = Kind.ACTIVATION
    type: str = "kv_cache"
    created_by: str = "memos.activation"

    @classmethod
    def of(
        cls, template: str | None = None, storage: str = "native", *, open_prefix: bool = False
    ) -> KVRecipe:
        """Raises: InvalidInputError: a bad template or storage."""
        return cls(check_template(template), check_storage(storage), open_prefix)

    @classmethod
    def recorded(cls, item: MemoryItem) -> KVRecipe:
        """The recipe an activation item was built with (who built it too)."""
        attributes = item.attributes
        recipe = cls.of(
            attributes.get("template"),
            str(attributes.get("storage", "native")),
            open_prefix=bool(attributes.get("open_prefix", False)),
        )
        return replace(recipe, created_by=item.created_by or recipe.created_by)

    def describe(self, sources: Sequence[MemoryItem], made: Made) -> str:
        attributes = made.attributes
        shape = "open-prefix KV cache" if self.open_prefix else "KV cache"
        return (
            f"{shape} of {describe(sources)} ({attributes['prefix_tokens']} tokens, "
            f"{attributes['model']['model']}, {attributes['storage']})"
        )

    def materialise(self, parts: RuntimeParts, sources: Sequence[MemoryItem]) -> Made:
        from memos.activation.kvfile import KVCache, decode, encode  # torch: when used

        runtime = parts.runtime
        texts = [s.content or "" for s in sources]
        if self.open_prefix:
            prefix = runtime.prompter.segments(texts, self.template).prefix(len(texts))
        else:
            prefix = runtime.prompter.prefix_ids(texts, self.template)
        started = time.perf_counter()
        with status(f"building a KV cache over {len(prefix)} tokens"):
            layers = runtime.prefill(prefix)
        seconds = time.perf_counter() - started
        data = encode(layers, prefix, runtime.identity, self.storage)
        digest = parts.kv_store.put(data)
        if self.storage == "native":
            cache = KVCache(layers, tuple(prefix), runtime.identity, self.storage)
        else:  # keep in memory exactly what a load from disk gives
            cache = decode(data, dtype=runtime.dtype)
        parts.tiers.put(digest, cache, cost_s=seconds)
        parts.tiers.enforce_disk(protect=[digest])
        attributes = {
            "model": runtime.identity.to_dict(),
            "template": self.template,
            "prompt_format": "chat" if runtime.prompter.chat else "plain",
            "storage": self.storage,
            "open_prefix": self.open_prefix,
            "prefix_tokens": len(prefix),
            "layers": len(layers),
            "bytes_per_token": round(len(data) / len(prefix), 1),
            "prefill_s": round(seconds, 4),
        }
        return Made(digest, len(data), attributes)


def load(host: DerivedHost, parts: RuntimeParts, item: MemoryItem) -> KVCache:
    """The cache of a usable activation item, from the closest tier; a cold item (file
    evicted by the disk budget, or never on this host) is rebuilt from its sources.

    Raises:
        ModelMismatchError: built by another model, dtype or tokenizer.
        BackendError: the file is corrupt.
    """
    from memos.activation.kvfile import decode, read_header  # torch: when used

    runtime = parts.runtime
    check_model(item, runtime.identity)
    what = f"KV cache #{item.id}"

    def checked(data: bytes) -> KVCache:
        built = ModelIdentity.from_dict(read_header(data)["identity"])
        require_same(built, runtime.identity, what)
        return decode(data, dtype=runtime.dtype, device="cpu")

    assert item.artifact is not None
    cost = float(item.attributes.get("prefill_s", 0.0))
    try:
        return parts.tiers.get(item.artifact, checked, cost_s=cost)
    except NotFoundError:
        pass
    # Cold. The item is fresh, so its sources are still the versions it records.
    recipe = KVRecipe.recorded(item)
    sources = current_sources(host, item)
    made = recipe.materialise(parts, sources)
    if made.digest != item.artifact:  # same model, same tokens: usually the very same bytes
        record_rebuilt(host, parts, item, recipe, made, sources, force=True)
    return parts.tiers.get(made.digest, checked, cost_s=cost)


def where(parts: RuntimeParts, item: MemoryItem) -> str:
    """The tier an activation item's cache is in now, from this process's view."""
    if item.artifact is None:
        return "cold"
    if parts.runtime.loaded:
        return parts.tiers.where(item.artifact).value
    return "disk" if parts.kv_store.contains(item.artifact) else "cold"
