"""Storing a conversation as memories, with the structure that helps finding it again.

A turn on its own is often a fragment ("Yes, last Tuesday!"); what makes it findable is
the conversation around it. So each turn becomes one `message` memory whose author is the
speaker, valid from when it was said, and whose context holds the turns around it in the
same call: the two before (what it answers) and the two after (the reply often carries the
answer, or names what "it" was). Context is searched lexically, not embedded: embedded
with the turn it dilutes the turn's own vector (vector recall fell on LoCoMo). A turn's
importance says how much it states (its content words): a greeting or "haha same!" ranks
below a turn that tells something, through the search prior on importance. Consecutive
turns are joined by `next` links, so graph expansion gives a strong hit's neighbours a
share of its score. `MemCube.add_conversation` runs this; `memos eval locomo` ingests
exactly this way (docs/BENCHMARKS.md has what each part is worth).
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
from memos.text import query_terms
from memos.timeutil import parse_time

MESSAGE_TYPE = "message"
# Turns on each side of a turn that go into its context. Two each way beat one (the reply
# to a question is often two turns on) and three (a wider window matches off-topic turns);
# measured on LoCoMo's dev conversations, see docs/BENCHMARKS.md.
CONTEXT_TURNS = 2
# Each neighbour is cut to this: context is a hint, not a copy (four of them stay under the
# 4,096 characters a context may hold).
MAX_NEIGHBOUR_CHARS = 600
# The share of a hit's score its `next` neighbours gain is the graph weight times this. Two
# thirds of the default share (0.3) did best on LoCoMo's dev conversations: the context
# already lifts a hit's neighbours, and a full share crowds a list question's other
# sessions out of the top ten.
NEXT_LINK_WEIGHT = 2 / 3
# A turn with this many content words (or more) gets importance 1; one with none gets 0, a
# typical chat turn (about ten) the neutral 0.5.
INFORMATIVE_TERMS = 20


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
    """Store `turns` (in order) as message memories by their speakers, each with the turns
    around it as context and an importance from how much it states, joined by `next` links.

    Pass a whole session (or a long stretch of one) per call: context and links stay within
    a call. `session` names the conversation (kept in each item's attributes); `at` is when
    the session happened, used for turns without their own timestamp.

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
    records = [
        {
            "content": turn.text,
            "type": MESSAGE_TYPE,
            "author": turn.speaker,
            "source": source,
            "source_ref": turn.ref,
            "valid_from": turn.at or when,
            "context": context_of(parsed, position),
            "importance": informativeness(turn.text),
            "attributes": extra,
        }
        for position, turn in enumerate(parsed)
    ]
    try:
        items = memory.add_many(records)
    except InvalidInputError as exc:
        # add_many names the record; here a record is the turn at the same position.
        message = str(exc)
        raise InvalidInputError(
            "turn " + message.removeprefix("record ") if message.startswith("record ") else message
        ) from None
    memory.link_many(
        {
            "src": a.id,
            "dst": b.id,
            "kind": "next",
            "weight": NEXT_LINK_WEIGHT,
            "created_by": "memos:conversation",
        }
        for a, b in itertools.pairwise(items)
    )
    return items


def context_of(turns: Sequence[Turn], position: int) -> str | None:
    """The turns around `turns[position]` (up to `CONTEXT_TURNS` each side), one
    `speaker: text` line each, in order; None for a lone turn."""
    start = max(0, position - CONTEXT_TURNS)
    lines = [
        f"{turn.speaker}: {turn.text}"[:MAX_NEIGHBOUR_CHARS]
        for index, turn in enumerate(turns[start : position + CONTEXT_TURNS + 1], start)
        if index != position
    ]
    return "\n".join(lines) or None


def informativeness(text: str) -> float:
    """How much a turn states, in [0, 1]: its distinct content words over
    `INFORMATIVE_TERMS`."""
    return min(1.0, len(query_terms(text)) / INFORMATIVE_TERMS)
