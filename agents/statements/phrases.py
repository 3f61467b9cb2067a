"""Noun phrases and values inside a clause: the subject and attribute in the words before a
verb (`_split_np`), the value after a cue (`_value_after`), and the `Reading` built from
them (`_value_reading`)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from memos.agents.candidates import THING, thing_name
from memos.agents.events import Utterance
from memos.agents.ontology import MILESTONES
from memos.agents.statements.context import Reading
from memos.agents.statements.vocabulary import (
    _ADJECTIVES,
    _ATTRIBUTE,
    _CALENDAR_WORDS,
    _DETERMINERS,
    _LEADING,
    _MEASURE,
    _NOT_SUBJECT_WORDS,
    _PERSONISH,
    _PRONOUN,
    _ROLE_NOUN,
)
from memos.agents.values import (
    Value,
    ordinal_day,
    values,
)
from memos.agents.words import without_asides

_ATTRIBUTE_AT_END = re.compile(rf"(?i)(?:^|\s)(?P<a>{_ATTRIBUTE})$")


_SAME_ATTRIBUTE = {
    "state": "status",
    "assigned to": "assignee",
    "head count": "headcount",
    "percentage rollout": "rollout",
    "rollout percentage": "rollout",
}


_KIND_WORDS = re.compile(
    r"(?i)^(?:flag|feature flag|feature|project|repo|repository|ticket|issue|epic|service|"
    r"app|library|package|team|the)\s+"
)


# Words that qualify an attribute noun rather than name a thing ("close date", "fix
# version", "target release", "effective date").
_QUALIFIERS = frozenset(
    [
        "close",
        "closing",
        "fix",
        "due",
        "start",
        "end",
        "target",
        "effective",
        "expiry",
        "expiration",
        "signing",
        "review",
        "renewal",
        "release",
        "ship",
        "install",
        "delivery",
    ]
)


def _split_np(raw: str) -> tuple[str | None, str | None]:
    """A noun phrase as (subject, attribute): 'the v2 rate limit' -> ('v2', 'rate limit'),
    'the status of PLAT-412' -> ('PLAT-412', 'status'), 'the block' -> ('block', None)."""
    text = without_asides(raw).strip(" ,:;-\"'“”")
    text = _LEADING.sub("", text)
    if ":" in text:
        left, right = text.rsplit(":", 1)
        subject, attribute = _split_np(right)
        if subject is None and attribute is not None:
            return _subject_text(left), attribute
        text = right.strip()
    # The last noun phrase only: after the last comma, clause word or determiner.
    text = re.split(
        r"(?i),\s+|\.\s+|\s+(?:so|since|because|and|but|says|said|that|which|when)\s+", text
    )[-1]
    text = re.sub(
        r"(?i)\s+(?:a|one|two|three|\d+)\s+(?:days?|weeks?|months?)(?:\s+(?:later|earlier|out|"
        r"back))?$",
        "",
        text,
    )
    cut = list(re.finditer(r"(?i)\b(?:the|our|their|its|this|that|your|my)\s+", text))
    owned_by = re.search(rf"(?i)\b(?:{_ATTRIBUTE})\s+(?:of|for|on)\s+", text)
    if cut and not owned_by:
        text = text[cut[-1].end() :]
    words = text.split()
    if owned_by is not None and _QUOTED_TITLE.search(text, owned_by.end()):
        text = text[owned_by.start() :]  # "speaker for 'a title of many words'": kept whole
    else:
        text = " ".join(words[-7:])
    counted = re.match(
        r"(?i)^(?P<a>(?:[a-z][\w-]*\s+){0,2}(?:count|number|total))\s+(?:of|for|at|on)\s+"
        r"(?P<s>.+)$",
        text,
    )
    if counted:
        return _subject_text(counted["s"]), counted["a"].lower()  # "circuit count for Lab B"
    # The longest attribute noun wins: "move date for Floor 6" is the move date, not a date.
    of = re.match(rf"(?i)^(?:.*?\s)??(?P<a>{_ATTRIBUTE})\s+(?:of|for|on)\s+(?P<s>.+)$", text)
    if of:
        return _subject_text(of["s"]), of["a"].lower()
    owned = re.match(rf"(?i)^(?P<s>.+?)['\u2019]s?\s+(?P<a>{_ATTRIBUTE})$", text)
    if owned:
        return _subject_text(owned["s"]), owned["a"].lower()
    tail = _ATTRIBUTE_AT_END.search(text)
    if tail:
        subject = text[: tail.start()].strip()
        last = subject.split()[-1].lower() if subject else ""
        if last in _QUALIFIERS or (subject.lower() in MILESTONES):
            # "Close date", "MOB-77 Fix Version": the word before the attribute noun says
            # which date or version; what comes before it names the thing.
            rest = subject[: len(subject) - len(last)].strip()
            return (_subject_text(rest) if rest else None), f"{last} {tail['a']}".lower()
        return _subject_text(subject), tail["a"].lower()
    return _subject_text(text), None


_QUOTED_TITLE = re.compile(r"['\"\u201c\u2018](?P<t>[^'\"\u201d\u2019]{2,80})['\"\u201d\u2019]?")


def _subject_text(raw: str) -> str | None:
    quoted = _QUOTED_TITLE.fullmatch(raw.strip())
    if quoted is not None:
        return f"'{quoted['t'].strip()}'"  # a title, whole and still quoted (`plausible_subject`)
    text = without_asides(raw).strip(" ,:;-\"'“”.")
    text = _LEADING.sub("", text)
    text = _DETERMINERS.sub("", text)
    text = _KIND_WORDS.sub("", text).strip()
    # Only the last noun phrase: "Deepak Rao changed the status of" is no subject.
    if not text or _PRONOUN.match(text) or len(text.split()) > 5:
        return None
    if text.lower() in _NOT_SUBJECT_WORDS or text.lower() in _ADJECTIVES:
        return None
    if re.fullmatch(r"v?\d+(?:\.\d+){1,3}", text):
        return text  # "the staged rollout for 5.1.0": a release named by its version
    if not re.search(r"[A-Za-z]", text):
        return None
    if re.search(r"(?i)\b(?:is|are|was|were|will|has|have|we|i|you|they)\b", text):
        return None
    things = THING.findall(text)
    if things:
        return thing_name(things[-1])
    return text


def _attribute_name(name: str) -> str:
    lowered = " ".join(name.lower().split())
    return _SAME_ATTRIBUTE.get(lowered, lowered)


def _first(found: Sequence[Value], kinds: Iterable[str] | None = None) -> Value | None:
    allowed = set(kinds) if kinds is not None else None
    for value in found:
        if allowed is None or value.kind in allowed:
            return value
    return None


_PLACE_NOUNS = (
    r"(?:office|offices|building|campus|site|warehouse|depot|plant|lab|studio|hotel|hall|"
    r"venue|centre|center|room|suite|branch|hub|facility|headquarters|HQ)"
)


def _word_value(text: str, start: int) -> Value | None:
    """An untyped value after a change word: a Title-case phrase or a switch word."""
    rest = text[start:]
    switch = re.match(r"\s*(on|off|enabled|disabled|paused|live)\b", rest, re.I)
    if switch:
        return Value(
            "switch", switch.group(1).lower(), start + switch.start(1), start + switch.end(1)
        )
    floor = re.match(
        r"(?i)\s*(?:the\s+)?(\d{1,3}(?:st|nd|rd|th)\s+floor|(?:floor|level)\s+\d{1,3})\b", rest
    )
    if floor:
        return Value("word", floor.group(1), start + floor.start(1), start + floor.end(1))
    quoted = re.match(r"\s*[\"“']([^\"”']{1,60})[\"”']", rest)
    if quoted:
        return Value("word", quoted.group(1), start + quoted.start(1), start + quoted.end(1))
    titled = re.match(
        r"\s*(?:the\s+)?((?:[A-Z][\w'&.-]*|[A-Z]{2,}|of|de|da|van|won't|Won't)"
        # "Ready for Distribution", "Waiting for Review": "for" joins two capitalised words
        r"(?:\s+(?:[A-Z][\w'&.-]*|(?:of|de|da|van)\b|for(?=\s+(?!(?:Mon|Tue|Wed|Thu|Fri|Sat|"
        r"Sun|Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec|Q[1-4]|Next|This)[a-z]*\b)[A-Z]))"
        r"){0,3})"
        # "the Porto office", "the Kraków warehouse": a place named by its town keeps its noun.
        rf"(?:\s+(?P<place>{_PLACE_NOUNS})\b)?",
        rest,
    )
    if titled and titled.group(1)[:1].isupper():
        body = titled.group(1).rstrip(".")
        if titled["place"]:
            body = f"{body} {titled['place']}"
        first = body.split()[0].lower().rstrip(".,")
        if len(body) < 2 or first in _CALENDAR_WORDS:
            return None  # "S. Lindqvist" cut short, "Friday the 23rd": no name
        return Value("word", body, start + titled.start(1), start + titled.start(1) + len(body))
    return None


def _value_after(clause: str, start: int, at: datetime | None) -> Value | None:
    """The value a clause gives after position `start` (typed first, else words)."""
    # Typed on the whole clause: a version is told from a decimal by the words before it.
    found = [
        v
        for v in values(clause, at)
        if v.start >= start
        and (
            v.start - start <= 3
            or clause[start : v.start].strip() in ("", "the")
            or (
                v.kind == "version"
                and re.fullmatch(r"\s*[A-Z][\w-]{1,20}\s+", clause[start : v.start])
            )
        )
    ]
    if found:
        return found[0]
    nth = re.match(r"(?i)\s*the\s+(?P<d>\d{1,2})(?:st|nd|rd|th)\b(?!\s+[a-z])", clause[start:])
    if nth is not None and at is not None:
        # "bumped FAC-312 to the 25th": that day of this month, or of the next once past
        base = at.date()
        if int(nth["d"]) < base.day:
            base = (base.replace(day=1) + timedelta(days=32)).replace(day=1)
        day = ordinal_day(nth.group(0), None, base)
        if day is not None:
            return Value("date", day.text, start + nth.start("d"), start + nth.end())
    return _word_value(clause, start)


_STAGE_VERBS = ("moved", "move", "moving", "went", "goes", "transitioned", "changed", "set")


def _me(clause: str, start: int, utterance: Utterance) -> Value | None:
    """'moves from Hannah to me': the writer, by name."""
    me = re.match(r"(?i)\s*me\b", clause[start:])
    if me is None or not utterance.author:
        return None
    return Value("person", utterance.author, start + me.start(), start + me.end())


def _as_status(value: Value, attribute: str | None, verb: str) -> Value:
    """'was moved to Phone Screen': a Title-case stage read as a name is a word."""
    if (
        value.kind == "person"
        and verb in _STAGE_VERBS
        and (attribute is None or not _PERSONISH.search(attribute))
    ):
        return Value("word", value.text, value.start, value.end)
    return value


def _role_in(text: str) -> str | None:
    """The role a phrase names ('PI' of 'Change of PI to'), or None."""
    found = re.search(rf"(?<![\w-])(?P<r>{_ROLE_NOUN})(?![\w-])", text)
    if found is None:
        return None
    role = found["r"]
    return role if role.isupper() else role.lower()


_COUNTED = re.compile(
    r"(?:[a-z][a-z-]+\s+){0,2}(?:count|number|headcount|total|[a-z][a-z-]*[^s\W]s)"
)


def _value_reading(
    subject: str | None, attribute: str | None, value: Value, previous: str | None, reason: str
) -> Reading:
    if value.kind == "count" and value.unit and _MEASURE.fullmatch(value.unit):
        # "storage cap raised to 6 TB": a measure keeps its unit and names nothing; the
        # phrase before it names what was measured.
        value = Value("count", f"{value.text} {value.unit}", value.start, value.end, value.unit)
        if attribute is None and subject is not None and not re.search(r"\d", subject):
            return Reading(None, subject.lower(), value, previous, reason)  # not "Dock 7"
        return Reading(subject, attribute, value, previous, reason)
    if value.kind == "count" and attribute is None and value.unit:
        # "extended to 70 rooms": the unit names the attribute.
        return Reading(subject, value.unit.lower(), value, previous, reason)
    if value.kind == "count" and attribute is None and subject and _COUNTED.fullmatch(subject):
        # "the rack count goes up to 10", "circuits stay at 4": the counted noun is what
        # the number measures, of whatever the conversation is about.
        return Reading(None, subject.lower(), value, previous, reason)
    if value.kind == "count" and value.unit and attribute is not None:
        unit = value.unit.lower()
        if not attribute.endswith(unit.rstrip("s")) and unit not in ("people", "persons"):
            text = f"{value.text} {unit}"  # "600 rpm": a measure keeps its unit
            value = Value("count", text, value.start, value.end, value.unit)
    return Reading(subject, attribute, value, previous, reason)
