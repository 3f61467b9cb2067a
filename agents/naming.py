"""Naming a state's subject the way the conversation names it.

The clause readers (`memos.agents.patterns`, `memos.agents.statements`) say *what* was
said: a noun phrase where the clause names its subject ("the v2 rate limit"), nothing where
it does not ("pushed to March 15"). This module says *who or what* that is:

* `plausible_subject` rejects noun phrases that are no subject: a field key of a record
  ("Start:", "Items:", "Quantity:"), an attribute noun ("quote", "number"), a verb or
  preposition phrase ("to go ahead", "with demo"), a line's first word;
* `message_topics` reads what a message is about: the ids and names of its email subject
  line, an id with its kind ("order HC-30771"), a numbered place ("site 114"), the one id
  the message names, a numbered thing it opens on ("Version 5.2.0 (build 5021)
  submitted") -- strongest first;
* `canonical` turns any name of a known entity into that entity's canonical name (its id
  when it has one), so that "Application BP-2027-0418", "BP-2027-0418" and "the
  application" are one key;
* `names_of` lists every name the state's subject goes by, stored with the state (and
  its attribute's names from `memos.agents.ontology`), for the answerer, the reconciler
  and a truth scorer to match on.
"""

from __future__ import annotations

import re

from memos.agents.entities import (
    ID,
    NUMBERED,
    PUNCTUATION,
    Entities,
    Name,
    key,
    names_in,
    subject_line_names,
)
from memos.agents.events import Utterance
from memos.agents.ontology import is_attribute_name

# Words that open a phrase that is no noun phrase, and record field keys that name no thing.
_NOT_OPENING = frozenset(
    [
        "to",
        "with",
        "for",
        "from",
        "as",
        "at",
        "in",
        "on",
        "by",
        "of",
        "into",
        "per",
        "via",
        "about",
        "after",
        "before",
        "until",
        "than",
        "and",
        "or",
        "but",
        "so",
        "if",
        "when",
        "while",
        "because",
        "since",
        "whether",
        "go",
        "going",
        "get",
        "getting",
        "be",
        "been",
        "being",
        "is",
        "are",
        "was",
        "were",
        "will",
        "would",
        "can",
        "could",
        "should",
        "may",
        "might",
        "must",
        "do",
        "does",
        "did",
        "have",
        "has",
        "had",
        "let",
        "lets",
        "let's",
        "please",
        "just",
        "also",
        "still",
        "already",
        "now",
        "then",
        "yes",
        "no",
        "not",
    ]
)
_FIELD_WORDS = frozenset(
    [
        "items",
        "item",
        "start",
        "end",
        "total",
        "notes",
        "note",
        "comment",
        "comments",
        "received",
        "approval",
        "customs",
        "details",
        "detail",
        "summary",
        "subject",
        "status",
        "description",
        "qty",
        "quantity",
        "vendor",
        "delivery",
        "deliver",
        "reviewer",
        "reason",
        "result",
        "results",
        "expected",
        "planned",
        "updated",
        "new",
        "old",
        "current",
        "next",
        "previous",
        "action",
        "actions",
        "owner",
        "type",
        "kind",
        "category",
        "name",
        "title",
        "id",
        "ref",
        "reference",
        "number",
        "date",
        "time",
        "level",
        "value",
        "values",
        "source",
        "target",
        "terms",
        "term",
        "price",
        "cost",
        "fee",
        "rate",
        "quote",
        "budget",
        "cargo",
        "ready",
        "deadline",
        "eta",
        "etd",
        "envelope",
        "document",
        "page",
        "section",
        "item",
    ]
)


