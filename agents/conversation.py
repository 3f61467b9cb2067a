"""Storing a conversation as memories, with the structure that helps finding it again.

A turn on its own is often a fragment ("Yes, last Tuesday!"); what makes it findable is
the conversation around it. So each turn becomes one `message` memory whose author is the
speaker, valid from when it was said, with the previous turn of the same session as its
context (searched lexically, not embedded), and consecutive turns of a session are joined
by `next` links (graph expansion then carries a strong hit's score to its neighbours).
`MemCube.add_conversation` runs this; the LoCoMo evaluation uses exactly this path.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from memos.errors import InvalidInputError
from memos.models import MemoryItem
from memos.protocols import Memory
from memos.timeutil import parse_time

MESSAGE_TYPE = "message"
# A previous turn longer than this is cut: context is a hint, not a copy.
MAX_CONTEXT_CHARS = 1000


@dataclass(frozen=True, slots=True)
class Turn:
    """One turn: who said what, when (None: the session's time), and its id if any."""

    speaker: str
    text: str
    at: datetime | None = None
    ref: str | None = None


def turn_of(record: Mapping[str, Any] | Turn, position: int) -> Turn:
    """A turn from `{speaker or role, text or content, timestamp?, id?}`.

    Raises:
        InvalidInputError: a missing speaker or text, or a bad timestamp.
    """
    if isinstance(record, Turn):
        return record
    if not isinstance(record, Mapping):
        raise InvalidInputError(f"turn {position}: expected an object, got {type(record).__name__}")
    speaker = record.get("speaker", record.get("role"))
    text = record.get("text", record.get("content"))
    if not isinstance(speaker, str) or not speaker.strip():
        raise InvalidInputError(f"turn {position}: needs a speaker (or role)")
    if not isinstance(text, str) or not text.strip():
        raise InvalidInputError(f"turn {position}: needs text (or content)")
    ref = record.get("id")
    if ref is not None and not isinstance(ref, str | int):
        raise InvalidInputError(f"turn {position}: id must be text or a number")
    try:
        at = parse_time(record.get("timestamp"), field="timestamp")
    except InvalidInputError as exc:
        raise InvalidInputError(f"turn {position}: {exc}") from None
    return Turn(speaker.strip(), text, at, None if ref is None else str(ref))


def add_conversation(
    memory: Memory,
    turns: Iterable[Mapping[str, Any] | Turn],
    *,
    session: str | None = None,
    at: datetime | str | None = None,
    source: str = "chat",
    attributes: Mapping[str, Any] | None = None,
) -> list[MemoryItem]:
    """Store `turns` (in order) as message memories with context and `next` links.

    `session` names the conversation (kept in each item's attributes); `at` is when the
    session happened, used for turns without their own timestamp.

    Raises:
        InvalidInputError: a malformed turn (nothing is stored).
    """
    parsed: Sequence[Turn] = [turn_of(t, i) for i, t in enumerate(turns)]
    if not parsed:
        return []
    when = parse_time(at, field="at")
    extra = dict(attributes or {})
    if session is not None:
        if not isinstance(session, str) or not session.strip() or len(session) > 256:
            raise InvalidInputError("session must be a name of 1-256 characters")
        extra["session"] = session
    records = []
    for position, turn in enumerate(parsed):
        previous = parsed[position - 1] if position else None
        context = None
        if previous is not None:
            context = f"{previous.speaker}: {previous.text}"[:MAX_CONTEXT_CHARS]
        records.append(
            {
                "content": turn.text,
                "type": MESSAGE_TYPE,
                "author": turn.speaker,
                "source": source,
                "source_ref": turn.ref,
                "valid_from": turn.at or when,
                "context": context,
                "attributes": extra,
            }
        )
    items = memory.add_many(records)
    memory.link_many(
        {"src": a.id, "dst": b.id, "kind": "next", "created_by": "memos:conversation"}
        for a, b in itertools.pairwise(items)
    )
    return items
