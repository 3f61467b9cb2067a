"""General state statements: (entity, attribute, value) read from a clause's structure,
not from a domain's phrasing, each with the rule that fired.

`memos.agents.patterns` knows tickets, assignees, launches and people's homes. This reader
knows how *any* tracked value is written down, whatever it is about:

* a field line: `Hiring manager: Paul Okafor`, `Openings: 2`, `Rollout: 5% -> 25%`;
* a change: `X changed from A to B`, `the v1 sunset is pushed to September 30`,
  `rolled strict_auth back to 0%`, `the block has been extended to 70 rooms`;
* a copula over an attribute noun: `the v2 rate limit is 500 rpm`, `Keynote speaker
  confirmed - Dr. Ana Ruiz`, `our price for the buffet package is €42 per person`;
* a release: `Release quill-python 3.4.1`; a role: `Jonas Weber will give the keynote`,
  `I own REQ-118 from today`, `I'm taking over as incident lead`;
* a correction (`sorry, I meant March 24, not March 23`; `it's 143, not 134`): the new
  value of the state that held the mistaken one;
* a retraction (`scratch that, we're staying at Harbor Hall`): the value a recent change
  replaced, back on its key.

A clause names its attribute with a noun ("rate limit", "start date", "hiring manager")
or, when it names none, its value's kind says it (a percentage is a rollout, a date a
date, an amount a price). A clause that names no subject takes it from what the reader
already knows (`Context`: the states the cube holds, newest first) -- the subject that
has this attribute, or a value of this kind -- or from what the event is about.
Hedges, questions, conditions, quoted lines and proposals state nothing.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from memos.agents.candidates import THING, State, is_thing, thing_name
from memos.agents.dates import resolve
from memos.agents.entities import NUMBERED, Entities, numbered_kind
from memos.agents.events import Utterance
from memos.agents.naming import (
    canonical,
    names_of,
    plausible_subject,
    qualifier_words,
    topic_like,
)
from memos.agents.ontology import MILESTONES, attribute_class, is_attribute_name
from memos.agents.ontology import same_attribute as same_class
from memos.agents.parse import noun_not_hedge, parsed_readings
from memos.agents.values import (
    PERSON,
    SWITCH,
    Value,
    dates,
    kind_of_value,
    number_of,
    ordinal_day,
    values,
)
from memos.agents.words import NOT_NAMES

if TYPE_CHECKING:
    from memos.protocols import Memory

# Attribute nouns, longest first so "rate limit" wins over "limit" and "start date" over
# "date". Names are kept as written (truth and questions use the writer's words).
_ATTRIBUTES = sorted(
    """price per seat|price per person|price per head|price per user|seat price|unit price|
    list price|price|cost|rate|nightly rate|room rate|fee|fees|salary|base salary|base pay|
    budget|quote|discount|amount|total|deposit|forecast|revenue|arr|acv|spend|
    date|start date|end date|due date|deadline|launch date|release date|go-live date|go-live|
    sunset date|sunset|cutover date|cutover|ship date|kickoff|renewal date|signing date|
    move date|move-in date|freeze|code freeze|
    venue|location|office|address|city|room|site|
    owner|assignee|lead|tech lead|incident lead|incident commander|hiring manager|manager|
    speaker|keynote speaker|host|dri|on-call|on call|reviewer|approver|contact|
    point of contact|recruiter|coordinator|sponsor|captain|release captain|release manager|
    release owner|driver|scribe|
    headcount|head count|attendees|capacity|seats|seat count|rooms|openings|limit|
    desk count|parking spots|floor|bay|
    rate limit|quota|size|desks|licenses|licences|users|
    version|release|build|target release|target version|target|
    rollout|rollout percentage|percentage rollout|percentage|
    status|stage|state|priority|severity|resolution|
    term|contract term|plan|tier|vendor|supplier|provider|contractor|installer|agency|
    inspector|organizer|organiser|moderator|consultant|designer|architect|engineer|planner|
    auditor|surveyor|counsel|lawyer|advisor|mentor|champion|investigator|chair|
    page limit|word limit|floor area|area|square meters|rent|monthly rent|eta|etd|arrival|
    departure|freight|ocean freight|freight rate|quantity|qty|lead time|duration|color|
    colour|finish|material|model|format|mode|size|weight|volume|score|grade|headline""".replace(
        "\n", ""
    ).split("|"),
    key=len,
    reverse=True,
)
_ATTRIBUTES = [a for a in _ATTRIBUTES if a.strip() != "keynote speaker"]
_ATTRIBUTE = "|".join(re.escape(a.strip()) for a in _ATTRIBUTES if a.strip())
_ATTRIBUTE_AT_END = re.compile(rf"(?i)(?:^|\s)(?P<a>{_ATTRIBUTE})$")
_SAME_ATTRIBUTE = {
    "state": "status",
    "assigned to": "assignee",
    "head count": "headcount",
    "percentage rollout": "rollout",
    "rollout percentage": "rollout",
}
# What a value says by its kind when no noun names the attribute.
_LEVEL = re.compile(r"(?i)(?P<sev>sev(?:erity)?[\s-]?[0-5])|(?P<prio>p[0-4])")
_BY_KIND = {
    "date": "date",
    "percent": "rollout",
    "money": "price",
    "version": "version",
    "person": "owner",
    "switch": "status",
    "word": "status",
}
_PERSONISH_WORDS = re.compile(
    r"(?i)(?:owner|assignee|lead|commander|manager|speaker|host|dri|on-?call|reviewer|"
    r"approver|contact|recruiter|coordinator|sponsor|captain|driver|scribe)$"
)
_PERSONISH = re.compile(
    r"(?i)(?:owner|assignee|lead|commander|manager|speaker|host|dri|on-?call|reviewer|"
    r"approver|contact|recruiter|coordinator|sponsor|inspector|organi[sz]er|moderator|"
    r"consultant|assistant|designer|architect|engineer|planner|auditor|surveyor|counsel|"
    r"lawyer|advisor|adviser|mentor|champion|csm|pm|pi|cra|investigator|officer|chair|"
    r"captain|driver|scribe)$"
)
_CHANGE_STEMS = [
    "mov",
    "push",
    "chang",
    "updat",
    "bump",
    "rais",
    "lower",
    "increas",
    "decreas",
    "reduc",
    "extend",
    "drop",
    "slip",
    "postpon",
    "delay",
    "reschedul",
    "shift",
    "roll",
    "dial",
    "ramp",
    "revert",
    "downgrad",
    "upgrad",
    "switch",
    "transition",
    "reassign",
    "assign",
    "escalat",
    "hand",
    "pass",
    "renew",
    "expand",
    "trim",
    "adjust",
    "revis",
    "correct",
    "amend",
    "cap",
    "scal",
    "resiz",
    "upp",
    "limit",
]
_CHANGE = (
    r"(?:(?:" + "|".join(_CHANGE_STEMS) + r")(?:e|es|ed|ing|s|d|ped|ping|ted|ting|red|ring)?"
    r"|cut|cuts|cutting|set|sets|setting|went|goes|going|go|brought|shrunk|is back|are back|"
    r"'s back|back)"
)
_AUX = (
    r"(?:(?:is|are|was|were|has|have|had|been|being|be|got|gets|just|now|also|officially|"
    r"finally|already|being|will|'s|'ve|we've|we)\s+)*"
)
_TO = (
    r"(?:back\s+|up\s+|down\s+|out\s+|over\s+)?"
    # "pushed back two weeks, to April 19", "slipped by a week to the 20th"
    r"(?:(?:by\s+)?(?:a|an|one|two|three|four|five|six|\d{1,2})\s+"
    r"(?:days?|weeks?|months?)\s*,?\s+)?"
    # "goes up 3% on renewal, to $15,244"
    r"(?:(?:by\s+)?\d{1,3}(?:\.\d+)?\s?%(?:\s+on\s+[a-z]+)?\s*,?\s+)?"
    r"(?:to|until|till|into|at)\s+"
)
_HEDGE = re.compile(
    r"(?i)\b(?:might|maybe|perhaps|probably|possibly|could|would|should|if|unless|whether|"
    r"rumou?rs?|nothing (?:is )?confirmed|not (?:yet )?confirmed|tentative(?:ly)?|"
    r"i think|i guess|i believe|looks like|seems|hopefully|hope|planning|plan to|"
    r"propos(?:e|es|ed|ing)|suggest\w*|let's|lets|aim for|aiming|around|roughly|"
    r"approximately|about \d|"
    r"pre-?release|release candidate|draft|can we|could we|can you|wondering|asking|"
    r"requested|request|need to confirm|tbd|tbc|unless|offer(?:ing)? you|"
    r"(?:estimate\w*|expect\w*)(?!\s+(?:delivery|arrival|departure|completion|ship|shipping|"
    r"go-?live|launch|date|time|eta)\b)|"
    r"can offer|can do|could do|happy to accept|can meet you|counter\w*|quoted? you)\b"
)
_QUESTION = re.compile(r"\?\s*(?:$|[)\"'])")
_CORRECTION = re.compile(
    r"(?i)\b(?:sorry|typo|i meant|meant to (?:say|write)|correction|correcting|should (?:be|"
    r"read|have said)|my bad|mistyped|oops|misspoke|wrong (?:number|date|value)|apolog\w*|"
    r"(?:the\s+)?correct (?:figure|number|amount|date|value|price|total|one) is)\b"
)
_NOT_OLD = re.compile(
    r"(?i)(?:,\s*|(?<=[\d%])\s+|\()(?:and\s+)?not\s+(?P<old>(?:[^,.;()]|[,.](?=\d))+?)"
    r"(?:\)|(?=[,.;](?!\d)|$|\s+(?:as|like|anymore|any more|-)))"
    r"|\(\s*(?:was|previously|formerly|from)\s+(?P<was>[^)]+)\)"
)
_RETRACTION = re.compile(
    r"(?i)\b(?:scratch that|ignore (?:my|that|the) (?:last|previous|earlier)|never ?mind|"
    r"disregard|after all|we(?:'re| are) (?:keeping|staying)|staying (?:at|with|on)|"
    r"keeping|stays? (?:at|with|on)|back to|as (?:it )?was|revert(?:ing|ed)? (?:to|back)|"
    r"stick(?:ing)? with|sticks with)\b"
)
_ACCEPT = re.compile(
    r"(?i)^(?:deal|agreed|approved|confirmed|accepted|done|perfect|great)\b|\bi accept\b|"
    r"\bwe accept\b|\bworks for (?:me|us)\b|\bgo with\b|\b(?:have|has|all) agreed\b|"
    r"\b(?:agreed|accepted|approved)\s*(?::|-|to\b)|"
    r"\bsigned off\b"
)
# A proposal the same message says was agreed is a decision ("Let's move it to the 9th.
# Reviewers have agreed.").
_DECIDED = re.compile(r"(?i)^\s*(?:let's|lets)\s+(?:move|push|go with|set|make|keep|use)\b")
_LEADING = re.compile(
    r"(?i)^(?:(?:ok(?:ay)?|so|and|but|also|update|fyi|heads up|note|btw|re|quick update|"
    r"good news|bad news|update from [\w ]+?|hi \w+|hey \w+|all|team|reminder)\s*[:,!-]*\s+)+"
)
_DETERMINERS = re.compile(
    r"(?i)^(?:(?:the|a|an|our|your|their|his|her|its|my|this|that|these|those|new|final|"
    r"current|updated|latest|revised|official|overall|total|target|planned|expected|max|"
    r"maximum|min|minimum)(?:\s+|$))+"
)
_PRONOUN = re.compile(r"(?i)^(?:it|its|he|she|they|his|her|their|this|that|we|i|you)$")
_KIND_WORDS = re.compile(
    r"(?i)^(?:flag|feature flag|feature|project|repo|repository|ticket|issue|epic|service|"
    r"app|library|package|team|the)\s+"
)
_PAREN = re.compile(r"\s*\([^)]*\)")
_FIELD = re.compile(
    # A key may name a version or a build: "iOS 5.1.0 (512) status: In Review"
    r"^\s*(?P<key>[A-Za-z](?:[\w '/&()-]|\.(?=\d)){0,48}?)\s*(?::|=)\s+(?P<rest>\S.{0,160})$"
)
_FIELD_SKIP = re.compile(
    r"(?i)^(?:re|fwd?|subject|to|from|cc|bcc|comment|note|update|fyi|heads up|confirm|"
    r"confirmed|confirmation|decision|decided|important|urgent|done|fixed|agreed|approved|"
    r"invitation|updated invitation|invite|organizer|reminder|agenda|summary|changelog|"
    r"see|ps|p\.s|edit|correction|standup|platform standup|action items?|next steps|"
    r"http|https|deal|bad news|good news|fyi|ok|thanks|hi|hello|dear|calendar|slack|email|"
    r"jira|github|gitlab|linear|event|meeting notes)\b"
)
# A field key that names a person's role by its form rather than from a list: an agent
# noun ("Adjuster", "Claims handler", "Broker", "Translator", "Nominee"), one or two words.
_AGENT_NOUN = re.compile(r"(?i)(?:[a-z]+\s+)?[a-z]{3,}(?:er|or|ist|ant|ent|ee|ian)")
_ARROW = re.compile(r"\s*(?:->|→|=>|-->|⇒)\s*")
_CLAUSE = re.compile(r"\s*(?:;|:\(|:\)|\s[-\u2013\u2014]\s(?=[a-z])|\bbut\b|,\s+so\b)\s*")
_QUOTED = re.compile(r"^\s*>")


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


def same_attribute(a: str, b: str) -> bool:
    """'opening' and 'openings', 'sunset' and 'sunset date', 'replicas' and 'read
    replicas': one attribute ('date' and 'start date' are two)."""
    x = {_stem(w) for w in a.lower().split()}
    y = {_stem(w) for w in b.lower().split()}
    if not (x and y):
        return False
    if x == y:
        return True
    small, big = (x, y) if len(x) < len(y) else (y, x)
    return small <= big and (big - small) <= _GENERIC_ATTRIBUTE_WORDS


