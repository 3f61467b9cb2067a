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
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from memos.agents.keyphrases import stem
from memos.agents.statements import says_change, stated_nothing
from memos.agents.tables import unfold_tables
from memos.agents.values import MONTH_NAMES, values
from memos.agents.words import NOT_NAMES, roles_asked
from memos.eval.memtrack.backends import Retrieved
from memos.eval.memtrack.codes import PHONE, asks_for_code, asks_for_phone, is_code
from memos.eval.memtrack.memos_backend import StateRetrieved, asked_as_of, asks_first
from memos.eval.memtrack.metrics import normalise
from memos.text import STOPWORDS

# A sentence break (shared with `spans`, `choices`, `which` and `polar`).
# A sentence ends at . ! ? or a line break, not after a title ("Dr. Ravi Menon").
SENTENCE = re.compile(
    r"(?<!\bDr\.)(?<!\bMr\.)(?<!\bMs\.)(?<!\bSt\.)(?<!\bMrs\.)(?<!\bProf\.)(?<=[.!?])\s+|\n+"
)

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
    # A rate is a percentage ("error rate") or an amount ("day rate"): both fit.
    ("percent", r"\b(?:percent(?:age)?|rolled out|rollout|ramp(?:ed)?|traffic|rate)\b", "rollout"),
    ("duration", r"\b(?:how long|duration|term|length of|lead time|turnaround)\b", ""),
    ("count", r"\b(?:how many|number of|headcount|capacity|limit|count|area|size)\b", ""),
    (
        "money",
        r"\b(?:how much|price|cost|costs|fee|fees|salary|budget|amount|pay|quote|rate|rent|"
        r"deposit|value|spend|revenue|charge|total|cash|payment|balance|refund)\b",
        "",
    ),
    ("time", r"\b(?:what time|which time|at what time|start time|departure time)\b", "time"),
    ("date", r"\b(?:when|what date|which date|what day|which day|deadline|date)\b", "date"),
    ("version", r"\b(?:version|what release|which release|build)\b", "version release"),
    ("person", r"\bwho(?:m|se)?\b|\b(?:owner|assignee|lead|manager|speaker|host)\b", ""),
    ("place", r"\b(?:where|venue|location|office|city|room)\b", "venue location"),
    ("status", r"\b(?:status|state|stage|column|resolution)\b", "status stage state"),
    ("status", r"\b(?:priority|severity)\b", "priority severity"),  # a ticket's field
)
_KIND_FITS: dict[str, set[str | None]] = {
    "percent": {"percent"},
    "duration": {"count"},
    "count": {"count"},
    "money": {"money"},
    "date": {"date"},
    "time": {"time"},  # no stored value is of this kind: the span answerer reads times
    "version": {"version"},
    "person": {"person"},
    "place": {"word", "person", None},
    "status": {"word", None, "switch"},
}
_TYPED = frozenset(["percent", "count", "money", "date", "version", "duration", "time"])
_KIND_NOUNS = frozenset(
    ["percentage", "percent", "date", "day", "amount", "number", "count", "total", "time"]
)
# An identifier in a question ("PAY-210", "#88") is a name, never a cue for a kind.
_IDENTIFIER = re.compile(r"\b[A-Za-z][A-Za-z0-9]*-\d[\w-]*|#\d+")
# "When ...", "By what date ...": a date ("which day of the week" is a weekday's name).
_DATE_OPENER = re.compile(
    r"(?i)^\s*(?:when|(?:by|on|until)?\s*(?:what|which)\s+(?:date|day))\b(?!\s+of\s+the\s+week)"
)
_COUNTED_TIME = re.compile(
    r"(?i)\bhow many\s+(?:[a-z-]+\s+)?(?:minutes|hours|days|weeks|months|years|quarters|sprints)\b"
)
_UNIT_BUDGET = re.compile(
    r"(?i)\b(?:word|page|character|seat|hour|head|room)s?\s+(?:budget|limit|cap|allowance)\b"
)
_MEASURE_OPENER = re.compile(r"(?i)^\s*(?:what time|at what time|how (?:many|much|long))\b")
_BEFORE = re.compile(
    r"(?i)\b(?:before|previous(?:ly)?|used to|originally|initially|original|initial|prior)\b"
)
# "is now", "instead of": the sentence says its value replaced another; so does any of the
# reader's change verbs ("extended it 9 days to", `says_change`).
_NOW = re.compile(
    r"(?i)\b(?:is|are)\s+now\b|\bnow\s+(?:is|are|at|\w+ing)\b"
    r"|\binstead of\b|\b(?:up|down)\s+from\b|\bno longer\b"
)


