"""`read_clause`: every (subject?, attribute?, value) the general rules read in one clause,
trying the record shapes first (`shapes`), then the verb and copula rules, each reading
named by the rule that fired."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from memos.agents.candidates import THING, thing_name
from memos.agents.entities import NUMBERED
from memos.agents.events import Utterance
from memos.agents.listing import is_list
from memos.agents.ontology import MILESTONES, is_attribute_name
from memos.agents.statements.context import Reading
from memos.agents.statements.list_lines import list_line_reading
from memos.agents.statements.phrases import (
    _as_status,
    _me,
    _role_in,
    _split_np,
    _subject_text,
    _value_after,
    _value_reading,
    _word_value,
)
from memos.agents.statements.shapes import (
    _affected,
    _brought_to,
    _described,
    _field,
    _listed,
    _piece,
    _priced_units,
    _share_subject,
    _terms_after,
    _tracked_value,
)
from memos.agents.statements.vocabulary import (
    _ADJECTIVES,
    _ATTRIBUTE,
    _CALENDAR_WORDS,
    _CODE_IS,
    _DETERMINERS,
    _FIELD,
    _FIELD_SKIP,
    _LEADING,
    _LEVEL,
    _LIST_SPLIT,
    _MEASURE,
    _NOT_OLD,
    _NOT_SUBJECT_WORDS,
    _PERSONISH,
    _PRONOUN,
    _ROLE_NOUN,
)
from memos.agents.values import (
    PERSON,
    Value,
    values,
)
from memos.agents.words import ROLE_OF_VERB_BASE, without_asides

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


# A change made, not planned: a change verb in the past ("extended it 9 days to 5/24",
# "was changed from May 17 to May 20", "cut to $38k"), then "to" or "from" within a few
# words. "Moving go-live to the 17th" proposes; it is no change said.
_CHANGED = re.compile(
    r"(?i)\b(?:(?:" + "|".join(_CHANGE_STEMS) + r")(?:ed|d|ped|ted|red)|cut|brought)\b"
    r"(?:\s+[\w/.,$-]+){0,4}?\s+(?:to|from)\b"
)


def says_change(text: str) -> bool:
    """The text says a value was changed ("extended it 9 days to 5/24/2027"), with the
    reader's change verbs; the MEMTRACK answerer weighs such a sentence as newer news."""
    return bool(_CHANGED.search(text))


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


_CLAUSE = re.compile(r"\s*(?:;|:\(|:\)|\s[-\u2013\u2014]\s(?=[a-z])|\bbut\b|,\s+so\b)\s*")


# "Spring campaign budget is $60k, launch is planned for March 15": two statements joined
# by a comma (or ", and"), each with its own subject and verb. A relative clause ("which
# is") is no new statement.
_SPLICE = re.compile(
    r",\s+(?:and\s+)?(?=(?!(?:which|who|that|where|what)\b)(?:the\s+|our\s+|their\s+|its\s+)?"
    r"[A-Za-z][\w-]*(?:\s+[A-Za-z][\w-]*){0,3}\s+"
    r"(?:is|are|was|were|will\s+be|moves?|moved|goes|went|stays|remains|has\s+been)\b)"
)
# A sentence with a condition is left whole: its second half holds only under the first.
_CONDITION = re.compile(r"(?i)\b(?:if|unless|assuming|provided|in case|once|until|whether)\b")


def clauses(sentence: str) -> list[str]:
    """A sentence cut where its clauses may differ in polarity ("Ana can't do the 23rd
    :( Jonas will give the keynote instead") or state different things ("budget is $60k,
    launch is March 15")."""
    found = []
    for piece in _CLAUSE.split(sentence):
        if not piece or not piece.strip():
            continue
        parts = [piece] if _CONDITION.search(piece) else _SPLICE.split(piece)
        found += [p.strip() for p in parts if p.strip()]
    return found


_PLACE_CUE = re.compile(
    r"(?i)\b(?:venue|hall|office|room|building|hotel|center|centre|site|"
    r"location|floor|campus|city|address)\b"
)