def _slug_words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in ("the", "a", "an")}


def _same_value(a: str, b: str) -> bool:
    x = " ".join(re.findall(r"[a-z0-9]+", a.lower()))
    y = " ".join(re.findall(r"[a-z0-9]+", b.lower()))
    if x == y:
        return True
    nx, ny = number_of(a), number_of(b)
    return nx is not None and nx == ny and kind_of_value(a) == kind_of_value(b)


def clauses(sentence: str) -> list[str]:
    """A sentence cut where its clauses may differ in polarity ("Ana can't do the 23rd
    :( Jonas will give the keynote instead")."""
    return [c.strip() for c in _CLAUSE.split(sentence) if c and c.strip()]


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
    text = _PAREN.sub("", raw).strip(" ,:;-\"'“”")
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
    if cut and not re.search(rf"(?i)\b(?:{_ATTRIBUTE})\s+(?:of|for|on)\s+", text):
        text = text[cut[-1].end() :]
    words = text.split()
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


def _subject_text(raw: str) -> str | None:
    text = _PAREN.sub("", raw).strip(" ,:;-\"'“”.")
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


_CALENDAR_WORDS = frozenset(
    [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "mon",
        "tue",
        "tues",
        "wed",
        "thu",
        "thur",
        "thurs",
        "fri",
        "sat",
        "sun",
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "today",
        "tomorrow",
        "tonight",
        "yesterday",
    ]
)


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
_PLACE_CUE = re.compile(
    r"(?i)\b(?:venue|hall|office|room|building|hotel|center|centre|site|"
    r"location|floor|campus|city|address)\b"
)


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


_MEASURE = re.compile(
    r"(?:[KMGTP]i?B|sqm|sq\s?ft|m2|kg|km|mi|ms|rpm|rps|qps|kwh|kw|mw|tonnes?|tons?|"
    r"liters?|litres?)",
    re.IGNORECASE,
)
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


# What comes before a verb or attribute noun: at most _LEAD_CHARS characters, from a word's
# start. Unbounded, an unanchored lazy prefix makes every search quadratic in the clause
# (a 2,000-character run-on took seconds); only the last noun phrase of it is read anyway
# (`_split_np`).
_LEAD_CHARS = 200
_LEAD = rf"(?<!\w)(?:[^.;!?]|\.(?=\w)){{0,{_LEAD_CHARS}}}?"
_FROM_TO = re.compile(
    rf"(?i)(?P<np>{_LEAD})\s*\b{_AUX}(?P<verb>{_CHANGE})\b(?P<mid>(?:[^.;!?]|\.(?=\w)){{0,60}}?)\s+"
    rf"from\s+(?P<old>(?:(?!\b(?:is|are|was|were|has|have|been)\b)(?:[^.;:!?]|\.(?=\d))){{1,40}}?)\s+{_TO}"
)
_VERB_TO = re.compile(rf"(?i)(?P<np>{_LEAD})\s*\b{_AUX}(?P<verb>{_CHANGE})\s+{_TO}")
_VERB_PRONOUN = re.compile(
    rf"(?i)(?:^|[\s,])(?P<verb>{_CHANGE})\s+(?:it|them|this|that|these|those)\s*(?:back|up|down)?$"
)
_VERB_FIRST = re.compile(
    rf"(?i)(?:^(?:the\s+)?(?!(?:it|this|that|he|she)\b)[a-z][\w-]*\s+(?=(?:{_CHANGE})\s)|^|:\s+|"
    rf"\b(?:we|i|they|ops|someone)(?:'ve|'re|'ll|'m)?\s+(?:have\s+|are\s+|am\s+|will\s+|"
    rf"just\s+|now\s+)*)"
    rf"(?P<verb>{_CHANGE})\s+(?P<np>(?!to\b|from\b)(?:[^.;!?]|\.(?=\w)){{1,60}}?)\s+(?:(?:one|two|three|a|"
    rf"\d+)\s+(?:days?|weeks?|months?)\s+(?:later|earlier|out|back)?\s*,?\s*)?{_TO}"
)
_COPULA = re.compile(
    rf"(?i)(?P<np>{_LEAD}\b(?:{_ATTRIBUTE})\b(?:\s+(?:of|for|on)\s+(?![$€£¥]|\d[\d,]*(?!\.\d)|(?:USD|EUR|"
    rf"GBP|NOK|SEK|DKK|CHF)\b)(?:[^.;!?,]|\.(?=\w)){{1,60}}?)?)(?:\s*\([^)]*\))?"
    rf"(?:\s*(?:is|are|will be|stays|remains|sits|comes in|goes|'s|has been|now|still|"
    rf"officially|confirmed|final|set|fixed|locked|agreed|at|to|capped|limited|priced|pegged|"
    rf"held|now at)\b|\s*[:=\-\u2013\u2014])+\s*"
)
_CATEGORICAL = re.compile(
    r"(?i)(?:status|stage|state|venue|location|plan|tier|vendor|supplier|provider|contractor|"
    r"installer|agency|partner|office|city|site|room|resolution|priority)\s*$"
)
_ADJECTIVES = frozenset(
    [
        "usable",
        "total",
        "new",
        "final",
        "current",
        "updated",
        "revised",
        "official",
        "overall",
        "actual",
        "agreed",
        "confirmed",
        "planned",
        "expected",
        "proposed",
        "estimated",
    ]
)
_COUNT_NOUN = re.compile(r"(?i)\b(?!(?:the|a|this|that|our)\b)[a-z][\w-]*\s+(?:count|number)\s*$")
_ANY_COPULA = re.compile(
    r"(?i)(?<![\w-])(?P<np>(?:(?:the|our|its|their|his|her|your)\s+)?(?:[A-Za-z][\w-]*\s+){0,3}"
    r"[A-Za-z][\w-]*(?:\s+\d{1,4}[A-Z]?)?)\s+(?:is|are|will be|can be|stays at|stays|remains|"
    r"is now|comes to|totals|sits at|stands at|(?<!\bis\s)(?<!\bare\s)(?<!\bwas\s)now)\s+"
    r"(?:now\s+|still\s+|officially\s+)?(?:at\s+|from\s+)?"
)
_CODE_IS = re.compile(
    r"(?i)(?<![\w-])(?P<np>(?:(?:the|our|your|new)\s+)?(?:[a-z][\w-]*\s+){0,2}?"
    r"(?:po|invoice|tracking|confirmation|reference|case|order|account|contract|booking)\s+"
    r"(?:number|no\.?|#|id|ref))\s+(?:for\s+(?P<of>[A-Z][\w.-]*(?:\s+[A-Z][\w.-]*){0,2})\s+)?"
    r"(?:is\s+(?:now\s+)?|=\s*|changed\s+to\s+)(?P<v>(?=[\w-]*\d)[A-Z0-9][\w-]{3,24})\b"
)
_RELEASE = re.compile(
    r"(?i)\b(?:released?|releasing|cut|shipped|published|tagged|rolled out|deployed|"
    r"shipping)\s+(?:version\s+)?(?P<name>[A-Za-z][\w.-]*(?:\s[A-Za-z][\w.-]*)?)\s+"
    r"(?:version\s+)?v?(?P<v>\d+\.\d+(?:\.\d+)*)\b"
)
_ROLE = re.compile(
    r"(?P<who>@[\w.-]+|[A-Z][a-z'\u00C0-\u017F-]+(?:\s+[A-Z][a-z'\u00C0-\u017F-]+){0,2})"
    r"(?:\s+(?:from|of|at)\s+[^,.;]{1,40}?)?\s+(?:will|'ll|is going to|is|has)?\s*"
    r"(?P<verb>give|deliver|present|host|run|lead|own|owns|take over|takes over|"
    r"is taking over|cover|covers|handle|handles|chair|moderate|is now the|is the new)\s+"
    r"(?:the\s+)?(?P<what>[\w -]{2,40}?)(?=\s+(?:instead|now|from|going|starting|today|"
    r"this|for)\b|[,.;!]|$)"
)
_ROLES = sorted(
    (a.strip() for a in _ATTRIBUTES if _PERSONISH_WORDS.search(a)), key=len, reverse=True
)
_ROLE_NOUN = rf"(?:[A-Z]{{2,5}}|(?i:{'|'.join(re.escape(r) for r in _ROLES)}))"
_BECOMES = re.compile(
    r"(?P<who>@[\w.-]+|[A-Z][a-z'\u00C0-\u017F-]+(?:\s+[A-Z][a-z'\u00C0-\u017F-]+)?)\s+"
    r"(?:will\s+be|is\s+now|is|becomes|will\s+become|takes\s+over\s+as|will\s+take\s+over\s+as|"
    r"is\s+taking\s+over\s+as|steps\s+in\s+as|is\s+stepping\s+in\s+as|"
    r"(?:is\s+)?(?:covering|covers|filling\s+in|fills\s+in|acting|acts|will\s+act)\s+as)\s+"
    r"(?:(?P<det>the|their|our|its|his|her|your|my)\s+)?(?:new\s+|interim\s+|acting\s+)?"
    rf"(?:(?P<owner>[A-Z][\w-]*(?:\s[A-Z][\w-]*)?)['\u2019]s\s+)?(?:new\s+)?"
    # A listed role, or after a determiner any agent noun ("will be your adjuster"); bare,
    # an -er word is as likely an adjective ("Sara is later").
    rf"(?P<role>{_ROLE_NOUN}|(?<=[a-z] )(?i:[a-z]{{3,}}(?:er|or|ist|ant|ent|ee|ian)))\b"
    # "... as release captain for 6.2": whose role it is
    r"(?:\s+(?:for|of|on)\s+(?P<of>v?\d+(?:\.\d+)+|[A-Z][\w.-]*(?:\s+\d+)?))?"
)
_FIRST_ROLE = re.compile(
    r"(?i)\bI(?:'m| am| will| 'll|'ll)?\s+(?:now\s+)?(?P<verb>own|owning|taking over|take over|"
    r"running|run|leading|lead|the new owner of|the owner of|covering|handling)\s+"
    r"(?:as\s+(?:the\s+)?(?P<role>[\w -]{2,30}?)|(?P<what>(?:the\s+)?[\w -]{2,40}?))"
    r"(?=\s+(?:now|from|going|starting|today|this|for)\b|[,.;!]|$)"
)


# "Nordrack is booked for the fit-out", "Lagertek will do the fit-out instead of Nordrack",
# "Volt Brothers, will do the rewiring": who does a job.
_DOES = re.compile(
    r"(?P<who>[A-Z][\w&'-]*(?:\s+[A-Z][\w&'-]*){0,2})\s*,?\s+(?:(?:is|are|has been|have been|"
    r"got|was|were)\s+(?:now\s+)?(?:booked|hired|contracted|engaged|selected|chosen|signed)\s+"
    r"(?:for|to do)|(?:will|'ll|is going to|are going to)\s+(?:now\s+)?(?:do|handle|take over|"
    r"take care of|install|build|supply|cater|run))\s+(?P<job>(?:the|our|your|this)\s+"
    r"[\w-]+(?:\s+[\w-]+)?)(?:\s+instead\s+of\s+(?P<old>[A-Z][\w&'-]*(?:\s+[A-Z][\w&'-]*)?))?"
    r"(?=\s*(?:[,.;!]|$|\s+(?:instead|now|from|for|starting|next|this|and)\b))"
)
_MY_ROLE = re.compile(
    rf"\bI(?:'m|\u2019m| am)\s+(?:now\s+)?(?:your|the|their|our)\s+(?:new\s+|interim\s+)?"
    rf"(?P<role>{_ROLE_NOUN})\b(?:\s+(?:for|on|of)\s+(?P<for>[\w.-]+(?:\s+\d+)?))?"
)


def first_role_hedged(clause: str) -> bool:
    return bool(re.search(r"(?i)\b(?:not|no longer|might|maybe|if)\b", clause))


_REPLACES = re.compile(
    rf"(?i)(?P<np>{_LEAD})\s+(?P<new>v?\d[\w.,]*)\s+(?:now\s+)?"
    r"(?:replaces|supersedes|replacing|superseding)\s+(?P<old>[^.;!?()]{1,40})"
)


_PREFIX = re.compile(
    r"(?i)^\s*(?:(?:comment|update|fyi|re|note|heads up|correction|edit|reminder|ps|update from "
    r"[\w ]{1,30}?)\s*:\s*|(?:fyi|psa|btw|heads up)\b[\s,-]+)(?=\S)"
)  # "FYI MOB-922 went to In Progress": FYI is no attribute


