"""SDK results as JSON values: records field by field (as `Record.to_dict()` gives them),
times as ISO 8601, enums as text.

Every response goes through here, so records' field names are looked up once per class
and plain values pass straight through.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from enum import Enum
from typing import Any

from memos.models import Record
from memos.timeutil import isoformat

_PLAIN = (str, int, float, bool, type(None))
_FIELDS: dict[type[Any], tuple[str, ...]] = {}


def _names(record: Record) -> tuple[str, ...]:
    kind = type(record)
    names = _FIELDS.get(kind)
    if names is None:
        names = tuple(f.name for f in dataclasses.fields(record))  # type: ignore[arg-type]
        _FIELDS[kind] = names
    return names


def jsonable(value: Any) -> Any:
    """A value JSON can carry; a record becomes what its `to_dict()` returns."""
    if isinstance(value, _PLAIN) and not isinstance(value, Enum):
        return value
    if isinstance(value, Record):
        return {name: jsonable(getattr(value, name)) for name in _names(value)}
    if isinstance(value, datetime):
        return isoformat(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted(jsonable(v) for v in value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    return value
