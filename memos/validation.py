"""Checks on caller input, shared by the SDK and the CLI. Each failure names the problem."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from memos.errors import InvalidInputError, NotFoundError
from memos.models import Kind, Status

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_TYPE = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
MAX_TAG_CHARS = 64
MAX_TAGS = 64
MAX_K = 1000
# Ids are 64-bit integers in both databases.
MAX_ID = 2**63 - 1
MAX_LINK_WEIGHT = 100.0
# Attributes are metadata, not a second content field: JSON of at most this many bytes.
MAX_ATTRIBUTES_BYTES = 64 * 1024
MAX_UID_CHARS = 64


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
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not 0 <= value <= 1
    ):
        raise InvalidInputError(f"{field} must be a number between 0 and 1, got {value!r}")
    return float(value)


def top_k(k: object) -> int:
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
        raise InvalidInputError(f"k must be an integer from 1 to {MAX_K}, got {k!r}")
    return k


def attributes(value: object) -> dict[str, Any]:
    """A JSON object with string keys, finite numbers, at most `MAX_ATTRIBUTES_BYTES`."""
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise InvalidInputError("attributes must be a JSON object with string keys")
    try:
        encoded = json.dumps(value, allow_nan=False, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(
            f"attributes must hold only JSON values (text, finite numbers, booleans, null, "
            f"lists, objects): {exc}"
        ) from None
    size = len(encoded.encode("utf-8"))
    if size > MAX_ATTRIBUTES_BYTES:
        raise InvalidInputError(
            f"attributes take {size} bytes as JSON, over the limit of {MAX_ATTRIBUTES_BYTES}; "
            "store long text as a memory of its own"
        )
    return dict(json.loads(encoded))


def item_id(value: object, *, field: str = "item id") -> int:
    """A positive 64-bit integer id; digits in a string are accepted (ASCII only)."""
    if isinstance(value, bool):
        raise InvalidInputError(f"{field} {value!r} is not an item id")
    if isinstance(value, str):
        text = value.strip()
        if not (text.isascii() and text.isdigit()):
            raise InvalidInputError(f"{field} {value!r} is not an item id (a positive integer)")
        value = int(text)
    if not isinstance(value, int) or not 1 <= value <= MAX_ID:
        raise InvalidInputError(f"{field} {value!r} is out of range: ids are 1 to {MAX_ID}")
    return value


def item_ref(value: object, *, field: str = "item") -> int | str:
    """An item id (int or ASCII digits) or a uid (any other short printable text; memos'
    own are 32 hex digits), checked but not resolved."""
    if isinstance(value, str):
        text = value.strip()
        if text.isascii() and text.isdigit():
            return item_id(text, field=field)
        if not 0 < len(text) <= MAX_UID_CHARS or not text.isprintable() or " " in text:
            raise InvalidInputError(
                f"{field} {value!r} is neither an item id (a positive integer) nor a uid"
            )
        return text
    return item_id(value, field=field)


def finite(value: object, *, field: str, low: float, high: float) -> float:
    """A finite number in [low, high]."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not low <= value <= high
    ):
        raise InvalidInputError(f"{field} must be a number from {low:g} to {high:g}, got {value!r}")
    return float(value)


def link_kind(kind: str) -> str:
    if not isinstance(kind, str) or not _TYPE.match(kind):
        raise InvalidInputError(
            f"link kind {kind!r} is invalid: lowercase letters, digits, '_' or '-' "
            "(e.g. related, supports, contradicts, refines, example-of)"
        )
    return kind


def limit(value: object, *, field: str = "limit", most: int = 100_000) -> int:
    """A page size: an integer from 1 to `most`."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= most:
        raise InvalidInputError(f"{field} must be an integer from 1 to {most}, got {value!r}")
    return value


def offset(value: object, *, field: str = "offset") -> int:
    """A position to start from: an integer of at least 0."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_ID:
        raise InvalidInputError(f"{field} must be an integer of at least 0, got {value!r}")
    return value


def kind(value: object) -> Kind:
    """A kind of memory: plaintext, activation or parametric."""
    try:
        return Kind(str(value))
    except ValueError:
        choices = ", ".join(k.value for k in Kind)
        raise InvalidInputError(f"kind {value!r} is not one of: {choices}") from None


def output_file(path: object) -> Path:
    """A file path to write: not a directory, in a folder that exists."""
    if not isinstance(path, str | Path) or not str(path).strip():
        raise InvalidInputError(f"{path!r} is not a file path")
    target = Path(path).expanduser()
    if target.is_dir():
        raise InvalidInputError(f"{target} is a directory; give a file name to write")
    if not target.parent.is_dir():
        raise InvalidInputError(f"folder {target.parent} does not exist; create it first")
    return target


def input_file(path: object, *, what: str = "file") -> Path:
    """A file path to read: an existing regular file."""
    if not isinstance(path, str | Path) or not str(path).strip():
        raise InvalidInputError(f"{path!r} is not a file path")
    source = Path(path).expanduser()
    if source.is_dir():
        raise InvalidInputError(f"{source} is a directory; give a file")
    if not source.is_file():
        raise NotFoundError(f"no {what} at {source}")
    return source


def status(value: object) -> Status:
    """A lifecycle status (see `memos.lifecycle`)."""
    try:
        return Status(str(value))
    except ValueError:
        choices = ", ".join(s.value for s in Status)
        raise InvalidInputError(f"status {value!r} is not one of: {choices}") from None
