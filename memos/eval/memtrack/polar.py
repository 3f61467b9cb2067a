"""Answers to yes/no questions ("Is the launch still on March 20?", "Is Google Ads still
one of the channels?", "Did Finance approve the budget?"): "yes" or "no", never a span.

A question that names a value is checked against the current one: the value is taken out
and the rest asked as the question it stands for ("Is the launch still on March 20?" ->
"When is the launch?", "Is PAY-210 done?" -> "What is the status of PAY-210?", "Is
Chiara the owner of IT-1402?" -> "Who is the owner of IT-1402?"), answered by the rest
of the cascade, and the two compared. A question with no value ("Is Google Ads still one
of the channels?") is answered by the latest recalled statement that says the question's
names and most of its words: "no" when it drops, cancels or negates what the question
asks about (or names it as the old value: "LinkedIn instead of Google Ads"), else "yes",
reversed when the question asks about the drop itself ("Was the order cancelled?").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from memos.agents.values import values
from memos.agents.words import NOT_NAMES, without_asides
from memos.eval.memtrack.answerers import UNKNOWN
from memos.eval.memtrack.backends import Retrieved
from memos.eval.memtrack.metrics import normalise
from memos.eval.memtrack.spans import NEGATED, NOT_OLD
from memos.eval.memtrack.states import content_stems, read_question, said_by

YES, NO = "yes", "no"
_POLAR = re.compile(
    r"(?i)^\s*(?P<aux>is|are|was|were|will|does|do|did|has|have|had|can)\s+(?P<rest>.+?)\s*\??\s*$"
)
# Words that ask whether a value still holds, and say nothing about what it is.
_STILL = re.compile(r"(?i)\s*\b(?:still|yet|already|currently|now|really|actually)\b")
# A statement that something is dropped, stopped or turned down.
_DROPPED = re.compile(
    r"(?i)\b(?:out|drop(?:ped|s)?|remov(?:ed|es?)|cancel+(?:ed|s)?|scrap(?:ped|s)?|"
    r"paus(?:ed|es?)|stop(?:ped|s)?|postpon(?:ed|es?)|reject(?:ed|s)?|declin(?:ed|es?)|"
    r"den(?:ied|ies|y)|fail(?:ed|s)?|kill(?:ed|s)?|withdr[ae]wn?|retir(?:ed|es?)|"
    r"call(?:ed)? off|turn(?:ed)? down|rolled back|revert(?:ed|s)?|not happening|"
    r"(?:back|pull|bow|drop)(?:s|ed|ing)?\s+out|"
    r"(?:take|takes|took|taken|taking)\s+(?:\w+\s+){0,2}off)\b"
)
# "unblocked", "unpaused": the status the question names, undone.
_UNDONE = re.compile(r"(?i)\bun(?P<w>[a-z]{4,})\b")
_STATUS_WORDS = re.compile(
    r"(?i)\b(?P<v>done|closed|open|merged|shipped|released|resolved|blocked|on hold|"
    r"in progress|in review|live|approved|signed|confirmed|booked|paid|complete|completed)\s*$"
)
_HOLDER = re.compile(
    r"^(?P<name>[A-Z][\w'.-]+(?:\s+[A-Z][\w'.-]+){0,2})\s+(?P<role>(?:the|our|their)\s+.+)$"
)
# "May 5, not May 3", "(not the newsletter)": a correction names an old value; only what
# is left may negate the statement.
_CORRECTION = re.compile(r"(?i)(?:,|\()\s*(?:and\s+)?not\s+[^,.;()]+\)?")
_ACTION = re.compile(r"(?i)^\s*(?:did|does|do|has|have|had)\b")
_PREPOSITION = re.compile(r"(?i)\s*\b(?:on|for|at|in|to|by|from|of|set to|down to|up to)\s*$")
_WH = {
    "date": "When",
    "money": "How much",
    "percent": "What percentage",
    "count": "How many",
    "version": "Which version",
}


@dataclass(frozen=True, slots=True)
class _Asked:
    """A yes/no question taken apart: the value it names (and its kind), and the
    question it stands for without it."""

    value: str | None
    kind: str | None
    open_question: str | None


def is_polar(question: str) -> bool:
    """Whether `question` asks for yes or no (not a choice: "on site or remote?")."""
    found = _POLAR.match(question)
    return found is not None and not re.search(r"(?i)\bor\b", found["rest"])


def _abbreviated(words: set[str], said: set[str]) -> set[str]:
    """The question's words a sentence writes short ("prod" for "production") or as a
    word made from them ("sponsorship" for "sponsor")."""
    return {
        w
        for w in words
        for s in said
        if (len(s) >= 3 and len(w) > len(s) and w.startswith(s))
        or (len(w) >= 5 and len(s) > len(w) and s.startswith(w))
    }


def _take_apart(question: str, asked_at: datetime | None, *, undone: bool = False) -> _Asked:
    found = _POLAR.match(question)
    if found is None:
        return _Asked(None, None, None)
    aux, rest = found["aux"].lower(), _STILL.sub("", found["rest"]).strip()
    rest = re.sub(r"(?i)^there\s+", "", rest)  # "Are there 180 laptops in scope?"
    holder = _HOLDER.match(rest)
    if holder is not None and "person" in read_question(holder["role"], asked_at).kinds:
        # "Is Chiara the owner of IT-1402?" -> "Who is the owner of IT-1402?"
        return _Asked(holder["name"], "person", f"Who {aux} {holder['role']}?")
    typed = [v for v in values(rest, asked_at) if v.kind in _WH]
    if typed:
        value = typed[-1]
        head = _PREPOSITION.sub("", rest[: value.start])
        tail = rest[value.end :]
        body = " ".join(f"{head} {tail}".split())
        return _Asked(value.text, value.kind, f"{_WH[value.kind]} {aux} {body}?")
    status = _STATUS_WORDS.search(rest)
    if status is not None and aux in ("is", "are", "was", "were") and not undone:
        subject = rest[: status.start()].strip()
        return _Asked(status["v"], "status", f"What {aux} the status of {subject}?")
    return _Asked(None, None, None)


def polar_answer(
    question: str,
    items: Sequence[Retrieved],
    asked_at: datetime | None,
    ask: Callable[[str], str],
) -> str | None:
    """ "yes" or "no" for a yes/no question (see the module doc), None when it is not one
    or nothing recalled speaks to it. `ask` answers an open question (the cascade)."""
    if not is_polar(question):
        return None
    # "Is production SSO still blocked?": a statement about it ("Prod SSO is unblocked")
    # answers before a status keyed to something else does.
    statement, undone = _by_statement(question, items, asked_at)
    taken = _take_apart(question, asked_at, undone=undone)
    if taken.kind == "date" and taken.value is not None and _ACTION.match(question):
        # "Did the place pass the inspection on April 2?": the date says when, a statement
        # of what happened ("we did NOT pass today") says whether.
        undated = question.replace(taken.value, " ")
        happened, _ = _by_statement(undated, items, asked_at)
        if happened is not None:
            return happened
    if taken.open_question is not None and taken.value is not None:
        current = ask(taken.open_question)
        if current != UNKNOWN:
            return YES if _same(taken.value, current, taken.kind, asked_at) else NO
    return statement


def _same(value: str, answer: str, kind: str | None, asked_at: datetime | None) -> bool:
    if kind in ("date", "money", "percent", "count", "version"):
        mine = [v.text for v in values(answer, asked_at) if v.kind == kind]
        theirs = [v.text for v in values(value, asked_at) if v.kind == kind]
        if mine and theirs:
            return normalise(mine[0]) == normalise(theirs[0])
    a, b = normalise(value), normalise(answer)
    return a == b or (bool(a) and bool(b) and (a in b.split() or b in a.split()))


def _by_statement(
    question: str, items: Sequence[Retrieved], asked_at: datetime | None
) -> tuple[str | None, bool]:
    """The answer the latest statement about the question gives, and whether that
    statement undoes the question's own word ("unblocked" for "blocked")."""
    asked = read_question(question, asked_at)
    words = content_stems(_STILL.sub("", question)) - content_stems("one")
    names = {n for n in asked.names if n not in NOT_NAMES}
    asks_drop = bool(_DROPPED.search(question))
    best: tuple[datetime, float, int, str, bool] | None = None
    for when, rank, sentence in said_by(items, asked.as_of):
        if _names_only(sentence):
            continue  # "Gus's Pizza (Sponsorship).": a signature or title says no yes or no
        # "we have to back out of the sponsorship", written by Gus Pappas, is about Gus's
        # Pizza: the author is part of what a sentence says about them.
        author = items[rank].actor or ""
        said = content_stems(sentence) | content_stems(author)
        undone = {w for m in _UNDONE.finditer(sentence) for w in content_stems(m["w"])} & words
        spoken = {w.lower() for w in re.findall(r"[\w'-]+", f"{sentence} {author}")}
        if (names and not names & spoken) or (len(names) > 1 and len(names - spoken) > 1):
            continue
        overlap = len(words & (said | undone | _abbreviated(words, said))) / max(len(words), 1)
        if overlap < 0.5:
            continue
        # "LinkedIn instead of the newsletter": what the question asks about is the old
        # value. "Finance did not approve": a plain negation, not a correction.
        gone = bool(words & content_stems(sentence) - content_stems(NOT_OLD.sub("", sentence)))
        negated = NEGATED.search(_CORRECTION.sub("", sentence))
        dropped = gone or bool(negated) or bool(_DROPPED.search(sentence)) or bool(undone)
        answer = YES if dropped == asks_drop else NO
        key = (when, overlap, -rank)
        if best is None or key > best[:3]:
            best = (when, overlap, -rank, answer, bool(undone))
    return (best[3], best[4]) if best is not None else (None, False)


def _names_only(sentence: str) -> bool:
    """The sentence, its asides left out, is two or more words, each capitalised or a
    number: a name, a signature or a title line, which states nothing ("Approved." does)."""
    words = re.findall(r"[\w'\u2019&-]+", without_asides(sentence))
    return len(words) >= 2 and all(w[:1].isupper() or w[:1].isdigit() for w in words)
