"""What the reader knows while it reads: `Reading` (one rule's output), `Known` (a keyed
state with its history) and `Context` (the states a cube holds, newest last, with the
entities and the message's topic), plus the comparisons of subjects, attributes and values
they are matched with."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from memos.agents.candidates import State
from memos.agents.entities import Entities, numbered_kind
from memos.agents.values import (
    Value,
    kind_of_value,
    number_of,
)

if TYPE_CHECKING:
    from memos.protocols import Memory


@dataclass(frozen=True, slots=True)
class Reading:
    """What one rule read from a clause: subject (None: from context), attribute (None:
    from the value's kind), value, the value it replaced, and why."""

    subject: str | None
    attribute: str | None
    value: Value
    previous: str | None = None
    reason: str = ""
    person: bool = False


@dataclass
class Known:
    """A keyed state the reader knows of: its key's parts, current value and history."""

    subject: str
    attribute: str
    value: str
    author: str | None
    at: datetime | None
    earlier: list[str] = field(default_factory=list)

    @property
    def kind(self) -> str | None:
        return kind_of_value(self.value)


class Context:
    """The keyed states a reader knows (newest last), to resolve clauses that leave out
    their subject, and corrections and retractions that point back at a value."""

    def __init__(self, known: Iterable[Known] = (), entities: Entities | None = None) -> None:
        self.known: list[Known] = list(known)
        # Subjects named earlier in the message being read (see `general_states`).
        self.focus: list[str] = []
        # The entities the conversation has established, with all their names.
        self.entities = entities if entities is not None else Entities()
        # What the message being read is about (`memos.agents.naming.message_topic`).
        self.topic: str | None = None
        # The topic of a list-shaped message's heading (`memos.agents.listing`), or None.
        self.list_topic: str | None = None
        # Subjects the sentence being read has named in its earlier clauses.
        self.sentence_focus: list[str] = []
        # A spaCy pipeline (`memos.agents.parse.load_parser`), or None: the rules alone.
        self.parser: Any = None

    @classmethod
    def of(cls, cube: Memory, *, limit: int = 400) -> Context:
        """What a cube's recent keyed items say (current and superseded)."""
        chains: dict[str, list[tuple[datetime, str, str, str, str | None]]] = {}
        entities = Entities()
        for item in reversed(cube.items(limit=limit)):  # oldest first
            attributes = item.attributes
            names = attributes.get("names")
            if isinstance(names, list) and names and all(isinstance(n, str) for n in names):
                entities.learn(*names)
            key = attributes.get("state_key")
            if not isinstance(key, str) or attributes.get("ended"):
                continue
            chains.setdefault(key, []).append(
                (
                    item.valid_from,
                    str(attributes.get("subject", "")),
                    str(attributes.get("attribute", "")),
                    str(attributes.get("value", "")),
                    item.author,
                )
            )
        known = []
        for chain in chains.values():
            chain.sort(key=lambda row: row[0])
            at, subject, attribute, value, author = chain[-1]
            earlier = [row[3] for row in chain[:-1]]
            known.append(Known(subject, attribute, value, author, at, earlier))
        known.sort(key=lambda k: k.at or datetime.min)
        for k in known:
            kind = numbered_kind(k.subject)
            if kind and entities.find(k.subject) is None:
                # "Incident 4412" is "the incident" of later messages.
                entities.learn(k.subject, kind=kind)
        return cls(known, entities)

    def note(self, state: State, author: str | None) -> None:
        """Remember a state just read (it is the newest)."""
        if state.names:
            self.entities.learn(state.subject, *state.names)
        for index, known in enumerate(self.known):
            if (known.subject.lower(), known.attribute.lower()) == (
                state.subject.lower(),
                state.attribute.lower(),
            ):
                if _same_value(known.value, state.value):
                    return
                known.earlier.append(known.value)
                known.value, known.author, known.at = state.value, author, state.said_at
                self.known.append(self.known.pop(index))
                return
        self.known.append(Known(state.subject, state.attribute, state.value, author, state.said_at))

    def newest(
        self,
        *,
        attribute: str | None = None,
        subject: str | None = None,
        kind: str | None = None,
        author: str | None = None,
    ) -> Known | None:
        if subject is not None:
            # The same subject first; only then one that names it in more words.
            exact = [k for k in self.known if _slug_words(k.subject) == _slug_words(subject)]
            found = Context(exact).newest(attribute=attribute, kind=kind, author=author)
            if found is not None:
                return found
        for known in reversed(self.known):
            if attribute is not None and not _same_words(known.attribute, attribute):
                continue
            if subject is not None and not _same_subject(known.subject, subject):
                continue
            if (
                kind is not None
                and known.kind != kind
                and not (kind in ("word", "person") and known.kind in (None, "person"))
            ):
                continue
            if author is not None and (known.author or "").lower() != author.lower():
                continue
            return known
        return None

    def is_attribute(self, name: str) -> bool:
        """Whether `name` is an attribute a known state has ('CRA', 'hiring manager')."""
        return any(_same_words(k.attribute, name) for k in self.known)

    def holding(self, value: str, *, past: bool = False) -> Known | None:
        """The newest state whose current (or, with `past`, an earlier) value is `value`."""
        for known in reversed(self.known):
            pool = known.earlier if past else [known.value]
            if any(_same_value(v, value) for v in pool):
                return known
        return None


def _same_words(a: str, b: str) -> bool:
    return " ".join(a.lower().split()) == " ".join(b.lower().split())


def _same_subject(a: str, b: str) -> bool:
    x, y = _slug_words(a), _slug_words(b)
    if not (x and y):
        return False
    if {w for w in x if any(c.isdigit() for c in w)} != {
        w for w in y if any(c.isdigit() for c in w)
    }:
        return False  # "v3.3 release" and "v3.4 release" are two things
    if x == y or x <= y or y <= x:
        return True
    return len(x & y) >= 2 and len(x & y) / len(x | y) >= 0.5


_GENERIC_ATTRIBUTE_WORDS = frozenset(
    [
        "date",
        "day",
        "time",
        "count",
        "number",
        "total",
        "level",
        "value",
        "amount",
        "percentage",
        "read",
        "monthly",
        "annual",
        "yearly",
        "current",
        "per",
        "person",
        "head",
        "seat",
        "user",
        "final",
    ]
)


def same_attribute(a: str, b: str, *, also: Iterable[str] = ()) -> bool:
    """'opening' and 'openings', 'sunset' and 'sunset date', 'replicas' and 'read
    replicas': one attribute ('date' and 'start date' are two). `also`: more words the
    longer name may add (a question's own: "students" of "students enrolled" when it asks
    how many students were enrolled)."""
    x = {_stem(w) for w in a.lower().split()}
    y = {_stem(w) for w in b.lower().split()}
    if not (x and y):
        return False
    if x == y:
        return True
    small, big = (x, y) if len(x) < len(y) else (y, x)
    allowed = _GENERIC_ATTRIBUTE_WORDS | {_stem(w) for w in also}
    return small <= big and (big - small) <= allowed


def _slug_words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in ("the", "a", "an")}


def _same_value(a: str, b: str) -> bool:
    x = " ".join(re.findall(r"[a-z0-9]+", a.lower()))
    y = " ".join(re.findall(r"[a-z0-9]+", b.lower()))
    if x == y:
        return True
    nx, ny = number_of(a), number_of(b)
    return nx is not None and nx == ny and kind_of_value(a) == kind_of_value(b)


def _stem(word: str) -> str:
    text = " ".join(word.lower().split())
    return text[:-1] if text.endswith("s") and not text.endswith("ss") else text