_TITLE_LINE = re.compile(
    rf"(?i)^\s*(?:[\w.-]+\s+)?(?:created|opened|filed|new)\s+(?:issue\s+|ticket\s+|task\s+|"
    rf"bug\s+|story\s+|epic\s+)?(?:{THING.pattern})\s*:"
)


def read_clause(clause: str, utterance: Utterance, tracked: Sequence[str] = ()) -> list[Reading]:
    """Every (subject?, attribute?, value) the general rules read in one clause;
    `tracked`: attribute names the conversation already uses ('cargo ready date'),
    read like the built-in ones in lists and short 'name value' clauses."""
    at = utterance.at
    found: list[Reading] = []
    clause = _PREFIX.sub("", clause)
    if _TITLE_LINE.match(clause):
        return []  # "Created OPS-77: Upgrade orders-db to Postgres 16": planned work
    clean = _NOT_OLD.sub("", clause)
    old = _NOT_OLD.search(clause)
    previous = (old["old"] or old["was"]).strip() if old else None

    affected = (
        _affected(clean, previous) or _priced_units(clean, at, previous) or _brought_to(clean, at)
    )
    if affected:
        return affected
    listed = _listed(clean, at)
    if listed:
        return listed
    by_name = _tracked_value(clean, at, tracked)
    if by_name is not None:
        return [by_name]
    field_match = _FIELD.match(clean)
    if (
        field_match
        and not _FIELD_SKIP.match(field_match["key"].strip())
        # "Headcount for the new floor is 38: three interns join": a sentence, not a key.
        and not re.search(r"(?i)\b(?:is|are|was|were|will|has|have)\b", field_match["key"])
    ):
        reading = _field(field_match["key"], field_match["rest"], at)
        if reading is not None:
            return [reading]

    for match in _FROM_TO.finditer(clean):
        new = _value_after(clean, match.end(), at) or _me(clean, match.end(), utterance)
        if new is None:
            continue
        actor = match["np"].strip()
        if match["mid"].strip() and (
            actor.lower() == (utterance.author or "").lower() or PERSON.fullmatch(actor)
        ):
            # "Wei Zhang changed Assignee from Unassigned to Wei Zhang": who changed it is
            # no part of what changed.
            subject, attribute = _split_np(match["mid"].strip())
        else:
            subject, attribute = _split_np(f"{match['np']} {match['mid']}".strip())
        verb = match["verb"].lower()
        if attribute is None and new.kind in ("person", "word"):
            attribute = _role_in(match["np"])  # "Change of PI to S. Lindqvist"
        new = _as_status(new, attribute, verb)
        if attribute is None and verb.startswith(("reassign", "assign", "hand", "pass")):
            attribute = "assignee"
        reading = _value_reading(subject, attribute, new, match["old"].strip(), f"{verb} from-to")
        if reading is not None:
            found.append(reading)
    if found:
        return found

    replaces = _REPLACES.search(clean)
    if replaces:
        new_value = _value_after(clean, replaces.start("new"), at)
        old_values = values(replaces["old"], at)
        if new_value is not None and new_value.kind not in ("word", "person"):
            subject, attribute = _split_np(replaces["np"])
            previous_value = old_values[0].text if old_values else None
            return [_value_reading(subject, attribute, new_value, previous_value, "replaces")]
    code = _CODE_IS.search(clean)
    if code is not None:
        # "the PO number is 7781-23": an identifier is the value of the number that names it
        value = Value("word", code["v"], code.start("v"), code.end("v"))
        what = _DETERMINERS.sub("", code["np"]).strip().lower()
        return [Reading(code["of"], what, value, previous, "number is")]
    release = _RELEASE.search(clean)
    if release and release["name"].split()[-1].lower() in ("for", "of", "in", "on", "to", "from"):
        release = None  # "release captain for 6.2": a role, not a release named "captain"
    if release:
        value = Value("version", release["v"], release.start("v"), release.end("v"))
        return [Reading(release["name"], "version", value, None, "release")]

    for match in _VERB_TO.finditer(clean):
        new = _value_after(clean, match.end(), at)
        if new is None:
            continue
        if new.kind in ("word", "person") and re.search(r"(?i)\bat\s+$", match.group(0)):
            continue  # "delayed at Singapore": where, not what it became
        subject, attribute = _split_np(match["np"])
        verb = match["verb"].lower()
        moved = _VERB_PRONOUN.search(match["np"])
        if moved:
            # "..., moving it back to In Progress": the pronoun is the thing talked about,
            # and the verb before it says what changed.
            subject, attribute, verb = None, None, moved["verb"].lower()
            if new.kind == "word" and not _PLACE_CUE.search(clean):
                attribute = "status"  # a tracker stage: "In Progress", "Blocked"
        elif not match["np"].strip() and _LEVEL.fullmatch(new.text):
            # "Downgrading to P3 for the follow-ups": the level of what the event is about
            subject, attribute = None, None
        elif (
            not match["np"].strip()
            and verb in ("moving", "moved")
            and new.kind in ("word", "person")
            and not _PLACE_CUE.search(clean)
        ):
            # "Moving to Code Review.": a tracker stage of what the event is about
            subject, attribute, new = None, "status", Value("word", new.text, new.start, new.end)
        elif (
            subject is None
            and attribute is None
            and not verb.startswith("assign")
            and not (new.kind == "count" and new.unit and not _MEASURE.fullmatch(new.unit))
        ):
            # "Assigned to Kai Young." names the assignee of what the event is about, "we
            # dropped to 40 desks" the count of its desks.
            continue
        if attribute is None and new.kind in ("person", "word") and not moved:
            attribute = _role_in(match["np"])  # "Change of PI to S. Lindqvist"
        new = _as_status(new, attribute, verb)
        if verb.startswith(("reassign", "assign")) and not (
            attribute is not None and _PERSONISH.search(attribute)
        ):
            # "Task Order standing desks assigned to Leo Park": assigned to a person is
            # always who owns it, whatever nouns the task's name has.
            subject = " ".join(x for x in (subject, attribute) if x) or None
            attribute = "assignee"
        elif attribute is None and verb.startswith(("hand", "pass")):
            attribute = "assignee"
        elif attribute is None and new.kind == "word" and re.search(r"(?i)floor|level", new.text):
            attribute = "floor"  # "The Berlin team moves to the 5th floor"
        elif attribute is None and new.kind == "word" and _PLACE_CUE.search(clean):
            attribute = "location"
        reading = _value_reading(subject, attribute, new, previous, f"{verb} to")
        if reading is not None:
            found.append(reading)
        dated = re.match(r"[^.;]{0,20}?\bon\s+", clean[new.end :])
        if verb.startswith("mov") and new.kind == "word" and dated:
            # "moves to the 5th floor on March 3": the move has a date too
            day = _value_after(clean, new.end + dated.end(), at)
            if day is not None and day.kind == "date":
                found.append(Reading(subject, "move date", day, None, f"{verb} on"))
    if found:
        return found

    for match in _VERB_FIRST.finditer(clean):
        new = _value_after(clean, match.end(), at)
        if new is None:
            continue
        subject, attribute = _split_np(match["np"])
        if attribute is None and new.kind in ("person", "word") and (role := _role_in(match["np"])):
            attribute, subject = role, None  # "Change of PI to S. Lindqvist"
        if match["verb"].lower().startswith(("assign", "reassign")) and attribute is None:
            attribute = "assignee"  # "Assigned ENG-40 to @erin"
        reading = _value_reading(
            subject, attribute, new, previous, f"{match['verb'].lower()} ... to"
        )
        # "Bumping this to SEV-1": a level says what it is the level of.
        if reading is not None and (subject or attribute or _LEVEL.fullmatch(new.text)):
            found.append(reading)
    if found:
        return found

    for match in _ROLE.finditer(clean):
        what = match["what"].strip()
        if re.match(r"(?i)as\s", what):
            continue  # "takes over as our CRA": a role, read by `_BECOMES`
        subject, attribute = _split_np(what)
        verb = match["verb"].lower()
        role = "speaker" if verb in ("give", "deliver", "present") else "owner"
        if attribute is not None and _PERSONISH.search(attribute):
            role = attribute
        elif attribute is not None:
            subject = f"{subject} {attribute}".strip() if subject else attribute
        who = match["who"].lstrip("@")
        if who.split()[0].lower() in ("we", "i", "they", "the"):
            continue
        value = Value("person", who, match.start("who"), match.end("who"))
        found.append(Reading(subject, role, value, previous, f"{verb} (role)", person=True))
    for match in _DOES.finditer(clean):
        who = match["who"].strip()
        if who.split()[0].lower() in _NOT_SUBJECT_WORDS or who.lower() in _CALENDAR_WORDS:
            continue
        job = re.sub(r"(?i)^(?:the|our|your|this|that)\s+", "", match["job"].strip())
        role = "owner" if PERSON.fullmatch(who) else "contractor"
        value = Value("person", who, match.start("who"), match.end("who"))
        replaced = match["old"].strip() if match["old"] else previous
        found.append(Reading(job, role, value, replaced, "does the job", person=True))
    for match in _BECOMES.finditer(clean):
        who = match["who"].lstrip("@")
        if who.split()[0].lower() in _NOT_SUBJECT_WORDS:
            continue
        if not match["det"] and not re.fullmatch(_ROLE_NOUN, match["role"]):
            continue  # an unlisted agent noun needs its determiner
        role = match["role"].strip()
        owner = match["owner"] or match["of"]
        value = Value("person", who, match.start("who"), match.end("who"))
        found.append(
            Reading(
                owner,
                role if role.isupper() else role.lower(),
                value,
                previous,
                "becomes role",
                person=True,
            )
        )
    mine = _MY_ROLE.search(clean)
    if mine and utterance.author and not first_role_hedged(clean):
        value = Value("person", utterance.author, 0, 0)
        role = mine["role"].strip()
        found.append(
            Reading(mine["for"], role if role.isupper() else role.lower(), value, None, "I am the")
        )
        return found
    first = _FIRST_ROLE.search(clean)
    if first and utterance.author:
        value = Value("person", utterance.author, 0, 0)
        if first["role"]:
            found.append(
                Reading(None, first["role"].strip().lower(), value, None, "I take over as")
            )
        elif first["what"]:
            subject, attribute = _split_np(first["what"])
            if subject is not None:
                found.append(Reading(subject, attribute or "owner", value, None, "I own"))
    if found:
        # "Lagertek will do the fit-out instead of Nordrack, same plan, completion April
        # 30": the listed values after the role are read too.
        extra = [_piece(p.strip(" ."), at) for p in _LIST_SPLIT.split(clean)[1:]]
        return found + [r for r in extra if r is not None and r.reason in ("listed", "label")]

    found += _described(clean, at)
    if found:
        return _share_subject(found)

    for match in _AS.finditer(clean):
        new = _word_value(clean, match.end())
        subject, attribute = _split_np(match["np"])
        if new is not None and subject is not None:
            found.append(Reading(subject, attribute, new, previous, f"{match['verb'].lower()} as"))
    for match in _SCHEDULED.finditer(clean):
        when = _value_after(clean, match.end(), at)
        subject, attribute = _split_np(match["np"])
        if when is not None and when.kind == "date" and (subject or attribute):
            found.append(Reading(subject, attribute, when, previous, "scheduled for"))
    for match in _DONE_BY.finditer(clean):
        when = _value_after(clean, match.end(), at)
        if when is None or when.kind != "date":
            continue
        raw = match["np"].strip()
        subject = None if _PRONOUN.match(raw) else _split_np(raw)[0]
        what = _DONE_WORDS.get(match["done"].lower(), "completion")
        found.append(Reading(subject, f"{what} date", when, previous, "done by"))
    agreed = _FOR_THEN.match(clean)
    if agreed is not None:
        settled = _value_after(clean, agreed.start("v"), at)
        if settled is not None and settled.kind != "person":
            found.append(Reading(agreed["np"].strip(), None, settled, previous, "agreed for"))
    for match in _CHOSE.finditer(clean):
        chosen = match["v"].strip(" .,!")
        if not chosen or len(chosen.split()) > 5 or chosen.split()[0].lower() in _NOT_SUBJECT_WORDS:
            continue
        pick = Value("word", chosen, match.start("v"), match.start("v") + len(chosen))
        about = match["np"].strip() if match["np"] else None
        words = chosen.split()
        numbered = re.fullmatch(r"(?P<noun>[a-z][\w-]*)\s+(?P<n>v?\d[\w.-]*)", chosen)
        if numbered:
            # "going with build 6203 for the store submission": the build is 6203
            pick = Value("word", numbered["n"], pick.start + numbered.start("n"), pick.end)
            found.append(Reading(about, numbered["noun"].lower(), pick, previous, "chose"))
            continue
        # "the subway tile": the chosen thing's head noun names what was chosen.
        head = words[-1].lower() if len(words) > 1 and chosen.islower() else None
        found.append(Reading(about, head, pick, previous, "chose"))
    for match in _ON_DATE.finditer(clean):
        when = _value_after(clean, match.end(), at)
        subject, attribute = _split_np(match["np"])
        if when is not None and when.kind == "date" and subject is not None:
            verb = match["verb"].lower()
            named = next((name for cue, name in _DATE_VERBS if re.search(cue, verb)), None)
            found.append(Reading(subject, attribute or named, when, previous, f"{verb} on"))
    for match in _COUNT_FOR_AT.finditer(clean):
        # "circuit count for Lab B stays at 6": the count of a named thing
        new = _value_after(clean, match.end(), at)
        subject, attribute = _split_np(match["np"])
        if new is not None and new.kind == "count" and attribute is not None:
            found.append(_value_reading(subject, attribute, new, previous, "is at"))
    for match in _STANDS_AT.finditer(clean):
        if re.match(r"(?i)(?:for|of|to|with|in|on|at|by)\b|\d", match["np"]):
            continue  # "for 300 seats at $17": no thing stands at a value here
        new = _value_after(clean, match.end(), at)
        # "Pausing offline-sync at 20%", "Rollout halted at 20%": what holds the value,
        # without the verb that holds it there.
        np = _HOLDING.sub("", match["np"]).strip()
        subject, attribute = _split_np(np) if np else (None, None)
        typed = new is not None and new.kind in ("percent", "money", "version", "count", "switch")
        if typed and new is not None and (subject is not None or attribute is not None):
            each = _PER_UNIT.match(clean, new.end) if new.kind == "money" else None
            if each is not None and attribute is None:
                # "the Quorra renewal comes in at $41 per user per month, 220 users, ..."
                attribute = f"price per {each['u'].lower()}"
                found += _terms_after(clean[new.end :], at, subject)
            found.append(_value_reading(subject, attribute, new, previous, "is at"))
    for match in _SWITCHED.finditer(clean):
        subject, attribute = _split_np(match["np"])
        value = Value("switch", match["v"].lower(), match.start("v"), match.end("v"))
        if subject is not None or attribute is not None:
            found.append(Reading(subject, attribute or "status", value, previous, "switched"))
    for match in _OUT.finditer(clean):
        value = Value("version", match["v"].lstrip("vV"), match.start("v"), match.end("v"))
        found.append(Reading(None, "version", value, previous, "release is out"))
    for match in _SHIPS_IN.finditer(clean):
        if re.search(r"(?i)\b(?:from|back|over|with)\b", match["np"]):
            continue  # "Taking release captain back from Marco for 6.3": no shipping
        subject = _subject_text(match["np"])
        value = Value("version", match["v"].lstrip("vV"), match.start("v"), match.end("v"))
        if subject is not None:
            found.append(Reading(subject, "target release", value, previous, "ships in"))
    for match in _THING_STATUS.finditer(clean):
        value = Value("word", match["v"], match.start("v"), match.end("v"))
        found.append(Reading(thing_name(match["s"]), "status", value, previous, "ticket status"))
    acting = None if found else _ACTING.match(_LEADING.sub("", clean))
    if acting is not None:
        # "Closing the incident on our side", "Reopening #2281": the writer does it now.
        subject = _subject_text(acting["np"])
        state = _ACTS[acting["v"].lower().replace("ll", "l")]
        start = clean.find(acting["v"])
        value = Value("word", state, start, start + len(acting["v"]))
        found.append(Reading(subject, "status", value, previous, "closing"))
    marked = None if found else _MARKED.search(clean)
    if marked is not None:
        # 'Grace Kim marked "Order monitors" complete'
        value = Value("word", marked["v"].lower(), marked.start("v"), marked.end("v"))
        found.append(Reading(marked["np"].strip(" \"“”'"), "status", value, previous, "marked"))
    done = None if found else _NP_STATUS.match(_LEADING.sub("", clean))
    outcome = None if found or done else _CHECK_OUTCOME.match(_LEADING.sub("", clean))
    if outcome is not None:
        # "Security review passed, no findings", "Legal review pending": a check's outcome
        start = clean.find(outcome["v"])
        value = Value("word", outcome["v"].lower(), start, start + len(outcome["v"]))
        found.append(Reading(outcome["np"].strip(), "status", value, previous, "check outcome"))
    if done is not None:
        # "This incident has been resolved", "Legal review is complete": a thing reaches a
        # state; the phrase names the thing (the context knows which "incident").
        subject, attribute = _split_np(done["np"])
        if subject is not None and attribute is None:
            start = clean.find(done["v"])
            value = Value("word", done["v"], start, start + len(done["v"]))
            found.append(Reading(subject, "status", value, previous, "reached state"))
    if found:
        return [r for r in found if r is not None]

    for match in _COPULA.finditer(clean):
        if not match["np"].strip():
            continue
        new = _value_after(clean, match.end(), at)
        if new is None:
            continue
        noun = match["np"].strip()
        subject, attribute = _split_np(match["np"])
        if attribute is None:
            continue
        roles = (noun, attribute)  # "Captain for 7.4 is Ben": the attribute names the role
        if new.kind == "word" and not any(
            _PERSONISH.search(n) or _CATEGORICAL.search(n) for n in roles
        ):
            continue
        if (
            new.kind == "word"
            and _PERSONISH.search(attribute)
            and re.fullmatch(r"[A-Z][a-z]+", new.text)
        ):
            new = Value("person", new.text, new.start, new.end)  # "Captain for 7.4 is Ben"
        if (new.kind == "person") != bool(_PERSONISH.search(attribute)):
            continue  # "the owner agreed: NOK 119,000" is no owner
        reading = _value_reading(subject, attribute, new, previous, "copula")
        if reading is not None:
            found.append(reading)
    if found:
        return found
    for match in _ANY_COPULA.finditer(clean):
        new = _value_after(clean, match.end(), at)
        if new is None or new.kind not in ("money", "percent", "date", "version", "count"):
            continue
        if new.kind == "count" and not new.unit and not _COUNT_NOUN.search(match["np"]):
            continue  # "the guide said 5": a bare number needs a named attribute
        words = _DETERMINERS.sub("", _PAREN.sub("", match["np"])).split()
        words = [w for w in words if w.lower() not in _ADJECTIVES]
        if not words or words[-1].lower() in _NOT_SUBJECT_WORDS:
            continue
        if new.kind == "date" and NUMBERED.fullmatch(" ".join(words[-2:])):
            # "Access to level 4 will be from March 24": the access date of level 4
            lead = [w for w in words[:-2] if w.lower() not in ("to", "for", "of", "on", "at")]
            what = f"{' '.join(lead).lower()} date" if lead else "date"
            found.append(Reading(" ".join(words[-2:]), what, new, previous, "is"))
            continue
        if new.kind == "count" and new.unit and NUMBERED.search(" ".join(words[-2:])):
            # "the unit at Dock 7 is 1,800 sqm": the unit names the attribute of Dock 7.
            found.append(Reading(" ".join(words[-2:]), new.unit.lower(), new, previous, "is"))
            continue
        head = " ".join(words[-2:]) if len(words) >= 2 and words[-2][:1].islower() else words[-1]
        if len(words) >= 3 and words[-2].lower() in ("per", "a", "each"):
            head = " ".join(words[-3:])  # "cost per person", not "per person"
        rest = " ".join(words[: len(words) - len(head.split())]) or None
        subject = _subject_text(rest) if rest else None
        if (
            new.kind == "date"
            and subject is None
            and not is_attribute_name(head.lower())
            and head.split()[-1].lower() not in MILESTONES  # "Move-in can be March 1"
        ):
            # "The move is now May 16": a thing that happens on a date, not a date's name.
            found.append(_value_reading(head, "date", new, previous, "is (a date)"))
            continue
        found.append(_value_reading(subject, head.lower(), new, previous, "is (any noun)"))
    return [r for r in found if r is not None]


