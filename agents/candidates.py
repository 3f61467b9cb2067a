"""Candidate memories, before reconciliation, and the keyed states among them.

A `State` is a statement that a later one can make untrue: ENG-142's status, who a ticket
is assigned to, where Mira lives, when the launch is. Its key is the subject and the
attribute (`eng-142/status`), stored in the item's `attributes` and as its two tags, so a
newer value finds exactly the item it replaces instead of the most similar-sounding one.
An *ended* state ("Erin no longer works at Acme") is a value of its own, `no longer acme`:
it supersedes the item it ends, and a later value supersedes it in turn.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from memos.agents.dates import is_date, resolve
from memos.agents.events import Utterance
from memos.agents.ontology import attribute_names as attribute_aliases

TYPES = ("fact", "event", "preference", "task_state")
# Names a model (or a person) might use for the attributes memos keys on.
_SYNONYMS = {
    "status": ("status", "state", "column", "stage", "progress", "workflow state"),
    "assignee": ("assignee", "assigned to", "assigned", "owner", "assigned_to", "owned by"),
    "location": (
        "location",
        "city",
        "lives in",
        "residence",
        "home",
        "based in",
        "lives",
        "home city",
        "hometown",
        "place",
        "country",
    ),
    "employer": ("employer", "company", "works at", "workplace", "job", "works for"),
    "date": (
        "date",
        "due date",
        "deadline",
        "launch date",
        "release date",
        "day",
        "when",
        "scheduled date",
        "scheduled for",
        "schedule",
        "time",
    ),
    "name": ("name", "title", "renamed to", "called", "new name"),
    "priority": ("priority", "severity", "urgency"),
    "role": ("role", "position", "job title"),
}
_CANONICAL = {alias: name for name, aliases in _SYNONYMS.items() for alias in aliases}
_VALUE_SYNONYMS = {
    "completed": "done",
    "complete": "done",
    "finished": "done",
    "canceled": "cancelled",
    "in-progress": "in progress",
    "wip": "in progress",
    "todo": "to do",
    "opened": "open",
}
THING = re.compile(
    # A severity ("SEV-1") looks like a ticket key but is a value.
    r"(?<![\w-])(?!SEV-\d(?![\w-]))[A-Z][A-Z0-9]{1,9}(?:-\d{1,8}){1,3}(?![\w-])"
    r"|(?i:\b(?:PR|MR|pull request|merge request)\s*#?\d+\b)"
    r"|(?i:\bcommit\s+[0-9a-f]{7,40}\b)"
)


def slug(text: str, *, limit: int = 48) -> str:
    """Lower-case words joined by '-', for keys and tags ('PR #45' -> 'pr-45')."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:limit].strip("-")


def canonical_attribute(name: str) -> str:
    """'State', 'due date', 'city' -> 'status', 'date', 'location'; others as written."""
    lowered = re.sub(r"[\s_]+", " ", name.strip().lower())
    return _CANONICAL.get(lowered, lowered)


def thing_name(text: str) -> str:
    """A ticket, pull request or commit written one way: 'ENG-142', 'PR #45',
    'commit 1a2b3c4'."""
    value = text.strip()
    number = re.fullmatch(r"(?i)(?:PR|MR|pull request|merge request)\s*#?(\d+)", value)
    if number:
        return f"PR #{number[1]}"
    sha = re.fullmatch(r"(?i)commit\s+([0-9a-f]{7,40})", value)
    if sha:
        return f"commit {sha[1].lower()[:7]}"
    return (
        value.upper()
        if re.fullmatch(r"[A-Za-z][A-Za-z0-9]{1,9}(?:-\d{1,8}){1,3}", value)
        else value
    )


def is_thing(subject: str) -> bool:
    return bool(THING.fullmatch(subject.strip()))


# A value that starts with a pronoun is the start of a clause, never a value.
_PRONOUN_VALUE = re.compile(
    r"(?i)^(?:i|i've|i'm|i'll|i'd|we|we've|we're|we'll|they|they've|they're|it|it's|he|she|"
    r"you|you've|you're)\b(?!-)"
)


