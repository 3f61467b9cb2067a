"""`general_states`: a message's sentences cut into clauses, read (`clause`), filtered
(`polarity`), resolved (`subjects`) and returned as `State`s, with the parse path
(`memos.agents.parse`) for clauses the rules read nothing in."""

from __future__ import annotations

import functools
import re
from dataclasses import replace
from datetime import datetime
from typing import Any

from memos.agents.candidates import State
from memos.agents.events import Utterance
from memos.agents.keyphrases import stem
from memos.agents.naming import (
    canonical,
    names_of,
    plausible_subject,
)
from memos.agents.ontology import MILESTONES, attribute_class
from memos.agents.parse import noun_not_hedge, parsed_readings
from memos.agents.statements.clause import clauses, read_clause
from memos.agents.statements.context import Context, Reading
from memos.agents.statements.phrases import _split_np, _value_reading
from memos.agents.statements.polarity import (
    _hedged_by_estimate,
    _negated,
    correction,
    retraction,
    stated_nothing,
)
from memos.agents.statements.shapes import _SETS_IT
from memos.agents.statements.subjects import resolve_subject
from memos.agents.statements.vocabulary import (
    _ATTRIBUTE,
    _ATTRIBUTES,
    _CALENDAR,
    _CORRECTION,
    _FIELD_SKIP,
    _FROM_CONTEXT,
    _HEDGE,
    _NOT_OLD,
    _NOT_SUBJECT_WORDS,
    _QUESTION,
)
from memos.agents.values import (
    date_text,
    values,
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


_QUOTED = re.compile(r"^\s*>")


# "Opening plan - Mon Apr 12 (notes: Jo)": a document's title line with the day it was
# written dates the document, not what it is named after.
_DATED_TITLE = re.compile(r"^\s*[^:\n]{2,60}?\s[-\u2013\u2014|]\s+(?:[A-Z][a-z]{2}\w*\.?,?\s+)?\S")


def _dates_itself(clause: str, value: str, utterance: Utterance) -> bool:
    return (
        utterance.at is not None
        and value == date_text(utterance.at.date())
        and _DATED_TITLE.match(clause) is not None
    )


_FIELD_START = re.compile(rf"(?i)^(?:{_ATTRIBUTE})\b")


_SPEAKER = re.compile(r"^\s*(?P<who>[A-Z][a-z]+(?:\s[A-Z][a-z]+)?|@[\w.-]+)\s*:\s+(?=\S)")


@functools.lru_cache(maxsize=4)
def _accepts(message: str) -> bool:
    """Whether a message accepts an offer; asked once per sentence, computed once per
    message (a 50,000-character paste has hundreds of sentences)."""
    return bool(_ACCEPT.search(message.strip()))


# "Wed June 9 as agreed... wait, scratch that, I'm away on the 9th. Let's make it Thursday
# June 10": a value set with "make it" after the message took another back corrects it.
_TAKEN_BACK = re.compile(r"(?i)\b(?:scratch that|wait|on second thought|actually|never ?mind)\b")


def _second_thought(sentence: str, message: str) -> str | None:
    """What the message says before it takes a value back ("Internal deadline: Wed June 9
    as agreed... wait"), when the sentence then sets one ("Let's make it June 10"): a
    correction of that value, not a proposal. None otherwise."""
    if not _SETS_IT.match(sentence):
        return None
    at = message.find(sentence)
    cues = list(_TAKEN_BACK.finditer(message[: max(at, 0)]))
    return message[: cues[-1].start()] if cues else None


def general_states(
    sentence: str, utterance: Utterance, context: Context, message: str, *, parse: bool = True
) -> list[tuple[State, str]]:
    """The states a sentence sets by the general rules, each with the rule that fired;
    `parse`: whether the context's parser may read what the rules do not (not where the
    state-change patterns already read the sentence)."""
    nlp = context.parser if parse else None
    if _QUOTED.match(sentence):
        return []
    taken_back = _second_thought(sentence, message)
    cued = bool(_CORRECTION.search(sentence)) or taken_back is not None
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
        special = correction(
            clause, utterance, context, cued=cued, taken_back=taken_back
        ) or retraction(clause, utterance, context)
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
            if not readings and accepted and (len(message) <= _SHORT or _ACCEPT.search(clause)):
                # "Deal -- we'll go with €39": a short reply accepts; a long recap that
                # says "what we agreed:" does not accept every number in it.
                readings = _accepted(clause, utterance, context)
            readings = _with_parse(clause, utterance.at, readings, nlp)
        for said in readings:
            if said.value.kind == "date" and _dates_itself(clause, said.value.text, utterance):
                continue
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
            "list line",
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


_SHORT = 280  # characters: a reply, not a recap
_ATTRIBUTE_WORDS = frozenset(a.strip().lower() for a in _ATTRIBUTES if " " not in a.strip())


def _accepted(clause: str, utterance: Utterance, context: Context) -> list[Reading]:
    """'Deal -- we'll go with €39 per person': an accepted value of the state it prices.
    A count of other things is not the accepted count ("three caterer quotes"), nor an
    amount named as another attribute ("the $3,000 deposit") the accepted price."""
    if len(clause.split()) > 14:
        return []
    found = [v for v in values(clause, utterance.at) if v.kind != "person"]
    for value in found:
        known = context.newest(kind=value.kind)
        if known is None:
            continue
        named_words = {stem(w) for w in known.attribute.lower().split()}
        if value.kind == "count" and value.unit and stem(value.unit.lower()) not in named_words:
            continue  # "three caterer quotes" count quotes, not the known guest count
        named = re.match(r"\s+([a-z][\w-]*)", clause[value.end :])
        if named and named[1] in _ATTRIBUTE_WORDS and stem(named[1]) not in named_words:
            continue  # "I paid the $3,000 deposit": a deposit, not the known price
        return [Reading(known.subject, known.attribute, value, known.value, "accepted")]
    money = [v for v in found if v.kind == "money"]
    if money:
        # "The owner agreed: NOK 119,000 per month": a price nobody had named yet.
        per = re.match(r"\s*(?:per|a|/)\s*(month|year|seat|person|head|night|user|unit)\b",
                       clause[money[0].end :], re.I)  # fmt: skip
        attribute = f"price per {per.group(1).lower()}" if per else "price"
        return [Reading(None, attribute, money[0], None, "accepted")]
    return []


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