_KEY_VERB = re.compile(
    r"(?i)\s+(?:changed|updated|set|moved|is now|now|change|update|approved|confirmed|agreed|"
    r"final|finali[sz]ed|locked)$"
)
_TRAILING_NAME = re.compile(r"\((?P<n>[A-Z][\w'.-]*(?:\s+[A-Z][\w'.-]*){0,3})\)\s*\.?\s*$")


_EVENT_NOUNS = (
    r"onsite|interview|meeting|call|review|summit|offsite|kickoff|kick-off|launch|demo|"
    r"workshop|webinar|conference|training|party|dinner|retro|sync|presentation|visit|"
    r"walkthrough|inspection|handover|move|migration|cutover|go-live|signing|audit|"
    r"appointment|ceremony|event|townhall|town hall|all-hands|board meeting|deadline"
)
_PLACE = (
    r"(?:our\s+|the\s+)?(?P<place>[A-Z][\w'-]*(?:\s+(?:[A-Z][\w'-]*|office|hall|room|"
    r"building|hq|campus|center|centre|floor))*)"
)
_EVENT_ON = re.compile(
    rf"(?i)\b(?:a|an|the|our|your)\s+(?P<n>(?:[\w-]+\s+)?(?:{_EVENT_NOUNS}))\s+"
    r"(?:(?:is|will be|was|now|still|set|scheduled|planned|booked|confirmed|moved|happening)"
    r"\s+)*(?:on|for)\s+"
)
_CALENDAR = re.compile(
    r"(?i)^\s*(?:updated\s+|new\s+|rescheduled\s+)?(?:invitation|invite|event|meeting)"
    r"\s*:\s*(?P<title>[^@|\n]{3,80}?)\s*@\s*"
)
_INSTEAD = re.compile(
    rf"(?i)\b(?:run|do|hold|have|host|move|moving|switch|switching|take|taking)\s+"
    rf"(?:the\s+|it\s+|our\s+)?(?P<n>{_EVENT_NOUNS})?\s*(?:over|on|via|at|in|to)\s+"
    r"(?:the\s+)?(?P<place>[A-Z][\w'-]*(?:\s+[A-Z][\w'-]*){0,2})\s+instead\b"
)
_COUNT_OF = re.compile(
    r"(?i)\b(?:a|an|the)\s+(?P<n>[a-z][\w-]*(?:\s+[a-z][\w-]*)?)\s+of\s+"
    r"(?P<c>\d[\d,]*)\s+(?P<u>[a-z][a-z-]+)"
)
_ATTRIBUTE_OF = re.compile(rf"(?i)\b(?P<a>{_ATTRIBUTE})\s+of\s+")
_DOWN_TO = re.compile(
    r"(?i)\b(?:(?:down|up)\s+to|(?:we're|we are|we're now|it's|it is)\s+(?:now\s+)?at)\s+"
)


_AS = re.compile(
    r"(?i)\b(?P<verb>resolved|closed|marked|flagged|tagged|labell?ed|triaged|filed)\s+"
    r"(?P<np>[^.;!?\"“]{1,40}?)(?:\s+[\"“][^\"”]{1,80}[\"”])?\s+as\s+"
)
_DATE_VERBS = (
    (r"retir|dark|shut|sunset|decommission|end-of-life|eol|turned off", "sunset date"),
    (r"launch|live|ship|release|open", "launch date"),
    (r"start|begin|kick", "start date"),
    (r"end|expire|close", "end date"),
    (r"due", "due date"),
)
_ON_DATE = re.compile(
    r"(?i)(?P<np>[^.;!?,:]{1,60}?)\s+(?:will\s+be\s+|will\s+|is\s+|are\s+|gets\s+|get\s+)?"
    r"(?P<verb>goes dark|go dark|goes live|go live|retired|be retired|retires|retire|shuts down|"
    r"shut down|sunsets|sunset|launches|launch|ships|ship|starts|start|begins|kicks off|ends|"
    r"expires|closes|due|decommissioned|turned off|switched off|released|opens)\s+"
    r"(?:on|by)\s+"
)
_SCHEDULED = re.compile(
    r"(?i)(?P<np>(?:(?!\b(?:is|are|was|were|has|have|been)\b)[^.;!?,:]){1,60}?)\s+(?:is|are|was|were|"
    r"has been|have been|got|gets|now)?\s*(?:now\s+|officially\s+|also\s+)?(?:booked|scheduled|"
    r"set|planned|confirmed|fixed|penciled in|pencilled in|slated|rescheduled|locked in|locked)\s+"
    r"(?:for|on)\s+"
)
# "fit-out to be completed by April 9", "it'll be done by April 9", "ready on June 21".
_DONE_BY = re.compile(
    rf"(?i)(?P<np>(?<!\w)(?:[^.;!?,:](?!\b(?:to be|will be|'ll be|is|are)\b)){{0,{_LEAD_CHARS}}}"
    r"[^.;!?,:\s]|it|they|this)"
    r"\s*(?:to be|will be|'ll be|is to be|is|are|gets?)\s+(?P<done>completed|complete|done|"
    r"finished|delivered|installed|ready|live)\s+(?:by|on)\s+"
)
_DONE_WORDS = {
    "delivered": "delivery",
    "installed": "install",
    "ready": "ready",
    "live": "go-live",
}
# "OK, April 12 for demo then.": a value agreed for a milestone.
_FOR_THEN = re.compile(
    r"(?i)^\s*(?:ok(?:ay)?|fine|great|perfect|sure|alright|all right|done|deal|agreed|good)"
    r"[,!.]*\s+(?P<v>[^,;]{2,30}?)\s+for\s+(?:the\s+|our\s+)?(?P<np>[\w -]{2,30}?)"
    r"(?:\s+then)?\s*[.!]*\s*$"
)
# "We're going with the subway tile for the backsplash", "we settled on Harbor Hall".
_CHOSE = re.compile(
    r"(?i)\b(?:we(?:'re| are|'ll| will)?|i(?:'m| am|'ll| will)?|they(?:'re| are)?)\s+"
    r"(?:going|go|settled|settling|decided|deciding|picked|chose|choosing)\s+(?:with|on|for)\s+"
    r"(?:the\s+)?(?P<v>[\w'&-]+(?:\s+[\w'&-]+){0,4}?)"
    r"(?:\s+for\s+(?:the\s+|our\s+)?(?P<np>[\w -]{2,40}?))?"
    r"\s*(?:[.,;!]|$|\s+(?:instead|then|now)\b)"
)
_COUNT_PARTICIPLE = re.compile(
    r"(?i)(?<![\w.,$€£%-])(?P<n>\d[\d,]*)\s+(?P<noun>(?:[a-z][\w-]*\s+){0,2}?[a-z][\w-]*[^s\W]s)\s+"
    r"(?:(?:were|are|was|have\s+been|had\s+been|got)\s+)?(?:now\s+)?"
    r"(?P<p>affected|impacted|exposed|deleted|lost|migrated|copied|processed|failed|"
    r"randomi[sz]ed|screened|enrolled|onboarded|registered|notified|refunded|signed)\b"
)