# What comes before a verb or attribute noun: at most _LEAD_CHARS characters, from a word's
# start. Unbounded, an unanchored lazy prefix makes every search quadratic in the clause
# (a 2,000-character run-on took seconds); only the last noun phrase of it is read anyway
# (`_split_np`).
_LEAD_CHARS = 200


_LEAD = rf"(?<!\w)(?:[^.;!?]|\.(?=\w)){{0,{_LEAD_CHARS}}}?"


_STATUS_TAIL_WORDS = re.compile(
    r"\s+(?P<t>(?:for|on|in|with|pending)\s+(?!(?:the|a|an|our|their|my|this|that)\b)"
    r"[a-z][\w-]*)\s*[.!]?\s*$"
)
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
    # A quoted title is one unit ("the speaker for 'Validating at the speed of types'").
    rf"GBP|NOK|SEK|DKK|CHF)\b)(?:'[^'.;!?]{{1,80}}'|\"[^\".;!?]{{1,80}}\"|\u201c[^\u201d]{{1,80}}\u201d"
    rf"|[^.;!?,]|\.(?=\w)){{1,60}}?)?)(?:\s*\([^)]*\))?"
    rf"(?:\s*(?:is|are|will be|stays|remains|sits|comes in|goes|'s|has been|now|still|"
    rf"officially|confirmed|final|set|fixed|locked|agreed|at|to|capped|limited|priced|pegged|"
    rf"held|now at)\b|\s*[:=\-\u2013\u2014])+\s*"
)


_CATEGORICAL = re.compile(
    r"(?i)(?:status|stage|state|venue|location|plan|tier|vendor|supplier|provider|contractor|"
    r"installer|agency|partner|office|city|site|room|resolution|priority)\s*$"
)


_COUNT_NOUN = re.compile(r"(?i)\b(?!(?:the|a|this|that|our)\b)[a-z][\w-]*\s+(?:count|number)\s*$")


