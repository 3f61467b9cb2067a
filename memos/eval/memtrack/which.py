"""Answers to "which" questions ("Which ticket tracks the checkout timeout?", "Which team
owns the billing service now?", "What is the PO number?"): the thing of the kind the
question names, taken from the recalled sentence that says the rest of the question.

The question's noun gives the answer's shape: a ticket, incident or pull request is an
identifier (PAY-412, #219), a build or release a version, a vendor, team or customer a
name, a datacenter or region a code (fra-2), a room its code (B1.07). A noun of no known
kind ("Which dock ...", "Which microscope ...") takes only a name the sentence gives it
("Dock 4"), one it is said to be ("model will be the ThinkPad T14 Gen 5") or the thing a
choice names ("the committee picked the Zeiss LSM 980"). "What is the X number?" takes
the code written after X ("PO 4500187722").

Sentences are ranked by how many of the question's other words they share (at least one,
two when the question has three or more; verbs meet in any tense), then, when the
question asks what holds "now", by time, else by how well they were recalled. In the
chosen sentence the candidate nearest the shared words answers ("Closing OPS-90 as a
duplicate of OPS-88": OPS-90 was closed). A candidate the question itself names is never
the answer, a name keeps the kind's noun when the sentence says them together ("the
Payments team", "Room 4B"), an id beside its noun is answered alone ("quote Q-2291" is
Q-2291), and an old value named beside the new one ("fra-2, not ams-1", "instead of")
is left out.

Questions about the value before a change ("Which vendor did we use before?") and about
typed values (dates, prices, statuses) are left to the other answerers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime

from memos.agents.keyphrases import stem
from memos.agents.statements import stated_nothing
from memos.agents.tables import unfold_tables
from memos.agents.values import kind_of_value
from memos.agents.words import NOT_NAMES
from memos.eval.memtrack.backends import Retrieved
from memos.eval.memtrack.memos_backend import StateRetrieved
from memos.eval.memtrack.metrics import normalise
from memos.eval.memtrack.spans import NOT_OLD, affirmed
from memos.eval.memtrack.states import SENTENCE, content_stems, read_question
from memos.text import STOPWORDS

_QUESTION = re.compile(
    # "On which line will the trial run?" asks which line as "Which line ..." does.
    r"(?i)^\s*(?:(?:on|in|at|to|from|for|into|under|with|through|by)\s+)?"
    r"(?P<wh>which|what)\s+(?P<noun>[a-z][a-z-]*)(?P<rest>\s.*?)\s*\?*\s*$"
)
# Kinds by the noun that names them; the answer's shape follows.
_IDENTIFIED = frozenset(
    [
        "ticket", "issue", "bug", "incident", "pr", "mr", "story", "epic", "task", "case",
        "claim", "order", "po", "invoice", "cr", "change", "jira", "cve", "advisory", "booking",
        "reservation", "runbook", "id"
    ]
)  # fmt: skip
_VERSIONED = frozenset(["build", "release", "version", "sdk", "firmware"])
_NAMED = frozenset(
    [
        "vendor", "supplier", "customer", "client", "company", "team", "carrier", "partner",
        "contractor", "agency", "firm", "venue", "hotel", "airline", "bank", "provider",
        "tool", "library", "framework", "engineer", "person", "candidate", "squad", "office",
        "site"
    ]
)  # fmt: skip
# Things named by a code ("fra-2", "eu-west-1").
_CODED = frozenset(
    [
        "datacenter", "region", "zone", "cluster", "environment", "env", "host", "server",
        "node", "branch", "repo", "queue", "bucket"
    ]
)  # fmt: skip
# Nouns that ask for a typed value or a state: the state and span answerers read those.
_TYPED = frozenset(
    [
        "date", "day", "time", "week", "month", "year", "price", "cost", "amount", "fee",
        "rate", "percentage", "percent", "status", "stage", "state", "value", "number",
        "count", "total", "budget", "size"
    ]
)  # fmt: skip
# "now": the question is about what holds at the end, so the latest sentence that says the
# rest of the question wins over one that shares more of its words.
_NOW = re.compile(r"(?i)\b(?:now|currently|current|latest|still)\b")
# "Which edition is required?": what holds at the end, as "now" says.
_PRESENT = re.compile(
    r"(?i)^\s*which\s+[\w-]+(?:\s+of\s+[^?]+?)?\s+(?:is|are)\s+(?!.*\b(?:was|were|did)\b)"
)
# Places inside a building, named by a code ("B1.07", "4B") as often as with the noun.
_PLACED = frozenset(["room", "floor", "building", "gate", "dock", "desk", "lab", "bay"])
_ROOM_CODE = re.compile(r"(?<![\w.-])[A-Z]{0,3}\d{1,4}[A-Z]?(?:\.\d{1,3})+(?![\w.-])")
_CHOSEN = re.compile(
    r"(?i)\b(?:picked|chose|chosen|selected|went with|going with|go with|settled on|"
    r"decided on|opted for|prefer|preferred)\s+(?:the\s+|a\s+|an\s+)?$"
)
_KINDS = _IDENTIFIED | _VERSIONED | _NAMED | _CODED
_NOT_QUALIFIERS = frozenset(
    ["whole", "entire", "same", "new", "other", "old", "right", "wrong", "best", "first",
     "last", "next", "previous", "current", "our", "your", "their", "my", "his", "her"]
)  # fmt: skip
# Words that end the noun phrase of "Which creative direction did ...".
_VERBS = frozenset(
    ["is", "are", "was", "were", "will", "would", "did", "does", "do", "has", "have", "had",
     "can", "could", "should", "got", "gets", "went", "goes", "came", "comes"]
)  # fmt: skip
_BEFORE = re.compile(r"(?i)\b(?:before|previously|used to|originally|original|at first|formerly)\b")

_ID = re.compile(r"(?<![\w#-])(?:[A-Z][A-Z0-9]{0,9}(?:-\d+){1,2}|#\d+|(?:PR|MR)\s?#?\d+)(?![\w-])")
_SLUG = re.compile(r"(?<![\w-])[a-z]+(?:-[a-z0-9]+)*-\d+[a-z]?(?![\w-])")
_VERSION = re.compile(r"(?<![\w.])v?\d+(?:\.\d+){1,3}(?![\w.])")
# A name's words are capitalised, joined by the small words names keep ("Casa do Lago").
_NAME = re.compile(
    r"[A-Z][\w&'.-]*(?:\s+(?:(?:of|and|de|do|da|del|della|la|le|van|von|der|&)\s+)?"
    r"[A-Z][\w&'.-]*){0,3}(?:\s+\d[\w-]*(?:\.\d+)*(?![\w-]))?"
)
_WORD = re.compile(r"[\w'-]+")
_ORDINAL = (
    r"(?i:\d+(?:st|nd|rd|th)|first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth)"
)


def _noun(question: str) -> tuple[str, str] | None:
    """The kind's noun a which-question asks for and the rest of the question, or None."""
    found = _QUESTION.match(question)
    if found is None:
        return None
    noun, rest = found["noun"].lower(), found["rest"]
    if noun == "pull" and rest.lower().split()[:1] == ["request"]:
        noun, rest = "pr", rest.split(None, 1)[1] if len(rest.split()) > 1 else ""
    following = rest.split()[:2]
    head = following[0].lower() if following else ""
    then = following[1].lower() if len(following) > 1 else ""
    unknown = _singular(noun) not in _KINDS and _singular(noun) not in _TYPED
    # A second noun is the head when a verb follows it ("Which creative direction did
    # ..."), not when it is the verb ("Which quote covers ...").
    if head and (
        _singular(head) in _KINDS
        or (unknown and head.isalpha() and head not in _VERBS and then in _VERBS)
    ):
        # "Which protocol version ...", "Which creative direction ...": the second noun
        # is the head, the first says whose.
        noun, rest = (
            following[0].lower(),
            f"{noun} {rest.split(None, 1)[1] if len(rest.split()) > 1 else ''}",
        )
    singular = _singular(noun)
    if singular in _TYPED or noun in STOPWORDS or singular in ("one", "kind", "type", "of"):
        return None
    known = singular in _KINDS
    if found["wh"].lower() == "what" and not known:
        return None  # "What is ...", "What discount ...": not a thing of a kind
    return singular, rest