def _affected(clause: str, previous: str | None) -> list[Reading]:
    """'1,204 customer records were affected', 'Site 114: 5 patients randomized': the
    counted noun and what happened to it name the number; a field key that names a thing
    ('Site 114') is its subject."""
    found = []
    key = _FIELD.match(clause)
    owner = key["key"].strip() if key else None
    if owner is not None and not (NUMBERED.fullmatch(owner) or THING.fullmatch(owner)):
        owner = None
    for match in _COUNT_PARTICIPLE.finditer(clause):
        count = Value("count", match["n"], match.start("n"), match.end("n"))
        what = f"{match['noun'].lower()} {match['p'].lower()}"
        found.append(Reading(owner, what, count, previous, "count of affected"))
    return found


_UNITS_AT = re.compile(
    r"(?:\b(?P<s>[A-Z][\w&.-]*(?:\s+[A-Z][\w&.-]*){0,2})\s+for\s+)?"
    r"(?i:\b(?P<n>\d[\d,]*)\s+(?P<u>seats|licen[cs]es|users|agents|units|rooms|desks|tickets|"
    r"credits|nodes|hosts|instances|devices|laptops|passes)\s+at\s+)"
)
_PER_UNIT = re.compile(r"(?i)\s*(?:/|per\s+|a\s+)(?P<u>(?!month|year|day|week|night)[a-z]{3,})\b")
_STARTING = re.compile(r"(?i)\b(?:starting|effective|from)\s+(?:on\s+)?")


_BRINGING = re.compile(
    r"(?i)\b(?:bringing|taking|putting|for)\s+(?:us|it|the\s+total|that|them|a\s+total\s+of)\s+"
    r"(?:up\s+|down\s+)?(?:to\s+)?(?=\d)"
)
_MORE_UNITS = re.compile(
    r"(?i)\b\d[\d,]*\s+(?:more|additional|extra|fewer|less)\s+(?P<u>[a-z]{3,}s)\b"
)


def _brought_to(clause: str, at: datetime | None) -> list[Reading]:
    """'add 50 more seats, bringing us to 350': the new total of the units added."""
    more = _MORE_UNITS.search(clause)
    total = _BRINGING.search(clause, more.end()) if more else None
    if more is None or total is None:
        return []
    value = _value_after(clause, total.end(), at)
    if value is None or value.kind != "count":
        return []
    return [Reading(None, more["u"].lower(), value, None, "units in total")]


def _priced_units(clause: str, at: datetime | None, previous: str | None) -> list[Reading]:
    """'renew Brightline for 40 seats at $22/seat/month, 12-month term starting March 1':
    the count of units, the price of each, and the terms listed after them."""
    found: list[Reading] = []
    for match in _UNITS_AT.finditer(clause):
        price = _value_after(clause, match.end(), at)
        if price is None or price.kind != "money":
            continue
        owner = (
            match["s"]
            if match["s"] and match["s"].split()[0].lower() not in _NOT_SUBJECT_WORDS
            else None
        )
        unit = match["u"].lower()
        count = Value("count", match["n"], match.start("n"), match.end("n"), match["u"])
        found.append(Reading(owner, unit, count, previous, "units at a price"))
        each = unit[:-1] if unit.endswith("s") else unit
        found.append(Reading(owner, f"price per {each}", price, previous, "units at a price"))
        found += _terms_after(clause[price.end :], at, owner)
    return found


def _terms_after(rest: str, at: datetime | None, owner: str | None) -> list[Reading]:
    """The terms listed after a price: ', 220 users, 12-month term starting May 1'."""
    found: list[Reading] = []
    for raw in _LIST_SPLIT.split(rest)[1:]:
        term = raw.strip(" .")
        starting = _STARTING.search(term)
        if starting is not None:
            when = _value_after(term, starting.end(), at)
            if when is not None and when.kind == "date":
                found.append(Reading(owner, "start date", when, None, "terms"))
            term = term[: starting.start()].strip()
        listed = _piece(term, at) if term else None
        if listed is not None:
            found.append(replace(listed, subject=listed.subject or owner))
    return found


_HOLDING = re.compile(
    r"(?i)^(?:pausing|holding|keeping|capping|freezing|halting|leaving)\s+"
    r"|\s+(?:paused|held|kept|capped|frozen|halted|stopped|parked)$"
)
_COUNT_FOR_AT = re.compile(
    r"(?i)\b(?P<np>(?:[a-z][\w-]*\s+){0,2}(?:count|number)\s+(?:for|of|at|on)\s+"
    r"(?-i:[A-Z])[\w.-]*(?:\s+[\w.-]+){0,2}?)\s+(?:is|are|stays|remains|stands|sits)\s+"
    r"(?:now\s+|still\s+)?(?:at\s+)?(?=\d)"
)
_STANDS_AT = re.compile(
    r"(?i)(?<![\w.-])(?P<np>(?:(?!(?:is|are|now|stands|sits|stays?|remains?|comes|came|lands?)\b)"
    r"[\w.-]+\s+){0,2}(?!(?:is|are|now|stands|sits|stays?|remains?|comes|came|lands?)\b)"
    r"[\w.-]*\w)\s+"
    r"(?:(?:is|are|stands|sits|stays?|remains?|comes\s+in|came\s+in|lands?|landed)\s+)?"
    r"(?:now\s+|currently\s+|still\s+|unchanged\s+|steady\s+|flat\s+)?(?:at|on)\s+"
)
_SWITCHED = re.compile(
    r"(?i)(?P<np>(?:[\w.-]+\s+){0,3}[\w.-]*\w)\s+(?:is|are|was|were|has been|have been|stays|"
    r"stay|remains|remain)\s+(?:now\s+|still\s+)?(?:turned\s+|switched\s+|set\s+)?"
    r"(?P<v>on|off|enabled|disabled|paused|live)\b"
    r"(?=\s*(?:[,.;:!)]|$|\s+(?:for|in|everywhere|now|again|across|globally|by default|"
    r"until|since|behind)\b))"
)
_SHIPS_IN = re.compile(
    r"(?i)\b(?:ship|ships|shipping|shipped|launch|launches|launching|release|releases|"
    r"releasing|land|lands|landing|target|targeting|planned for|slated for)\s+"
    r"(?P<np>(?!in\b|to\b)[\w.-]+(?:\s+[\w.-]+){0,3}?)\s+(?:in|for|with)\s+"
    r"(?:release\s+|version\s+|v)?(?P<v>v?\d+\.\d+(?:\.\d+)*)\b"
)
_OUT = re.compile(
    r"(?i)\b(?:release|version|build)\s+(?P<v>v?\d+\.\d+(?:\.\d+)*)\s+(?:is\s+)?(?:now\s+)?"
    r"(?:out|live|released|shipped|available|in production)\b"
)
_STATUS_VOCABULARY = (
    r"to do|todo|backlog|in progress|in review|code review|ready for review|in qa|qa|blocked|"
    r"done|closed|merged|shipped|released|deployed|on hold|won't fix|wont fix|cancell?ed|"
    r"resolved|open|reopened|triaged|verified|paused|parked|deferred|descoped|postponed"
)
_THING_STATUS = re.compile(
    rf"(?P<s>{THING.pattern})\s*(?:is\s+|now\s+|:\s*|-\s+)*(?P<v>(?i:{_STATUS_VOCABULARY}))\b"
)


_ACTS = {
    "closing": "closed",
    "reopening": "reopened",
    "resolving": "resolved",
    "canceling": "cancelled",
    "archiving": "archived",
    "pausing": "paused",
    "merging": "merged",
    "reverting": "reverted",
}
_ACTING = re.compile(
    r"(?i)(?:(?:i'm|i am|we're|we are)\s+)?(?P<v>closing|reopening|resolving|cancell?ing|archiving|"
    r"pausing|merging|reverting)\s+(?P<np>(?:(?:the|this|that|our)\s+)?[\w#.-]+(?:\s+[\w#.-]+){0,2}?)"
    r"(?=\s+(?:on|as|for|since|because|after|now|today)\b|\s*[,.;!]|\s*$)"
)
_CHECK_OUTCOME = re.compile(
    r"(?i)(?:the\s+)?(?P<np>(?:[a-z][\w-]*\s+){0,2}(?:review|check|audit|inspection|tests?|"
    r"approval|assessment|scan|sign-?off|pentest|qa|uat|verification|background check))\s+"
    r"(?:is\s+|was\s+|has\s+|now\s+)?(?P<v>passed|failed|pending|done|complete|completed|approved|"
    r"rejected|cleared|in progress|scheduled|blocked)\b(?!\s+(?:if|once|when|until)\b)"
)
_MARKED = re.compile(
    r"(?i)\bmarked\s+(?P<np>[\"“][^\"”]{2,60}[\"”]|[\w#.-]+(?:\s+[\w#.-]+){0,3}?)\s+(?:as\s+)?"
    r"(?P<v>complete|completed|done|resolved|closed|blocked|fixed|duplicate)\b"
)
_NP_STATUS = re.compile(
    r"(?i)(?P<np>(?:(?:the|this|that|our|your|their)\s+)?(?:[\w'.-]+\s+){0,3}?[\w'.-]+"
    r"(?:\s+(?:of|for|on)\s+(?:the\s+)?(?:[\w'.-]+\s+){0,2}?[\w'.-]+)?)\s+"
    r"(?:is|are|was|were|has\s+been|have\s+been|got)\s+(?:now\s+|officially\s+|fully\s+)?"
    r"(?P<v>complete|completed|resolved|approved|closed|cancell?ed|signed|mitigated|contained|"
    r"rejected|merged|shipped|fixed|reopened|withdrawn|postponed|on hold|executed|countersigned)\b"
    r"(?!\s+(?:if|once|when|until)\b)"
)


def _described(clause: str, at: datetime | None) -> list[Reading]:
    """Values a clause gives in passing: 'an onsite on Tuesday next week at our Lisbon
    office', 'a block of 60 rooms at a rate of €129', 'we're down to one opening'."""
    found: list[Reading] = []
    calendar = _CALENDAR.match(clause)
    if calendar:
        title = _PAREN.sub("", calendar["title"]).strip(" -")
        when = _value_after(clause, calendar.end(), at)
        if when is not None and when.kind == "date":
            found.append(Reading(title, "date", when, None, "calendar invite"))
        where = re.search(r"\|\s*(?P<w>[^|,\n]{2,60})", clause[calendar.end() :])
        if where:
            place = where["w"].strip()
            found.append(Reading(title, "location", Value("word", place, 0, 0), None, "calendar"))
        return found
    for match in _EVENT_ON.finditer(clause):
        when = _value_after(clause, match.end(), at)
        if when is None or when.kind != "date":
            continue
        event = match["n"].lower()
        found.append(Reading(event, "date", when, None, "event on a date"))
        place = re.match(rf"[^.;]{{0,24}}?\bat\s+{_PLACE}", clause[when.end :])
        if place:
            spot = Value("word", place["place"], 0, 0)
            found.append(Reading(event, "location", spot, None, "event at a place"))
    for match in _INSTEAD.finditer(clause):
        event = (match["n"] or "").lower() or None
        spot = Value("word", match["place"], match.start("place"), match.end("place"))
        found.append(Reading(event, "location", spot, None, "instead"))
    for match in _COUNT_OF.finditer(clause):
        count = Value("count", match["c"], match.start("c"), match.end("c"))
        found.append(Reading(match["n"].lower(), match["u"].lower(), count, None, "a N of units"))
    for match in _ATTRIBUTE_OF.finditer(clause):
        typed = _value_after(clause, match.end(), at)
        if typed is not None and typed.kind not in ("word", "person"):
            found.append(_value_reading(None, match["a"].lower(), typed, None, "attribute of"))
    for match in _DOWN_TO.finditer(clause):
        typed = _value_after(clause, match.end(), at)
        if typed is not None and typed.kind in ("count", "percent", "money"):
            # "Circuit request is down to 4": the phrase before names what went down.
            before = re.search(
                r"(?i)(?:^|[,:;]\s*)(?P<np>(?:the\s+|our\s+)?[a-z][\w-]*(?:\s+[a-z][\w-]*){0,2})\s+"
                r"(?:is|are|has\s+gone|went|goes|comes?|came)\s+$",
                clause[: match.start()],
            )
            subject, attribute = _split_np(before["np"]) if before else (None, None)
            if subject is not None and attribute is None and typed.kind == "count":
                found.append(_value_reading(None, subject.lower(), typed, None, "down to"))
                continue
            found.append(_value_reading(subject, attribute, typed, None, "down to"))
    return [r for r in found if r is not None]


