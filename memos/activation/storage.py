"""How a KV cache's tensors are stored (checked without importing torch)."""

from __future__ import annotations

from memos.errors import InvalidInputError

STORAGES = ("native", "float16", "bfloat16", "int8")


def check_storage(storage: str) -> str:
    """Raises: InvalidInputError: not a known storage."""
    if storage not in STORAGES:
        raise InvalidInputError(f"KV storage {storage!r} is not one of: {', '.join(STORAGES)}")
    return storage
