"""Whose value a reading is: the subject and attribute a clause names, or, where it leaves
them out, the ones the context supplies (the message's topic, the record last spoken of,
the subject that has this attribute or a value of this kind)."""

from __future__ import annotations

import re

from memos.agents.candidates import THING, is_thing, thing_name
from memos.agents.entities import ID, numbered_kind
from memos.agents.events import Utterance
from memos.agents.naming import (
    canonical,
    plausible_subject,
    qualifier_words,
    topic_like,
)
from memos.agents.ontology import is_attribute_name
from memos.agents.ontology import same_attribute as same_class
from memos.agents.statements.context import (
    Context,
    Known,
    Reading,
    _same_subject,
    _same_words,
    _slug_words,
    same_attribute,
)
from memos.agents.statements.phrases import _attribute_name, _split_np
from memos.agents.statements.vocabulary import (
    _DETERMINERS,
    _EVENT_NOUNS,
    _FIELD_SKIP,
    _FROM_CONTEXT,
    _LEVEL,
    _NOT_SUBJECT_WORDS,
)

_BY_KIND = {
    "date": "date",
    "percent": "rollout",
    "money": "price",
    "version": "version",
    "person": "owner",
    "switch": "status",
    "word": "status",
}


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
        elif _list_qualifier(reading, subject, context, message):
            # "Internal deadline: March 3" under "Atlas bid kickoff notes": one word before
            # a list line's attribute noun qualifies it; the line is about the heading's topic.
            raw, attribute = None, f"{subject.lower()} {attribute}"
        subject = plausible_subject(raw)
        if subject is not None and context.is_attribute(subject):
            subject = None  # "our CRA": a role the context knows, not a thing
        if subject is None and attribute is not None and (words := qualifier_words(raw)):
            attribute = f"{words} {attribute}"  # "Cargo ready date": the date's own name
        if subject is not None:
            subject = canonical(subject, context.entities)
    if attribute is None and (level := _LEVEL.fullmatch(reading.value.text)):
        attribute = "severity" if level["sev"] else "priority"  # "Bumping this to SEV-1"
    if subject is None and attribute is not None and kind == "person" and reading.previous:
        subject = _role_held(context, attribute, reading.previous)
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


def _same_person(a: str, b: str) -> bool:
    """ "Ravi", "Ravi Patel" and "ravi.p" name the same person (first names agree)."""
    first = [re.split(r"[\s._@-]+", x.strip().lstrip("@").lower())[0] for x in (a, b)]
    return bool(first[0]) and first[0] == first[1]


def _role_held(context: Context, attribute: str, previous: str) -> str | None:
    """What a role passes on for, when the clause does not say: the thing whose holder of
    that role is the one it passes from ("I'm taking IC from Ravi": Ravi's incident)."""
    held = [
        k
        for k in context.known
        if same_attribute(k.attribute, attribute) and _same_person(k.value, previous)
    ]
    return held[-1].subject if held else None


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


def _record_topic(utterance: Utterance) -> str | None:
    """The record a message is about by its fields: an `opportunity` / `cluster` / ...
    field or a head line ('Opportunity Acme Freight created', 'Cluster: orders-db')."""
    for name in _TOPIC_FIELDS:
        value = utterance.fields.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()
    head = _RECORD_HEAD.search(utterance.text)
    return head["n"] if head else None


def _topic(utterance: Utterance) -> str | None:
    """What a record-like message is about: its record (`_record_topic`), or a name
    prefixed to a change ('Acme Freight: Stage changed ...')."""
    record = _record_topic(utterance)
    if record is not None:
        return record
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


# A meeting named after what it is about ("Campaign sync", "Budget review"): its date and
# room are the meeting's, anything else it decides is about the thing it is named after.
_MEETING = re.compile(
    r"(?i)\s+(?:sync|kickoff|kick-off|meeting|call|retro|standup|stand-up|check-in|huddle|"
    r"workshop|review)$"
)
_MEETING_FACTS = frozenset(
    ["date", "time", "day", "location", "venue", "room", "place", "agenda", "host", "format",
     "link", "start", "end", "duration", "attendees"]
)  # fmt: skip


def _meeting_about(topic: str, attribute: str | None) -> str | None:
    """What a meeting-named topic is about, for a fact that is not the meeting's own."""
    if attribute is None or attribute.lower() in _MEETING_FACTS:
        return None
    about = _MEETING.sub("", topic).strip()
    return about if about and about != topic else None


def _subject_from_context(
    attribute: str | None, kind: str, utterance: Utterance, context: Context, message: str
) -> str | None:
    """Who or what a clause without a subject is about (see the module doc)."""
    hint = utterance.subject_hint
    if hint and (is_thing(hint) or hint == utterance.thing_hint):
        return thing_name(hint)  # "Priority lowered to Low" on Zendesk ticket #48213
    if context.sentence_focus:
        return context.sentence_focus[-1]  # "Per the CTA: fee $10,400; screen-failure fee $950"
    if context.topic is not None:
        return context.topic  # the email's subject line, the one id the message names
    if context.list_topic is not None:
        # Meeting notes, a checklist: a line that names no subject is about the record its
        # fields name ("Cluster: orders-db") unless the heading names an id, else about what
        # the heading names; not about a subject an earlier line named, nor about a
        # field's name ("Role: ...").
        record = plausible_subject(_record_topic(utterance))
        if record is None or ID.search(context.list_topic):
            return context.list_topic  # "PO-5521 confirmed / Vendor: ...": the PO's vendor
        return canonical(record, context.entities)
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
        return _meeting_about(topic, attribute) or topic
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


def _list_qualifier(reading: Reading, subject: str, context: Context, message: str) -> bool:
    """Whether a list line's leading words ("Internal deadline: March 3", "crash-free
    rate", "Security deposit stays at $4,500") are one qualifying word and an attribute
    noun, not a subject and its attribute: in a list-shaped message with a heading topic,
    one word that starts a line, with no digit, naming no entity the conversation knows
    ("Appendix C word limit", "Acme deadline" for a known Acme keep their subject)."""
    if reading.attribute is None or context.list_topic is None:
        return False
    words = subject.split()
    if len(words) != 1 or any(c.isdigit() for c in subject) or subject.isupper():
        return False
    if not re.search(rf"(?m)^\s*(?:[^\w\s]+|\d{{1,2}}[.)])?\s*{re.escape(subject)}\s", message):
        return False
    if context.entities.find(subject) is not None:
        return False
    return not any(_same_subject(k.subject, subject) for k in context.known)