def _share_subject(found: list[Reading]) -> list[Reading]:
    """Readings of one clause without a subject take the one a sibling names."""
    named = [r.subject for r in found if r.subject]
    if len(set(named)) != 1:
        return found
    return [r if r.subject else replace(r, subject=named[0]) for r in found]


_NOUN_VALUE = re.compile(
    rf"^(?i:(?:new|revised|updated|current|final)\s+)?(?P<a>(?:[a-z][\w-]*\s+){{0,2}}"
    rf"(?i:{_ATTRIBUTE}))"
    r"(?:\s+(?!(?:USD|EUR|GBP|NOK|SEK|DKK|CHF|JPY|CAD|AUD|INR)\b)(?!(?i:jan|feb|mar|apr|may|"
    r"jun|jul|aug|sep|oct|nov|dec|mon|tue|wed|thu|fri|sat|sun))(?P<q>[A-Z][\w-]+))?"
    r"\s+(?P<rest>\S.*)$"
)
_LABEL_NUMBER = re.compile(r"^(?P<k>[A-Z][a-z]+(?:[ -][a-z]+){0,3})\s+(?P<n>\d{1,3}(?:,\d{3})*%?)$")
_LIST_SPLIT = re.compile(r",\s+|\s+\|\s+|;\s+")
_HEADER = re.compile(r"^(?P<h>[^:]{2,40}):\s+(?P<rest>.+)$")
_STATUS_TAIL = re.compile(
    r"(?i)\s+(?:confirmed|updated|changed|booked|scheduled|rescheduled|cancell?ed|created|"
    r"received|approved|moved|added|set)$"
)


# Readings of list pieces; "listed value" ones ("150 agents") only count in a list of two
# or more, since alone "480 units" is the value of whatever field names it.
_LIST_REASONS = ("listed", "label", "listed value")


def _listed(clause: str, at: datetime | None) -> list[Reading]:
    """A list of fields in one line -- 'Vessel: MSC Aurora, ETD June 20, ETA Oslo July
    24', 'BWL-88213 | Discharged at Oslo | Status: Arrived', 'Site 114 weekly: Screened
    7, Randomized 4' (the head names their subject) -- read piece by piece; only when two
    or more pieces are fields, or the clause is one short 'Ocean freight USD 3,150'."""
    header = _HEADER.match(clause)
    first = _LIST_SPLIT.split(header["rest"], maxsplit=1)[0] if header is not None else ""
    if (
        header is not None
        and _LIST_SPLIT.search(header["rest"])
        # "Vessel: MSC Aurora, ETD June 20": the head is a field whose value comes first.
        and (_piece(first, at) is not None or not re.match(r"[A-Z0-9]", first))
    ):
        listed = _pieces(header["rest"], at)
        if len(listed) >= 2 and all(r.reason in _LIST_REASONS for r in listed):
            subject = _HEADER_LEAD.sub("", _STATUS_TAIL.sub("", header["h"].strip()))
            if re.search(r"(?i)\b(?:is|are|was|were|has|have|attached|here)\b", subject):
                subject = ""  # "Attached is the revised order form: ...": no name
            return [replace(r, subject=r.subject or subject or None) for r in listed]
    found = _pieces(clause, at)
    if len(found) >= 2:
        return found
    if len(clause.split()) <= 8 and not _FIELD.match(clause):
        single = _piece(clause.strip(" ."), at)
        if single is not None and single.reason == "listed":
            return [single]
    if header is not None and len(header["rest"].split()) <= 6:
        single = _piece(header["rest"].strip(" ."), at)
        if single is not None and single.reason == "listed":
            # "Per the executed CTA: per-patient fee $10,400"
            subject = _HEADER_LEAD.sub("", _STATUS_TAIL.sub("", header["h"].strip()))
            return [replace(single, subject=single.subject or subject or None)]
    return []


_HEADER_LEAD = re.compile(
    r"(?i)^(?:(?:per|as per|according to|under|in|from)\s+)?(?:(?:the|our|your|their|this|"
    r"that)\s+)?(?:(?:executed|signed|final|updated|revised|new|current|latest)\s+)*"
)


def _tracked_value(clause: str, at: datetime | None, tracked: Sequence[str]) -> Reading | None:
    """'Confirm: cargo ready 21 June': a short clause that gives a tracked attribute (by its
    name, with or without 'date') a typed value right after it."""
    if not tracked or len(clause.split()) > 10:
        return None
    names = sorted(
        {n for t in tracked for n in (t.lower(), re.sub(r"\s+date$", "", t.lower())) if len(n) > 3},
        key=len,
        reverse=True,
    )
    text = clause.lower()
    for name in names:
        found = re.search(rf"(?<![\w-]){re.escape(name)}\s+(?:(?:is|now|will be|to)\s+)?", text)
        if found is None:
            continue
        typed = _value_after(clause, found.end(), at)
        if (
            typed is not None
            and typed.kind not in ("word", "person")
            and typed.start - found.end() <= 2
        ):
            full = next((t for t in tracked if t.lower().startswith(name)), name)
            return _value_reading(None, full, typed, None, "tracked")
    return None


def _pieces(text: str, at: datetime | None) -> list[Reading]:
    pieces = [p.strip(" .") for p in _LIST_SPLIT.split(text) if p.strip(" .")]
    if len(pieces) < 2:
        return []
    found = [_piece(piece, at) for piece in pieces]
    return [r for r in found if r is not None]


_VALUE_FIRST = re.compile(
    r"(?P<n>\d[\d,]*)\s+(?P<u>[a-z]{3,}s)"
    r"|(?P<m>(?:[$€£]|(?:USD|EUR|GBP|NOK|SEK|DKK|CHF)\s?)\d[\d,]*(?:\.\d+)?)\s*(?:/|per\s+)"
    r"(?P<per>[a-z]{3,})(?:\s*(?:/|per\s+)(?:month|mo|year|yr|week|day|night))?"
    r"|(?P<t>\d{1,3})[- ](?P<tu>month|year|week)s?\s+(?:term|contract|commitment)",
    re.IGNORECASE,
)


def _piece(piece: str, at: datetime | None) -> Reading | None:
    field_match = _FIELD.match(piece)
    if field_match:
        if _FIELD_SKIP.match(field_match["key"].strip()):
            return None
        return _field(field_match["key"], field_match["rest"], at)
    noun = _NOUN_VALUE.match(piece)
    if noun is not None and not NUMBERED.match(piece):  # "Site 114" is a name
        # "pass percentage 25% -> 100%": the value after the last arrow
        typed = _value_after(_ARROW.split(noun["rest"])[-1], 0, at)
        if (
            typed is not None
            and typed.kind not in ("word", "person", "switch")
            and typed.start <= 4
            and not re.match(r"(?i)\s*(?:is|was|to|from|at|of)\b", noun["rest"])
        ):
            return _value_reading(None, _attribute_name(noun["a"]), typed, None, "listed")
        named = re.fullmatch(r"(?P<v>[A-Z][\w'&-]*(?:\s+[A-Z][\w'&-]*){0,3})", noun["rest"].strip())
        if named and noun["q"] is None and named["v"].split()[0].lower() not in _CALENDAR_WORDS:
            value = Value("word", named["v"], 0, len(named["v"]))
            return Reading(None, _attribute_name(noun["a"]), value, None, "listed")
    first = _VALUE_FIRST.fullmatch(piece)
    if first is not None:
        # An order form's list: "150 agents", "$95/agent/month", "24-month term"
        if first["n"]:
            count = Value("count", first["n"], 0, len(first["n"]), first["u"])
            return Reading(None, first["u"].lower(), count, None, "listed value")
        if first["m"]:
            money = Value("money", first["m"], 0, len(first["m"]))
            return Reading(None, f"price per {first['per'].lower()}", money, None, "listed value")
        span = f"{first['t']} {first['tu'].lower()}s"
        return Reading(None, "term", Value("word", span, 0, len(piece)), None, "listed value")
    when = dates(piece, at)
    if when and when[0].start <= 5 and len(piece.split()) <= 5:
        return Reading(None, "date", when[0], None, "label")  # "Fri 2027-08-06 07:00"
    milestone = re.match(r"^(?P<m>[a-z][\w-]*(?:\s+[a-z][\w-]*)?)\s+(?:on\s+|by\s+)?", piece)
    if (
        milestone is not None
        and when
        and when[0].start == milestone.end()
        and milestone["m"].split()[-1] in MILESTONES
    ):
        return Reading(
            None, f"{milestone['m']} date", when[0], None, "listed"
        )  # "completion April 30"
    label = _LABEL_NUMBER.match(piece)
    if label is not None:
        count = Value("count", label["n"], 0, len(label["n"]))
        return Reading(None, label["k"].lower(), count, None, "label")
    return None


_SCHEDULE_WORDS = re.compile(
    r"(?i)^(?:(?:planned|next|expected|scheduled|estimated|tentative|new|revised|"
    r"upcoming|target)\s+)+"
)


def _field(key: str, rest: str, at: datetime | None) -> Reading | None:
    """A `Key: value` line; `Key: old -> new` names the value it replaced."""
    if re.fullmatch(r"(?i)\s*(?:assigned(?:\s+to)?|assignee)\s*", key):
        key = "assignee"  # "Assigned: Omar Haddad"
    key = _KEY_VERB.sub("", key.strip())
    key = re.sub(r"(?i)\s+(?:to date|so far|in total|total)$", "", key)  # "Randomized to date"
    subject, attribute = _split_np(key)
    if (
        attribute is not None
        and subject is not None
        and re.fullmatch(r"[A-Z][a-z]{2,}", subject)
        and key.strip().istitle()
    ):
        # "Fix Version: 3.8.1", "Target Date: ...": a tracker's field names are title-cased;
        # one plain word before the attribute noun is part of the field's name.
        subject, attribute = None, f"{subject} {attribute}".lower()
    named_attribute = attribute is not None
    when = _value_after(rest, 0, at)
    if attribute is None and when is not None and when.kind == "date":
        # "Substantial completion: June 14" is a milestone's date; "Planned SIV:
        # 2027-10-19" the date of an event.
        head = key.strip().lower().split()[-1] if key.strip() else ""
        if head in MILESTONES or head.rstrip("s") in MILESTONES:
            return Reading(None, f"{key.strip().lower()} date", when, None, "field")
        event = _SCHEDULE_WORDS.sub("", key.strip()).strip()
        if event and len(event.split()) <= 3 and not re.search(r"(?i)(?:ed|ing)$", event):
            return Reading(event, "date", when, None, "field")
    if attribute is None:
        counted = (
            when is not None
            and when.kind in ("count", "percent")
            and when.start <= 1
            and len(key.split()) == 1  # "Randomized: 4", not "Updated proposal attached: 320"
        )
        if len(key.split()) > 3 or (re.search(r"(?i)(?:ed|ing)$", key.strip()) and not counted):
            return None  # "Updated proposal attached: ..." names no attribute
        attribute, subject = key.strip().lower(), None
    named = _TRAILING_NAME.search(rest)
    if named and attribute is not None and _PERSONISH.search(attribute):
        # "Owner: Platform on-call (Jonas Berg)": the person in brackets holds the role.
        rest = named["n"]
    elif subject is None and named:
        subject = named["n"]
        rest = rest[: named.start()]
    # "Waiting for Review → In Review → Ready for Sale": the last step is the value.
    parts = _ARROW.split(rest)
    previous = parts[-2].strip() if len(parts) >= 2 else None
    body = parts[-1]
    typed_value = _value_after(body, 0, at)
    value = typed_value if typed_value is not None and typed_value.kind != "word" else None
    acronym = re.fullmatch(r"[A-Z]{2,5}", key.strip())
    if (
        value is not None
        and value.kind == "person"
        and not named_attribute
        and not acronym
        and not _AGENT_NOUN.fullmatch(key.strip())
    ):
        return None
    if value is not None and not named_attribute and value.kind == "version":
        if len(body.split()) > 3:
            return None
        attribute = "version"  # "Engine: Postgres 14.9" is a version
    if value is None:
        words = re.split(r"\s*(?:[.;(\n]|\s[-\u2013\u2014]\s|,\s)", body.strip(), maxsplit=1)[0]
        words = words.strip(" \"'“”")
        if not words or len(words) > 40 or len(words.split()) > 4:
            return None
        one_noun = re.fullmatch(r"[A-Za-z][a-z-]{2,20}", key.strip()) is not None
        # "Swap: Data takes Bay B" is a sentence: a name's words are capitalised
        titled = all(w[:1].isupper() or w in ("of", "de", "the", "and", "&") for w in words.split())
        if not named_attribute and not (one_noun and titled):
            return None  # "Job opened: ...": no attribute noun, no typed value
        value = Value("word", words, 0, len(words))
    if previous is not None:
        old = values(previous, at)
        previous = old[0].text if old else previous.strip(" \"'“”")
    return _value_reading(subject, _attribute_name(attribute), value, previous, "field")


