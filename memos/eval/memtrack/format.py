"""The MEMTRACK-style instance format: one timeline of platform events and the questions
asked along it, with a validator whose errors name the file and the JSON path.

```json
{"id": "launch-slip-01", "description": "optional",
 "events": [{"id": "e1", "timestamp": "2025-03-01T09:00:00Z", "platform": "slack",
             "actor": "alice", "channel": "#release", "text": "Launch is set for March 20.",
             "meta": {}}],
 "questions": [{"id": "q1", "after": "e1", "question": "When is the launch?",
                "answer": "March 20", "evidence": ["e1"], "category": "state"}]}
```

Events are replayed in the order listed (which may differ from timestamp order: late
arrivals are part of the test). A question is asked once the timeline has been replayed
up to and including its `after` event, or after the whole timeline without one; the
questions of an instance are asked in order against one memory, so their `after` points
may not go backwards. `answer` is a string or a list of acceptable strings.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from memos.errors import InvalidInputError
from memos.timeutil import isoformat, parse_time

EVENT_KEYS = frozenset({"id", "timestamp", "platform", "actor", "text", "channel", "meta"})
QUESTION_KEYS = frozenset({"id", "after", "question", "answer", "evidence", "category"})
INSTANCE_KEYS = frozenset({"id", "description", "events", "questions"})
DEFAULT_CATEGORY = "other"
_MAX_PROBLEMS = 12


@dataclass(frozen=True, slots=True)
class Event:
    """One platform event of a timeline."""

    id: str
    timestamp: datetime
    platform: str
    actor: str
    text: str
    channel: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "timestamp": isoformat(self.timestamp),
            "platform": self.platform,
            "actor": self.actor,
            "text": self.text,
        }
        if self.channel is not None:
            out["channel"] = self.channel
        if self.meta:
            out["meta"] = self.meta
        return out


@dataclass(frozen=True, slots=True)
class Question:
    """A question asked after event `after` (None: after the whole timeline)."""

    id: str
    question: str
    answers: tuple[str, ...]
    after: str | None = None
    evidence: tuple[str, ...] = ()
    category: str = DEFAULT_CATEGORY

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id}
        if self.after is not None:
            out["after"] = self.after
        out["question"] = self.question
        out["answer"] = self.answers[0] if len(self.answers) == 1 else list(self.answers)
        out["evidence"] = list(self.evidence)
        out["category"] = self.category
        return out


@dataclass(frozen=True, slots=True)
class Instance:
    """A timeline and its questions; `source` says where it was read from."""

    id: str
    events: tuple[Event, ...]
    questions: tuple[Question, ...]
    description: str | None = None
    source: str = "<memory>"

    def replayed_before(self, question: Question) -> int:
        """How many events (a prefix of `events`) are replayed when `question` is asked."""
        if question.after is None:
            return len(self.events)
        return next(i for i, e in enumerate(self.events) if e.id == question.after) + 1

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id}
        if self.description:
            out["description"] = self.description
        out["events"] = [e.to_dict() for e in self.events]
        out["questions"] = [q.to_dict() for q in self.questions]
        return out


class _Checker:
    """Collects every problem of one document, each with its JSON path, so one run of the
    validator tells a user everything to fix."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[str] = []

    def fail(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}")

    def mapping(self, value: object, path: str) -> Mapping[str, Any] | None:
        if isinstance(value, Mapping):
            return value
        self.fail(path, f"expected an object, got {_kind(value)}")
        return None

    def unknown(
        self, value: Mapping[str, Any], known: frozenset[str], path: str, hint: str
    ) -> None:
        for key in value:
            if key not in known:
                self.fail(
                    f"{path}.{key}",
                    f"unknown key (known: {', '.join(sorted(known))}){hint}",
                )

    def text(
        self, value: Mapping[str, Any], key: str, path: str, *, required: bool = True
    ) -> str | None:
        raw = value.get(key)
        if raw is None:
            if required:
                self.fail(f"{path}.{key}", "missing; give non-empty text")
            return None
        if not isinstance(raw, str) or not raw.strip():
            self.fail(f"{path}.{key}", f"expected non-empty text, got {_kind(raw)}")
            return None
        return raw.strip() if key != "text" else raw

    def texts(self, value: Mapping[str, Any], key: str, path: str) -> tuple[str, ...]:
        raw = value.get(key, [])
        if isinstance(raw, str):
            raw = [raw]
        if not isinstance(raw, list):
            self.fail(f"{path}.{key}", f"expected a list of strings, got {_kind(raw)}")
            return ()
        out: list[str] = []
        for index, given in enumerate(raw):
            entry = given
            if isinstance(entry, int | float) and not isinstance(entry, bool):
                entry = str(entry)  # an answer such as 42, or an event id written as a number
            if not isinstance(entry, str) or not entry.strip():
                self.fail(f"{path}.{key}[{index}]", f"expected non-empty text, got {_kind(entry)}")
                continue
            out.append(entry.strip())
        return tuple(out)

    def raise_if_any(self) -> None:
        if not self.problems:
            return
        shown = self.problems[:_MAX_PROBLEMS]
        more = len(self.problems) - len(shown)
        lines = [f"{self.source}: {p}" for p in shown]
        if more:
            lines.append(f"... and {more} more")
        raise InvalidInputError(
            f"{self.source} is not a valid MEMTRACK instance ({len(self.problems)} "
            f"problem{'s' if len(self.problems) > 1 else ''}; see docs in "
            "memos.eval.memtrack.format):\n" + "\n".join(lines)
        )


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "an empty string" if not value.strip() else f"text {value[:40]!r}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


