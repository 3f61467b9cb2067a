"""Answers read from keyed states, not from text spans.

A backend that keeps keyed states (memos: `StateRetrieved`, with the state's subject,
attribute and value, and when it held) lets a question be answered from the state itself:
the question is matched to a key (its subject words, its attribute words or the kind of
value it asks for: "who" a person, "when" a date, "how many" a count), and the answer is
that key's value -- the current one, the one at the day the question names, or the one
just before the current one (or before a named value) for "before" questions. The answer
carries its provenance (the state's item, hence its source event and author), which also
answers "who did X" and "which ticket is Y" questions.

`answer_from_states` returns None when no recalled state fits the question well enough;
the caller then falls back to reading text spans.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from memos.agents.keyphrases import stem
from memos.eval.memtrack.backends import Retrieved
from memos.eval.memtrack.memos_backend import StateRetrieved, asked_as_of
from memos.eval.memtrack.metrics import normalise
from memos.text import STOPWORDS

_QUESTION_WORDS = frozenset(
    [
        "what",
        "which",
        "who",
        "whom",
        "whose",
        "when",
        "where",
        "why",
        "how",
        "is",
        "are",
        "was",
        "were",
        "did",
        "does",
        "do",
        "the",
        "a",
        "an",
        "of",
        "for",
        "to",
        "in",
        "on",
        "at",
        "by",
        "now",
        "currently",
        "right",
        "current",
        "latest",
        "new",
        "set",
        "being",
        "be",
        "been",
        "will",
        "it",
        "its",
        "their",
        "there",
        "that",
        "this",
        "value",
        "tell",
        "me",
        "please",
    ]
)
# What kind of value a question asks for, and the attribute words that name it.
_ASKS: tuple[tuple[str, str, str], ...] = (
    ("percent", r"\b(?:percent(?:age)?|rolled out|rollout|ramp(?:ed)?|traffic)\b", "rollout"),
    ("count", r"\b(?:how many|number of|headcount|capacity|limit|count|area|size)\b", ""),
    (
        "money",
        r"\b(?:how much|price|cost|costs|fee|fees|salary|budget|amount|pay|quote|rate|rent|"
        r"deposit|value|spend|revenue|charge|total)\b",
        "",
    ),
    ("date", r"\b(?:when|what date|which date|what day|which day|deadline|date)\b", "date"),
    ("version", r"\b(?:version|what release|which release|build)\b", "version release"),
    ("person", r"\bwho(?:m|se)?\b|\b(?:owner|assignee|lead|manager|speaker|host)\b", ""),
    ("place", r"\b(?:where|venue|location|office|city|room)\b", "venue location"),
    ("status", r"\b(?:status|state|stage|column|resolution)\b", "status stage state"),
)
_KIND_FITS: dict[str, set[str | None]] = {
    "percent": {"percent"},
    "count": {"count"},
    "money": {"money"},
    "date": {"date"},
    "version": {"version"},
    "person": {"person"},
    "place": {"word", "person", None},
    "status": {"word", None, "switch"},
}
_BEFORE = re.compile(r"(?i)\b(?:before|previous(?:ly)?|used to|originally|initially|prior)\b")
_NAMED_AFTER_BEFORE = re.compile(
    r"(?i)\bbefore\b(?:\s+(?:it|they|she|he|the \w+))?(?:\s+\w+){0,2}?\s+(?:to|was|became|"
    r"is)\s+(?P<v>.+?)\??$|\bbefore\s+(?P<w>[^?]+?)\s*(?:took over|did|came|replaced)?\??$"
)
_ROLE = re.compile(
    r"(?i)(?:owner|assignee|lead|commander|manager|speaker|host|dri|on-?call|reviewer|"
    r"approver|contact|recruiter|coordinator|sponsor|csm|pm|am|ae|champion|\bby)$"
)
_STATE_VERBS = frozenset(
    [
        "was",
        "is",
        "will",
        "did",
        "has",
        "had",
        "owned",
        "owns",
        "led",
        "leads",
        "managed",
        "manages",
        "held",
        "ran",
        "runs",
        "hosted",
        "went",
        "sat",
        "got",
    ]
)
_WHO_DID = re.compile(r"(?i)^\s*who\s+(?P<verb>[a-z]+(?:ed|t|ent|ote|ew|ave|ook|ade))\b")


def _stems(text: str) -> set[str]:
    words = normalise(text).split()
    return {stem(w) for w in words if w not in STOPWORDS and w not in _QUESTION_WORDS}


def _value_kind(value: str) -> str | None:
    from memos.agents.values import kind_of_value

    return kind_of_value(value)


@dataclass(frozen=True, slots=True)
class _Asked:
    words: set[str]
    kinds: set[str]
    hinted: set[str]  # attribute words the kind of question implies
    before: bool
    named: str | None
    as_of: datetime | None
    who: bool


def _read(question: str, asked_at: datetime | None) -> _Asked:
    kinds: set[str] = set()
    hinted: set[str] = set()
    for kind, cue, words in _ASKS:
        if re.search(cue, question, re.I):
            kinds.add(kind)
            hinted |= {stem(w) for w in words.split()}
    before = bool(_BEFORE.search(question))
    named = None
    if before and (found := _NAMED_AFTER_BEFORE.search(question)):
        named = (found["v"] or found["w"] or "").strip() or None
    who = bool(re.match(r"(?i)^\s*who\b", question))
    return _Asked(
        _stems(question), kinds, hinted, before, named, asked_as_of(question, asked_at), who
    )


def _fit(asked: _Asked, item: StateRetrieved) -> float:
    """How well a state's key fits a question: subject words count twice, then the
    attribute's words, or the kind of value the question asks for."""
    subject = _stems(str(item.state.get("subject", "")))
    attribute = _stems(str(item.state.get("attribute", "")))
    if not subject or not attribute:
        return 0.0
    # Ids and versions in the subject ("v3.3", "API-729") must all be in the question.
    if any(any(c.isdigit() for c in w) and w not in asked.words for w in subject):
        return 0.0
    subject_fit = len(subject & asked.words) / len(subject)
    prefixes = {w[:5] for w in asked.words if len(w) >= 5}
    if attribute <= asked.words:
        attribute_fit = 1.0
    elif attribute & asked.words or any(len(w) >= 5 and w[:5] in prefixes for w in attribute):
        attribute_fit = 0.7
    elif attribute & asked.hinted:
        attribute_fit = 0.8
    elif any(
        _value_kind(str(item.state.get("value", ""))) in _KIND_FITS.get(k, set())
        for k in asked.kinds
    ):
        attribute_fit = 0.5
    else:
        attribute_fit = 0.0
    if subject_fit == 0 or attribute_fit == 0:
        return 0.0
    value = str(item.state.get("value", ""))
    kind = _value_kind(value)
    if asked.who and kind != "person":
        # "who approved the 15% discount" asks for a person, not the 15%; a bare name
        # ('Lena') counts when the attribute is a role.
        named = re.fullmatch(r"@?[\w.'\u00C0-\u017F-]+(?:\s[A-Z][\w'-]*)?", value.strip())
        if kind is not None or not named or not _ROLE.search(str(item.state.get("attribute"))):
            return 0.0
    # A question's own words that neither the subject nor the attribute explains lower
    # the fit a little, so "the v2 rate limit" prefers v2 over v1.
    return 2 * subject_fit + attribute_fit


