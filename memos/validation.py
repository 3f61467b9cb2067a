"""Checks on caller input, shared by the SDK and the CLI. Each failure names the problem."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from memos.errors import InvalidInputError

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_TYPE = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
MAX_TAG_CHARS = 64
MAX_TAGS = 64
MAX_K = 1000


def cube_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidInputError(
            f"cube name {name!r} is invalid: use 1-128 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return name


def user_name(name: str) -> str:
    if not isinstance(name, str) or not name.strip() or len(name) > 128:
        raise InvalidInputError(f"user name {name!r} is invalid: 1-128 characters")
    return name.strip()


def content(text: object, *, max_chars: int, field: str = "content") -> str:
    """Text of a memory: non-empty, UTF-8 encodable, without NUL, at most `max_chars`."""
    if not isinstance(text, str):
        raise InvalidInputError(f"{field} must be text, got {type(text).__name__}")
    if not text.strip():
        raise InvalidInputError(f"{field} is empty; a memory needs some text")
    if len(text) > max_chars:
        raise InvalidInputError(
            f"{field} has {len(text)} characters, over the limit of {max_chars} "
            "(MEMOS_MAX_CONTENT_CHARS); split it into several memories"
        )
    if "\x00" in text:
        raise InvalidInputError(f"{field} contains a NUL character")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInputError(f"{field} contains characters that are not valid UTF-8") from None
    return text


def item_type(value: str) -> str:
    if not isinstance(value, str) or not _TYPE.match(value):
        raise InvalidInputError(
            f"type {value!r} is invalid: lowercase letters, digits, '_' or '-' (e.g. fact, event)"
        )
    return value


def labels(values: Iterable[str] | str | None, *, field: str = "tags") -> tuple[str, ...]:
    """Tags or keywords: trimmed, non-empty, de-duplicated in order."""
    if values is None:
        return ()
    if isinstance(values, str):
        values = [values]
    out: list[str] = []
    for raw in values:
        if not isinstance(raw, str) or not raw.strip():
            raise InvalidInputError(f"{field} must be non-empty strings, got {raw!r}")
        value = raw.strip()
        if len(value) > MAX_TAG_CHARS:
            raise InvalidInputError(
                f"{field} entry {value[:20]!r}... is over {MAX_TAG_CHARS} chars"
            )
        if value not in out:
            out.append(value)
    if len(out) > MAX_TAGS:
        raise InvalidInputError(f"at most {MAX_TAGS} {field} per memory")
    return tuple(out)


def optional_text(value: object, *, field: str, max_chars: int = 512) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > max_chars or "\x00" in value:
        raise InvalidInputError(f"{field} must be text of at most {max_chars} characters")
    return value


def unit_interval(value: object, *, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise InvalidInputError(f"{field} must be a number between 0 and 1, got {value!r}")
    return float(value)


def top_k(k: object) -> int:
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
        raise InvalidInputError(f"k must be an integer from 1 to {MAX_K}, got {k!r}")
    return k


def attributes(value: object) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise InvalidInputError("attributes must be a JSON object with string keys")
    return dict(value)


def link_kind(kind: str) -> str:
    if not isinstance(kind, str) or not _TYPE.match(kind):
        raise InvalidInputError(
            f"link kind {kind!r} is invalid: lowercase letters, digits, '_' or '-' "
            "(e.g. related, supports, contradicts, refines, example-of)"
        )
    return kind
