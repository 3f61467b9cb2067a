"""The entities a conversation establishes, and the names it uses for each.

A state is only as useful as its subject's name: "the rent" said in an email whose subject
line is "Dock 7 - terms" is Dock 7's rent, and a later "what does the Dock 7 lease cost?"
must find it. People name a thing several ways -- an id (`HC-30771`), the id with its kind
("order HC-30771"), a short name ("St. Aldric") and a long one ("St. Aldric Hospital"), a
subject line ("Nair kitchen - proposal"), a common noun ("the permit") -- so the reader
keeps every name it has seen for an entity, and the answerer and the reconciler match on
any of them.

What counts as a name (`names_in`), from the most to the least reliable:

* ids: `PO-5521`, `BP-2027-0418`, `NIRB-27-3310`, `ENG-142`, and with the noun before
  them, their kind ("order HC-30771" -> kind "order");
* numbered places and units: "site 114", "Dock 7", "Building 3";
* an email's subject line (`Re:` and trailing words such as "terms" or "update" dropped);
* proper names of two or more capitalised words ("St. Aldric Hospital", "Maersk Halden").

`Entities` is the book of what one cube has established: each entity's canonical name
(its id when it has one, else the first name seen) and its aliases. Two names join one
entity only on strong evidence: an id and its kind-prefixed form, a name and a shorter
name whose words start it ("St. Aldric" of "St. Aldric Hospital"), and the names a
record's head line gives its id ("Site 114 - St. Aldric Hospital"). The book is rebuilt
from the cube's items (each keyed state stores its subject's names), so a reader started
later knows them too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from memos.agents.words import NOT_NAMES
from memos.text import STOPWORDS

ID = re.compile(
    r"(?<![\w-])(?!SEV-\d(?![\w-]))[A-Z][A-Z0-9]{1,9}(?:-[A-Za-z0-9]{1,10}){0,3}-\d[A-Za-z0-9]{0,11}(?![\w-])"
)
_KIND_BEFORE = re.compile(r"(?P<kind>[A-Za-z][a-z]{2,15})\s+(?:no\.?\s*|#\s?)?$")
_PLACE_NOUNS = (
    "site|store|shop|dock|building|bldg|room|floor|level|gate|unit|lot|hall|booth|table|"
    "ward|bay|studio|warehouse|zone|terminal|berth|pier|suite|office|clinic|branch|plant|"
    "line|lab|studio|team|squad|cohort|wave|batch|lane|track|pod|cluster|region|store"
)
# Records numbered with "#" ("Incident #4412", "case #00231"): a number alone is no name,
# so these kinds need the "#".
_RECORD_NOUNS = "incident|case|ticket|issue|request|invoice|problem|task|alert|bug"
NUMBERED = re.compile(
    rf"(?<![\w-])(?P<kind>(?i:{_PLACE_NOUNS}|(?:{_RECORD_NOUNS})(?=\s+#)))\s+#?"
    rf"(?P<n>\d{{1,8}}[A-Z]?)(?![\w.,:-]\d|\w)"
)
_NUMBERED_NAME = re.compile(rf"(?i)(?P<kind>{_PLACE_NOUNS}|{_RECORD_NOUNS})\s+#?\d{{1,8}}[A-Z]?")


def numbered_kind(name: str) -> str | None:
    """The kind of a numbered name as stored ("Incident 4412" -> "incident"), or None."""
    found = _NUMBERED_NAME.fullmatch(name.strip())
    return found["kind"].lower() if found else None


_CAPITAL = r"(?:(?:Dr|Mr|Mrs|Ms|St|Mt|Ft|Jr|Sr|Co|Inc|Ltd)\.|[A-Z][\w'&.-]*[A-Za-z0-9]|[A-Z])"
PROPER = re.compile(
    rf"(?<![\w@#-]){_CAPITAL}(?:\s+(?:of|de|van|von|da|del|der|and|&)?\s*{_CAPITAL}){{1,4}}"
    rf"(?:\s+\d{{1,4}})?(?![\w-])"
)
_SUBJECT_PREFIX = re.compile(r"(?i)^(?:(?:re|fwd?|fw|aw|sv|wg)\s*:\s*)+")
_SUBJECT_TAIL = re.compile(
    r"(?i)\s+(?:terms|update|updates|confirmation|confirmed|selection|handover|proposal|"
    r"schedule|quote|measurements|qty|customs|packing|price|pricing|delay|eta|roll-over|"
    r"rollover|change|changes|weekly|daily|notes|recap|summary|follow-?up|question|"
    r"questions|request|status|plan|planning|kickoff|invite|invitation|reminder|"
    r"booking|draft|review|done|targets?|terms and conditions|next steps)$"
)
_NOT_NAME_WORDS = NOT_NAMES | frozenset(
    [
        "also", "best", "cheers", "comment", "dear", "note", "regards", "status", "subject",
        "thank", "when", "yesterday"
    ]
)  # fmt: skip


# Punctuation around a name: quotes (straight and typographic), brackets, dashes.
PUNCTUATION = " .,:;-\"'\u201c\u201d\u2018\u2019()[]"


def _clean(name: str) -> str:
    text = re.sub(r"\s+", " ", name).strip(PUNCTUATION)
    return re.sub(r"(?i)^(?:the|our|your|their|its|this|that|a|an)\s+", "", text)


def key(name: str) -> str:
    """The form two names are compared in ('The St. Aldric Hospital' -> 'st aldric
    hospital')."""
    words = re.findall(r"[a-z0-9]+", name.lower())
    return " ".join(w for w in words if w not in ("the", "a", "an"))


@dataclass(frozen=True, slots=True)
class Name:
    """One name found in a text: the name, its kind ('order' for 'order HC-30771'), how
    it was found (id | numbered | subject | proper), and where."""

    text: str
    source: str
    kind: str | None = None
    start: int = 0
    aliases: tuple[str, ...] = ()


def ids_in(text: str) -> list[str]:
    return list(dict.fromkeys(m.group(0) for m in ID.finditer(text)))


_FLAG = re.compile(
    r"(?i:\b(?:feature\s+)?(?P<kind>flag|gate|toggle|experiment|kill switch)\s+)"
    r"[`'\"]?(?P<n>[a-z][a-z0-9]*(?:[_.-][a-z0-9]+)+)\b"
)


def names_in(text: str) -> list[Name]:
    """The names a text uses, in reading order (see the module doc)."""
    found: list[Name] = []
    taken: list[tuple[int, int]] = []
    for match in ID.finditer(text):
        window = text[max(0, match.start() - 40) : match.start()]
        before = _KIND_BEFORE.search(window)
        kind = before["kind"].lower() if before else None
        if kind is not None and (kind in STOPWORDS or kind.endswith(("ed", "ing"))):
            kind = None
        if kind is not None and before is not None:
            # A kind is a noun: after a determiner ("your order HC-30771") or opening a
            # line or a title ("Application BP-2027-0418", "Booking BWL-88213").
            ahead = window[: before.start()]
            opens = not ahead.strip() or ahead.rstrip()[-1:] in ".!?:\n-/|("
            after_det = re.search(r"(?i)\b(?:the|your|our|their|this|that|a|an|its|my)\s+$", ahead)
            if not (after_det or (opens and before["kind"][:1].isupper())):
                kind = None
        aliases = (f"{kind} {match.group(0)}",) if kind else ()
        found.append(Name(match.group(0), "id", kind, match.start(), aliases))
        taken.append((match.start(), match.end()))
    for match in NUMBERED.finditer(text):
        if any(s < match.end() and match.start() < e for s, e in taken):
            continue
        name = f"{match['kind']} {match['n']}"
        found.append(Name(name, "numbered", match["kind"].lower(), match.start()))
        taken.append((match.start(), match.end()))
    for match in _FLAG.finditer(text):
        if not any(s < match.end() and match.start() < e for s, e in taken):
            # "Flag offline-sync", "gate biometric_login": a flag goes by its bare name
            kind = match["kind"].lower()
            found.append(
                Name(match["n"], "flag", kind, match.start("n"), (f"{kind} {match['n']}",))
            )
            taken.append((match.start(), match.end()))
    for match in PROPER.finditer(text):
        if any(s < match.end() and match.start() < e for s, e in taken):
            continue
        name = match.group(0).strip()
        words = name.split()
        while words and words[0].lower().strip(".,") in _NOT_NAME_WORDS:
            words = words[1:]
        if len(words) < 2 or ID.search(name):
            continue
        found.append(Name(" ".join(words), "proper", None, match.start()))
    return sorted(found, key=lambda n: n.start)


def subject_line_names(subject: str) -> list[Name]:
    """What an email's subject line is about: its ids, numbered names and leading phrase
    ('Re: Dock 7 - terms' -> 'Dock 7'; 'Booking BWL-88213 / PO-5521' -> the two ids)."""
    body = _SUBJECT_PREFIX.sub("", subject.strip())
    found = [replace_source(n, "subject") for n in names_in(body) if n.source != "proper"]
    segments = re.split(r"\s+[-\u2013\u2014/|:]\s+|:\s+|,\s+", body)
    for segment in segments[:3]:
        phrase = segment.strip()
        while True:
            shorter = _SUBJECT_TAIL.sub("", phrase).strip()
            if shorter == phrase:
                break
            phrase = shorter
        head = _clean(phrase)
        words = head.split()
        if (
            head
            and not ID.search(head)
            and 1 <= len(words) <= 4
            and words[0].lower() not in _NOT_NAME_WORDS
            and not any(key(head) == key(n.text) for n in found)
        ):
            found.append(Name(head, "subject", None, 0))
    return found


def replace_source(name: Name, source: str) -> Name:
    return Name(name.text, source, name.kind, name.start, name.aliases)


@dataclass
class Entity:
    """One thing the conversation talks about: its canonical name, every name it goes
    by, and its kind when an id came with one ('order')."""

    name: str
    aliases: list[str] = field(default_factory=list)
    kind: str | None = None

    def names(self) -> list[str]:
        return list(dict.fromkeys([self.name, *self.aliases]))

    def calls(self, name: str) -> bool:
        wanted = key(name)
        return bool(wanted) and any(key(n) == wanted for n in self.names())


class Entities:
    """The entities one cube knows (see the module doc)."""

    def __init__(self, entities: Iterable[Entity] = ()) -> None:
        self.entities: list[Entity] = list(entities)

    def find(self, name: str) -> Entity | None:
        """The entity that goes by `name` (the most recently seen one)."""
        wanted = key(name)
        if not wanted:
            return None
        for entity in reversed(self.entities):
            if entity.calls(name):
                return entity
        return None

    def find_loose(self, name: str) -> Entity | None:
        """The entity `name` names, also by a longer or shorter form that shares its start
        ('St. Aldric' for 'St. Aldric Hospital'), or by its kind alone ('the order')."""
        found = self.find(name)
        if found is not None:
            return found
        wanted = key(name).split()
        if not wanted:
            return None
        for entity in reversed(self.entities):
            for known in entity.names():
                words = key(known).split()
                if not words or any(c.isdigit() for c in "".join(wanted)) != any(
                    c.isdigit() for c in "".join(words)
                ):
                    continue
                short, long = (wanted, words) if len(wanted) < len(words) else (words, wanted)
                if not short or long[: len(short)] != short:
                    continue
                if len(short) > 1 or (len(short[0]) > 2 and _proper(known)):
                    return entity
        kinds = [e for e in self.entities if e.kind and key(e.kind) == key(name)]
        if kinds:
            return kinds[-1]
        # "the lease" of "Dock 7 lease", "the catering" of "Summit catering": the head noun
        # of exactly one longer name.
        tails = [
            e
            for e in self.entities
            if any(
                len(key(n).split()) > len(wanted) and key(n).split()[-len(wanted) :] == wanted
                for n in e.names()
            )
        ]
        return (
            tails[0] if len(tails) == 1 and not any(c.isdigit() for c in "".join(wanted)) else None
        )

    def learn(self, name: str, *aliases: str, kind: str | None = None) -> Entity:
        """Record a name (and names known to be the same thing); the entity it joins."""
        entity = self.find(name)
        for alias in aliases:
            if entity is None:
                entity = self.find(alias)
        if entity is None:
            entity = Entity(name, [], kind)
            self.entities.append(entity)
        else:
            self.entities.remove(entity)
            self.entities.append(entity)  # newest last
        for alias in (name, *aliases):
            if alias and not entity.calls(alias):
                entity.aliases.append(alias)
        if ID.fullmatch(name) and not ID.fullmatch(entity.name):
            entity.aliases.append(entity.name)
            entity.name = name  # an id is the most stable name
        if kind and entity.kind is None:
            entity.kind = kind
        return entity

    def names_of(self, name: str) -> list[str]:
        """Every name of the entity `name` names (just `name` when unknown)."""
        entity = self.find(name)
        return entity.names() if entity is not None else [name]

    def canonical(self, name: str) -> str:
        entity = self.find(name)
        return entity.name if entity is not None else name

    def __iter__(self) -> Iterator[Entity]:
        return iter(self.entities)


def _proper(name: str) -> bool:
    words = name.split()
    return bool(words) and all(w[:1].isupper() or w[:1].isdigit() for w in words)


__all__ = [
    "ID",
    "NUMBERED",
    "Entities",
    "Entity",
    "Name",
    "ids_in",
    "key",
    "names_in",
    "numbered_kind",
    "subject_line_names",
]