def _root(word: str) -> str:
    """A stem without its -ing or -ed ("going" is "go", "shipping" "ship"), so a question's
    verb meets the sentence's in any tense."""
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 2:
            root = word[: -len(suffix)]
            if len(root) > 2 and root[-1] == root[-2] and root[-1] not in "ls":
                root = root[:-1]  # "shipp" -> "ship"
            return root
    return word


def _singular(noun: str) -> str:
    return noun[:-1] if noun.endswith("s") and not noun.endswith("ss") else noun


_FROM_BEFORE = re.compile(r"(?i)\bfrom\s+(?:the\s+)?$")
_TO_BEFORE = re.compile(r"(?i)(?:\b(?:to|into)|->|\u2192)\s+(?:the\s+)?$")


def _not_the_old(sentence: str, options: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """ "moved from us-west-2 back to us-east-1": the thing a change leaves is no answer
    when the sentence names the one it goes to."""
    went = [o for o in options if _TO_BEFORE.search(sentence[max(0, o[0] - 12) : o[0]])]
    if not went:
        return options
    return [o for o in options if not _FROM_BEFORE.search(sentence[max(0, o[0] - 12) : o[0]])]


_GREETINGS = frozenset(["dear", "hi", "hello", "hey", "thanks"])
_GREETING = re.compile(
    r"(?i)\b(?:dear|hi|hello|hey|thanks|thank you)\s+(?:(?:mr|ms|mrs|dr)\.?\s+)?$"
)


def _candidates(sentence: str, noun: str) -> list[tuple[int, str]]:
    """(position, text) of what could answer, in the shape the noun's kind takes."""
    ids = [(m.start(), m.group(0)) for m in _ID.finditer(sentence)]
    ids += [(m.start(), m.group(0)) for m in _SLUG.finditer(sentence)]
    versions = [(m.start(), m.group(0)) for m in _VERSION.finditer(sentence)]
    if noun in _IDENTIFIED or noun in _CODED:
        return ids
    if noun in _VERSIONED:
        return versions
    beside = rf"(?i:{re.escape(noun)}s?)"
    found = []
    for match in re.finditer(rf"\b{beside}\s+(?P<t>[A-Z0-9][\w-]*(?:\.\w+)*)", sentence):
        # "Quote Q-2291" is Q-2291; "Room 4B" is the room's whole name.
        alone = _ID.fullmatch(match["t"]) is not None
        found.append((match.start("t"), match["t"]) if alone else (match.start(), match.group(0)))
    pattern = rf"[A-Z][\w&'-]*(?:\s+[A-Z][\w&'-]*){{0,2}}\s+{beside}\b"
    found += [(m.start(), m.group(0)) for m in re.finditer(pattern, sentence)]
    # "Standard model will be the ThinkPad T14 Gen 5": the name the noun is said to be.
    said = rf"\b{beside}\s+(?:is|are|was|will\s+be|:)\s+(?:the\s+|a\s+|an\s+)?(?={_NAME.pattern})"
    for match in re.finditer(said, sentence):
        name = _NAME.match(sentence, match.end())
        if name is not None:
            found.append((name.start(), name.group(0)))
    # "the 4th edition", "the second round": a thing counted by its order.
    found += [(m.start(), m.group(0)) for m in re.finditer(rf"\b{_ORDINAL}\s+{beside}\b", sentence)]
    if noun in _NAMED:
        # "moving to the security team": a team or firm named by a plain word.
        plain = rf"\b(?:the|to|joins?|joined|from)\s+(?P<t>[a-z][\w-]+\s+{beside})\b"
        found += [
            (m.start("t"), m["t"])
            for m in re.finditer(plain, sentence)
            if m["t"].split()[0] not in _NOT_QUALIFIERS
        ]
    if noun in _PLACED:
        found += [(m.start(), m.group(0)) for m in _ROOM_CODE.finditer(sentence)]
    names = []
    for match in _NAME.finditer(sentence):
        words = match.group(0).split()
        start = match.start()
        while words and (words[0].lower() in NOT_NAMES or words[0].lower() in STOPWORDS):
            start += len(words[0]) + 1
            words = words[1:]
        if not words or not words[0][:1].isupper():
            continue  # "October 15" less its month is no name
        first = words[0].lower()
        opening = not sentence[: match.start()].strip()
        if "'" in first or "\u2019" in first:
            continue  # "We're", "It's"
        if first in _GREETINGS or _GREETING.search(sentence[max(0, start - 8) : start]):
            continue  # "Dear Ms Rossi": whom the message is addressed to
        if opening and len(words) == 1 and first.endswith(("ing", "ed")):
            continue  # "Closing OPS-90 ...": a verb opens the sentence
        text = " ".join(words)
        if kind_of_value(text) in ("money", "date", "percent"):
            continue  # "EUR 48,000", "March 20": a value, not a name
        if not any(at <= start < at + len(whole) for at, whole in found):
            names.append((start, text))  # "Payments" is part of "the Payments team"
    if noun in _NAMED:
        return found + names
    chosen = [(at, text) for at, text in names if _CHOSEN.search(sentence[max(0, at - 24) : at])]
    # A noun of no known kind: a name the sentence gives it ("Dock 4"), or the thing a
    # choice names ("the committee picked the Zeiss LSM 980").
    return found + chosen


# "What is the PO number?", "What's the serial number of the scope?": a code that follows
# the noun it numbers ("PO 4500187722", "Serial number 2710004813").
_NUMBERED = re.compile(
    r"(?i)^\s*what(?:'s|\s+is|\s+was)\s+(?:the|its|our|their|his|her)\s+"
    r"(?P<n>[\w-]+(?:\s+[\w-]+)?)\s+(?:number|no\.?|id|code|reference|ref)\b(?P<rest>[^?]*)"
)


def _numbered(
    noun: str, rest: str, items: Sequence[Retrieved], asked_at: datetime | None
) -> str | None:
    """The code the latest recalled sentence gives `noun`, preferring sentences that share
    the rest of the question's words."""
    # "the permit application number": "application SUAP-2027-0412" names it; the other
    # words say which, like the rest of the question.
    *whose, head = noun.split()
    asked = read_question(" ".join([*whose, rest]), asked_at)
    words = asked.words
    code = re.compile(
        rf"(?i:\b{re.escape(head)}(?:\s+(?:number|no\.?|id|code|ref(?:erence)?|#))?)\s*[:#]?\s*"
        r"(?P<v>[A-Z0-9][\w/-]*\d[\w/-]*)"
    )
    best: tuple[tuple[int, float], str] | None = None
    for item in items:
        texts = [item.text, *([item.said] if isinstance(item, StateRetrieved) else [])]
        for text in texts:
            for match in code.finditer(text):
                shared = len(words & content_stems(text))
                when = (item.timestamp or datetime.min.replace(tzinfo=UTC)).timestamp()
                if best is None or (shared, when) > best[0]:
                    best = ((shared, when), match["v"])
    return best[1] if best else None


# "What is the id of X?", "What's the reference for X?": an identifier, as "Which ticket".
_ID_OF = re.compile(
    r"(?i)^\s*what(?:'s|\s+is|\s+was)\s+the\s+(?:id|reference|ref|ticket number)\s+"
    r"(?:of|for)\s+(?P<rest>[^?]+)"
)


def _named_by(found: str, noun: str, asked: set[str]) -> bool:
    """Whether the question names the candidate itself: all its words, or the word it
    starts with ("Which vendor got the PO?" is not "PO 7700412"; "Bluefin Catering" may
    still answer a question about catering)."""
    words = [w for w in normalise(found).split() if w not in (noun, noun + "s")]
    return not words or set(words) <= asked or words[0] in asked


def _distance(position: int, text: str, near: list[int]) -> float:
    middle = position + len(text) / 2
    return sum(abs(middle - p) for p in near) / len(near)


def asks_for_a_name(question: str) -> bool:
    """ "Which firm ...?", "What vendor ...?": the answer is a name, never an amount or a
    date (so no typed span may answer it)."""
    read = _noun(question)
    return read is not None and _singular(read[0]) in _NAMED


def which_answer(
    question: str, items: Sequence[Retrieved], asked_at: datetime | None = None
) -> str | None:
    """The thing a which-question asks for, or None (see the module doc)."""
    if _BEFORE.search(question):
        return None
    coded = _NUMBERED.match(question)
    if coded is not None:
        return _numbered(coded["n"].strip(), coded["rest"], items, asked_at)
    named = _ID_OF.match(question)
    if named is not None:
        # "What is the id of Leo's regrade request?" asks which id the request has.
        question = f"Which id is {named['rest']}?"
    read = _noun(question)
    if read is None:
        return None
    noun, rest = read
    asked = read_question(question, asked_at)
    words = {_root(w) for w in content_stems(rest)} - {_root(stem(noun)), _root(stem(noun + "s"))}
    if not words:
        return None
    needed = 2 if len(words) >= 3 else 1
    asked_words = set(normalise(question).split())
    latest = bool(_NOW.search(question) or _PRESENT.search(question))
    best: tuple[tuple[float, float, float], str] | None = None
    for rank, item in enumerate(items):
        when = item.timestamp or datetime.min.replace(tzinfo=UTC)
        if asked.as_of is not None and item.timestamp is not None and when > asked.as_of:
            continue
        texts = [item.text]
        if isinstance(item, StateRetrieved) and item.said:
            texts.append(item.said)
        for text in texts:
            for raw in SENTENCE.split(unfold_tables(text)):
                sentence = affirmed(NOT_OLD.sub("", raw))
                if not sentence.strip() or stated_nothing(raw):
                    continue
                tokens = [
                    (m.start(), _root(stem(w)))
                    for m in _WORD.finditer(sentence)
                    for w in normalise(m.group(0)).split()[:1]
                ]
                near = [p for p, s in tokens if s in words]
                shared = len({s for _, s in tokens if s in words})
                if shared < needed:
                    continue
                options = [
                    (position, found)
                    for position, found in _candidates(sentence, noun)
                    if not _named_by(found, noun, asked_words)
                ]
                options = _not_the_old(sentence, options)
                if not options:
                    continue
                answer = min(options, key=lambda o: (_distance(o[0], o[1], near), o[0]))[1]
                # "now": the latest sentence; otherwise the one that says most of the
                # question, then the best recalled (an event's sentence, not a later
                # mention of it).
                moment = when.timestamp()
                key: tuple[float, float, float] = (
                    (moment, shared, -rank) if latest else (shared, -rank, moment)
                )
                if best is None or key > best[0]:
                    best = (key, answer)
    return best[1] if best else None
