"""What MemReader reads: chat messages and platform events, checked and normalised.

A chat message is `{role or speaker, content, timestamp?, id?}`; a platform event is
`{platform, actor, timestamp, text, id, ...}` (Slack messages, Linear changes, Git commits),
whose other fields are kept: `issue` / `ticket` / `pr` / `commit` / `subject` name what
it is about, and `field` with `from` / `to` state a change exactly. Everything is checked
before anything is stored, so a bad record never leaves a half-ingested batch behind.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from memos.errors import InvalidInputError, NotFoundError
from memos.timeutil import parse_time

# Roles that are not people talking: their turns are read for context, not remembered.
MACHINE_ROLES = frozenset({"assistant", "system", "tool", "function", "developer"})
SUBJECT_FIELDS = ("issue", "ticket", "pr", "pull_request", "commit", "subject")
_EPOCH = re.compile(r"^\d{9,11}(\.\d+)?$")
_MAX_TEXT = 200_000


@dataclass(frozen=True, slots=True)
class Utterance:
    """One message or event, normalised: who said what, when, where, and its id."""

    position: int
    text: str
    author: str | None
    source: str
    ref: str | None = None
    at: datetime | None = None
    role: str | None = None
    platform: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)

    @property
    def machine(self) -> bool:
        """An assistant / system / tool turn rather than a person or a platform event."""
        return self.role in MACHINE_ROLES and self.platform is None

    @property
    def subject_hint(self) -> str | None:
        """What an event says it is about (a ticket, a pull request, a commit)."""
        for name in SUBJECT_FIELDS:
            value = self.fields.get(name)
            if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
                return str(value).strip()
        return None

    @property
    def thing_hint(self) -> str | None:
        """The ticket, issue, pull request or commit the platform says an event is on
        (not an email's subject line): a field change in it without a subject is its."""
        hint = self.subject_hint
        return hint if hint is not None and self.fields.get("subject") != hint else None


def _time(value: object, where: str) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise InvalidInputError(f"{where}: timestamp {value!r} is not a time")
    if isinstance(value, int | float) or (isinstance(value, str) and _EPOCH.match(value)):
        # Slack and many logs give Unix seconds ("1712345678.000200").
        try:
            return datetime.fromtimestamp(float(value), tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise InvalidInputError(f"{where}: timestamp {value!r} is out of range") from None
    if isinstance(value, datetime | str):
        try:
            return parse_time(value, field="timestamp")
        except InvalidInputError as error:
            raise InvalidInputError(f"{where}: {error}") from None
    raise InvalidInputError(f"{where}: timestamp must be ISO 8601 text or Unix seconds")


def _text(record: Mapping[str, Any], key: str, where: str) -> str:
    value = record.get(key)
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError(f"{where}: {key!r} must be non-empty text")
    if len(value) > _MAX_TEXT or "\x00" in value:
        raise InvalidInputError(f"{where}: {key!r} is over {_MAX_TEXT} characters or has NUL")
    return value


def _name(record: Mapping[str, Any], key: str, where: str) -> str | None:
    value = record.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > 128:
        raise InvalidInputError(f"{where}: {key!r} must be text of 1-128 characters")
    return value.strip()


def _ref(value: object, where: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int) or not str(value).strip():
        raise InvalidInputError(f"{where}: 'id' must be text or a number")
    text = str(value).strip()
    if len(text) > 512:
        raise InvalidInputError(f"{where}: 'id' is over 512 characters")
    return text


def utterance(record: object, position: int, *, source: str | None, where: str) -> Utterance:
    """One record (a message or an event mapping, or bare text) as an `Utterance`.

    Raises:
        InvalidInputError: the record is neither shape, or a field is malformed; the
            message starts with `where` (e.g. 'record 3' or 'line 3').
    """
    if isinstance(record, Utterance):
        return record
    if isinstance(record, str):
        record = {"role": "user", "content": record}
    if not isinstance(record, Mapping):
        raise InvalidInputError(
            f"{where}: expected a message {{role, content}} or an event "
            f"{{platform, actor, text}}, got {type(record).__name__}"
        )
    extra = {str(k): v for k, v in record.items() if k not in _KNOWN}
    at = _time(record.get("timestamp", record.get("ts")), where)
    ref = _ref(record.get("id"), where)
    if "platform" in record or ("text" in record and "content" not in record):
        platform = _name(record, "platform", where)
        return Utterance(
            position=position,
            text=_text(record, "text", where),
            author=_name(record, "actor", where) or _name(record, "author", where),
            source=(platform or source or "events").lower(),
            ref=ref,
            at=at,
            platform=platform.lower() if platform else None,
            fields=extra,
        )
    if "content" not in record:
        raise InvalidInputError(
            f"{where}: a message needs 'content' (and 'role' or 'speaker'); an event needs "
            "'platform', 'actor' and 'text'"
        )
    role = _name(record, "role", where)
    speaker = _name(record, "speaker", where) or _name(record, "name", where)
    return Utterance(
        position=position,
        text=_text(record, "content", where),
        author=speaker or role,
        source=(source or "chat").lower(),
        ref=ref,
        at=at,
        role=role.lower() if role else None,
        fields=extra,
    )


_KNOWN = frozenset(
    {
        "platform",
        "actor",
        "author",
        "text",
        "content",
        "role",
        "speaker",
        "name",
        "id",
        "timestamp",
        "ts",
    }
)


def utterances(records: Iterable[object], *, source: str | None = None) -> list[Utterance]:
    """Every record checked and normalised, before any is stored.

    Raises:
        InvalidInputError: a record is malformed (the message names its position).
    """
    if isinstance(records, str | bytes | Mapping):
        records = [records]
    return [
        utterance(record, position, source=source, where=f"record {position}")
        for position, record in enumerate(records)
    ]


def read_jsonl(path: Path, *, source: str | None = None) -> list[Utterance]:
    """Messages or events from a JSONL file (one JSON object per line; blank lines and
    `#` comments skipped), all checked before the caller stores any.

    Raises:
        NotFoundError: no such file.
        InvalidInputError: a line is not JSON or not a message / event (named by number).
    """
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise NotFoundError(f"no file {path}") from None
    except IsADirectoryError:
        raise InvalidInputError(f"{path} is a directory; give a JSONL file") from None
    except UnicodeDecodeError:
        raise InvalidInputError(f"{path} is not UTF-8 text; give a JSONL file") from None
    found: list[Utterance] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        where = f"{path.name} line {number}"
        try:
            record = json.loads(line)
        except ValueError as error:
            raise InvalidInputError(f"{where}: not valid JSON ({error})") from None
        found.append(utterance(record, len(found), source=source, where=where))
    if not found:
        raise InvalidInputError(f"{path} holds no messages or events")
    return found
