"""When two statements say the same thing: exact, near-duplicate, or one covering the other.

Word overlap decides, not embedding distance: "Launch is on March 3" and "Launch is on
March 10" embed almost identically but say different things. Two texts are compared on
their content-word stems, and they must agree on their *specifics* (numbers, ids and
capitalised names after the first word), so a changed date, person or ticket is never
mistaken for a repeat. They must also agree on negation: "Erin no longer works at Acme"
neither repeats nor extends "Erin works at Acme".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from memos.agents.keyphrases import stem
from memos.text import STOPWORDS

_WORD = re.compile(r"[A-Za-z0-9][\w'#@.-]*[A-Za-z0-9]|[A-Za-z0-9]")
_SPECIFIC = re.compile(r"\d|^[A-Z]")
_NEGATION = re.compile(r"(?i)\b(?:not|no|never|nobody|nothing|none|neither|nor|without)\b|n't\b")


def normalized(text: str) -> str:
    """Lower case, punctuation dropped, spaces collapsed: for exact-duplicate checks."""
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


@dataclass(frozen=True, slots=True)
class Shape:
    """A text's content-word stems, its specifics, and whether it is negated."""

    words: frozenset[str]
    specifics: frozenset[str]
    negated: bool = False

    @classmethod
    def of(cls, text: str) -> Shape:
        tokens = _WORD.findall(text)
        words = frozenset(stem(t) for t in tokens if t.lower() not in STOPWORDS)
        specifics = frozenset(
            t.lower()
            for position, t in enumerate(tokens)
            if _SPECIFIC.search(t)
            and (position > 0 or any(c.isdigit() for c in t))
            and t.lower() not in STOPWORDS
        )
        return cls(words, specifics, bool(_NEGATION.search(text)))


def jaccard(a: Shape, b: Shape) -> float:
    if not a.words or not b.words:
        return 0.0
    return len(a.words & b.words) / len(a.words | b.words)


def same_specifics(a: Shape, b: Shape) -> bool:
    return a.specifics == b.specifics and a.negated == b.negated


def covers(bigger: Shape, smaller: Shape) -> bool:
    """Everything `smaller` says is in `bigger` (words and specifics)."""
    return (
        bool(smaller.words)
        and smaller.words <= bigger.words
        and smaller.specifics <= bigger.specifics
        and smaller.negated == bigger.negated
    )