def _attribute_only(asked: _Asked, item: StateRetrieved) -> float:
    """1 when the question names the state's attribute in full (and no id of another
    subject), else 0."""
    subject = _stems(str(item.state.get("subject", "")))
    attribute = _stems(str(item.state.get("attribute", "")))
    if not attribute or not attribute <= asked.words:
        return 0.0
    asked_ids = {w for w in asked.words if any(c.isdigit() for c in w)}
    if asked_ids and asked_ids != {w for w in subject if any(c.isdigit() for c in w)}:
        return 0.0  # the question names an id this state is not about
    value = str(item.state.get("value", ""))
    kind = _value_kind(value)
    kinds = {k for k in asked.kinds if k in _KIND_FITS}
    if asked.who and kind is None and value[:1].isupper():
        return 1.0  # "Who is the fit-out contractor?" -> "Lagertek"
    if kinds and not any(kind in _KIND_FITS[k] for k in kinds):
        return 0.0
    return 1.0


def _timeline(group: Sequence[StateRetrieved]) -> list[StateRetrieved]:
    return sorted(
        group, key=lambda i: i.valid_from or i.timestamp or datetime.min.replace(tzinfo=UTC)
    )


def _same(a: str, b: str) -> bool:
    x, y = normalise(a), normalise(b)
    return bool(x) and (x == y or x.replace(" ", "") == y.replace(" ", ""))