def updates(sentence: str) -> bool:
    """The sentence says its value replaced another ("is now $22", "moved to June 3")."""
    return bool(_NOW.search(sentence)) or says_change(sentence)


_NAMED_AFTER_BEFORE = re.compile(
    r"(?i)\bbefore\b(?:\s+(?:it|they|she|he|the \w+))?(?:\s+\w+){0,2}?\s+(?:to|was|became|"
    r"is)\s+(?P<v>.+?)\??$|\bbefore\s+(?P<w>[^?]+?)\s*(?:took over|did|came|replaced)?\??$"
)
_ROLE = re.compile(
    r"(?i)(?:owner|assignee|lead|commander|manager|speaker|host|dri|on-?call|reviewer|"
    r"approver|contact|recruiter|coordinator|sponsor|csm|pm|am|ae|champion|\bby|contractor|"
    r"vendor|supplier|provider|installer|caterer|agency|forwarder|carrier|broker|inspector|"
    r"investigator|pi|cra|officer|chair|designer|architect|engineer|planner|consultant)$"
)
_PEOPLE = re.compile(
    r"(?i)\b(?:attendees?|participants?|invitees?|guests?|members?|panel(?:ists)?)$"
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


def content_stems(text: str) -> set[str]:
    """The stems of the words that carry content (no stopwords, no question words); the
    answerer modules match questions and sentences by them."""
    words = normalise(text).split()
    return {stem(w) for w in words if w not in STOPWORDS and w not in _QUESTION_WORDS}


def _value_kind(value: str) -> str | None:
    from memos.agents.values import kind_of_value

    return kind_of_value(value)


@dataclass(frozen=True, slots=True)
class Asked:
    words: set[str]
    kinds: set[str]
    hinted: set[str]  # attribute words the kind of question implies
    before: bool
    named: str | None
    as_of: datetime | None
    who: bool
    plain: set[str] = field(default_factory=set)  # the question's words, unstemmed
    acronyms: set[str] = field(default_factory=set)  # initials of its 2-3 word runs
    ids: set[str] = field(default_factory=set)  # its words with digits, dates left out
    names: set[str] = field(default_factory=set)  # its capitalised words but the first
    first: bool = False  # it asks for the first value ("originally", "when first planned")


def read_question(question: str, asked_at: datetime | None) -> Asked:
    """What a question asks: its content words, the kinds of value it wants, the time it
    asks about and the ids it names (shared by the state, span and choice answerers)."""
    kinds: set[str] = set()
    hinted: set[str] = set()
    cued = _IDENTIFIER.sub(" ", question)
    for kind, cue, words in _ASKS:
        if re.search(cue, cued, re.I):
            kinds.add(kind)
            hinted |= {stem(w) for w in words.split()}
    if _MEASURE_OPENER.match(question):
        # "How many rooms ...?", "What time ... at the midterm room?": the opener names
        # the kind; the room is the thing measured, not a place asked for.
        kinds.discard("place")
    if _DATE_OPENER.match(question):
        # "By what date must the manual be sent to the lead assessor?": a date, not the
        # lead the role noun would ask for.
        kinds -= {"place", "person"}
    if _COUNTED_TIME.search(question):
        kinds.add("duration")  # "How many free days ...?": "7 days" is a duration
    if _UNIT_BUDGET.search(question):
        kinds = (kinds - {"money"}) | {"count"}  # "the word budget": 2,400 words, no money
    if asks_for_phone(question):
        kinds = {"phone"}  # "the cell number of the scheduler": a phone, not a person
    elif asks_for_code(question) and not kinds & {"version", "place"}:
        kinds = {"code"}  # "the Parks permit number": an identifier, not a count
    # "How many free days before demurrage?": a span of time before something, not the
    # value before a change.
    before = bool(_BEFORE.search(question)) and not _COUNTED_TIME.search(question)
    named = None
    if before and (found := _NAMED_AFTER_BEFORE.search(question)):
        named = (found["v"] or found["w"] or "").strip() or None
    who = bool(re.match(r"(?i)^\s*who\b", question))
    plain = set(normalise(question).split())
    runs = [w for w in normalise(question).split() if w not in _QUESTION_WORDS]
    acronyms = {
        "".join(w[0] for w in runs[i : i + size])
        for size in (2, 3)
        for i in range(len(runs) - size + 1)
    }
    undated = _DATES_IN_QUESTION.sub(" ", question)
    ids = {w for w in content_stems(undated) if any(c.isdigit() for c in w)}
    names = {w.lower() for w in re.findall(r"\b[A-Z][a-z]+\b", question.strip())[1:]}
    names -= NOT_NAMES  # "on February 20": a month is no name
    if named:
        names -= set(normalise(named).split())  # "before Sara Lindqvist": a value, not whose
    first = asks_first(question)
    # "Who is officiating?": the officiant's role is what the reader keyed.
    roles = {stem(role) for role in roles_asked(plain)}
    return Asked(
        content_stems(question) | roles,
        kinds,
        hinted,
        before or first,
        named,
        asked_as_of(question, asked_at),
        who,
        plain,
        acronyms,
        ids,
        names - {w for w in plain if w in _QUESTION_WORDS},
        first,
    )


_DATES_IN_QUESTION = re.compile(
    r"(?i)\b(?:(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{1,2}(?:st|nd|"
    r"rd|th)?(?:,?\s+\d{4})?|\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:jan|feb|mar|apr|may|jun|"
    r"jul|aug|sep|oct|nov|dec)[a-z]*(?:,?\s+\d{4})?|\d{4}-\d{2}-\d{2})"
)


def _names(item: StateRetrieved, field: str, more: str) -> list[str]:
    """A state's subject (or attribute) and the other names the reader stored for it."""
    first = str(item.state.get(field, ""))
    others = item.state.get(more)
    rest = [str(n) for n in others if isinstance(n, str)] if isinstance(others, list) else []
    return [first, *[n for n in rest if n != first]]


def _subject_fit(asked: Asked, item: StateRetrieved) -> float:
    """The best share of a subject name's words the question uses, over every name the
    subject goes by; a name with an id or a version counts only when the question names
    it ("v3.3", "API-729")."""
    best = 0.0
    for name in _names(item, "subject", "names"):
        words = content_stems(name)
        if not words:
            continue
        if any(any(c.isdigit() for c in w) and w not in asked.words for w in words):
            continue
        best = max(best, len(words & asked.words) / len(words))
    return best


def _attribute_fit(asked: Asked, item: StateRetrieved) -> float:
    """1 when the question names the attribute (by any of its names), 0.8 when the kind
    of question implies it, 0.7 for a partial name, 0.5 when only the value's kind fits."""
    names = [content_stems(n) for n in _names(item, "attribute", "attribute_names")]
    names = [n for n in names if n]
    if not names:
        return 0.0
    written = names[0]
    prefixes = {w[:5] for w in asked.words if len(w) >= 5}
    if any(n <= asked.words for n in names) or _initials(asked, item):
        return 1.0
    if written & asked.words or any(len(w) >= 5 and w[:5] in prefixes for w in written):
        return 0.7
    if any(n & asked.hinted for n in names):
        return 0.8
    if asked.who and _ROLE.search(str(item.state.get("attribute", ""))):
        return 0.8  # "Who is doing the fit-out?" asks for its contractor, owner, lead
    if any(len(n) > 1 and n & asked.words for n in names[1:]):
        return 0.6
    if any(
        _value_kind(str(item.state.get("value", ""))) in _KIND_FITS.get(k, set())
        for k in asked.kinds
    ) or _like_named(asked, str(item.state.get("value", ""))):
        return 0.5
    return 0.0


def _names_it(value: str, named: str) -> bool:
    """`named` is `value` or a part of it ("Chiara" for "Chiara Neri")."""
    mine, theirs = set(normalise(value).split()), set(normalise(named).split())
    return bool(mine and theirs) and (mine <= theirs or theirs <= mine)


def _valued(named: str) -> bool:
    """What a "before X" question names is a value ("Kim Electric", "June 29"), not an
    event ("the late shipment", "the handover")."""
    return _value_kind(named) is not None or named[:1].isupper()


def _like_named(asked: Asked, value: str) -> bool:
    """With no kind asked, a value of the shape of the one a "before X" question names may
    be the one X replaced ("Which electrician ... before Kim Electric?" -> "Volt
    Brothers"): the same kind of value, or both written as proper names."""
    if asked.kinds or not asked.named or _names_it(value, asked.named):
        return False
    kind, mine = _value_kind(asked.named), _value_kind(value)
    if kind not in (None, "person"):
        return mine == kind
    # Capitalised words read as a person's name as often as a firm's ("Delgado Tiling").
    return asked.named[:1].isupper() and value[:1].isupper() and mine in (None, "person")


def _initials(asked: Asked, item: StateRetrieved) -> bool:
    """'PI' for 'principal investigator', 'CRA' for 'clinical research associate': an
    attribute written as an acronym the question spells out, or the reverse."""
    attribute = normalise(str(item.state.get("attribute", ""))).split()
    if len(attribute) == 1 and 2 <= len(attribute[0]) <= 5:
        return attribute[0] in asked.acronyms
    if len(attribute) >= 2:
        return "".join(w[0] for w in attribute) in asked.plain
    return False


def _fit(asked: Asked, item: StateRetrieved) -> float:
    """How well a state's key fits a question: subject words count twice, then the
    attribute's words, or the kind of value the question asks for."""
    if not str(item.state.get("subject", "")) or not str(item.state.get("attribute", "")):
        return 0.0
    subject_fit = _subject_fit(asked, item)
    attribute_fit = _attribute_fit(asked, item)
    if subject_fit == 0 or attribute_fit == 0:
        return 0.0
    value = str(item.state.get("value", ""))
    kind = _value_kind(value)
    attribute = str(item.state.get("attribute", ""))
    if (
        asked.kinds == {"place"}
        and kind == "person"
        and (_ROLE.search(attribute) or _PEOPLE.search(attribute))
    ):
        return 0.0  # "In which room is the read-through?" is not answered by who attends
    if asked.who and kind != "person":
        # "who approved the 15% discount" asks for a person, not the 15%; a bare name
        # ('Lena') counts when the attribute is a role.
        named = re.fullmatch(r"@?[\w.'\u00C0-\u017F-]+(?:\s[A-Z][\w'-]*)?", value.strip())
        if kind is not None or not named or not _ROLE.search(str(item.state.get("attribute"))):
            return 0.0
    typed = {k for k in asked.kinds if k in _TYPED}
    measure = bool(_MEASURE.match(value.strip()))  # "1,740 sqm" answers "what floor area"
    fits = any(kind in _KIND_FITS[k] or (k == "count" and measure) for k in typed)
    if typed and typed == asked.kinds and not fits:
        return 0.0  # "What percentage of users have 5.2.0?" is not answered by "day 2"
    # A question's own words that neither the subject nor the attribute explains lower
    # the fit a little, so "the v2 rate limit" prefers v2 over v1.
    return 2 * subject_fit + attribute_fit


def _attribute_only(asked: Asked, item: StateRetrieved) -> float:
    """1 when the question names the state's attribute in full (and no id of another
    subject), else 0."""
    # The attribute as the reader wrote it, a variant of it ("cutover" for "target cutover
    # date") or a synonym that only names the value's kind ("percentage" for a rollout):
    # with no subject to go by, another word ("rent" for a dish's "price") names another
    # thing as often as this one.
    written = content_stems(str(item.state.get("attribute", "")))
    names = [
        stems
        for n in _names(item, "attribute", "attribute_names")
        if (stems := content_stems(n)) & written or n.lower() in _KIND_NOUNS
    ]
    if not any(n and n <= asked.words for n in names) and not _initials(asked, item):
        return 0.0
    asked_ids = asked.ids
    subject_ids = [
        {w for w in content_stems(n) if any(c.isdigit() for c in w)}
        for n in _names(item, "subject", "names")
    ]
    if asked_ids and not any(asked_ids == ids for ids in subject_ids):
        return 0.0  # the question names an id this state is not about
    if asked.names:
        about = normalise(" ".join([*_names(item, "subject", "names"), item.said, item.text]))
        if not asked.names & set(about.split()):
            return 0.0  # "the account lead at Northlight": a state that never names it
    value = str(item.state.get("value", ""))
    kind = _value_kind(value)
    kinds = {k for k in asked.kinds if k in _KIND_FITS}
    if asked.who and kind is None and value[:1].isupper():
        return 1.0  # "Who is the fit-out contractor?" -> "Lagertek"
    if asked.who and kind != "person":
        return 0.0  # "Who moved the deadline?" asks for a person, not the date
    if kinds and not any(kind in _KIND_FITS[k] for k in kinds):
        return 0.0
    # The attribute as written, named in full, beats a synonym ("cargo ready date" over
    # an "ETA" that is also a date).
    named = [
        n for n in (content_stems(a) for a in _names(item, "attribute", "attribute_names")) if n
    ]
    fully = [len(n) for n in named if n <= asked.words]
    written = named[0] if named else set()
    return 1.0 + 0.1 * max(fully, default=0) + (0.05 if written and written <= asked.words else 0)


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


def _holds(asked: Asked, value: str) -> bool:
    """The value is of the shape an identifier or phone question asks for."""
    if "phone" in asked.kinds:
        return bool(PHONE.fullmatch(value.strip()) or value.strip().isdigit())
    return is_code(value)


def answer_from_states(
    question: str, items: Sequence[Retrieved], asked_at: datetime | None = None
) -> str | None:
    """The value of the recalled state the question asks about, or None (module doc)."""
    states = [
        i for i in items if isinstance(i, StateRetrieved) and i.state and not i.state.get("ended")
    ]
    if not states:
        return None
    asked = read_question(question, asked_at)
    if asked.kinds & {"code", "phone"}:
        # An identifier or a phone number is answered only by a state that holds one.
        states = [i for i in states if _holds(asked, str(i.state.get("value", "")))]
        if not states:
            return None
    which = _which_subject(question, states)
    if which is not None:
        return which
    scored = [(_fit(asked, item), item) for item in states]
    named = [
        (s, item)
        for s, item in scored
        if s > 0 and _attribute_fit(asked, item) >= 1.0 and _subject_fit(asked, item) > 0
    ]
    if named:
        # A state whose attribute the question names beats one whose value merely has
        # the asked kind ("the principal investigator at St. Aldric" is no CRA).
        scored = [(s if (s, i) in named else 0.0, i) for s, i in scored]
    elif any(_attribute_fit(asked, i) >= 1.0 for i in states) and not any(
        s >= 2.5 for s, _ in scored
    ):
        scored = [(s if _attribute_fit(asked, i) >= 0.7 else 0.0, i) for s, i in scored]
    best = max((s for s, _ in scored), default=0.0)
    if best < 1.5:
        # No recalled state names the question's subject: a state whose attribute the
        # question names outright still answers ("Who is the PI on the proposal?").
        scored = [(_attribute_only(asked, item), item) for item in states]
        best = max((s for s, _ in scored), default=0.0)
        if best < 1.0:
            return None
    top = next(item for s, item in scored if s == best)
    if _said_of_another(asked, top):
        return None
    key_subject = str(top.state.get("subject", "")).lower()
    group = [
        item
        for s, item in scored
        if (s >= best - 0.3 or str(item.state.get("subject", "")).lower() == key_subject)
        and _same_key(item, top, asked)
    ]
    timeline = _timeline(group)
    if asked.as_of is not None and not asked.before:
        held = [i for i in timeline if _held_at(i, asked.as_of)]
        if held:
            return shown(str(held[-1].state["value"]))
        # Nothing recalled held then, but the first change after it names what it
        # replaced ("Status: Blocked -> In Progress" on Aug 30 for "as of August 20").
        later = [
            i
            for i in timeline
            if (i.valid_from or i.timestamp or asked.as_of) > asked.as_of
            and i.state.get("state_key") == top.state.get("state_key")
        ]
        replaced = str(later[0].state.get("previous") or "") if later else ""
        if not replaced or _value_kind(replaced) != _value_kind(str(later[0].state["value"])):
            return None  # "May 27, was the 25th": a previous not written as a value
        return shown(replaced)
    current = [i for i in timeline if i.current is not False] or timeline
    latest = current[-1]
    if not asked.before:
        return shown(str(latest.state["value"]))
    if asked.first:
        # The earliest state known may say what it replaced ("2,200 words", was 2,800):
        # that was first.
        earliest = timeline[0]
        previous = earliest.state.get("previous")
        if not previous and (
            updates(earliest.said) or (len(timeline) == 1 and _said_before(asked, earliest, items))
        ):
            # The earliest state replaced a value no recalled state holds ("Opening day is
            # now Sat 3/27", or recalled text from before it names another): the text
            # answers.
            return None
        return shown(str(previous or earliest.state["value"]))
    found = _before(asked, timeline, latest, items)
    return shown(found) if found is not None else None


def _said_before(asked: Asked, state: StateRetrieved, items: Sequence[Retrieved]) -> bool:
    """A recalled text from before the state began names another value of its kind, in a
    sentence about what the question asks."""
    began = state.valid_from or state.timestamp
    value = str(state.state.get("value", ""))
    kind = _value_kind(value)
    if began is None or kind is None:
        return False
    for item in items:
        if isinstance(item, StateRetrieved) or item.timestamp is None or item.timestamp >= began:
            continue
        for sentence in SENTENCE.split(item.text):
            if asked.words & content_stems(sentence) and any(
                v.kind == kind and not _same(v.text, value)
                for v in values(sentence, item.timestamp)
            ):
                return True
    return False


def _said_of_another(asked: Asked, item: StateRetrieved) -> bool:
    """The sentence the state was read from gives a word of the question that its key does
    not explain another value of the same kind ("Lock date: 3/16/2027 - 60-day lock,
    expires 5/15/2027" keyed the lock's date; "When does the rate lock expire?" asks the
    other one)."""
    value = str(item.state.get("value", ""))
    kind = _value_kind(value)
    said = [v for v in values(item.said, item.valid_from) if v.kind == kind] if kind else []
    if len(said) < 2:
        return False
    keyed = set().union(
        *(content_stems(n) for n in _names(item, "subject", "names")),
        *(content_stems(n) for n in _names(item, "attribute", "attribute_names")),
    )
    # "expire" and "expires" stem apart ("expire", "expir"): compare without a final e.
    extra = {w.rstrip("e") for w in asked.words - keyed - asked.hinted}
    for word in re.finditer(r"[\w'-]+", item.said):
        if not {w.rstrip("e") for w in content_stems(word.group(0))} & extra:
            continue
        nearest = min(
            said,
            key=lambda v: v.start - word.end() if v.start >= word.end() else word.start() - v.end,
        )
        if normalise(nearest.text) != normalise(value):
            return True
    return False


_MEASURE = re.compile(r"^(?P<n>\d[\d,.]*)\s+(?P<u>[a-z][a-z-]*)$")
_DATED = re.compile(rf"(?P<d>(?:{'|'.join(MONTH_NAMES)})\s+\d{{1,2}}),?\s+\d{{4}}")


def shown(value: str) -> str:
    """A count with its unit ('24 participants', '6 pages') as the bare number people
    answer with; other values as stored."""
    measure = _MEASURE.match(value.strip())
    if measure is not None:
        return measure["n"]
    dated = _DATED.fullmatch(value.strip())
    return dated["d"] if dated is not None else value  # "March 3, 2026" as "March 3"


def _compatible(a: str, b: str) -> bool:
    from memos.agents.ontology import same_attribute as same_class
    from memos.agents.statements import same_attribute

    return same_attribute(a, b) or same_class(a, b) or a.lower() == b.lower()


def _same_key(item: StateRetrieved, top: StateRetrieved, asked: Asked) -> bool:
    """The state keys what `top` keys: a compatible attribute, or one name inside the
    other where the extra words are the question's own and the values of one kind
    ("enrolled" and "students enrolled" for "How many students were enrolled?")."""
    from memos.agents.statements import same_attribute

    a, b = str(item.state.get("attribute", "")), str(top.state.get("attribute", ""))
    if _compatible(a, b):
        return True
    kinds = {_value_kind(str(i.state.get("value", ""))) for i in (item, top)}
    return len(kinds) == 1 and same_attribute(a, b, also=asked.plain)


def _before(
    asked: Asked,
    timeline: list[StateRetrieved],
    latest: StateRetrieved,
    items: Sequence[Retrieved],
) -> str | None:
    """The value before the current one (or before the value the question names)."""
    anchor = latest
    if asked.named:
        named = [i for i in timeline if _names_it(str(i.state["value"]), asked.named)]
        if named:
            # "just before it moved to In Progress" after Todo -> In Progress -> Blocked ->
            # In Progress: the latest move to the named value; "when first ..." the first.
            anchor = named[0] if asked.first else named[-1]
        elif _valued(asked.named) and _keyed_before_said(latest, asked.named, items):
            # "before Kim Electric": no recalled state holds Kim Electric, but recalled text
            # names it after the last keyed value, so the change to it was missed and the
            # last value keyed is the one it replaced.
            return str(latest.state["value"])
    value = str(anchor.state["value"])
    earlier = [
        i
        for i in timeline
        if (i.valid_from or datetime.min.replace(tzinfo=UTC))
        < (anchor.valid_from or datetime.max.replace(tzinfo=UTC))
        and not _same(str(i.state["value"]), value)
        and not (asked.named and _names_it(str(i.state["value"]), asked.named))
    ]
    if earlier:
        return str(earlier[-1].state["value"])
    previous = anchor.state.get("previous")
    return str(previous) if previous else None


def _keyed_before_said(state: StateRetrieved, value: str, items: Sequence[Retrieved]) -> bool:
    """A recalled text first names `value` after `state` began."""
    wanted = f" {normalise(value)} "
    said = [
        i.timestamp
        for i in items
        if i.timestamp is not None and wanted in f" {normalise(recalled_text(i))} "
    ]
    began = state.valid_from or state.timestamp
    return bool(said) and began is not None and began < min(said)


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


def asks_who_did(question: str) -> bool:
    """'Who approved / sent / moved X?': a question about an act and its author."""
    match = _WHO_DID.match(question)
    return match is not None and match["verb"].lower() not in _STATE_VERBS


def who_did(question: str, items: Sequence[Retrieved]) -> str | None:
    """'Who sent the catering quote?': the author of the recalled item that best matches
    the question's other words and mentions its verb (or states what it asks about)."""
    match = _WHO_DID.match(question)
    if match is None or match["verb"].lower() in _STATE_VERBS or _BEFORE.search(question):
        return None
    verb = stem(match["verb"].lower())[:4]
    words = content_stems(question[match.end() :])
    # "Who sent Marta Silva the offer?": whoever the question names did not do the act
    # (Marta's replies quote the offer too); "Who merged Tariq's fix?" names an owner.
    named = {n.lower() for n in _NAMED.findall(question[match.end() :])}
    # One message is often recalled as several items ("Rough-in passed!" and "Carla signed
    # off."): the event is what did or said the act, so its items are read together.
    events: dict[str, tuple[int, list[Retrieved]]] = {}
    for rank, item in enumerate(items):
        if item.actor and item.actor.split()[0].lower() not in named:
            events.setdefault(item.refs[0] if item.refs else f"#{rank}", (rank, []))[1].append(item)
    best: tuple[tuple[bool, float], str, str] | None = None
    for rank, group in events.values():
        text = " ".join(recalled_text(item) for item in group)
        overlap = len(words & content_stems(text)) / max(len(words), 1)
        said = verb in normalise(text)
        if overlap == 0 or not (said or overlap >= 0.6):
            continue  # saying the act ('approved') counts most; else the words must fit well
        score = (said, overlap + (0.5 if said else 0.0) - rank * 0.01)
        if best is None or score > best[0]:
            best = (score, text, str(group[0].actor))
    if best is None or best[0][1] < 0.5:
        return None
    return _doer(best[1], match["verb"], named, items) or best[2]


def recalled_text(item: Retrieved) -> str:
    """An item's text with, for a keyed state, the sentence it was read from and its
    subject and value ("The status of PR #2231 is merged." was said as "Merged PR #2231:
    Fix SSO token refresh crash (MOB-881)")."""
    if isinstance(item, StateRetrieved):
        return (
            f"{item.text} {item.said} {item.state.get('subject', '')} {item.state.get('value', '')}"
        )
    return unfold_tables(item.text)


def said_by(
    items: Sequence[Retrieved], as_of: datetime | None
) -> Iterator[tuple[datetime, int, str]]:
    """(when, rank, sentence) for every sentence the recalled items state (no hedge, no
    question) by `as_of` (any time when None): what the choice and yes/no answerers read."""
    for rank, item in enumerate(items):
        when = item.timestamp or datetime.min.replace(tzinfo=UTC)
        if as_of is not None and when > as_of:
            continue
        for sentence in SENTENCE.split(recalled_text(item)):
            if sentence.strip() and not stated_nothing(sentence):
                yield when, rank, sentence


# A capitalised name that is not a possessor ("Tariq's fix" names whose fix it was).
_NAMED = re.compile(r"\b([A-Z][a-z]+)\b(?!['\u2019]s\b)")


def _doer(text: str, verb: str, named: set[str], items: Sequence[Retrieved]) -> str | None:
    """The person a recalled text says did the act, where it is not its author: "Carla
    signed off." (the sentence's subject) or "was signed by Priya Nair" (the agent). A
    lone capitalised word counts only as someone the memory knows ("Booking confirmed"
    is no person): an author, or a full name recalled, which is then the answer."""
    from memos.agents.values import PERSON

    said = re.escape(verb.lower())
    passive = re.search(rf"(?i:\b{said}\s+by)\s+(?P<who>[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?)", text)
    # The agent a passive names is the most explicit doer there is.
    found = passive or re.search(
        rf"(?:^|[.!?]\s+|,\s+|\band\s+)(?P<who>[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?)\s+"
        rf"(?:has\s+|had\s+|just\s+|already\s+)*(?i:{said})\b",
        text,
    )
    if found is None:
        return None
    who = found["who"]
    first = who.split()[0].lower()
    if first in named or first in _NOT_DOERS:
        return None
    if PERSON.fullmatch(who):
        return who
    full = {
        m.group(0)
        for item in items
        for m in PERSON.finditer(recalled_text(item))
        if m.group(0).split()[0].lower() == first
    }
    if len(full) == 1:
        return full.pop()
    authors = {item.actor.split()[0].lower() for item in items if item.actor}
    # "was signed by Dev": the agent of a passive is someone, known or not.
    return who if full or first in authors or found is passive else None


_NOT_DOERS = frozenset(["we", "i", "they", "he", "she", "it", "this", "that", "the", "everyone"])
