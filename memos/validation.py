"""Checks on caller input, shared by the SDK and the CLI. Each failure names the problem."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Mapping
from os import PathLike
from pathlib import Path
from typing import Any, TypeVar

from memos.errors import InvalidInputError, NotFoundError
from memos.models import Kind, Permission, Status, Visibility

Value = TypeVar("Value")
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
            f"cube name {name!r:.80} is invalid: use 1-128 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return name


def user_name(name: str) -> str:
    if not isinstance(name, str) or not name.strip() or len(name) > 128 or "\x00" in name:
        raise InvalidInputError(f"user name {name!r:.80} is invalid: 1-128 characters")
    return utf8(name.strip(), field="user name")


def utf8(text: str, *, field: str) -> str:
    """Text that UTF-8 can encode (a lone surrogate cannot, and no database stores it)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInputError(
            f"{field} contains characters that are not valid UTF-8 (a lone surrogate)"
        ) from None
    return text


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
            f"type {value!r:.80} is invalid: lowercase letters, digits, '_' or '-' "
            "(e.g. fact, event)"
        )
    return value


def labels(values: Iterable[str] | str | None, *, field: str = "tags") -> tuple[str, ...]:
    """Tags or keywords: trimmed, non-empty, de-duplicated in order."""
    if values is None:
        return ()
    if isinstance(values, str):
        values = [values]
    if isinstance(values, bytes | Mapping) or not isinstance(values, Iterable):
        raise InvalidInputError(f"{field} must be a list of text, got {values!r:.60}")
    out: list[str] = []
    for raw in values:
        if not isinstance(raw, str) or not raw.strip() or "\x00" in raw:
            raise InvalidInputError(f"{field} must be non-empty strings, got {raw!r:.60}")
        value = raw.strip()
        if len(value) > MAX_TAG_CHARS:
            raise InvalidInputError(
                f"{field} entry {value[:20]!r}... is over {MAX_TAG_CHARS} chars"
            )
        if value not in out:
            out.append(utf8(value, field=field))
    if len(out) > MAX_TAGS:
        raise InvalidInputError(f"at most {MAX_TAGS} {field} per memory")
    return tuple(out)


def optional_text(value: object, *, field: str, max_chars: int = 512) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > max_chars or "\x00" in value:
        raise InvalidInputError(f"{field} must be text of at most {max_chars} characters")
    return utf8(value, field=field)


def unit_interval(value: object, *, field: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not 0 <= value <= 1
    ):
        raise InvalidInputError(f"{field} must be a number between 0 and 1, got {value!r:.80}")
    return float(value)


def top_k(k: object) -> int:
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
        raise InvalidInputError(f"k must be an integer from 1 to {MAX_K}, got {k!r:.80}")
    return k


def attributes(value: object) -> dict[str, Any]:
    """A JSON object with string keys, finite numbers, at most `MAX_ATTRIBUTES_BYTES`."""
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise InvalidInputError("attributes must be a JSON object with string keys")
    try:
        encoded = json.dumps(value, allow_nan=False, ensure_ascii=False)
        size = len(encoded.encode("utf-8"))
    except (TypeError, ValueError, RecursionError) as exc:
        raise InvalidInputError(
            f"attributes must hold only JSON values (text, finite numbers, booleans, null, "
            f"lists, objects) in UTF-8: {str(exc)[:200]}"
        ) from None
    if size > MAX_ATTRIBUTES_BYTES:
        raise InvalidInputError(
            f"attributes take {size} bytes as JSON, over the limit of {MAX_ATTRIBUTES_BYTES}; "
            "store long text as a memory of its own"
        )
    return dict(json.loads(encoded))


def item_id(value: object, *, field: str = "item id") -> int:
    """A positive 64-bit integer id; digits in a string are accepted (ASCII only)."""
    if isinstance(value, bool):
        raise InvalidInputError(f"{field} {value!r:.80} is not an item id")
    if isinstance(value, str):
        text = value.strip()
        if not (text.isascii() and text.isdigit()):
            raise InvalidInputError(f"{field} {value!r:.80} is not an item id (a positive integer)")
        value = int(text)
    if not isinstance(value, int) or not 1 <= value <= MAX_ID:
        raise InvalidInputError(f"{field} {value!r:.80} is out of range: ids are 1 to {MAX_ID}")
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
                f"{field} {value!r:.80} is neither an item id (a positive integer) nor a uid"
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
        raise InvalidInputError(
            f"{field} must be a number from {low:g} to {high:g}, got {value!r:.80}"
        )
    return float(value)


def link_kind(kind: object) -> str:
    if not isinstance(kind, str) or not _TYPE.match(kind):
        raise InvalidInputError(
            f"link kind {kind!r:.80} is invalid: lowercase letters, digits, '_' or '-' "
            "(e.g. related, supports, contradicts, refines, example-of)"
        )
    return kind


def limit(value: object, *, field: str = "limit", most: int = 100_000) -> int:
    """A page size: an integer from 1 to `most`."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= most:
        raise InvalidInputError(f"{field} must be an integer from 1 to {most}, got {value!r:.80}")
    return value


def offset(value: object, *, field: str = "offset") -> int:
    """A position to start from: an integer of at least 0."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_ID:
        raise InvalidInputError(f"{field} must be an integer of at least 0, got {value!r:.80}")
    return value


def kind(value: object) -> Kind:
    """A kind of memory: plaintext, activation or parametric."""
    try:
        return Kind(str(value))
    except ValueError:
        choices = ", ".join(k.value for k in Kind)
        raise InvalidInputError(f"kind {value!r:.80} is not one of: {choices}") from None


