"""Answers to choice questions ("Will the SIV be on site or remote?", "Is the launch in
Lisbon or Porto?"): the option the latest recalled statement about the question's topic
names. An answer is always one of the options offered, never a span of another kind.

A statement counts when it names exactly one option (after a correction's old value is
left out: "remote, not on site") or, naming both, the later one ("moved from on site to
remote"), shares a word with the rest of the question, and is neither a question, a
hedge nor a negation. Options that are function words ("on or off") are left to the
other answerers, since they appear in nearly every sentence.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from memos.eval.memtrack.backends import Retrieved
from memos.eval.memtrack.spans import NOT_OLD, affirmed
from memos.eval.memtrack.states import content_stems, read_question, said_by
from memos.text import STOPWORDS

_CHOICE = re.compile(
    r"(?i)^(?:is|are|was|were|will|would|should|shall|do|does|did|has|have|can|could)\b"
    r"(?P<head>.*?)\s(?P<a>[\w'-]+(?:\s+[\w'-]+){0,3})\s*,?\s+or\s+(?:the\s+|a\s+|an\s+)?"
    r"(?P<b>[\w'-]+(?:\s+[\w'-]+){0,2})\s*\?\s*$"
)
# A preposition belongs to a phrase option ("on site", "in person") and is optional
# before a name ("in Lisbon" is said as "Lisbon").
_PREPOSITIONS = frozenset(["on", "in", "at", "with", "by", "from", "via", "over"])


_DECIDED = re.compile(
    r"(?i)\b(?:we're doing|we are doing|going with|go with|went with|booked|chose|chosen|"
    r"picked|decided on|settled on|opted for)\b"
)


def options(question: str) -> tuple[str, str] | None:
    """The two options a yes/no-style choice question offers, or None."""
    found = _CHOICE.match(question.strip())
    if found is None:
        return None
    b = found["b"].split()
    before = found["a"].split()
    a = before[-len(b) :]
    if len(before) > len(a) and before[-len(a) - 1].lower() in _PREPOSITIONS:
        a = [before[-len(a) - 1], *a]
    while len(a) > 1 and a[0].lower() in ("the", "a", "an"):
        a = a[1:]
    if any(" ".join(x).lower() in STOPWORDS for x in (a, b)):
        return None  # "on or off": function words are in nearly every sentence
    return " ".join(a), " ".join(b)


def _phrase(option: str) -> str:
    """An option as answered and searched: a name without its preposition."""
    words = option.split()
    if len(words) > 1 and words[0].lower() in _PREPOSITIONS and words[1][:1].isupper():
        return " ".join(words[1:])
    return option


def _at(option: str, text: str) -> int:
    """Where `option` is said in `text` (spaces and hyphens optional: "on-site",
    "onsite"), or -1."""
    words = [re.escape(w) for w in _phrase(option).split()]
    found = re.search(r"(?i)\b" + r"[\s-]?".join(words) + r"\b", text)
    return found.start() if found else -1


def chosen_option(
    question: str, items: Sequence[Retrieved], asked_at: datetime | None = None
) -> str | None:
    """The option the latest recalled statement names (see the module doc), or None."""
    offered = options(question)
    if offered is None:
        return None
    asked = read_question(question, asked_at)
    if asked.before:
        return None
    topic = content_stems(question) - content_stems(" ".join(offered))
    best: tuple[datetime, int, str] | None = None
    for when, rank, sentence in said_by(items, asked.as_of):
        body = affirmed(NOT_OLD.sub("", sentence))
        if not body:
            continue
        if not topic & content_stems(body) and not _DECIDED.search(body):
            continue  # "We're doing the band after all!": a decision needs no topic
        said = [(at, option) for option in offered if (at := _at(option, body)) >= 0]
        if not said:
            continue
        option = max(said)[1]  # both named: a change names the old one first
        if best is None or (when, -rank) > (best[0], best[1]):
            best = (when, -rank, _phrase(option))
    return best[2] if best is not None else None