def correction(
    clause: str, utterance: Utterance, context: Context, *, cued: bool = False
) -> Reading | None:
    """'Sorry, I meant March 24, not March 23': the new value of the state holding the old
    (`cued`: the sentence around the clause says it corrects)."""
    if not (cued or _CORRECTION.search(clause)):
        return None
    old = _NOT_OLD.search(clause)
    body = _NOT_OLD.sub("", clause)
    cue = _CORRECTION.search(body)
    after = cue.end() if cue else 0
    new_values = [v for v in values(body, utterance.at) if v.kind != "person" and v.end > after]
    code = _CODE_IS.search(body)
    if code is not None:
        # "Correction: the PO number is 7781-23": the identifier, not the number in it
        new_values = [Value("word", code["v"], code.start("v"), code.end("v"))]
    if not new_values:
        return None
    new = new_values[0]
    target: Known | None = None
    if old is not None:
        stale = (old["old"] or old["was"] or "").strip()
        stale_values = values(stale, utterance.at)
        if not stale_values and new.kind == "date":
            # "October 28, not the 29th": the day in the new value's month.
            near = resolve(new.text, utterance.at)
            day = ordinal_day(stale, utterance.at, near)
            stale_values = [day] if day is not None else []
        stale_text = stale_values[0].text if stale_values else stale
        target = context.holding(stale_text)
    if target is None:
        target = context.newest(kind=new.kind, author=utterance.author)
    if target is None:
        return None
    return Reading(target.subject, target.attribute, new, target.value, "correction")


def retraction(clause: str, utterance: Utterance, context: Context) -> Reading | None:
    """'Scratch that, we're staying at Harbor Hall': a recent change undone."""
    if not _RETRACTION.search(clause):
        return None
    for value in [*values(clause, utterance.at), *_named(clause)]:
        known = context.holding(value.text, past=True)
        if known is not None and not _same_value(known.value, value.text):
            restored = next(v for v in reversed(known.earlier) if _same_value(v, value.text))
            return Reading(
                known.subject,
                known.attribute,
                Value(value.kind, restored, value.start, value.end),
                known.value,
                "retraction",
            )
    named = [
        v
        for v in _named(clause)
        if v.start > 0 and v.text.split()[0].lower() not in _NOT_SUBJECT_WORDS
    ]
    if named or values(clause, utterance.at):
        return None  # it names a value no known state had: not ours to restore
    if re.search(
        r"(?i)\b(?:scratch that|ignore (?:my|that|the) (?:last|previous)|disregard)", clause
    ):
        known = context.newest(author=utterance.author)
        if known is not None and known.earlier:
            kind = known.kind or "word"
            return Reading(
                known.subject,
                known.attribute,
                Value(kind, known.earlier[-1], 0, 0),
                known.value,
                "retraction",
            )
    return None


def _named(clause: str) -> list[Value]:
    found = []
    for match in re.finditer(r"(?:[A-Z][\w'&.-]*)(?:\s+[A-Z][\w'&.-]*){0,3}", clause):
        found.append(Value("word", match.group(0), match.start(), match.end()))
    return found


def stated_nothing(clause: str) -> bool:
    """A hedge, question, condition or proposal: it states no value. A record's field
    named 'Estimated delivery' or 'Expected close' states its value all the same."""
    field_match = _FIELD.match(clause)
    if field_match and _SCHEDULE_WORDS.match(field_match["key"].strip()):
        clause = field_match["rest"]
    # A bracketed aside ("(estimate $15,950 less the deductible)") hedges nothing, and an
    # estimate someone sent ("Revised estimate: $15,950", "our estimate ... is") is a
    # quote, not a guess; "we estimate", "estimated at" still hedge.
    said = _ESTIMATE_NOUN.sub(r"\g<by> quote", _PAREN.sub("", clause))
    return bool(_HEDGE.search(said) or _QUESTION.search(clause) or clause.rstrip().endswith("?"))


def _hedged_by_estimate(clause: str) -> bool:
    """The clause's only hedge is an estimate someone sent ("our estimate ... is")."""
    return bool(_HEDGE.search(_PAREN.sub("", clause))) and not stated_nothing(clause)


_ESTIMATE_NOUN = re.compile(
    r"(?i)\b(?P<by>the|our|your|their|its|his|her|an|this|that|revised|updated|new|final|"
    r"written|formal|original|first|second|latest|[\w-]+['\u2019]s)\s+estimates?\b"
    r"(?!\s+(?:that|it|we|they)\b)"
)


def resolve_subject(
    reading: Reading, utterance: Utterance, context: Context, message: str
) -> tuple[str | None, str | None]:
    """The reading's subject and attribute, filled from context where the clause left
    them out (see the module doc)."""
    subject, attribute = reading.subject, reading.attribute
    kind = reading.value.kind
    if reading.reason == "tracked" and attribute is not None:
        tracked = context.newest(attribute=attribute)
        topic = context.topic
        if tracked is not None and (
            topic is None or context.newest(subject=topic, attribute=attribute) is None
        ):
            return tracked.subject, tracked.attribute
    if subject is not None and reading.reason not in _FROM_CONTEXT:
        raw: str | None = subject
        known = _known_attribute(subject, context)
        if known is not None and (attribute is None or _generic(attribute)):
            # "cargo ready will be 17 June": an attribute the conversation tracks.
            return known.subject, known.attribute
        led = _attribute_led(subject)
        if led is not None and (attribute is None or _generic(attribute)):
            raw, attribute = None, led  # "Revised ETA Oslo is August 4": the ETA
        subject = plausible_subject(raw)
        if subject is not None and context.is_attribute(subject):
            subject = None  # "our CRA": a role the context knows, not a thing
        if subject is None and attribute is not None and (words := qualifier_words(raw)):
            attribute = f"{words} {attribute}"  # "Cargo ready date": the date's own name
        if subject is not None:
            subject = canonical(subject, context.entities)
    if attribute is None and (level := _LEVEL.fullmatch(reading.value.text)):
        attribute = "severity" if level["sev"] else "priority"  # "Bumping this to SEV-1"
    if subject is None:
        subject = _subject_from_context(attribute, kind, utterance, context, message)
    if attribute is None and subject is not None:
        known = context.newest(subject=subject, kind=kind)
        attribute = known.attribute if known else None
    if attribute is None and kind == "person" and not reading.person:
        return None, None  # "moved the booking to the Maersk Halden": no role is named
    if reading.reason == "chose" and (attribute is None or reading.subject is None):
        return None, None  # "we settled on Harbor Hall": chosen as what, is not said
    if attribute is None:
        attribute = _BY_KIND.get(kind)
    if attribute is None or subject is None:
        return None, None
    if _slug_words(attribute) == _slug_words(subject) | {"date"}:
        attribute = "date"  # the launch's "launch date" is its date
    for other in reversed(context.known):
        if _same_subject(other.subject, subject) and (
            same_attribute(other.attribute, attribute) or same_class(other.attribute, attribute)
        ):
            # "opening" is the "openings" already known; "the summit" its full name;
            # "cost" the "price" already known.
            return other.subject, other.attribute
    return subject, _attribute_name(attribute)


def _known_attribute(phrase: str, context: Context) -> Known | None:
    """The known state whose attribute a phrase names ('cargo ready' for 'cargo ready
    date'), when exactly one subject has it."""
    words = _slug_words(phrase) - {"date", "day", "new", "revised", "current", "final"}
    if not words:
        return None
    found = [
        k
        for k in reversed(context.known)
        if words == (_slug_words(k.attribute) - {"date", "day"}) and len(k.attribute) > 3
    ]
    subjects = {k.subject for k in found}
    return found[0] if len(subjects) == 1 else None


def _attribute_led(phrase: str) -> str | None:
    """'ETA Oslo', 'rent Dock 7': an attribute name followed by a place or name that
    qualifies it; the attribute, or None."""
    words = re.sub(r"(?i)^(?:the|our|new|revised|updated|current)\s+", "", phrase).split()
    for size in (2, 1):
        if len(words) > size and is_attribute_name(" ".join(words[:size]).lower()):
            rest = words[size:]
            if all(w[:1].isupper() for w in rest):
                return " ".join(words[:size]).lower()
    return None


def _generic(attribute: str) -> bool:
    return attribute.lower() in ("date", "status", "price", "owner", "count")


# Readings whose subject is a known state's own (already canonical).
_FROM_CONTEXT = frozenset(["correction", "retraction", "accepted"])


def _stem(word: str) -> str:
    text = " ".join(word.lower().split())
    return text[:-1] if text.endswith("s") and not text.endswith("ss") else text


_GREETING = re.compile(r"(?i)\b(?:hi|hello|hey|dear|thanks|thank you|cheers|best|regards),?\s+$")


def _people_in(message: str) -> list[str]:
    """People a message names, greetings ('Hi Lena,') and signatures left out."""
    found = []
    for match in re.finditer(
        r"\b[A-Z][a-z'\u00C0-\u017F-]+(?:\s+[A-Z][a-z'\u00C0-\u017F-]+)?", message
    ):
        before = message[: match.start()]
        if _GREETING.search(before) or match.group(0).split()[0].lower() in _NOT_SUBJECT_WORDS:
            continue
        at_start = not before.strip() or before.rstrip()[-1:] in ".!?:\n-"
        followed = message[match.end() : match.end() + 2]
        if " " not in match.group(0) and (at_start or followed.startswith(":")):
            continue  # "Owner: ...", a capital at a sentence start: not a name
        found.append(match.group(0))
    return found


_NOT_SUBJECT_WORDS = NOT_NAMES | frozenset(
    [
        "all", "also", "best", "cheers", "deal", "dear", "done", "once", "regards", "team",
        "unless", "when", "while"
    ]
)  # fmt: skip


_TOPIC = re.compile(
    rf"\b(?:[A-Z][\w'-]*\s+){{1,3}}(?i:{_EVENT_NOUNS}|project|release|launch|contract|renewal|"
    r"program|programme|initiative|campaign|api|app|migration|rollout|office|account|deal)\b"
)
_PERSON_FACTS = frozenset(
    [
        "start date",
        "salary",
        "base salary",
        "stage",
        "status",
        "location",
        "role",
        "title",
        "end date",
        "base pay",
    ]
)


_TOPIC_FIELDS = (
    "opportunity",
    "account",
    "customer",
    "client",
    "deal",
    "cluster",
    "service",
    "candidate",
    "flag",
    "feature",
    "feature_flag",
    "project",
    "vendor",
    "incident",
    "component",
    "app",
    "product",
    "contract",
    "epic",
    "entity",
)
_RECORD_HEAD = re.compile(
    r"(?im)^\s*(?:new\s+)?(?:opportunity|project|account|customer|client|deal|cluster|service|"
    r"flag|feature flag|feature|candidate|vendor|incident|epic|repo|release|component|app|"
    r"contract|name)\s*:?\s+(?P<n>[A-Za-z0-9][\w.-]*(?:[ ][A-Z0-9][\w.-]*){0,3})"
    r"(?=\s*(?:,|$|\s+(?:created|opened|added|was created|\()))"
)
_NAME_PREFIX = re.compile(r"(?m)^\s*(?P<n>[A-Z0-9][\w.-]*(?:[ ][A-Z0-9][\w.-]*){0,3})\s*:\s+(?=\S)")


def message_topic(utterance: Utterance) -> str | None:
    """What a record-like message is about (see `_topic`), or a named event or project
    it mentions ('the Northwind Partner Summit')."""
    strong = _topic(utterance)
    if strong is not None:
        return strong
    topic = _TOPIC.search(utterance.text)
    if topic is None:
        return None
    named = _DETERMINERS.sub("", topic.group(0)).strip()
    return named if len(named.split()) > 1 else None


def _topic(utterance: Utterance) -> str | None:
    """What a record-like message is about: an `opportunity` / `cluster` / ... field, a
    head line ('Opportunity Acme Freight created', 'Cluster: orders-db'), or a name
    prefixed to a change ('Acme Freight: Stage changed ...')."""
    for name in _TOPIC_FIELDS:
        value = utterance.fields.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()
    head = _RECORD_HEAD.search(utterance.text)
    if head:
        return head["n"]
    prefix = _NAME_PREFIX.search(utterance.text)
    if prefix:
        name = prefix["n"]
        if (
            _split_np(name)[1] is None
            and name.split()[0].lower() not in _NOT_SUBJECT_WORDS
            and (not _FIELD_SKIP.match(name))
        ):
            return name
    return None


# What a tracked record (a ticket, an incident) has, so a message that names nothing else
# is about the record the conversation was last about.
_RECORD_FIELD = re.compile(
    r"(?i)status|stage|state|resolution|severity|priority|assignee|owner|"
    r"(?:incident\s+)?(?:commander|lead|manager)|ic|on-?call|fix version|"
    r"[\w -]+ (?:affected|impacted)"
)