def plausible_subject(raw: str | None) -> str | None:
    """`raw` cleaned, when it can name a thing; None for what cannot (module doc)."""
    if raw is None:
        return None
    title = re.fullmatch(r"\s*['\"\u201c\u2018]([^'\"\u201d\u2019]{2,80})['\"\u201d\u2019]\s*", raw)
    if title is not None and len(title[1].split()) <= 10:
        return title[1].strip()  # "'Validating at the speed of types'": a quoted title
    text = re.sub(r"\s+", " ", raw).strip(PUNCTUATION)
    text = re.sub(
        r"(?i)^(?:(?:with|about|regarding)\s+)?(?:the|our|your|their|its|this|that|a|an)\s+",
        "",
        text,
    )
    if not text or ID.search(text):
        return text or None
    words = text.split()
    first = words[0].lower()
    if first in _NOT_OPENING or len(words) > 5:
        return None
    if any(w.lower() in ("i", "we", "you", "they", "he", "she", "it") for w in words):
        return None
    if all(w.lower() in _FIELD_WORDS for w in words):
        return None
    if is_attribute_name(text) and not any(c.isdigit() for c in text):
        return None  # "quote", "the number": an attribute, not what it belongs to
    if len(words) == 1 and words[0][:1].isupper() and re.search(r"(?i)ed$", text):
        return None  # "Received:", "Confirmed:"
    return text


def qualifier_words(raw: str | None) -> str | None:
    """The words of a rejected subject that qualify the attribute after them ('Cargo
    ready' of 'Cargo ready date', 'move-in' of 'move-in date'), or None."""
    if raw is None:
        return None
    text = re.sub(r"(?i)^(?:the|our|your|their|its|this|that|a|an|new|revised)\s+", "", raw.strip())
    words = text.lower().split()
    if not words or len(words) > 3 or ID.search(text):
        return None
    if any(w in _NOT_OPENING or not re.fullmatch(r"[a-z][a-z-]*", w) for w in words):
        return None
    return " ".join(words)


def learn_message(utterance: Utterance, book: Entities) -> list[Name]:
    """Record the names a message establishes; the message's topics, strongest first."""
    topics: list[Name] = []
    subject = utterance.fields.get("subject")
    if isinstance(subject, str) and subject.strip():
        for name in subject_line_names(subject):
            book.learn(name.text, *name.aliases, kind=name.kind)
            topics.append(name)
    for name in names_in(utterance.text):
        if name.source == "proper":
            continue
        book.learn(name.text, *name.aliases, kind=name.kind)
        if not any(key(t.text) == key(name.text) for t in topics):
            topics.append(name)
    titled = _TITLED.match(utterance.text.strip().splitlines()[0] if utterance.text.strip() else "")
    if titled is not None:
        # "Site 114 - St. Aldric Hospital", "PLAT-412: Migrate webhooks to v2": a record's
        # head line gives its id or number a name.
        head, title = titled["head"].strip(), titled["title"].strip(" .'\"")
        named = ID.fullmatch(head) or NUMBERED.fullmatch(head)
        if (
            named
            and 1 <= len(title.split()) <= 8
            and not (ID.search(title) or NUMBERED.search(title))
        ):
            book.learn(head, title)
    return topics


_TITLED = re.compile(
    r"^(?:(?:created|opened|new|filed)\s+(?:issue|ticket|task|bug|story|epic)?\s*)?"
    r"(?P<head>[A-Z][\w-]*(?:[- ]\d+[A-Z]?)?)\s*(?::|\s[-\u2013\u2014|]\s)\s*"
    r"(?P<title>[^:\n]{3,80})$",
    re.IGNORECASE,
)


# A calendar invite names the event its When / Where / Organizer lines are about, in its
# head line ("Updated invite: County health inspection (pre-opening) - Saltgrass") or in an
# `event` / `meeting` field; an aside in brackets or after a dash is not part of the name.
_INVITE_HEAD = re.compile(
    r"^\s*(?:(?:updated|new|rescheduled|revised)\s+)?(?:invite|invitation|calendar event)"
    r"\s*:\s*(?P<n>[A-Za-z0-9][^\n(@|]{2,80}?)\s*(?:[(@|]|\s[-\u2013\u2014]\s|$)",
    re.IGNORECASE | re.MULTILINE,
)
_EVENT_NAME = re.compile(r"^(?P<n>[A-Za-z0-9][^\n(@|]{2,80}?)\s*(?:[(@|]|\s[-\u2013\u2014]\s|$)")