_ANY_COPULA = re.compile(
    r"(?i)(?<![\w'\u2019-])(?P<np>(?:(?:the|our|its|their|his|her|your)\s+)?(?:(?:[A-Za-z][\w-]*|&)\s+){0,3}"
    r"[A-Za-z][\w-]*(?:\s+\d{1,4}[A-Z]?)?)\s+(?:is|are|will be|can be|stays at|stays|remains|"
    r"is now|comes to|totals|sits at|stands at|(?<!\bis\s)(?<!\bare\s)(?<!\bwas\s)now)\s+"
    r"(?:now\s+|still\s+|officially\s+)?(?:at\s+|from\s+)?"
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


# "Mr. Pascal Roth has been replaced as technical expert by Dr. Ines Kaufmann", "Ines
# Kaufmann replaces Pascal Roth as technical expert": the role, its new holder and the old.
_NAME_IN_ROLE = (
    r"(?:(?:Dr|Mr|Mrs|Ms|Prof)\.?\s+)?"
    r"(?:@[\w.-]+|[A-Z][\w'\u00C0-\u017F-]+(?:\s+[A-Z][\w'\u00C0-\u017F-]+){0,2})"
)
_REPLACED_AS = re.compile(
    rf"(?P<old>{_NAME_IN_ROLE})\s+(?:has\s+been|have\s+been|was|is\s+being|will\s+be|is|got)\s+"
    rf"replaced\s+as\s+(?:the\s+|our\s+|their\s+)?(?P<role>[\w -]{{2,40}}?)\s+by\s+"
    rf"(?P<who>{_NAME_IN_ROLE})"
    rf"|(?P<who2>{_NAME_IN_ROLE})\s+(?:replaces|replaced|will\s+replace|is\s+replacing)\s+"
    rf"(?P<old2>{_NAME_IN_ROLE})\s+as\s+(?:the\s+|our\s+|their\s+)?(?P<role2>[\w -]{{2,40}}?)"
    r"(?=[,.;!]|$|\s+(?:for|from|on|starting)\b)"
)
# "I'm handing release-manager duty for 5.0 over to Sofia", "handed the IC role to Maya":
# a role passed to its new holder (a ticket handed over is `patterns`' assignee).
_ROLE_HANDED = re.compile(
    r"(?i)\bhand(?:s|ed|ing)?\s+(?:over\s+)?(?:the\s+|my\s+)?(?P<role>[a-z][\w -]{1,40}?)\s+"
    r"(?:duty|duties|role|responsibilit(?:y|ies))\s+(?:for\s+(?P<of>[\w.-]+)\s+)?(?:over\s+)?to\s+"
    rf"(?P<who>{_NAME_IN_ROLE})"
)
# "I'm taking IC from Ravi": the writer takes a role over from its holder.
_TAKING_FROM = re.compile(
    r"\bI(?:'m|\u2019m| am)?\s+(?:now\s+)?(?:taking|take|took)\s+(?:over\s+)?(?:the\s+)?"
    r"(?P<role>[A-Z]{2,4}|[a-z][\w -]{2,30}?\s+role)\s+from\s+"
    rf"(?P<old>{_NAME_IN_ROLE})"
)
# "Jonah Feld (Dan's roommate) got ordained and will officiate!": a verb with no object
# names the role its doer takes.
_AGENT_VERBS = {
    verb: ROLE_OF_VERB_BASE[verb]
    for verb in ("officiate", "cater", "photograph", "emcee", "moderate", "chair", "facilitate",
                 "interpret", "translate")
}  # fmt: skip
_WILL_DO = re.compile(
    rf"(?P<who>{_NAME_IN_ROLE})(?:\s*\([^)]*\))?(?:,[^,]{{1,40}},)?"
    r"(?:\s+[\w' ]{0,40}?\s+and)?,?\s+"
    r"(?:will|'ll|is going to|is gonna|agreed to|has agreed to)\s+(?:now\s+|happily\s+)?"
    rf"(?P<verb>{'|'.join(_AGENT_VERBS)})\b\s*(?=[,.;!]|$)"
)
_TITLED = re.compile(r"^(?:Dr|Mr|Mrs|Ms|Prof)\.?\s+")


def role_changes(clean: str, utterance: Utterance) -> list[Reading]:
    """Readings of a role passing from one holder to the next (see the regexes above)."""
    found: list[Reading] = []
    for match in _REPLACED_AS.finditer(clean):
        who, old = match["who"] or match["who2"], match["old"] or match["old2"]
        role, _, of = (match["role"] or match["role2"]).strip().lower().partition(" for ")
        start = match.start("who") if match["who"] else match.start("who2")
        who = _TITLED.sub("", who).lstrip("@")
        value = Value("person", who, start, start + len(who))
        previous = _TITLED.sub("", old)
        found.append(Reading(of or None, role, value, previous, "replaced as", person=True))
    for match in _ROLE_HANDED.finditer(clean):
        who = _TITLED.sub("", match["who"]).lstrip("@")
        role = re.sub(r"-", " ", match["role"].strip().lower())
        value = Value("person", who, match.start("who"), match.end("who"))
        found.append(
            Reading(match["of"], role, value, utterance.author, "handed role", person=True)
        )
    for match in _WILL_DO.finditer(clean):
        who = _TITLED.sub("", match["who"]).lstrip("@")
        if who.split()[0].lower() in _NOT_SUBJECT_WORDS:
            continue
        value = Value("person", who, match.start("who"), match.end("who"))
        role = _AGENT_VERBS[match["verb"].lower()]
        found.append(Reading(None, role, value, None, "will do (role)", person=True))
    taking = _TAKING_FROM.search(clean)
    if taking is not None and utterance.author:
        role = taking["role"].strip()
        role = role if role.isupper() else re.sub(r"\s+role$", "", role.lower())
        value = Value("person", utterance.author, 0, 0)
        old = _TITLED.sub("", taking["old"])
        found.append(Reading(None, role, value, old, "took role from", person=True))
    return found


_WEEKDAY_BEFORE_DATE = re.compile(
    r"(?i)\b(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)(?:day|nesday|rsday|urday|sday)?\.?,?\s+"
    r"(?=(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d|\d{1,2}(?:st|nd|rd|th)?\s+"
    r"(?:of\s+)?(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec))"
)
_TRAILING_PROPER = re.compile(r"[A-Z][\w'-]*(?:\s+(?:&|and|of)?\s*[A-Z][\w'-]*)+$")
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
    # "I'm IC for now": an acronym role needs no determiner.
    rf"\bI(?:'m|\u2019m| am)\s+(?:now\s+)?(?:(?:your|the|their|our)\s+(?:new\s+|interim\s+)?"
    rf"(?P<role>{_ROLE_NOUN})|(?P<acronym>(?-i:[A-Z]{{2,4}})))\b(?:\s+(?:for|on|of)\s+(?P<for>[\w.-]+(?:\s+\d+)?))?"
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


_CONTRACTED_IS = re.compile(r"(?i)(?<=\w)['\u2019]s\s+(?=(?:now|still|at|down|up)\b)")


def read_clause(clause: str, utterance: Utterance, tracked: Sequence[str] = ()) -> list[Reading]:
    """Every (subject?, attribute?, value) the general rules read in one clause;
    `tracked`: attribute names the conversation already uses ('cargo ready date'),
    read like the built-in ones in lists and short 'name value' clauses."""
    at = utterance.at
    found: list[Reading] = []
    clause = _PREFIX.sub("", clause)
    # "Date: Saturday, September 18, 2027": the weekday names the date after it; read
    # apart (a list), it would be next Saturday.
    clause = _WEEKDAY_BEFORE_DATE.sub("", clause)
    if _TITLE_LINE.match(clause):
        return []  # "Created OPS-77: Upgrade orders-db to Postgres 16": planned work
    # "it's now $200", "the deposit's at $500": the contracted "is" is read as written out
    # (the "s" is no noun), and "it" is then no subject.
    clause = _CONTRACTED_IS.sub(" is ", clause)
    clean = _NOT_OLD.sub("", clause)
    old = _NOT_OLD.search(clause)
    previous = (old["old"] or old["was"] or old["ins"]).strip() if old else None

    handed = role_changes(clean, utterance)
    if handed:
        return handed  # "handing RM duty over to Sofia" is no change of a thing "to" Sofia
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
        if reading is None and is_list(utterance.text):
            reading = list_line_reading(field_match["key"], field_match["rest"], at)
        if reading is not None:
            return [reading]

    for match in _FROM_TO.finditer(clean):
        new = _value_after(clean, match.end(), at) or _me(clean, match.end(), utterance)
        if new is None:
            continue
        tail = _STATUS_TAIL_WORDS.match(clean[new.end :]) if new.kind == "word" else None
        if tail is not None:
            # "from Open to Waiting for delivery": a status phrase that ends the clause.
            new = replace(new, text=f"{new.text} {tail['t']}", end=new.end + tail.end("t"))
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
        role = (mine["role"] or mine["acronym"]).strip()
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
        words = _DETERMINERS.sub("", without_asides(match["np"])).split()
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
        proper = _TRAILING_PROPER.search(" ".join(words))
        if proper is not None and new.kind in ("money", "count", "percent") and "&" in proper[0]:
            # "Hearth & Vine comes to $13,440": a name joined by "&" is whose value it is;
            # the value's kind says which one.
            found.append(Reading(proper[0], None, new, previous, "is (a name)"))
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


_PER_UNIT = re.compile(r"(?i)\s*(?:/|per\s+|a\s+)(?P<u>(?!month|year|day|week|night)[a-z]{3,})\b")


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
    r"(?i)(?<![\w.-])(?P<np>(?:(?!(?:is|are|now|stands|sits|stays?|remains?|comes|came|lands?|"
    r"holds|held)\b)[\w.-]+\s+){0,2}(?!(?:is|are|now|stands|sits|stays?|remains?|comes|came|"
    r"lands?|holds|held)\b)[\w.-]*\w)\s+"
    r"(?:(?:is|are|stands|sits|stays?|remains?|lands?|landed|holds|held|"
    # "The appraisal came back today at $665,000": the appraisal, not "back today".
    r"(?:comes|came|come)\s+(?:in|back)(?:\s+(?:today|yesterday|this\s+\w+|last\s+\w+))?)\s+)?"
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