def parse_timestamp(raw: object) -> datetime:
    """ISO 8601 text (basic forms such as MEMTRACK's '20241202T0900' included); naive times
    are taken as UTC.

    Raises:
        InvalidInputError: not such text.
    """
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidInputError(f"expected an ISO 8601 timestamp, got {_kind(raw)}")
    parsed = parse_time(raw, field="timestamp")
    assert parsed is not None  # a non-empty string always parses or raises
    return parsed


def _event(check: _Checker, raw: object, path: str) -> Event | None:
    value = check.mapping(raw, path)
    if value is None:
        return None
    check.unknown(value, EVENT_KEYS, path, "; put extra event data under 'meta'")
    event_id = value.get("id")
    if isinstance(event_id, int) and not isinstance(event_id, bool):
        event_id = str(event_id)
    if not isinstance(event_id, str) or not event_id.strip():
        check.fail(f"{path}.id", f"expected a non-empty id, got {_kind(event_id)}")
        event_id = None
    when: datetime | None = None
    if "timestamp" not in value:
        check.fail(f"{path}.timestamp", "missing; give an ISO 8601 time")
    else:
        try:
            when = parse_timestamp(value["timestamp"])
        except InvalidInputError as error:
            check.fail(f"{path}.timestamp", str(error))
    platform = check.text(value, "platform", path)
    actor = check.text(value, "actor", path)
    text = check.text(value, "text", path)
    channel = check.text(value, "channel", path, required=False)
    meta = value.get("meta", {})
    if not isinstance(meta, Mapping):
        check.fail(f"{path}.meta", f"expected an object, got {_kind(meta)}")
        meta = {}
    if event_id is None or when is None or platform is None or actor is None or text is None:
        return None
    return Event(event_id.strip(), when, platform, actor, text, channel, dict(meta))


def _question(check: _Checker, raw: object, path: str) -> Question | None:
    value = check.mapping(raw, path)
    if value is None:
        return None
    check.unknown(value, QUESTION_KEYS, path, "")
    question_id = check.text(value, "id", path)
    asked = check.text(value, "question", path)
    after = value.get("after")
    if isinstance(after, int) and not isinstance(after, bool):
        after = str(after)
    if after is not None and (not isinstance(after, str) or not after.strip()):
        check.fail(f"{path}.after", f"expected an event id, got {_kind(after)}")
        after = None
    if "answer" not in value:
        check.fail(f"{path}.answer", "missing; give a string or a list of acceptable strings")
        answers: tuple[str, ...] = ()
    else:
        answers = check.texts(value, "answer", path)
        if not answers and isinstance(value["answer"], list | str):
            check.fail(f"{path}.answer", "needs at least one acceptable answer")
    evidence = check.texts(value, "evidence", path)
    category = check.text(value, "category", path, required=False) or DEFAULT_CATEGORY
    if question_id is None or asked is None or not answers:
        return None
    return Question(
        question_id,
        asked,
        answers,
        after.strip() if isinstance(after, str) else None,
        evidence,
        category.lower(),
    )