def invite_title(utterance: Utterance) -> str | None:
    """The event a calendar invite is about (see `_INVITE_HEAD`), or None."""
    for name in ("event", "meeting"):
        value = utterance.fields.get(name)
        if isinstance(value, str) and (named := _EVENT_NAME.match(value.strip())):
            return named["n"].strip()
    head = _INVITE_HEAD.match(utterance.text)
    return head["n"].strip() if head else None


def message_topic(utterance: Utterance, book: Entities) -> str | None:
    """The one entity a message is about, when its subject line, a calendar invite's
    title or its ids say so."""
    subject = utterance.fields.get("subject")
    if isinstance(subject, str) and subject.strip():
        named = subject_line_names(subject)
        ids = [n for n in named if ID.fullmatch(n.text)]
        if len(ids) == 1:
            return book.canonical(ids[0].text)
        if len(ids) > 1:
            # "Booking BWL-88213 / PO-5521": a subject line leads with what it is about.
            return book.canonical(ids[0].text)
        others = [n for n in named if n.source == "subject" and topic_like(n.text)]
        numbered = [n for n in named if n.source != "subject"]
        if numbered and len(numbered) == 1:
            return book.canonical(numbered[0].text)
        if others:
            known = book.find_loose(others[0].text)
            return known.name if known is not None else others[0].text
    title = invite_title(utterance)
    if title is not None and plausible_subject(title) is not None:
        known = book.find_loose(title)
        return known.name if known is not None else title
    in_text = [n for n in names_in(utterance.text) if n.source in ("id", "numbered", "flag")]
    distinct = list(dict.fromkeys(book.canonical(n.text) for n in in_text))
    if len(distinct) == 1:
        return distinct[0]
    opening = utterance.text.lstrip()[:40]
    first = in_text[0] if in_text else None
    if first is not None and re.match(
        rf"^(?:[A-Z][a-z]+\s+)?(?:#\s?)?{re.escape(first.text)}\b", opening
    ):
        return book.canonical(first.text)  # "Submission NIRB-27-3310 (..., Site 114) received"
    record = _OPENING_RECORD.match(utterance.text.lstrip())
    if record is not None and plausible_subject(record["n"]) is not None:
        # "Version 5.2.0 (build 5021) submitted for review. Status: ...", "Order 7781
        # shipped": a message that opens on a numbered thing and what happened to it is
        # about that thing, not about the ticket the conversation was last about.
        return book.canonical(record["n"])
    return None


# A kind and its number opening a message, then an aside or a verb in the past tense.
_OPENING_RECORD = re.compile(
    r"(?P<n>[A-Z][a-z]+\s+(?:#\s?)?v?\d+(?:[.-]\d+)*[A-Za-z]?)(?=\s*\(|\s+[a-z]+ed\b)"
)


def topic_like(head: str) -> bool:
    """A subject line's leading phrase that names a thing: with a digit or an id, two or
    more words that could be a subject, or one lower-case noun ('backsplash'); not
    'Enrollment targets' cut to 'Enrollment', nor 'Install date'."""
    if plausible_subject(head) is None:
        return False
    words = head.split()
    if any(c.isdigit() for c in head):
        return True
    if len(words) >= 2:
        return True
    return head.islower()


def canonical(raw: str, book: Entities) -> str:
    """The canonical name of the entity `raw` names, or `raw` for a new one."""
    ids = ID.findall(raw)
    if len(ids) == 1 and key(raw) != key(ids[0]):
        known = book.find(raw) or book.find(ids[0])
        return known.name if known is not None else ids[0]
    known = book.find_loose(raw)
    return known.name if known is not None else raw


def names_of(subject: str, book: Entities, *also: str) -> tuple[str, ...]:
    """Every name the subject goes by: its entity's names, then `also` (the phrase the
    clause used), in one spelling each."""
    found: list[str] = [subject]
    entity = book.find(subject)
    if entity is not None:
        found += entity.names()
    found += [a for a in also if a]
    seen: set[str] = set()
    unique = []
    for name in found:
        if key(name) and key(name) not in seen:
            seen.add(key(name))
            unique.append(name)
    return tuple(unique[:12])


__all__ = [
    "canonical",
    "learn_message",
    "message_topic",
    "names_of",
    "plausible_subject",
    "qualifier_words",
    "topic_like",
]
