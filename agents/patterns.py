"""State changes written in plain text, found by patterns: "moved ENG-142 to Done",
"assigned to @bob", "status: In Progress -> Done", "the launch slipped to March 10",
"Mira moved to Bergen", "renamed Atlas to Apollo", "Revert PR #45", "I love hiking".

Each pattern names a subject, an attribute and a value. A pattern that needs a subject it
cannot see ("Status: done") takes the one the event is about (its `issue` / `pr` field) or
the only ticket the message mentions; otherwise it keys nothing, and the sentence is kept
as a plain fact rather than guessed at. Hedged or negated sentences ("we might move...",
"ENG-142 is not done") key nothing either, except an explicit end: "Erin no longer works
at Acme", "ENG-7 isn't assigned to Dana anymore" and "Erin left Acme" end a state (the
reconciler then supersedes that value if it is the current one).

A closing keyword in a commit or pull request ("Fixes ENG-7", "Closes ENG-7") links the
change to the ticket; it says nothing of the ticket's status, which its tracker reports
(what a merge does to a ticket is the tracker's workflow, not the commit's), so it keys
nothing there. A pull request's or commit's own state ("Merged PR #45", "Revert PR #45")
is still read from them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

from memos.agents.candidates import THING, State, canonical_attribute, is_thing, thing_name
from memos.agents.dates import DATE, is_date
from memos.agents.events import Utterance
from memos.text import STOPWORDS

_THING = THING.pattern
_STATUS_WORDS = (
    "done|blocked|closed|open|reopened|merged|shipped|deployed|fixed|resolved|in progress|"
    "in review|ready for review|ready for qa|cancell?ed|completed?|finished|on hold|approved|"
    "released|reverted|abandoned|wontfix|started|to do|todo|backlog|in qa|triaged"
)
_VERB_STATUS = {
    "closed": "closed",
    "close": "closed",
    "closes": "closed",
    "merged": "merged",
    "merge": "merged",
    "merges": "merged",
    "reopened": "reopened",
    "reopen": "reopened",
    "resolved": "resolved",
    "resolve": "resolved",
    "fixed": "fixed",
    "fix": "fixed",
    "fixes": "fixed",
    "shipped": "shipped",
    "deployed": "deployed",
    "completed": "done",
    "finished": "done",
    "cancelled": "cancelled",
    "canceled": "cancelled",
    "approved": "approved",
    "released": "released",
    "reverted": "reverted",
    "revert": "reverted",
    "reverts": "reverted",
    "abandoned": "abandoned",
    "opened": "open",
    "started": "in progress",
}
_STATUS_ONLY = re.compile(rf"(?i)^(?:{_STATUS_WORDS})$")
_PRIORITY = re.compile(r"(?i)^(?:p[0-4]|low|medium|high|urgent|critical|normal|blocker)$")
_EVENT_NOUNS = (
    "launch|release|deadline|demo|meeting|offsite|review|standup|sync|retro|retrospective|"
    "kickoff|deploy|deployment|cutover|migration|freeze|rollout|beta|ga|planning|interview|"
    "call|workshop|conference|trip|wedding|party|appointment|dinner|lunch|presentation|"
    "go-live|milestone|sprint|hackathon|onsite|summit|webinar|exam|flight|vacation|holiday|"
    "ship date|due date|cutoff|handoff|launch date|release date|all-hands|board meeting"
)
_NOT_PEOPLE_WORDS = """the we they he she it this that our their his her everyone team
    someone nobody
    somebody who what where when why how there here then also and but so yes no today
    yesterday tomorrow you your my its these those some all both each every one status
    monday tuesday wednesday thursday friday saturday sunday january february march april
    may june july august september october november december please let lets ok okay
    update fyi note reminder heads hey hi hello thanks meanwhile finally anyway"""
_NOT_PEOPLE = frozenset(_NOT_PEOPLE_WORDS.split())
_HEDGES = re.compile(
    r"\bmay\b|\b(?i:if|maybe|might|should|could|would|perhaps|probably|possibly|propose|"
    r"proposal|suggest|consider|considering|let's|lets|plan to|planning to|want to|"
    r"going to|thinking|unless|whether|hope|hopefully)\b"
)
_NEGATION = re.compile(r"(?i)\bnot\b|n't\b|\bnever\b|\bno longer\b")
_OPINION_NEGATION = re.compile(r"(?i)\bnot\b|n't\b|\bnever\b|\bno longer\b|\bstopped\b")
_V = r"[A-Za-z][\w'&+-]*(?:[ ][A-Za-z][\w'&+-]*){0,3}?"
_END = (
    r"(?=\s*(?:[,.;:!?()\[\]\n]|$|\s(?:because|after|since|as|so|but|and|when|while|until|"
    r"by|from|per|via|once|today|tomorrow|yesterday|now|again|this|last|next|on|at|in|with|"
    r"before|then|though|although|thanks|please|over|than|here|there|anymore|any more|a lot|"
    r"so much|too|very|either|yet)\b))"
)
_PLACE = r"(?:[A-Z][\w'.-]*(?:[ -](?:[A-Z][\w'.-]*|de|del|da|am|upon|on-the))*)"
_PERSON = r"(?:\bI\b|\b[A-Z][a-z]+(?:\s[A-Z][a-z]+)?)"
_PERSON_VALUE = r"(?:@[\w.-]+|me|myself|[A-Z][a-z]+(?:\s[A-Z][a-z]+)?)"
_ARROW = r"\s*(?:->|→|=>|-->)\s*"
_CODE_HOSTS = frozenset({"git", "github", "gitlab", "bitbucket"})
_TICKET = re.compile(r"[A-Za-z][A-Za-z0-9]{1,9}-\d{1,6}")  # a tracker's, not a PR or commit


@dataclass(frozen=True, slots=True)
class Found:
    """What one pattern read: subject (None: the event's), attribute, value, previous."""

    subject: str | None
    attribute: str
    value: str
    previous: str | None = None
    person: bool = False
    ended: bool = False
    closing: bool = False  # a closing keyword ("Fixes ENG-7"): a link in a commit


Reader = Callable[[re.Match[str]], Found | None]
_PATTERNS: list[tuple[re.Pattern[str], Reader]] = []


def _pattern(regex: str) -> Callable[[Reader], Reader]:
    def register(reader: Reader) -> Reader:
        _PATTERNS.append((re.compile(regex), reader))
        return reader

    return register


def _group(match: re.Match[str], name: str) -> str | None:
    try:
        value = match.group(name)
    except IndexError:
        return None
    return value.strip() if value else None


def _thing_change(match: re.Match[str]) -> Found | None:
    """A ticket moved to a column, a date or a priority."""
    value = _group(match, "v") or ""
    attribute = "date" if is_date(value) else "priority" if _PRIORITY.match(value) else "status"
    return Found(_group(match, "s"), attribute, value, _group(match, "f"))


# -- tickets, pull requests, commits ----------------------------------------------------

_pattern(
    rf"(?P<s>{_THING})?[^.;]*?(?i:\bstatus|\bstate)\s*(?::|=|->|→|\bis now\b|\bis\b|"
    rf"\bchanged to\b|\bset to\b|\bmoved to\b|\bupdated to\b)\s*"
    rf"(?:(?P<f>{_V}){_ARROW})?(?P<v>{_V}){_END}"
)(lambda m: Found(_group(m, "s"), "status", _group(m, "v") or "", _group(m, "f")))

_CHANGED_WORD = re.compile(r"(?i)\s+(?:changed|updated|set|change|update)$")
_pattern(rf"(?P<a>\b[A-Za-z][A-Za-z ]{{1,20}}?)\s*:\s*(?P<f>{_V}){_ARROW}(?P<v>{_V}){_END}")(
    lambda m: Found(None, canonical_attribute(_CHANGED_WORD.sub("", m["a"])), m["v"], m["f"])
)

_pattern(rf"(?P<s>{_THING})\s*:?\s*(?P<f>{_V}){_ARROW}(?P<v>{_V}){_END}")(_thing_change)

_pattern(
    rf"(?i:\b(?:moved|move|moving|dragged|put|set|changed|transitioned|pushed|reverted|"
    rf"sent|bumped|returned))\s+(?P<s>{_THING})\s+(?:(?i:from)\s+(?P<f>{_V})\s+)?"
    rf"(?i:to|into|back to)\s+(?P<v>{DATE}|{_V}){_END}"
)(_thing_change)

_pattern(
    rf"(?P<s>{_THING})\s+(?:(?i:is|was|has been|got|just)\s+)?(?i:moved|changed|set|"
    rf"transitioned|reverted|pushed|bumped|updated|returned|slipped|postponed|delayed|"
    rf"rescheduled)\s+(?:(?i:back)\s+)?(?:(?i:from)\s+(?P<f>{_V})\s+)?(?i:to|into|until)\s+"
    rf"(?P<v>{DATE}|{_V}){_END}"
)(_thing_change)

# "New issue ENG-7: Login fails (Todo)", "Created ENG-7 (In Progress)": a ticket's first
# status, written after its title in parentheses.
_pattern(
    rf"(?i:\b(?:created|opened|filed|new\s+(?:issue|ticket|task|bug|story)))\s+"
    rf"(?P<s>{_THING})\b[^()\n]{{0,160}}?\((?P<v>(?i:{_STATUS_WORDS}))\)"
)(lambda m: Found(m["s"], "status", m["v"]))

# "ENG-7 went to In Review", "ENG-7 went back to Todo": only to a known status.
_pattern(
    rf"(?P<s>{_THING})\s+(?:(?i:has|just|finally|then)\s+)?(?i:went|goes|gone)\s+"
    rf"(?:(?i:back|straight)\s+)?(?:(?i:from)\s+(?P<f>{_V})\s+)?(?i:to|into)\s+"
    rf"(?P<v>(?i:{_STATUS_WORDS}))\b"
)(lambda m: Found(m["s"], "status", m["v"], _group(m, "f")))

_pattern(
    rf"(?P<s>{_THING})\s+(?i:is|was|has been|got|is now|are)\s+"
    rf"(?:(?i:now|finally|officially|already|fully)\s+)?(?P<v>(?i:{_STATUS_WORDS}))\b"
)(lambda m: Found(m["s"], "status", m["v"]))

_pattern(rf"(?i:\b(?:marked|mark|flagged|set))\s+(?P<s>{_THING})\s+(?i:as|to)\s+(?P<v>{_V}){_END}")(
    lambda m: Found(m["s"], "status", m["v"])
)

_CLOSING_WORDS = "close closes closed fix fixes fixed resolve resolves resolved"
_CLOSING = frozenset(_CLOSING_WORDS.split())
_pattern(
    rf"(?P<verb>(?i:\b(?:{'|'.join(_VERB_STATUS)})))\s+(?:(?i:the|this)\s+)?"
    rf"(?:\"?(?i:merge)\s+)?(?P<s>{_THING})"
)(
    lambda m: Found(
        m["s"],
        "status",
        _VERB_STATUS[m["verb"].lower()],
        closing=m["verb"].lower() in _CLOSING,
    )
)

# -- assignment ---------------------------------------------------------------------------


def _handed(match: re.Match[str]) -> Found | None:
    if _STATUS_ONLY.match(match["v"]):
        return None  # "passed ENG-7 to Done" moved it; that is not a person
    return Found(match["s"], "assignee", match["v"])


# "Assigned ENG-7 to @sam", "Handing ENG-7 over to @sam", "passing off ENG-7 to Lee"
_pattern(
    rf"(?i:\b(?:assigned|assign|assigns|reassigned|reassign|gave|give|gives|giving|handed|"
    rf"hand|hands|handing|passed|pass|passes|passing))\s+(?:(?i:over|off)\s+)?"
    rf"(?P<s>{_THING})\s+(?:(?i:over|off|back)\s+)?(?i:to)\s+(?P<v>{_PERSON_VALUE})"
)(_handed)

_pattern(
    rf"(?:(?P<s>{_THING})\s+(?:(?i:is|was|has been|got|is now)\s+)?)?(?i:\b(?:re)?assigned)\s+"
    rf"(?i:to)\s+(?P<v>{_PERSON_VALUE})"
)(lambda m: Found(_group(m, "s"), "assignee", m["v"]))

_pattern(
    rf"(?i:\bassignee)\s*(?::|=|->|→|\bchanged to\b|\bis now\b|\bis\b)\s*"
    rf"(?:(?P<f>{_PERSON_VALUE}){_ARROW})?(?P<v>{_PERSON_VALUE})"
)(lambda m: Found(None, "assignee", m["v"], _group(m, "f")))

_pattern(
    rf"\bI(?:'ll| will|'m| am)?\s+(?i:take|taking|pick up|picking up|grab|grabbing|own|"
    rf"owning|claim|claiming)\s+(?P<s>{_THING})"
)(lambda m: Found(m["s"], "assignee", "me"))

# -- dates of launches, releases, meetings ------------------------------------------------

_SUBJECT = rf"(?P<s>(?:[\w.#-]+\s+){{0,3}}?(?i:{_EVENT_NOUNS}|v\d+(?:\.\d+)*))"
_pattern(
    rf"{_SUBJECT}\s+(?:(?i:has|have|had|was|is|got|just|will be|now)\s+)*(?i:slipped|slips|"
    rf"slip|moved|pushed|postponed|delayed|rescheduled|pulled in|brought forward|bumped|"
    rf"shifted|moved up|pushed back|pushed out)\s+(?:(?i:back|out|up)\s+)?"
    rf"(?i:to|until|till|into)\s+(?P<v>{DATE})\b"
)(lambda m: Found(m["s"], "date", m["v"]))

_pattern(
    rf"(?i:\b(?:moved|pushed|postponed|delayed|rescheduled|shifted|bumped|slipped))\s+"
    rf"{_SUBJECT}\s+(?:(?i:back|out)\s+)?(?i:to|until|till)\s+(?P<v>{DATE})\b"
)(lambda m: Found(m["s"], "date", m["v"]))

_pattern(
    rf"{_SUBJECT}\s+(?i:is|are|will be|was)\s+(?:(?i:now|still|officially|tentatively)\s+)?"
    rf"(?i:on|scheduled for|set for|planned for|due|due on|happening on|slated for|targeted "
    rf"for|booked for)\s+(?P<v>{DATE})\b"
)(lambda m: Found(m["s"], "date", m["v"]))

_pattern(rf"{_SUBJECT}\s+(?i:date)\s*(?::|is|->|→)\s*(?P<v>{DATE})\b")(
    lambda m: Found(m["s"], "date", m["v"])
)

# -- people: where they live and work, roles, likes ---------------------------------------

_pattern(
    rf"(?P<p>{_PERSON})(?:'m|'s)?\s+(?:(?i:has|have|had|just|recently|finally|also|is|am|"
    rf"will be)\s+)*(?i:moved|relocated|relocates|moves|moving)\s+(?:(?i:back|over|away)\s+)?"
    rf"(?i:to)\s+(?:(?i:the)\s+)?(?P<v>{_PLACE})"
)(lambda m: Found(m["p"], "location", m["v"], person=True))

_pattern(
    rf"(?P<p>{_PERSON})(?:'m|'s)?\s+(?:(?i:now|still|currently|also)\s+)?(?i:lives|live|"
    rf"is living|am living|living|is based|am based|based|resides)\s+(?i:in)\s+"
    rf"(?P<v>{_PLACE})"
)(lambda m: Found(m["p"], "location", m["v"], person=True))

_pattern(
    rf"(?P<p>{_PERSON})(?:'m|'s)?\s+(?:(?i:now|still|currently|also)\s+)?(?i:works|work|"
    rf"is working|am working|working)\s+(?i:at|for)\s+(?P<v>{_PLACE})"
)(lambda m: Found(m["p"], "employer", m["v"], person=True))

_pattern(
    rf"(?P<p>{_PERSON})\s+(?:(?i:has|have|just|recently|finally)\s+)*(?i:joined|started at)\s+"
    rf"(?P<v>{_PLACE})"
)(lambda m: Found(m["p"], "employer", m["v"], person=True))

_pattern(
    rf"(?P<p>{_PERSON})\s+(?:(?i:has|have|just|recently|finally)\s+)*(?i:left|quit)\s+"
    rf"(?:(?i:my|his|her|their|the)\s+(?i:job|position|role)\s+(?i:at)\s+)?(?P<v>{_PLACE})"
)(lambda m: Found(m["p"], "employer", m["v"], person=True, ended=True))

_pattern(
    rf"(?P<p>{_PERSON})\s+(?:(?i:was|has been|got|just got|is being)\s+)?(?i:promoted)\s+"
    rf"(?i:to)\s+(?:(?i:the|a|an)\s+)?(?P<v>{_V}){_END}"
)(lambda m: Found(m["p"], "role", m["v"], person=True))


def _opinion(match: re.Match[str]) -> Found | None:
    thing = " ".join(match["o"].split()[:3]).strip(" .,!").lower()
    if not thing or thing.split()[0] in STOPWORDS:
        return None  # "I like it", "I love that idea": nothing to key on
    negated = bool(_OPINION_NEGATION.search(match["n"] or ""))
    dislike = match["verb"].lower().rstrip("s") in ("hate", "dislike", "can't stand")
    value = "likes" if negated == dislike else "dislikes"
    return Found(match["p"], f"opinion of {thing}", value, person=True)


_pattern(
    rf"(?P<p>{_PERSON})\s+(?P<n>(?:(?i:really|also|still|absolutely|totally|now|no longer|"
    rf"don't|do not|doesn't|does not|never|stopped|kind of|sort of)\s+)*)"
    rf"(?P<verb>(?i:loves?|likes?|enjoys?|prefers?|hates?|dislikes?|can't stand|adores?))\s+"
    rf"(?:(?i:the|a|an|to|my|our)\s+)?(?P<o>[a-z][\w-]*(?:\s[a-z][\w-]*){{0,2}}?){_END}"
)(_opinion)

_pattern(
    rf"(?P<p>{_PERSON}|(?i:my))(?:'s)?\s+(?i:favorite|favourite)\s+(?P<o>[a-z]+(?:\s[a-z]+)?)"
    rf"\s+(?i:is|are|was)\s+(?:(?i:the|a|an)\s+)?(?P<v>{_V}){_END}"
)(lambda m: Found(m["p"], f"favorite {m['o'].lower()}", m["v"], person=True))

# -- renames --------------------------------------------------------------------------------

_KIND_WORDS = (
    "project|repo|repository|channel|team|service|app|product|component|codename|feature|"
    "library|package|branch|epic"
)
# "project Atlas", "the Atlas project", "#general", "'atlas-api'"
_NAMED = (
    rf"(?:(?i:the|our)\s+)?(?:(?:(?i:{_KIND_WORDS})\s+)?[\"'“]?[#@]?[\w.-]+[\"'”]?"
    rf"|[\"'“]?[\w.-]+[\"'”]?\s+(?i:{_KIND_WORDS}))"
)
# A quoted name may be several words ("to 'Export large reports in chunks'").
_NEW_NAME = (
    r"(?:[\"“'](?P<q>[^\"”'\n]{1,120})[\"”']"
    r"|[\"'“]?(?P<v>[#@]?[\w.-]+(?:\s[A-Z][\w.-]*){0,3})[\"'”]?)"
)
_OLD_NAME = r"(?:[\"“'](?P<f>[^\"”'\n]{1,120})[\"”']|[#@]?[\w.-]+)"


def _renamed(match: re.Match[str]) -> Found:
    new = _group(match, "q") or _group(match, "v") or ""
    return Found(match["s"], "name", new, _group(match, "f"))


_pattern(
    rf"(?i:\brenamed|\brenaming|\brename)\s+(?P<s>{_NAMED})\s+"
    rf"(?:(?i:from)\s+{_OLD_NAME}\s+)?(?i:to|as)\s+{_NEW_NAME}"
)(_renamed)
_pattern(
    rf"(?P<s>{_NAMED})\s+(?i:was|has been|got|is being|is)\s+(?i:renamed)\s+"
    rf"(?:(?i:from)\s+{_OLD_NAME}\s+)?(?:(?i:to|as)\s+)?{_NEW_NAME}"
)(_renamed)
_pattern(
    rf"(?P<s>{_NAMED})\s+(?i:is now called|is now named|is now known as|will be called)\s+"
    rf"{_NEW_NAME}"
)(_renamed)


# -- reading a sentence ---------------------------------------------------------------------


def _person(name: str, author: str | None) -> str | None:
    words = name.split()
    if words and words[0] in ("I", "me", "myself", "my", "My"):
        return display_author(author)
    while words and words[0].lower() in _NOT_PEOPLE:
        words = words[1:]
    return " ".join(words) or None


def display_author(author: str | None) -> str | None:
    """How an author is named in a memory ('alice' -> 'Alice'; 'user' -> 'The user')."""
    if not author:
        return None
    if author.lower() == "user":
        return "The user"
    return author[:1].upper() + author[1:] if author.islower() else author


_KINDS = re.compile(rf"(?i)^(?:the |our )?(?:(?:{_KIND_WORDS}) (?=\S))?")
_KIND_AFTER = re.compile(rf"(?i)(?<=\S)\s+(?:{_KIND_WORDS})$")
_LEADING = re.compile(r"(?i)^(?:.*\b(?:the|our|this|that|my|a|an|i|we|think|heard|so)\s+)")


def _subject(raw: str | None, found: Found, utterance: Utterance, things: list[str]) -> str | None:
    if found.person:
        return _person(raw or "", utterance.author)
    if raw:
        raw = raw.strip("\"'“” ")
        if THING.fullmatch(raw):
            return thing_name(raw)
        if found.attribute == "date":
            cleaned = _LEADING.sub("", raw)
        else:
            cleaned = _KINDS.sub("", raw)
            cleaned = _KIND_AFTER.sub("", cleaned) if found.attribute == "name" else cleaned
        return cleaned.strip() or None
    hint = utterance.subject_hint
    if hint:
        return thing_name(hint) if THING.fullmatch(hint) else hint
    return things[0] if len(things) == 1 else None


def _value(found: Found, utterance: Utterance) -> str:
    value = found.value.strip().strip("\"'“”").rstrip(".")
    if found.attribute == "assignee":
        if value.lower() in ("me", "myself"):
            return display_author(utterance.author) or value
        return value.lstrip("@")
    return value


# "no longer", "not ... anymore": the sentence, read without them, says what ended.
_ENDING_CUE = re.compile(r"(?i)\bno longer\b|\bany ?more\b")
_ENDING_WORDS = (
    (re.compile(r"(?i)\s*\bno longer\b|\s*\bany ?more\b"), ""),
    (re.compile(r"(?i)\b(?:doesn't|don't|does not|do not|didn't|did not)\s+"), ""),
    (re.compile(r"(?i)\b(is|are|am|was|were)(?:n't| not)\b"), r"\1"),
    (re.compile(r"(?i)(?<=')m not\b"), "m"),
)


def _without_ending(sentence: str) -> str | None:
    """The sentence with its "no longer" / "not ... anymore" taken out, when that leaves
    it unnegated; else None."""
    if not _ENDING_CUE.search(sentence):
        return None
    text = sentence
    for pattern, replacement in _ENDING_WORDS:
        text = pattern.sub(replacement, text)
    return None if _NEGATION.search(text) else text


def states(sentence: str, utterance: Utterance) -> list[State]:
    """Every state change the sentence states outright (see the module doc)."""
    if _HEDGES.search(sentence) or sentence.rstrip(" )\"'").endswith("?"):
        return []  # a proposal, a condition or a question states nothing yet
    things = list(dict.fromkeys(thing_name(t.group(0)) for t in THING.finditer(sentence)))
    # A bracketed aside ("(their SSO isn't ready)") does not negate what the sentence says.
    negated = bool(_NEGATION.search(re.sub(r"\([^)]*\)", "", sentence)))
    readings: list[Found] = []
    for match, reader in _matches(sentence):
        reading = reader(match)
        if reading is not None and (not negated or "opinion" in reading.attribute):
            readings.append(reading)
    unsaid = _without_ending(sentence) if negated else None
    if unsaid is not None:
        for match, reader in _matches(unsaid):
            reading = reader(match)
            if reading is not None and "opinion" not in reading.attribute:
                readings.append(replace(reading, ended=True))
    found: dict[str, State] = {}
    for reading in readings:
        state = _state(reading, utterance, things)
        if state is not None:
            found.setdefault(state.key, state)
    return list(found.values())


def _state(reading: Found, utterance: Utterance, things: list[str]) -> State | None:
    if (
        reading.closing
        and (utterance.platform or "") in _CODE_HOSTS
        and _TICKET.fullmatch((reading.subject or "").strip())
    ):
        return None  # "Fixes ENG-7" in a commit: a link, not a status (module doc)
    if reading.attribute == "location" and _STATUS_ONLY.match(reading.value):
        # "Alice moved to Done" in a tracker's feed: the event's ticket moved.
        reading = Found(None, "status", reading.value, ended=reading.ended)
    subject = _subject(reading.subject, reading, utterance, things)
    if subject is None or (reading.person and subject.lower() in _NOT_PEOPLE):
        return None
    if reading.attribute in ("status", "priority", "assignee") and not (
        is_thing(subject) or utterance.subject_hint
    ):
        return None  # "the status is fine": no ticket to key it on
    state = State(
        subject=subject,
        attribute=reading.attribute,
        value=_value(reading, utterance),
        previous=reading.previous.strip() if reading.previous else None,
        said_at=utterance.at,
        ended=reading.ended,
    )
    return state if state.makes_sense() else None


def _matches(sentence: str) -> Iterator[tuple[re.Match[str], Reader]]:
    for pattern, reader in _PATTERNS:
        for match in pattern.finditer(sentence):
            yield match, reader