def _held_at(item: StateRetrieved, moment: datetime) -> bool:
    start = item.valid_from or item.timestamp
    return (
        start is not None and start <= moment and (item.valid_to is None or moment < item.valid_to)
    )


def answer_from_states(
    question: str, items: Sequence[Retrieved], asked_at: datetime | None = None
) -> str | None:
    """The value of the recalled state the question asks about, or None (module doc)."""
    states = [
        i for i in items if isinstance(i, StateRetrieved) and i.state and not i.state.get("ended")
    ]
    if not states:
        return None
    asked = _read(question, asked_at)
    which = _which_subject(question, states)
    if which is not None:
        return which
    scored = [(_fit(asked, item), item) for item in states]
    best = max((s for s, _ in scored), default=0.0)
    if best < 1.5:
        # No recalled state names the question's subject: a state whose attribute the
        # question names outright still answers ("Who is the PI on the proposal?").
        scored = [(_attribute_only(asked, item), item) for item in states]
        best = max((s for s, _ in scored), default=0.0)
        if best < 1.0:
            return None
    top = next(item for s, item in scored if s == best)
    key_attribute = str(top.state.get("attribute", ""))
    group = [
        item
        for s, item in scored
        if s >= best - 0.3 and _compatible(str(item.state.get("attribute", "")), key_attribute)
    ]
    timeline = _timeline(group)
    if asked.as_of is not None and not asked.before:
        held = [i for i in timeline if _held_at(i, asked.as_of)]
        return str(held[-1].state["value"]) if held else None
    current = [i for i in timeline if i.current is not False] or timeline
    latest = current[-1]
    if not asked.before:
        return str(latest.state["value"])
    return _before(asked, timeline, latest)


def _compatible(a: str, b: str) -> bool:
    from memos.agents.statements import same_attribute

    return same_attribute(a, b) or a.lower() == b.lower()


def _before(asked: _Asked, timeline: list[StateRetrieved], latest: StateRetrieved) -> str | None:
    """The value before the current one (or before the value the question names)."""
    anchor = latest
    if asked.named:
        named = [i for i in timeline if _same(str(i.state["value"]), asked.named)]
        if named:
            anchor = named[-1]
    value = str(anchor.state["value"])
    earlier = [
        i
        for i in timeline
        if (i.valid_from or datetime.min.replace(tzinfo=UTC))
        < (anchor.valid_from or datetime.max.replace(tzinfo=UTC))
        and not _same(str(i.state["value"]), value)
    ]
    if earlier:
        return str(earlier[-1].state["value"])
    previous = anchor.state.get("previous")
    return str(previous) if previous else None


def _which_subject(question: str, states: Sequence[StateRetrieved]) -> str | None:
    """'Which ticket was resolved as Won't Fix?': the subject whose state holds a value
    the question names."""
    if not re.match(
        r"(?i)^\s*(?:which|what)\s+(?:ticket|issue|flag|feature|pr|item|task|"
        r"project|candidate|vendor|release)\b",
        question,
    ):
        return None
    text = normalise(question)
    for item in sorted(
        states, key=lambda i: i.timestamp or datetime.min.replace(tzinfo=UTC), reverse=True
    ):
        value = normalise(str(item.state.get("value", "")))
        if value and len(value) > 2 and f" {value} " in f" {text} ":
            return str(item.state.get("subject"))
    return None


def who_did(question: str, items: Sequence[Retrieved]) -> str | None:
    """'Who sent the catering quote?': the author of the recalled item that best matches
    the question's other words and mentions its verb (or states what it asks about)."""
    match = _WHO_DID.match(question)
    if match is None or match["verb"].lower() in _STATE_VERBS or _BEFORE.search(question):
        return None
    verb = stem(match["verb"].lower())[:4]
    words = _stems(question[match.end() :])
    best: tuple[float, Retrieved] | None = None
    for rank, item in enumerate(items):
        if not item.actor:
            continue
        text = item.text
        if isinstance(item, StateRetrieved):
            text = (
                f"{text} {item.said} {item.state.get('subject', '')} {item.state.get('value', '')}"
            )
        overlap = len(words & _stems(text)) / max(len(words), 1)
        # Saying the thing was done ('approved') counts most; else the words must fit well.
        said = verb in normalise(text)
        score = overlap + (0.5 if said else 0.0) - rank * 0.01
        if overlap > 0 and (said or overlap >= 0.6) and (best is None or score > best[0]):
            best = (score, item)
    return best[1].actor if best is not None and best[0] >= 0.5 else None
