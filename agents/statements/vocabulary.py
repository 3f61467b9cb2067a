"""The words the statement rules share: attribute nouns, change verbs, hedges, corrections,
field lines, roles, and the bounded noun-phrase lead (`_LEAD`) every verb rule starts with."""

from __future__ import annotations

import re

from memos.agents.words import NOT_NAMES

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
    assessor|lead assessor|expert|technical expert|officiant|photographer|videographer|
    florist|dj|editor|producer|director|best man|maid of honour|maid of honor|maintainer|
    administrator|supervisor|liaison|representative|instructor|examiner|proctor|realtor|
    attorney|account manager|customer success manager|ic|
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


# What a value says by its kind when no noun names the attribute.
_LEVEL = re.compile(r"(?i)(?P<sev>sev(?:erity)?[\s-]?[0-5])|(?P<prio>p[0-4])")


_PERSONISH_WORDS = re.compile(
    r"(?i)(?:owner|assignee|lead|commander|manager|speaker|host|dri|on-?call|reviewer|"
    r"approver|contact|recruiter|coordinator|sponsor|captain|driver|scribe|assessor|expert|"
    r"officiant|photographer|videographer|florist|"
    r"maintainer|administrator|supervisor|liaison|representative|instructor|examiner|"
    r"proctor|realtor|attorney|best man|maid of honou?r|\bic|\bdj|\beditor|producer|director)$"
)


_PERSONISH = re.compile(
    r"(?i)(?:owner|assignee|lead|commander|manager|speaker|host|dri|on-?call|reviewer|"
    r"approver|contact|recruiter|coordinator|sponsor|inspector|organi[sz]er|moderator|"
    r"consultant|assistant|designer|architect|engineer|planner|auditor|surveyor|counsel|"
    r"lawyer|advisor|adviser|mentor|champion|csm|pm|pi|cra|investigator|officer|chair|"
    r"captain|driver|scribe|assessor|expert|officiant|photographer|videographer|florist|"
    r"maintainer|administrator|supervisor|liaison|representative|instructor|examiner|"
    r"proctor|realtor|attorney|best man|maid of honou?r|\bic|\bdj|\beditor|producer|director)$"
)


def is_role(text: str) -> bool:
    """Whether `text` names a role people hold ("Principal Investigator", "hiring
    manager"), not a person."""
    return bool(_PERSONISH.search(text.strip()))


_HEDGE = re.compile(
    # "she may tighten the tolerance" hedges as "might" does; "May 20" is a month.
    r"(?i)\b(?:might|(?-i:may)(?!\s+\d)|maybe|perhaps|probably|possibly|could|would|should|if|"
    r"unless|whether|"
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
    # "ships October 15 instead of October 11": the old value after the new.
    r"|\s+instead\s+of\s+(?P<ins>(?:[^,.;()]|[,.](?=\d))+?)(?=[,.;](?!\d)|$|\s+(?:because|due|as)\b)"
)


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


_MEASURE = re.compile(
    r"(?:[KMGTP]i?B|sqm|sq\s?ft|m2|kg|km|mi|ms|rpm|rps|qps|kwh|kw|mw|tonnes?|tons?|"
    r"liters?|litres?)",
    re.IGNORECASE,
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


_CODE_IS = re.compile(
    r"(?i)(?<![\w-])(?P<np>(?:(?:the|our|your|new)\s+)?(?:[a-z][\w-]*\s+){0,2}?"
    r"(?:po|invoice|tracking|confirmation|reference|case|order|account|contract|booking)\s+"
    r"(?:number|no\.?|#|id|ref))\s+(?:for\s+(?P<of>[A-Z][\w.-]*(?:\s+[A-Z][\w.-]*){0,2})\s+)?"
    r"(?:is\s+(?:now\s+)?|=\s*|changed\s+to\s+)(?P<v>(?=[\w-]*\d)[A-Z0-9][\w-]{3,24})\b"
)


_ROLES = sorted(
    (a.strip() for a in _ATTRIBUTES if _PERSONISH_WORDS.search(a)), key=len, reverse=True
)


_ROLE_NOUN = rf"(?:[A-Z]{{2,5}}|(?i:{'|'.join(re.escape(r) for r in _ROLES)}))"


_EVENT_NOUNS = (
    r"onsite|interview|meeting|call|review|summit|offsite|kickoff|kick-off|launch|demo|"
    r"workshop|webinar|conference|training|party|dinner|retro|sync|presentation|visit|"
    r"walkthrough|inspection|handover|move|migration|cutover|go-live|signing|audit|"
    r"appointment|ceremony|event|townhall|town hall|all-hands|board meeting|deadline"
)


_CALENDAR = re.compile(
    r"(?i)^\s*(?:updated\s+|new\s+|rescheduled\s+)?(?:invitation|invite|event|meeting)"
    r"\s*:\s*(?P<title>[^@|\n]{3,80}?)\s*@\s*"
)


_LIST_SPLIT = re.compile(r",\s+|\s+\|\s+|;\s+")


_SCHEDULE_WORDS = re.compile(
    r"(?i)^(?:(?:planned|next|expected|scheduled|estimated|tentative|new|revised|"
    r"upcoming|target)\s+)+"
)


# Readings whose subject is a known state's own (already canonical).
_FROM_CONTEXT = frozenset(["correction", "retraction", "accepted"])


_NOT_SUBJECT_WORDS = NOT_NAMES | frozenset(
    [
        "all", "also", "best", "cheers", "deal", "dear", "done", "once", "regards", "team",
        "unless", "when", "while"
    ]
)  # fmt: skip
