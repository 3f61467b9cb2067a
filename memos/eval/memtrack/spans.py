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

from memos.agents.statements import stated_nothing
from memos.agents.values import values
from memos.agents.words import asides, without_asides
from memos.eval.memtrack.backends import Retrieved
from memos.eval.memtrack.metrics import normalise
from memos.eval.memtrack.states import content_stems, read_question

# Shared with `choices`: an old value named beside the new ("May 5, not May 3"), a
# sentence break, and a negation.
NOT_OLD = re.compile(r"(?i),?\s*\(?(?:and\s+)?not\s+[^,.;()]+\)?|\((?:was|previously)\s+[^)]*\)")
SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
NEGATED = re.compile(r"(?i)\bnot\b|n't\b|\bnever\b|\bno longer\b")
_KINDS = {"percent", "count", "money", "date", "version"}


@dataclass(frozen=True, slots=True)
class _Span:
    value: str
    overlap: float
    current: bool
    when: datetime
    rank: int


def typed_span(
    question: str, items: Sequence[Retrieved], asked_at: datetime | None = None
) -> str | None:
    """The answer span of the asked kind, or None (see the module doc)."""
    asked = read_question(question, asked_at)
    kinds = asked.kinds & _KINDS
    if not kinds and (asked.kinds or asked.who):
        return None
    kinds = kinds or _KINDS  # "What is the floor area?": any value in the best sentence
    words = asked.words - asked.hinted
    found: list[_Span] = []
    from memos.eval.memtrack.memos_backend import StateRetrieved

    for rank, item in enumerate(items):
        text = item.text
        if isinstance(item, StateRetrieved) and item.said:
            # The sentence a state was read from, with where it was said ("... about
            # Catering quote: we'll go with €39 per person"), says more than its key.
            text = f"{text}\n{item.said}"
        for sentence in SENTENCE.split(text):
            if not sentence.strip() or stated_nothing(sentence):
                continue
            body = NOT_OLD.sub("", sentence)
            if NEGATED.search(body):
                continue
            overlap = len(words & content_stems(body)) / max(len(words), 1)
            if overlap == 0:
                continue
            # A bracketed aside elaborates ("Approved amount: $14,950 (estimate $15,950 less
            # $1,000 deductible)"): the value comes from the part the question's words are
            # in, the sentence's own part on a tie.
            parts = [without_asides(body), *asides(body)]
            part = max(parts, key=lambda p: (len(words & content_stems(p)), p is parts[0]))
            typed = [v for v in values(part, item.timestamp) if v.kind in kinds] or [
                v for v in values(body, item.timestamp) if v.kind in kinds
            ]
            if not typed:
                continue
            when = item.timestamp or datetime.min.replace(tzinfo=UTC)
            found.append(_Span(typed[-1].text, overlap, item.current is not False, when, rank))
    if not found:
        return None
    if asked.as_of is not None:
        found = [f for f in found if f.when <= asked.as_of] or found
    best = max(found, key=lambda f: (round(f.overlap, 1), f.current, f.when, -f.rank))
    if not asked.before:
        return best.value
    earlier = [
        f for f in found if f.when < best.when and normalise(f.value) != normalise(best.value)
    ]
    return max(earlier, key=lambda f: (f.when, -f.rank)).value if earlier else None


def newer_span(
    question: str, items: Sequence[Retrieved], asked_at: datetime | None, answer: str
) -> str | None:
    """A value of the asked kind stated after the state that gave `answer`, in a recalled
    text that shares nearly all the question's words: the reader missed that change. None
    when there is none (or the question asks about the past)."""
    from memos.eval.memtrack.memos_backend import StateRetrieved

    asked = read_question(question, asked_at)
    kinds = asked.kinds & _KINDS
    if asked.before or asked.as_of is not None or not kinds:
        return None
    states = [
        i
        for i in items
        if isinstance(i, StateRetrieved)
        and normalise(str(i.state.get("value"))) == normalise(answer)
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
    for item in texts:
        if found in item.text and len(words & content_stems(item.text)) >= max(2, len(words) - 1):
            return found
    return None