def output_file(path: object) -> Path:
    """A file path to write: not a directory, in a folder that exists."""
    target = _path(path)
    try:
        if target.is_dir():
            raise InvalidInputError(f"{target} is a directory; give a file name to write")
        if not target.parent.is_dir():
            raise InvalidInputError(f"folder {target.parent} does not exist; create it first")
    except OSError as exc:  # a name too long, a path through a file, ...
        raise InvalidInputError(f"cannot write to {str(target)[:200]}: {exc.strerror}") from None
    return target


def input_file(path: object, *, what: str = "file") -> Path:
    """A file path to read: an existing regular file."""
    source = _path(path)
    try:
        if source.is_dir():
            raise InvalidInputError(f"{source} is a directory; give a file")
        if not source.is_file():
            raise NotFoundError(f"no {what} at {source}")
    except OSError as exc:
        raise InvalidInputError(f"cannot read {str(source)[:200]}: {exc.strerror}") from None
    return source


def _path(path: object) -> Path:
    if not isinstance(path, str | PathLike) or not str(path).strip() or "\x00" in str(path):
        raise InvalidInputError(f"{path!r:.80} is not a file path")
    return Path(path).expanduser()


def status(value: object) -> Status:
    """A lifecycle status (see `memos.lifecycle`)."""
    try:
        return Status(str(value))
    except ValueError:
        choices = ", ".join(s.value for s in Status)
        raise InvalidInputError(f"status {value!r:.80} is not one of: {choices}") from None


def permission(value: object) -> Permission:
    """A cube grant: read, write or admin."""
    try:
        return Permission(str(value))
    except ValueError:
        raise InvalidInputError(f"permission {value!r:.80} is not read, write or admin") from None


def weights(value: object) -> dict[str, Any] | None:
    """Search weight overrides: None, or a mapping of signal names to numbers (the names
    and ranges are checked where the weights are known)."""
    if value is None:
        return None
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise InvalidInputError(
            f"weights must map signal names to numbers, e.g. {{'graph': 0}}, got {value!r:.80}"
        )
    return dict(value)


def listed(value: object, *, field: str, of: str = "records") -> list[Any]:
    """A list of `of` given as any iterable but text or a mapping (which would iterate as
    characters or keys)."""
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise InvalidInputError(f"{field} must be a list of {of}, got {type(value).__name__}")
    return list(value)


def flag(value: object, *, field: str) -> bool:
    """A yes/no option: True or False, nothing that merely looks true."""
    if not isinstance(value, bool):
        raise InvalidInputError(f"{field} must be True or False, got {value!r:.40}")
    return value


def each(value: object, check: Callable[[Any], Value], *, field: str) -> list[Value] | None:
    """None, or every value of a list (or one value alone) passed through `check`."""
    if value is None:
        return None
    if isinstance(value, str):
        return [check(value)]
    return [check(v) for v in listed(value, field=field, of="values")]


def part(value: object, kind: type[Any], *, field: str) -> Any:
    """A built part handed in (an embedder, LLM client, runtime, ...): None or a `kind`
    (a class, or a runtime-checkable protocol)."""
    if value is not None and not isinstance(value, kind):
        raise InvalidInputError(
            f"{field} must be a {kind.__name__} (or left out), got {type(value).__name__}"
        )
    return value


def visibility(value: object) -> Visibility:
    """Who may read an item: private, shared or public."""
    try:
        return Visibility(str(value))
    except ValueError:
        choices = ", ".join(v.value for v in Visibility)
        raise InvalidInputError(f"visibility {value!r:.80} is not one of: {choices}") from None


# Provenance of copied text: `attributes[COPIED_FROM]` maps a field that holds text taken
# from other items (e.g. a note's context quoting its neighbours' keywords) to their ids,
# so a hard forget of one of them purges that field in every version that carries it.
COPIED_FROM = "copied_from"
# "reason" stands for the reasons of the links the item made.
COPYABLE_FIELDS = ("content", "context", "keywords", "tags", "reason")


def copied_from(attributes: object) -> dict[str, frozenset[int]]:
    """The provenance recorded in an item's attributes, by field (malformed entries, which
    a caller may have written by hand, are left out)."""
    found = attributes.get(COPIED_FROM) if isinstance(attributes, dict) else None
    if not isinstance(found, dict):
        return {}
    sources: dict[str, frozenset[int]] = {}
    for name, ids in found.items():
        if name in COPYABLE_FIELDS and isinstance(ids, list):
            sources[name] = frozenset(
                i for i in ids if isinstance(i, int) and not isinstance(i, bool)
            )
    return sources


def with_copied_from(
    attributes: Mapping[str, Any], sources: Mapping[str, Iterable[int]]
) -> dict[str, Any]:
    """`attributes` with provenance `sources` (field -> item ids) recorded; fields with no
    source keep none."""
    recorded = {name: sorted(set(ids)) for name, ids in sources.items() if ids}
    updated = {k: v for k, v in attributes.items() if k != COPIED_FROM}
    if recorded:
        updated[COPIED_FROM] = recorded
    return updated


def item_refs(value: object, *, field: str = "items") -> list[int | str]:
    """Item ids or uids: one alone, or a list of them, each checked by `item_ref`."""
    if isinstance(value, bool):
        raise InvalidInputError(f"{field} must be item ids or uids, got {value!r}")
    if isinstance(value, int | str):
        return [item_ref(value, field=field)]
    return [item_ref(v, field=field) for v in listed(value, field=field, of="item ids")]
