"""Whole-clause shapes the verb rules do not cover: who or what is affected, prices per unit,
"bringing it to", descriptions of a thing's status, lists of pieces, field lines
("Hiring manager: Paul Okafor") and values of attributes the conversation tracks."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from memos.agents.candidates import THING
from memos.agents.entities import NUMBERED
from memos.agents.ontology import MILESTONES
from memos.agents.statements.context import Reading
from memos.agents.statements.phrases import _attribute_name, _split_np, _value_after, _value_reading
from memos.agents.statements.vocabulary import (
    _ATTRIBUTE,
    _CALENDAR,
    _CALENDAR_WORDS,
    _DETERMINERS,
    _EVENT_NOUNS,
    _FIELD,
    _FIELD_SKIP,
    _LIST_SPLIT,
    _NOT_SUBJECT_WORDS,
    _PERSONISH,
    _SCHEDULE_WORDS,
)
from memos.agents.values import (
    STREET_ADDRESS,
    Value,
    dates,
    values,
)
from memos.agents.words import without_asides

# A field key that names a person's role by its form rather than from a list: an agent
# noun ("Adjuster", "Claims handler", "Broker", "Translator", "Nominee"), one or two words.
_AGENT_NOUN = re.compile(r"(?i)(?:[a-z]+\s+)?[a-z]{3,}(?:er|or|ist|ant|ent|ee|ian)")


_ARROW = re.compile(r"\s*(?:->|→|=>|-->|⇒)\s*")


# "make it 14", "set to 5", "change it to June 3": what comes after sets the value ("move
# forward with Acme" is no such phrase).
_SETS_IT = re.compile(
    r"(?i)^\s*(?:let's\s+|lets\s+|please\s+|we'll\s+|we will\s+)?(?:make|set|change|bump|move)"
    r"\s+(?:(?:it|that|them)\s+(?:to\s+)?|to\s+)(?=\S)"
)


# "Opening date moves again: April 24 -> May 1": the key is what moved.
_KEY_VERB = re.compile(
    r"(?i)\s+(?:changed|updated|set|moved|is now|now|change|update|approved|confirmed|agreed|"
    r"final|finali[sz]ed|locked|(?:moves|moving|pushed|pushes|slipped|slips|shifted|shifts|"
    r"changes|changing|moved)(?:\s+(?:again|back|out|up))?)$"
)


_TRAILING_NAME = re.compile(r"\((?P<n>[A-Z][\w'.-]*(?:\s+[A-Z][\w'.-]*){0,3})\)\s*\.?\s*$")


_PLACE = (
    r"(?:our\s+|the\s+)?(?P<place>[A-Z][\w'-]*(?:\s+(?:[A-Z][\w'-]*|office|hall|room|"
    r"building|hq|campus|center|centre|floor))*)"
)


_EVENT_ON = re.compile(
    rf"(?i)\b(?:a|an|the|our|your)\s+(?P<n>(?:[\w-]+\s+)?(?:{_EVENT_NOUNS}))\s+"
    r"(?:(?:is|will be|was|now|still|set|scheduled|planned|booked|confirmed|moved|happening)"
    r"\s+)*(?:on|for)\s+"
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


def _described(clause: str, at: datetime | None) -> list[Reading]:
    """Values a clause gives in passing: 'an onsite on Tuesday next week at our Lisbon
    office', 'a block of 60 rooms at a rate of €129', 'we're down to one opening'."""
    found: list[Reading] = []
    calendar = _CALENDAR.match(clause)
    if calendar:
        title = without_asides(calendar["title"]).strip(" -")
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


_KEY_REASON = re.compile(
    r"(?i)\s+(?:after|following|because of|due to|since|once|now that)\s+\w.*$"
)


def _field(key: str, rest: str, at: datetime | None) -> Reading | None:
    """A `Key: value` line; `Key: old -> new` names the value it replaced."""
    if re.fullmatch(r"(?i)\s*(?:assigned(?:\s+to)?|assignee)\s*", key):
        key = "assignee"  # "Assigned: Omar Haddad"
    key = _KEY_VERB.sub("", key.strip())
    key = re.sub(r"(?i)^(?:on|for|re|about|regarding|as for)\s+(?=\w)", "", key)  # "On seats: ..."
    rest = _SETS_IT.sub("", rest)  # "Seats: make it 14, not the 15"
    key = re.sub(r"(?i)\s+(?:to date|so far|in total|total)$", "", key)  # "Randomized to date"
    # "Revised estimate after opening the wall: $15,950": what the key says happened
    # after the attribute is why it changed, not part of its name.
    key = _KEY_REASON.sub("", key)
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
        # 2027-10-19" the date of an event. "Due: 2027-04-30 -> 2027-05-21" moved it: the
        # date after the last arrow holds, the one before it is what it replaced.
        steps = _ARROW.split(rest)
        moved = _value_after(steps[-1], 0, at) if len(steps) >= 2 else None
        replaced = None
        if moved is not None and moved.kind == "date":
            replaced, when = when.text, moved
        head = key.strip().lower().split()[-1] if key.strip() else ""
        if head in MILESTONES or head.rstrip("s") in MILESTONES:
            return Reading(None, f"{key.strip().lower()} date", when, replaced, "field")
        event = _SCHEDULE_WORDS.sub("", key.strip()).strip()
        if event and len(event.split()) <= 3 and not re.search(r"(?i)(?:ed|ing)$", event):
            return Reading(event, "date", when, replaced, "field")
    if attribute is None:
        # "Revised cash to close", "Total enrolled": the word that says it changed, or that
        # it sums, names nothing.
        bare = _DETERMINERS.sub("", key.strip()) or key.strip()
        counted = (
            when is not None
            and when.kind in ("count", "percent")
            and when.start <= 1
            and len(bare.split()) == 1  # "Randomized: 4", not "Updated proposal attached: 320"
        )
        if len(bare.split()) > 3 or (re.search(r"(?i)(?:ed|ing)$", key.strip()) and not counted):
            return None  # "Updated proposal attached: ..." names no attribute
        attribute, subject = bare.lower(), None
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
        # "Vessel: Maersk Seletar V.316E": a name that is all of a one-noun field's value is
        # its value (read below); a person in any other field is no value of it.
        value = None
        if len(body.split()) > 4:
            return None
    if value is not None and not named_attribute and value.kind == "version":
        if len(body.split()) > 3:
            return None
        attribute = "version"  # "Engine: Postgres 14.9" is a version
    if value is None:
        words = re.split(
            r"\s*(?:\.(?!\w)|[;(\n]|\s[-\u2013\u2014]\s|,\s)", body.strip(), maxsplit=1
        )[0]
        words = words.strip(" \"'“”")
        if not words or len(words) > 40 or len(words.split()) > 4:
            return None
        one_noun = re.fullmatch(r"[A-Za-z][a-z-]{2,20}", key.strip()) is not None
        # "Swap: Data takes Bay B" is a sentence: a name's words are capitalised
        titled = all(
            w[:1].isupper() or w in ("of", "de", "the", "and", "&") for w in words.split()
        ) or bool(STREET_ADDRESS.fullmatch(words))  # "Where: 218 Alder St, Unit 4C"
        if not named_attribute and not (one_noun and titled):
            return None  # "Job opened: ...": no attribute noun, no typed value
        value = Value("word", words, 0, len(words))
    if previous is not None:
        old = values(previous, at)
        if value.kind == "word" or not old:
            # "Maersk Halifax V.314E -> Maersk Seletar V.316E": a name is replaced whole.
            previous = without_asides(previous).strip(" \"'“”")
        else:
            previous = old[0].text
    return _value_reading(subject, _attribute_name(attribute), value, previous, "field")