@dataclass(frozen=True, slots=True)
class State:
    """`subject`'s `attribute` is `value` (it was `previous`), as of the message's time;
    with `ended`, it is no longer `value`."""

    subject: str
    attribute: str
    value: str
    previous: str | None = None
    said_at: datetime | None = None
    ended: bool = False
    # Every name the subject goes by (`memos.agents.naming`), the subject first.
    names: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"{slug(self.subject)}/{slug(self.attribute)}"

    @property
    def day(self) -> str | None:
        """The ISO date a date value names, when it names one."""
        if self.attribute != "date":
            return None
        found = resolve(self.value, self.said_at)
        return found.isoformat() if found else None

    @property
    def value_key(self) -> str:
        """The value as compared: a resolved date, or lower-cased words ('no longer ...'
        for an ended state)."""
        base = self.base_value_key
        return f"no longer {base}" if self.ended and base else base

    @property
    def base_value_key(self) -> str:
        """The value as compared, ended or not."""
        if self.day is not None:
            return self.day
        words = re.sub(r"[^\w#@/ .-]+", " ", self.value.lower()).replace("_", " ").split()
        text = " ".join(w for w in words if w not in ("the", "a", "an")).strip(" .-")
        return _VALUE_SYNONYMS.get(text, text)

    @property
    def shown_value(self) -> str:
        return f"no longer {self.value}" if self.ended else self.value

    def tags(self) -> tuple[str, ...]:
        return tuple(t for t in (slug(self.subject), slug(self.attribute)) if t)

    def attributes(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "subject": self.subject,
            "attribute": self.attribute,
            "value": self.value,
            "state_key": self.key,
            "value_key": self.value_key,
        }
        if self.previous:
            found["previous"] = self.previous
        if self.ended:
            found["ended"] = True
        names = [n for n in self.names if n and n != self.subject]
        if names:
            found["names"] = [self.subject, *names]
        attribute_names = attribute_aliases(self.attribute)
        if len(attribute_names) > 1:
            found["attribute_names"] = list(attribute_names)
        return found

    def sentence(self) -> str:
        """The state as one plain statement (what is stored and embedded)."""
        subject, value, attribute = self.subject, self.value, self.attribute
        named = subject if not subject[:1].islower() else f"the {subject}"
        first = named[:1].upper() + named[1:]
        if self.ended:
            return self._ended_sentence(named, first)
        if attribute == "status":
            return f"The status of {named} is {value}."
        if attribute == "assignee":
            return f"{first} is assigned to {value}."
        if attribute == "location":
            return f"{first} lives in {value}."
        if attribute == "employer":
            return f"{first} works at {value}."
        if attribute == "date":
            day = f" ({self.day})" if self.day and self.day not in value else ""
            return f"{first} is scheduled for {value}{day}."
        if attribute == "name":
            # "called" and, for a ticket, "title": the words a question about it uses.
            if is_thing(subject):
                return f"{first} is now called {value}. Its title is now '{value}'."
            return f"{first} is now called {value}."
        if attribute == "role":
            return f"{first}'s role is {value}."
        if attribute.startswith("opinion of "):
            return f"{first} {value} {attribute.removeprefix('opinion of ')}."
        if attribute.startswith("favorite "):
            return f"{first}'s {attribute} is {value}."
        return f"The {attribute} of {named} is {value}."

    def _ended_sentence(self, named: str, first: str) -> str:
        value, attribute = self.value, self.attribute
        if attribute == "assignee":
            return f"{first} is no longer assigned to {value}."
        if attribute == "location":
            return f"{first} no longer lives in {value}."
        if attribute == "employer":
            return f"{first} no longer works at {value}."
        if attribute == "date":
            return f"{first} is no longer scheduled for {value}."
        if attribute == "role":
            return f"{first}'s role is no longer {value}."
        return f"The {attribute} of {named} is no longer {value}."

    def makes_sense(self) -> bool:
        """Cheap guards against keying garbage (from patterns or a model)."""
        if not slug(self.subject) or not slug(self.attribute) or not self.value_key:
            return False
        if len(self.value) > 80 or len(self.subject) > 80 or len(self.attribute) > 48:
            return False
        if slug(self.subject) == slug(self.value):
            return False  # "Reference: ICO-2027-5531" keyed to ICO-2027-5531 itself
        if _PRONOUN_VALUE.match(self.value):
            return False  # "Venue: I've put a hold on Rosewood Barn": a clause, not a venue
        return self.attribute != "date" or is_date(self.value) or self.day is not None


@dataclass(frozen=True, slots=True)
class Candidate:
    """A memory the reader proposes to store, with where it came from."""

    content: str
    type: str
    origin: Utterance
    extractor: str
    keywords: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    context: str | None = None
    state: State | None = None
    confidence: float = 1.0
    extra: dict[str, Any] = field(default_factory=dict)
    # Read from an event's own fields ({field, from, to}), not from its text.
    structured: bool = False
    # For an ended state: the sentence as said, stored unkeyed when the state it ends is
    # not the current one ("I left Berlin" ends no known employer).
    plain: str | None = None

    @property
    def valid_from(self) -> datetime | None:
        return self.origin.at

    def record(self) -> dict[str, Any]:
        """The fields of `cube.add` for this candidate."""
        attributes = dict(self.extra)
        if self.state is not None:
            attributes.update(self.state.attributes())
        return {
            "content": self.content,
            "type": self.type,
            "source": self.origin.source,
            "source_ref": self.origin.ref,
            "author": self.origin.author,
            "valid_from": self.origin.at,
            "tags": list(self.tags),
            "keywords": list(self.keywords),
            "context": self.context,
            "attributes": attributes,
            "confidence": self.confidence,
            "created_by": f"memreader:{self.extractor}"[:128],
        }
