"""Prefix caching: finding the KV cache that covers the longest leading run of the
memories a generation is about to read.

A generation over retrieved memories renders them as `Prompter.segments`, each memory
tokenized on its own, so the tokens of its first j memories are exactly those of an
open-prefix cache built over the same j items (`KVRecipe(open_prefix=True)`). Such a cache
is usable only if it is fresh and was built from the very versions read now, with the same
template: then continuing from it feeds the model the same tokens as recomputing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from memos.models import Kind, MemoryItem, Status

ItemKey = tuple[int, int]  # (item id, version)


def keys_of(items: Sequence[MemoryItem]) -> tuple[ItemKey, ...]:
    return tuple((item.id, item.version) for item in items)


def built_from(item: MemoryItem) -> tuple[ItemKey, ...]:
    """The (id, version) of each source of a derived item, in order."""
    return tuple((int(d["id"]), int(d["version"])) for d in item.derived_from)


def is_prefix_cache(item: MemoryItem, template: str) -> bool:
    """A fresh, live open-prefix KV cache built with `template`."""
    attributes = item.attributes
    return (
        item.kind is Kind.ACTIVATION
        and item.status is Status.ACTIVATED
        and not item.stale
        and item.artifact is not None
        and bool(attributes.get("open_prefix"))
        and attributes.get("template") == template
    )


def longest_match(
    candidates: Iterable[MemoryItem], sources: Sequence[MemoryItem], template: str
) -> MemoryItem | None:
    """The usable prefix cache over the most leading memories of `sources`, or None."""
    wanted = keys_of(sources)
    best: MemoryItem | None = None
    best_length = 0
    for item in candidates:
        if not is_prefix_cache(item, template):
            continue
        covered = built_from(item)
        if best_length < len(covered) <= len(wanted) and covered == wanted[: len(covered)]:
            best, best_length = item, len(covered)
    return best


def chronological(items: Iterable[MemoryItem]) -> list[MemoryItem]:
    """Retrieved memories in the order a prompt shows them: by when they became true,
    then by id. A stable order (not the ranking) lets requests that retrieve overlapping
    sets share a leading run, which is what prefix caches reuse."""
    return sorted(items, key=lambda item: (item.valid_from, item.id))