def _items(check: _Checker, document: Mapping[str, Any], key: str) -> list[object]:
    raw = document.get(key)
    if not isinstance(raw, list) or not raw:
        check.fail(f"$.{key}", f"expected a non-empty list, got {_kind(raw)}")
        return []
    return raw


def _unique(check: _Checker, ids: Sequence[str], path: str) -> None:
    seen: set[str] = set()
    for index, identifier in enumerate(ids):
        if identifier in seen:
            check.fail(f"{path}[{index}].id", f"duplicate id {identifier!r}; ids must be unique")
        seen.add(identifier)


def instance_from_dict(document: object, *, source: str = "<memory>") -> Instance:
    """Validate a parsed document and build its `Instance`.

    Raises:
        InvalidInputError: every problem found, one per line, as `source: $.path: what`.
    """
    check = _Checker(source)
    top = check.mapping(document, "$")
    if top is None:
        check.raise_if_any()
        raise AssertionError("unreachable")
    check.unknown(top, INSTANCE_KEYS, "$", "")
    instance_id = check.text(top, "id", "$")
    description = check.text(top, "description", "$", required=False)
    events = [
        _event(check, raw, f"$.events[{i}]") for i, raw in enumerate(_items(check, top, "events"))
    ]
    questions = [
        _question(check, raw, f"$.questions[{i}]")
        for i, raw in enumerate(_items(check, top, "questions"))
    ]
    good_events = [e for e in events if e is not None]
    good_questions = [q for q in questions if q is not None]
    _unique(check, [e.id for e in good_events], "$.events")
    _unique(check, [q.id for q in good_questions], "$.questions")
    _check_order(check, good_events, questions)
    check.raise_if_any()
    assert instance_id is not None
    return Instance(instance_id, tuple(good_events), tuple(good_questions), description, source)


def _check_order(
    check: _Checker, events: Sequence[Event], questions: Sequence[Question | None]
) -> None:
    """References resolve, and questions never ask about an earlier point than the one
    before them (one memory is replayed forwards)."""
    position = {e.id: i for i, e in enumerate(events)}
    reached, reached_by = -1, None
    for index, question in enumerate(questions):
        if question is None:
            continue
        path = f"$.questions[{index}]"
        for number, ref in enumerate(question.evidence):
            if ref not in position:
                check.fail(f"{path}.evidence[{number}]", f"no event has id {ref!r}")
        if question.after is not None and question.after not in position:
            check.fail(f"{path}.after", f"no event has id {question.after!r}")
            continue
        point = len(events) if question.after is None else position[question.after]
        if point < reached:
            check.fail(
                f"{path}.after",
                f"asks after {question.after!r} but question {reached_by!r} before it was "
                "asked later in the timeline; questions are asked in order against one "
                "memory, so sort them by 'after'",
            )
        elif point > reached:
            reached, reached_by = point, question.id


def load_instance(path: Path) -> Instance:
    """Read and validate one instance file.

    Raises:
        InvalidInputError: not readable JSON, or not a valid instance (file and JSON path
            named in the message).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInputError(f"{path}: no such file") from None
    except (UnicodeDecodeError, IsADirectoryError):
        raise InvalidInputError(f"{path}: not a UTF-8 JSON file") from None
    try:
        document = json.loads(text)
    except ValueError as error:
        raise InvalidInputError(f"{path}: not valid JSON ({error})") from None
    return instance_from_dict(document, source=str(path))


def write_instance(instance: Instance, path: Path) -> None:
    """Write an instance as indented JSON (what `load_instance` reads back)."""
    path.write_text(json.dumps(instance.to_dict(), indent=2, ensure_ascii=False) + "\n")