def _subject_from_context(
    attribute: str | None, kind: str, utterance: Utterance, context: Context, message: str
) -> str | None:
    """Who or what a clause without a subject is about (see the module doc)."""
    hint = utterance.subject_hint
    if hint and is_thing(hint):
        return thing_name(hint)
    if context.sentence_focus:
        return context.sentence_focus[-1]  # "Per the CTA: fee $10,400; screen-failure fee $950"
    if context.topic is not None:
        return context.topic  # the email's subject line, the one id the message names
    strong = plausible_subject(_topic(utterance))
    if strong is not None:
        return canonical(strong, context.entities)
    topic = plausible_subject(message_topic(utterance))
    # A subject the reader already knows, named in this message: one with this attribute,
    # else any.
    mentioned = [k for k in context.known if _mentions(message, k.subject)]
    fitting = [k for k in mentioned if attribute is None or same_attribute(k.attribute, attribute)]
    if fitting:
        return fitting[-1].subject
    if hint and (named := _proper_name(hint)) is not None:
        return named
    if context.focus:
        return context.focus[-1]  # named earlier in the message ("NOT shipping dark mode")
    if topic is not None and (attribute is None or attribute not in _PERSON_FACTS):
        return topic
    things = list(dict.fromkeys(thing_name(t) for t in THING.findall(message)))
    if len(things) == 1:
        return things[0]
    if hint and (named := _proper_name(hint)) is not None:
        return named
    if mentioned:
        return mentioned[-1].subject
    if attribute is not None and not _generic(attribute):
        holders = {k.subject for k in context.known if _same_words(k.attribute, attribute)}
        if len(holders) == 1:
            return holders.pop()  # "our CRA": the one thing that has a CRA
    author = (utterance.author or "").lower()
    theirs = {k.subject for k in context.known if author and (k.author or "").lower() == author}
    if len(theirs) == 1:
        return theirs.pop()  # a vendor writing again about the one thing they supply
    if attribute is not None:
        known = context.newest(attribute=attribute)
        if known is None:
            known = next(
                (k for k in reversed(context.known) if same_attribute(k.attribute, attribute)),
                None,
            )
        if known is not None:
            return known.subject
    if attribute is not None and kind != "person" and attribute in _PERSON_FACTS:
        people = [p for p in _people_in(message) if p.lower() != (utterance.author or "").lower()]
        if people:
            return people[-1] if len(set(people)) > 1 else people[0]
    if topic is None and attribute is not None and _RECORD_FIELD.fullmatch(attribute):
        # "Bumping this to SEV-1": the record the conversation was last about (a ticket,
        # "Incident 4412"), when the message names nothing else.
        record = next(
            (
                k.subject
                for k in reversed(context.known)
                if is_thing(k.subject) or numbered_kind(k.subject)
            ),
            None,
        )
        if record is not None:
            return record
    return topic


def _proper_name(text: str) -> str | None:
    """The name an email subject line starts with: 'Re: Dock 7 - terms' -> 'Dock 7',
    'Acme Freight go-live' -> 'Acme Freight'; None when it starts with a plain word."""
    body = re.sub(r"(?i)^(?:(?:re|fwd?|aw|sv)\s*:\s*)+", "", text.strip())
    words = []
    for word in body.split():
        if re.fullmatch(r"[A-Z0-9][\w.&'-]*", word) and word.lower() not in _NOT_SUBJECT_WORDS:
            words.append(word)
        else:
            break
    name = " ".join(words[:4]) if words else None
    return name if name is not None and topic_like(name) else None


def _mentions(message: str, subject: str) -> bool:
    """Whether a message names a subject: all its words, as words of their own (the
    'cabinet' of 'under-cabinet lights' is no mention of the cabinets)."""
    text = " ".join(message.lower().split())
    name = " ".join(subject.lower().split())
    if name and re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text):
        return True
    words = _slug_words(subject)
    said = set(re.findall(r"(?<![\w-])[a-z0-9]+(?![\w-])", text))
    return len(words) > 1 and words <= said


_FIELD_START = re.compile(rf"(?i)^(?:{_ATTRIBUTE})\b")
_SPEAKER = re.compile(r"^\s*(?P<who>[A-Z][a-z]+(?:\s[A-Z][a-z]+)?|@[\w.-]+)\s*:\s+(?=\S)")


@functools.lru_cache(maxsize=4)
def _accepts(message: str) -> bool:
    """Whether a message accepts an offer; asked once per sentence, computed once per
    message (a 50,000-character paste has hundreds of sentences)."""
    return bool(_ACCEPT.search(message.strip()))


def general_states(
    sentence: str, utterance: Utterance, context: Context, message: str, *, parse: bool = True
) -> list[tuple[State, str]]:
    """The states a sentence sets by the general rules, each with the rule that fired;
    `parse`: whether the context's parser may read what the rules do not (not where the
    state-change patterns already read the sentence)."""
    nlp = context.parser if parse else None
    if _QUOTED.match(sentence):
        return []
    cued = bool(_CORRECTION.search(sentence))
    speaker = _SPEAKER.match(sentence)
    if (
        speaker
        and speaker["who"].split()[0].lower() not in _NOT_SUBJECT_WORDS
        and not _FIELD_SKIP.match(speaker["who"])
        and not _CORRECTION.match(speaker["who"])
    ):
        rest = sentence[speaker.end() :]
        if (
            _split_np(speaker["who"])[1] is None
            and not _FIELD_START.match(rest)
            and len(rest.split()) >= 3
            and re.search(r"(?i)\b(?:is|are|was|at|to|on|in|now|moved|set)\b", rest)
        ):
            sentence = rest  # a standup line: "Ines: strict_auth is at 5% in prod"
    accepted = _accepts(message)
    found: list[tuple[State, str]] = []
    focus = context.focus
    context.sentence_focus = []
    pieces = [sentence] if _CALENDAR.match(sentence) else clauses(sentence)
    for clause in pieces:
        for seen in read_clause(_NOT_OLD.sub("", clause), utterance):
            named = plausible_subject(_entity_not_attribute(seen).subject)
            if named and not context.is_attribute(named):
                # "NOT shipping dark mode in 4.3": the message is about dark mode.
                focus.append(canonical(named, context.entities))
        readings: list[Reading] = []
        special = correction(clause, utterance, context, cued=cued) or retraction(
            clause, utterance, context
        )
        if special is not None:
            readings = [special]
        elif _negated(clause):
            continue
        elif nlp is not None and _hedged_by_estimate(clause):
            # With a parser, it says what the noun "estimate" is about; the rules guess.
            if not _named_estimate(clause, nlp):
                continue
            readings = _with_parse(clause, utterance.at, [], nlp)
        elif (
            stated_nothing(clause)
            and not (accepted and re.search(r"(?i)\bgo with\b", clause))
            and not (accepted and _DECIDED.match(clause) and not _HEDGE.search(clause[6:]))
        ):
            if not _named_estimate(clause, nlp):
                continue
            # The parse vouched for the clause (its "estimate" is a noun): it reads it.
            readings = _with_parse(clause, utterance.at, [], nlp)
        else:
            tracked = [k.attribute for k in context.known if " " in k.attribute]
            readings = read_clause(clause, utterance, tracked)
            if not readings and accepted:
                readings = _accepted(clause, utterance, context)
            readings = _with_parse(clause, utterance.at, readings, nlp)
        for said in readings:
            reading = _entity_not_attribute(said)
            subject, attribute = resolve_subject(reading, utterance, context, message)
            if subject is None or attribute is None:
                continue
            said_subject = plausible_subject(said.subject) if said.subject else None
            if said_subject and canonical(said_subject, context.entities) != subject:
                said_subject = None  # the clause named an attribute or another thing
            state = State(
                subject=subject,
                attribute=attribute,
                value=reading.value.text.strip().rstrip("."),
                previous=reading.previous,
                said_at=utterance.at,
                names=names_of(subject, context.entities, said_subject or ""),
            )
            if state.makes_sense() and len(state.value) <= 60:
                found.append((state, reading.reason))
                context.note(state, utterance.author)
                if said_subject:
                    context.sentence_focus.append(subject)
    return found


_QUANTITY_NOUNS = {
    "date": re.compile(
        r"(?i)(?:date|deadline|day|sunset|go-?live|launch|start|end|due|cutover|kickoff|"
        r"move-?in|move|freeze|handover|window|eta|target|time|when|expiry|renewal)$"
    ),
    "money": re.compile(
        r"(?i)(?:price|cost|rate|fee|fees|salary|budget|quote|discount|amount|total|deposit|rent|"
        r"value|cap|spend|pay|seat|person|head|month|year|acv|arr|mrr|limit)$"
    ),
    "percent": re.compile(r"(?i)(?:rollout|percentage|discount|share|rate|traffic|split)$"),
    "version": re.compile(r"(?i)(?:version|release|build|target|sdk|app)$"),
}


# The attribute class a value of each kind belongs to ("ETD" names a date).
_KIND_CLASSES = {"date": "date", "money": "price", "percent": "rollout", "version": "version"}


_MILESTONES = frozenset(
    [
        "completion",
        "delivery",
        "handover",
        "launch",
        "go-live",
        "golive",
        "kickoff",
        "cutover",
        "signing",
        "renewal",
        "rollout",
        "migration",
        "deployment",
        "shipment",
        "installation",
        "onboarding",
    ]
)


def _milestone(attribute: str) -> str | None:
    """'substantial completion' -> 'substantial completion date'; None when the
    attribute is not a milestone's name or already names a date."""
    words = attribute.lower().split()
    if not words or words[-1] in ("date", "day", "deadline", "time", "eta", "etd"):
        return None
    return f"{attribute} date" if words[-1] in MILESTONES or words[-1] in _MILESTONES else None


def _entity_not_attribute(reading: Reading) -> Reading:
    """'the v3.7 release is on May 10', 'the Lumenfield renewal is $35': a head noun that
    is not a quantity of the value's kind names the thing, not its attribute; 'completion
    moves to April 23': a milestone with a date is the attribute ('completion date')."""
    subject = reading.subject
    if reading.value.kind == "date" and reading.reason not in _FROM_CONTEXT:
        milestone = _milestone(reading.attribute) if reading.attribute else None
        if milestone is not None and " " in (reading.attribute or ""):
            return replace(reading, attribute=milestone)
        if reading.attribute is None and subject is not None:
            words = re.sub(r"(?i)^(?:with|for|on|about|regarding|and|the)\s+", "", subject).split()
            last = words[-1].lower() if words else ""
            if last in _MILESTONES or last in MILESTONES:
                # "completion moves to April 23", "Acme go-live is on the 15th",
                # "substantial completion is now July 2": the milestone's date.
                rest = list(words[:-1])
                named = rest and (rest[0][:1].isupper() or any(c.isdigit() for c in rest[0]))
                if named:
                    return replace(reading, subject=" ".join(rest), attribute=f"{last} date")
                return replace(reading, subject=None, attribute=f"{' '.join(words).lower()} date")
    nouns = _QUANTITY_NOUNS.get(reading.value.kind)
    attribute = reading.attribute
    if (
        nouns is None
        or attribute is None
        or nouns.search(attribute)
        or _KIND_CLASSES.get(reading.value.kind) == attribute_class(attribute)
        or reading.reason
        in (
            "field",
            "listed",
            "listed value",
            "label",
            "tracked",
            "correction",
            "retraction",
            "accepted",
            "count of affected",
            "units at a price",
            "units in total",
        )
    ):
        return reading
    subject = f"{reading.subject} {attribute}" if reading.subject else attribute
    return replace(reading, subject=subject, attribute=None)


def _accepted(clause: str, utterance: Utterance, context: Context) -> list[Reading]:
    """'Deal -- we'll go with €39 per person': an accepted value of the state it prices."""
    found = [v for v in values(clause, utterance.at) if v.kind != "person"]
    for value in found:
        known = context.newest(kind=value.kind)
        if known is not None:
            return [Reading(known.subject, known.attribute, value, known.value, "accepted")]
    money = [v for v in found if v.kind == "money"]
    if money:
        # "The owner agreed: NOK 119,000 per month": a price nobody had named yet.
        per = re.match(r"\s*(?:per|a|/)\s*(month|year|seat|person|head|night|user|unit)\b",
                       clause[money[0].end :], re.I)  # fmt: skip
        attribute = f"price per {per.group(1).lower()}" if per else "price"
        return [Reading(None, attribute, money[0], None, "accepted")]
    return []


_NEGATION = re.compile(r"(?i)\bnot\b|n't\b|\bnever\b|\bno longer\b|\bcannot\b")


_NEGATIVE_NAMES = re.compile(r"(?i)\b(?:won'?t fix|won'?t do|can'?t reproduce|cannot reproduce)\b")


def _named_estimate(clause: str, nlp: Any) -> bool:
    """'Our estimate is $14,300': the only hedge the rules see is 'estimate', and the
    parse says it is a noun (a contractor's or adjuster's document), not 'we estimate'."""
    hedges = [m.group(0).lower() for m in _HEDGE.finditer(clause)]
    if not hedges or not all(h.startswith("estimate") for h in hedges) or _QUESTION.search(clause):
        return False
    return nlp is not None and noun_not_hedge(clause, nlp)


def _with_parse(
    clause: str, at: datetime | None, readings: list[Reading], nlp: Any
) -> list[Reading]:
    """The rules' readings, or, when they read nothing, the parse's (`memos.agents.parse`).
    Where the rules read something they win: letting the parse's subject replace the
    rules' guessed ones ('is (any noun)') cost dev MEMTRACK correctness 0.787 -> 0.773."""
    if nlp is None or readings:
        return readings
    return [
        _value_reading(p.subject, p.attribute, p.value, None, p.reason)
        for p in parsed_readings(clause, at, nlp)
    ]


def _negated(clause: str) -> bool:
    # A bracketed aside ("(their SSO isn't ready)") does not negate the clause.
    return bool(_NEGATION.search(_NEGATIVE_NAMES.sub("", _PAREN.sub("", _NOT_OLD.sub("", clause)))))


__all__ = [
    "Context",
    "Known",
    "Reading",
    "SWITCH",
    "clauses",
    "general_states",
    "read_clause",
]
