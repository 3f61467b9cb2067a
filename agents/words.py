"""Words that look like a name or a subject at the start of a phrase but never are one:
pronouns, determiners, days, months, greetings. The reader's patterns share this list and
add their own exceptions; the reader and the answerer also share what a bracketed aside
is."""

from __future__ import annotations

import re

NOT_NAMES = frozenset(
    [
        "a", "an", "and", "april", "august", "but", "december", "february", "final",
        "friday", "fyi", "good", "great", "he", "hello", "her", "here", "hey", "hi", "his",
        "i", "if", "it", "its", "january", "july", "june", "march", "may", "monday", "my",
        "new", "november", "october", "ok", "okay", "our", "please", "re", "saturday",
        "september", "she", "so", "sorry", "sunday", "thanks", "that", "the", "their",
        "there", "they", "this", "thursday", "today", "tomorrow", "tuesday", "update", "we",
        "wednesday", "you", "your"
    ]
)  # fmt: skip

# A bracketed aside: "(estimate $15,950 less the deductible)", "(was March 3)".
_ASIDE = re.compile(r"\s*\([^)]*\)")


def without_asides(text: str) -> str:
    """`text` with its bracketed asides taken out: what its main clause says."""
    return _ASIDE.sub("", text)


def asides(text: str) -> list[str]:
    """The bracketed asides of `text`, brackets stripped."""
    return [a.strip(" ()") for a in _ASIDE.findall(text)]
