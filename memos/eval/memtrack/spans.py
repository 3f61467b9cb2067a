"""A typed span answer for questions the slot reader does not know: the value of the
kind the question asks for (an amount, a percentage, a count, a date, a version, a
person) in the recalled sentences that share the most words with the question.

Questions, hedges and proposals are skipped, a correction's old value ("143, not 134")
is left out, and among the values found the one from the most authoritative sentence
wins: the most words in common with the question, then an item its backend holds
current, then the latest, then the best ranked. "Before" questions take the latest
value that differs from that one; a question about a past day takes the latest value
stated by then.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from memos.agents.dates import MONTHS
from memos.agents.statements import clauses, is_role, stated_nothing
from memos.agents.tables import unfold_tables
from memos.agents.values import date_text, kind_of_value, values
from memos.agents.words import NOT_NAMES, asides, without_asides
from memos.eval.memtrack.backends import Retrieved
from memos.eval.memtrack.codes import code_prefix, codes, phones, with_prefix
from memos.eval.memtrack.metrics import normalise
from memos.eval.memtrack.states import SENTENCE, content_stems, read_question, shown, updates

# Shared with `choices`, `which` and `polar`: an old value named beside the new ("May 5, not
# May 3") and a negation.
NOT_OLD = re.compile(
    # "targets 5.4, not 5.3": a point between digits does not end the old value.
    r"(?i),?\s*\(?(?:and\s+)?not\s+(?:[^,.;()]|[,.](?=\d))+\)?|\((?:was|previously)\s+[^)]*\)"
    r"|\s+instead\s+of\s+[^,.;()]+?(?=[,.;]|$|\s+(?:because|due|as)\b|\s*\()"
    # "$22 per head (up from $18 lunch-only)"; "up from $18 to $22" is a change, kept.
    r"|\s*\(\s*(?:up|down)\s+from\s+[^)]*\)"
    r"|,\s*(?:up|down)\s+from\s+(?![^;()]*?\bto\b)[^;()]+?(?=,\s|\.\s|;|\.?$)"
)
NEGATED = re.compile(r"(?i)\bnot\b|n't\b|\bnever\b|\bno longer\b")
# Kinds any value of which may answer a question that names no kind.
_ANY = {"percent", "count", "money", "date", "version"}
_NAMES = {"place", "person"}
_OPENING_VERBS = frozenset(
    ["hired", "signed", "approved", "assigned", "added", "invited", "asked", "called",
     "emailed", "pinged", "told", "met", "promoted", "onboarded", "welcomed", "booked",
     "contacted", "thanked", "cc", "cc'd", "welcome", "congrats", "thanks"]
)  # fmt: skip
_KINDS = _ANY | {"duration", "time", "code", "phone"} | _NAMES
_NUMBER_WORDS = "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve"
_YEAR = re.compile(r"^(?:19|20)\d\d$")
_YEAR_AFTER = re.compile(
    rf"(?i)\b(?:spring|summer|fall|autumn|winter|fy|q[1-4]|{'|'.join(MONTHS)})[a-z]*\.?\s+$"
)
_HYPHENATED = re.compile(r"^(\S+)-(minute|hour|day|week|month|year|quarter|sprint)$", re.I)
# "24-month term", "90 days", "two weeks": a length of time, as written.
_DURATION = re.compile(
    rf"(?i)\b(?:\d+(?:\.\d+)?|{_NUMBER_WORDS})[\s-](?:minute|hour|day|week|month|year|"
    r"quarter|sprint)s?\b"
)
# "08:00", "4:15 PM", "5pm"; the end of a range ("08:00-09:00") is left out.
_CLOCK = re.compile(
    r"(?i)(?<![\w:.])(?<!\d[-\u2013])(?<!\d\s[-\u2013]\s)(?:(?:[01]?\d|2[0-3])[:.][0-5]\d(?:\s*[ap]\.?m\b\.?)?"
    r"|(?:1[0-2]|0?[1-9])\s*[ap]\.?m\b\.?)(?![\d:])"
)
# "When was X released?", "When did the team ship it?": the day of an act, which a message
# announcing it may not say.
_WHEN_DONE = re.compile(r"(?i)^\s*when\s+(?:was|were|did)\b(?!.*\b(?:planned|scheduled|due|set)\b)")
# A price per unit, asked ("How much does one T14 cost?", "per head") and said ("EUR 1,240
# per unit", "$189/night", "Per head: $96").
_PER = (
    r"(?:(?:per|a|an|each|every)[\s-]+|/\s*)(?:head|person|guest|unit|seat|user|night|day|hour|month|"
    r"year|week|item|piece|license|device|laptop|room|cover)\b|\beach\b|\bapiece\b"
)
_PER_ASKED = re.compile(rf"(?i)\b{_PER}|\b(?:one|a single|each)\s+[\w-]+\s+(?:cost|costs|price)\b")
_PER_AFTER = re.compile(rf"(?i)^\W{{0,3}}(?:\w+\W+){{0,2}}?{_PER}")
_PER_BEFORE = re.compile(rf"(?i){_PER}\s*[:=]?\s*$")


def asks_per_unit(question: str) -> bool:
    """The question asks for a price per unit, not a total."""
    return bool(_PER_ASKED.search(question))


# "Room Tejo", "Floor 3", "in Lisbon", "at the Harbor Hall": where something is.
_ROOM = (
    r"(?:Room|Rm\.?|Floor|Building|Bldg\.?|Hall|Dock|Gate|Suite|Office|Studio|Auditorium)"
    r"\s+[A-Z0-9][\w-]*(?:\.\w+)*"
)
_PLACE = re.compile(
    # "Lyman Hall 210": the building's name is part of the room's; "in Room 5" is the room.
    rf"\b(?P<pre>[A-Z][\w'-]+\s+)?(?P<p>{_ROOM})"
    rf"|\b(?:in|at)\s+(?:the\s+)?(?!{_ROOM})(?P<n>[A-Z][\w'-]*(?:\s+[A-Z][\w'-]*){{0,3}})"
)
# A sentence that changes a value names the new one last ("from April 14 to April 21");
# otherwise each value sits beside the words that name it ("Blended rate is 1.45% + EUR
# 0.10 per transaction").
_FROM_TO = re.compile(r"(?i)\bfrom\b.{1,40}?\bto\b|->|\u2192")
# "in March 2026", "for Q3": the question asks about a time, not about the latest word.
_NAMES_A_TIME = re.compile(
    rf"(?i)\b(?:{'|'.join(MONTHS)})[a-z]*\.?\s+(?:\d{{4}}|\d{{1,2}})\b|\bQ[1-4]\b|\b(?:19|20)\d{{2}}\b"
)
_CHANGE = re.compile(r"(?i)\b(?:to|from|now|moved|instead|->)\b|->|\u2192")


@dataclass(frozen=True, slots=True)
class _Span:
    value: str
    overlap: float
    current: bool
    when: datetime
    rank: int
    previous: str | None = None  # "from 99.9% to 99.95%": the value the change replaced
    fits: bool = True  # a count written beside a word of the question ("4 rooms")
    updates: bool = False  # the sentence says its value is new ("is now", "revised to")


def typed_span(
    question: str, items: Sequence[Retrieved], asked_at: datetime | None = None
) -> str | None:
    """The answer span of the asked kind, or None (see the module doc)."""
    asked = read_question(question, asked_at)
    kinds = asked.kinds & _KINDS
    if not kinds and (asked.kinds or asked.who):
        return None
    kinds = kinds or _ANY  # "What is the floor area?": any value in the best sentence
    words = asked.words - asked.hinted
    per_unit = "money" in kinds and asks_per_unit(question)
    counted = words - {"many"} if "count" in kinds and _HOW_MANY.match(question) else None
    act_date = kinds == {"date"} and bool(_WHEN_DONE.match(question))
    found: list[_Span] = []
    from memos.eval.memtrack.memos_backend import StateRetrieved

    for rank, item in enumerate(items):
        text = item.text
        if isinstance(item, StateRetrieved) and item.said:
            # The sentence a state was read from, with where it was said ("... about
            # Catering quote: we'll go with €39 per person"), says more than its key.
            text = f"{text}\n{item.said}"
        for sentence in SENTENCE.split(unfold_tables(text)):
            if not sentence.strip():
                continue
            if stated_nothing(sentence) and not kinds & {"code", "phone"}:
                continue  # "8D requested from BW, ref 8D-BW-0117": a request names its id
            body = affirmed(NOT_OLD.sub("", sentence))
            if not body:
                continue
            overlap = len(words & content_stems(body)) / max(len(words), 1)
            if overlap == 0:
                continue
            # A bracketed aside elaborates ("Approved amount: $14,950 (estimate $15,950 less
            # $1,000 deductible)"): the value comes from the part the question's words are
            # in, the sentence's own part on a tie.
            parts = [without_asides(body), *asides(body)]
            part = max(parts, key=lambda p: (len(words & content_stems(p)), p is parts[0]))
            if _names_a_sibling(part, asked.ids):
                continue  # "U10 center pay is $35" says nothing of the U12 pay asked about
            typed = _unnamed(_typed(part, item.timestamp, kinds, question), asked.ids)
            if not typed:
                part = body  # "Warsaw last (Nov 8)": the value is in the aside
                typed = _unnamed(_typed(body, item.timestamp, kinds, question), asked.ids)
            if not typed and act_date and item.timestamp is not None:
                # "When was 5.0.0 released?" - "wrenfield 5.0.0 is out!": the day it was said.
                typed = [(len(part), date_text(item.timestamp.date()))]
            # A name the question says itself ("the principal investigator at St. Aldric")
            # is what it asks about, never the answer.
            typed = [
                (position, value)
                for position, value in typed
                if not (_NAMES & kinds and set(normalise(value).split()) & asked.plain)
                and not ("person" in kinds and is_role(value))  # "Principal Investigator"
                and not ("code" in kinds and value in question)  # the PO it asks about
            ]
            if per_unit:
                # "EUR 1,240 per unit" answers "How much does one T14 cost?", the PO's
                # "total EUR 186,000" does not.
                typed = [
                    (position, value)
                    for position, value in typed
                    if _PER_AFTER.match(part[position + len(value) :])
                    or _PER_BEFORE.search(part[max(0, position - 30) : position])
                ]
            fits = True
            if counted is not None:
                # "How many rooms ...?": "4 rooms", "vegan 14", "134 attending"; not the 42
                # of "Hohenzollernstrasse 42".
                beside = [t for t in typed if _counts(part, t, counted)]
                fits, typed = bool(beside), beside or typed
            if not typed:
                continue
            changed = _changes(part, typed)
            chosen = typed[-1] if changed else _beside(typed, part, words)
            replaced = _FROM_TO.search(part) if changed and len(typed) >= 2 else None
            previous = typed[-2][1] if replaced is not None else None
            if previous is not None and kind_of_value(previous) != kind_of_value(chosen[1]):
                previous = None  # "from March 3 to 40%": not one value's change
            when = item.timestamp or datetime.min.replace(tzinfo=UTC)
            span = _Span(
                chosen[1],
                overlap,
                item.current is not False,
                when,
                rank,
                previous,
                fits,
                updates(sentence),
            )
            found.append(span)
    if not found:
        prefix = code_prefix(question) if "code" in kinds else None
        if prefix is not None:
            # No identifier written with the prefix: any identifier of the thing asked.
            return typed_span(re.sub(rf"\b{prefix}\s+", "", question, count=1), items, asked_at)
        if kinds == {"money"} and _HOW_MUCH.match(question):
            # "How much is deducted per day?": a share of something is an amount too.
            return typed_span(_HOW_MUCH.sub("What percentage", question, 1), items, asked_at)
        return None
    if asked.as_of is not None:
        found = [f for f in found if f.when <= asked.as_of] or found
    best = max(found, key=lambda f: (round(f.overlap, 1), f.fits, f.current, f.when, -f.rank))
    if not asked.before and asked.as_of is None and not _NAMES_A_TIME.search(question):
        # A later sentence that says its value is new ("Bay Street is now doing ... $22 per
        # head") supersedes one that names the thing more fully ("Bay Street Kitchen
        # quoted $18 per head").
        near = [
            f
            for f in found
            if f.when > best.when
            and f.fits >= best.fits
            and f.overlap >= max(0.5, best.overlap - 0.25)
        ]
        latest = max(near, key=lambda f: (f.when, f.overlap), default=None)
        # Only when that sentence is the latest said about it: "March stays at $500" after
        # "from March Northwind will sponsor $750/month (up from $500)" keeps $500.
        best = latest if latest is not None and latest.updates else best
    if not asked.before:
        return best.value
    named = [f for f in found if asked.named and normalise(f.value) == normalise(asked.named)]
    if named and not asked.first:
        # "before it moved to June 29": the value said last before June 29 was.
        best = max(named, key=lambda f: (f.when, -f.rank))
    if best.previous is not None and not asked.first:
        return best.previous  # "going from 99.9% to 99.95%": what the change replaced
    earlier = [
        f for f in found if f.when < best.when and normalise(f.value) != normalise(best.value)
    ]
    if asked.first:
        # "originally": the earliest value said among the sentences as close to the
        # question as the best one.
        close = [f for f in earlier if round(f.overlap, 1) >= round(best.overlap, 1)] or earlier
        if not close:
            return best.previous or best.value  # nothing said before it: it was the first
        return min(close, key=lambda f: (f.when, f.rank)).value
    if not earlier:
        # Nothing said before it, but the same message names another value of it ("bumping
        # U12 center to $45" beside the board's "U12 center $40"): that one was before.
        earlier = [
            f for f in found if f.when == best.when and normalise(f.value) != normalise(best.value)
        ]
    return max(earlier, key=lambda f: (f.when, f.overlap, -f.rank)).value if earlier else None


def affirmed(sentence: str) -> str:
    """The sentence less its negated clauses ("Piece price $14.35 - we couldn't absorb
    the added op, but we met you partway" keeps "Piece price $14.35"); empty when every
    clause is negated. A negation reaches over its own clause only, cut where the reader
    cuts clauses that may differ in polarity (`memos.agents.statements.clauses`)."""
    if not NEGATED.search(sentence):
        return sentence
    return " - ".join(c for c in clauses(sentence) if not NEGATED.search(c))


def _names_a_sibling(text: str, ids: set[str]) -> bool:
    """The text names an id of the same letters as one the question names, and none it
    names ("U10" for a question about "U12"): it is about another thing."""
    said = {w for w in content_stems(text) if any(c.isdigit() for c in w)}
    if not ids or ids & said:
        return False
    letters = {re.sub(r"[^a-z]", "", w) for w in ids} - {""}
    return any(re.sub(r"[^a-z]", "", w) in letters for w in said)


def _unnamed(typed: list[tuple[int, str]], ids: set[str]) -> list[tuple[int, str]]:
    """Less the counts the question names: the 214 of "How many students are in CS 214?"
    counts nothing."""
    return [(p, v) for p, v in typed if not (normalise(v) in ids and kind_of_value(v) == "count")]


_HOW_MUCH = re.compile(r"(?i)^\s*how much\b")
_HOW_MANY = re.compile(r"(?i)^\s*how many\b")


def _counts(text: str, value: tuple[int, str], words: set[str]) -> bool:
    """The count is written beside a word of the question ("4 rooms", "vegan 14")."""
    after = text[value[0] + len(value[1]) :].split()[:2]
    before = text[: value[0]].split()[-1:]
    return any(content_stems(w) & words for w in [*after, *before])


def _changes(text: str, typed: list[tuple[int, str]]) -> bool:
    """The sentence changes the value: a change word before its only value ("moved to
    15:00"), or between its first and last ("from 14:00 to 15:00"); a change of something
    else ("moved our flights to Aug 24 - 03:35 dep / 09:30 arr") picks no value by order."""
    if len(typed) == 1:
        return bool(_CHANGE.search(text[: typed[0][0]]))
    return bool(_CHANGE.search(text[typed[0][0] : typed[-1][0]]))


def _typed(
    text: str, at: datetime | None, kinds: set[str], question: str = ""
) -> list[tuple[int, str]]:
    """(position, text) of the values of `kinds` in `text`, in order."""
    if kinds & {"code", "phone"}:
        # Identifiers and phone numbers are no values of the reader's kinds.
        if "code" in kinds:
            return with_prefix(codes(text), code_prefix(question))
        return phones(text, question)
    found = [(v.start, v.text) for v in values(text, at) if v.kind in kinds]
    if "person" in kinds:
        # "Hired Paolo as sous chef": a verb that opens a sentence is no part of a name.
        found = [
            (start + len(name.split()[0]) + 1, name.split(None, 1)[1])
            if len(name.split()) > 1 and name.split()[0].lower() in _OPENING_VERBS
            else (start, name)
            for start, name in found
        ]
    if "time" in kinds:
        found += [(m.start(), m.group(0).strip()) for m in _CLOCK.finditer(text)]
    if "count" in kinds:
        # "Spring 2027", "FY 2026": a year, not a count.
        found = [
            (at, v) for at, v in found if not _YEAR_AFTER.search(text[:at]) or not _YEAR.match(v)
        ]
    if "duration" in kinds:
        # "a 30-minute wait" is answered "30 minutes".
        found += [
            (m.start(), _HYPHENATED.sub(r"\1 \2s", m.group(0))) for m in _DURATION.finditer(text)
        ]
    if "place" in kinds:
        for match in _PLACE.finditer(text):
            group = "p" if match["p"] else "n"
            place, start = match[group], match.start(group)
            if match["pre"] and match["pre"].strip().lower() not in NOT_NAMES:
                place, start = match["pre"] + place, match.start("pre")
            if place.split()[0].lower() not in NOT_NAMES:
                found.append((start, place))
    return sorted(found)


def _beside(typed: list[tuple[int, str]], text: str, words: set[str]) -> tuple[int, str]:
    """The value nearest after the question's words in `text` (before them counts
    double), the last one when none of the words is there."""
    # "expire" and "expires" stem apart ("expire", "expir"): compared without a final e.
    folded = {w.rstrip("e") for w in words}
    ends = [
        m.end()
        for m in re.finditer(r"[\w'-]+", text)
        if {w.rstrip("e") for w in content_stems(m.group(0))} & folded
    ]
    if not ends:
        return typed[-1]

    def distance(value: tuple[int, str]) -> int:
        return min(value[0] - e if value[0] >= e else 2 * (e - value[0]) for e in ends)

    return min(_labelled(typed, text, folded), key=lambda v: (distance(v), -v[0]))


def _labelled(typed: list[tuple[int, str]], text: str, folded: set[str]) -> list[tuple[int, str]]:
    """In a list of values each after its own label ("U10 center $35, U12 center $40"), the
    values whose label (the text since the value before) says most of the question's words.
    Only where a word of the question labels two values, so the list is parallel; else all."""
    labels, start = [], 0
    for at, value in typed:
        labels.append({w.rstrip("e") for w in content_stems(text[start:at])} & folded)
        start = at + len(value)
    repeated = any(sum(w in label for label in labels) >= 2 for w in folded)
    if len(typed) < 2 or not repeated:
        return typed
    most = max(len(label) for label in labels)
    return [value for value, label in zip(typed, labels, strict=True) if len(label) == most]


def newer_span(
    question: str, items: Sequence[Retrieved], asked_at: datetime | None, answer: str
) -> str | None:
    """A value of the asked kind stated after the state that gave `answer`, in a recalled
    text that shares nearly all the question's words: the reader missed that change. None
    when there is none (or the question asks about the past)."""
    from memos.eval.memtrack.memos_backend import StateRetrieved

    asked = read_question(question, asked_at)
    kinds = asked.kinds & _KINDS - _NAMES  # a name is no typed value a reader may miss
    if asked.before or asked.as_of is not None or not kinds:
        return None
    states = [
        i
        for i in items
        if isinstance(i, StateRetrieved)
        # As the answer shows it: "2,200" of "2,200 words".
        and normalise(shown(str(i.state.get("value")))) == normalise(answer)
    ]
    since = max((i.valid_from for i in states if i.valid_from), default=None)
    if since is None:
        return None
    texts = [
        i
        for i in items
        if not isinstance(i, StateRetrieved) and i.timestamp and i.timestamp > since
    ]
    found = typed_span(question, texts, asked_at)
    if found is None:
        return None
    words = asked.words - asked.hinted
    # The state's attribute, said again beside a word of the question that is not the
    # attribute's ("which takes Kestrel from 320 to 335 seats" after "seats: 320"), is the
    # same thing changed, however else the sentence is worded.
    keyed = set().union(*(content_stems(str(i.state.get("attribute", ""))) for i in states))
    # The noun the state is about counts as its attribute's does: "total tooling $41,500"
    # after "Tooling holds at $38,000" (subject "Tooling") is the same thing changed.
    heads = {
        h
        for i in states
        for name in (str(i.state.get("attribute", "")), str(i.state.get("subject", "")))
        if (h := _head(name))
    } & words
    for item in texts:
        if found not in item.text:
            continue
        if len(words & content_stems(item.text)) >= max(2, len(words) - 1):
            return found
        for sentence in SENTENCE.split(item.text):
            shared = words & content_stems(sentence)
            changed = found in sentence and keyed & words and keyed <= shared and shared - keyed
            if changed and _near(sentence, found, keyed):
                return found
            # "The count stays at 140." after "working guest count: 120": the attribute's
            # (or the subject's) head noun, asked about, with the new value nearest it.
            named = heads & shared
            if (
                found in sentence
                and named
                and _near(sentence, found, named)
                and _unqualified(sentence, found, named, keyed | words)
            ):
                return found
    return None


def _head(attribute: str) -> str | None:
    """The stem of an attribute's last word, the noun it is about ("count" of "working
    guest count"), when that is a content word."""
    found = re.findall(r"[\w'-]+", attribute)
    stems = content_stems(found[-1]) if found else set()
    return next(iter(stems), None)


def _unqualified(sentence: str, value: str, heads: set[str], allowed: set[str]) -> bool:
    """The mention of the head noun nearest the value is bare or qualified as the attribute
    is: "the count" or "guest count" for "working guest count", "15 seats" for "seats";
    not "error rate" for "blended rate"."""
    at = sentence.find(value)
    tokens = list(re.finditer(r"[\w'-]+", sentence))
    mentions = [n for n, t in enumerate(tokens) if content_stems(t.group(0)) & heads]
    if at < 0 or not mentions:
        return False
    nearest = min(mentions, key=lambda n: abs(tokens[n].start() - at))
    before = tokens[nearest - 1].group(0) if nearest else ""
    qualifier = content_stems(before)
    return not qualifier or bool(qualifier & allowed) or before[:1].isdigit()


def _near(sentence: str, value: str, stems: set[str]) -> bool:
    """Some word with one of `stems` has `value` as its nearest value of any kind ("from 320
    to 335 seats"; not "$34/month, and the 12% first-year discount", where the discount's
    value is the 12%)."""
    said = [(v.start, v.start + len(v.text), v.text) for v in values(sentence, None)]
    if not said:
        return False
    for word in re.finditer(r"[\w'-]+", sentence):
        if content_stems(word.group(0)) & stems:
            # Values of the word's own comma-delimited part first: in "carbonara goes up to
            # EUR 15, tiramisu stays at 7" the tiramisu's value is the 7.
            own = [
                v
                for v in said
                if not re.search(
                    r"[,;]\s", sentence[min(v[1], word.end()) : max(v[0], word.start())]
                )
            ]
            nearest = min(
                own or said,
                key=lambda v: v[0] - word.end() if v[0] >= word.end() else word.start() - v[1],
            )
            if normalise(nearest[2]) == normalise(value):
                return True
    return False
