"""The text an item is found by, and the terms a query is searched with.

An item is found by more than its content: who said it (`author`), the context it was
said in (`context`, e.g. the message it answered), its tags and keywords, and when it was
true. The vector sees `author: content` (context dilutes a single embedding); the lexical
index sees all of it.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable
from datetime import date, datetime

from memos.models import MemoryItem

# Function words carry no evidence and make an OR query match everything.
STOPWORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "don",
        "down",
        "during",
        "each",
        "ever",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "herself",
        "him",
        "himself",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "me",
        "more",
        "most",
        "my",
        "myself",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "ourselves",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "themselves",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "yourself",
        "yourselves",
        "s",
        "t",
    ]
)
_WORD = re.compile(r"\w+", re.UNICODE)


def query_terms(query: str) -> list[str]:
    """Lower-cased content words of a query, de-duplicated in order."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(query.lower()):
        if (word not in STOPWORDS and not word.isdigit()) or (word.isdigit() and len(word) >= 2):
            seen.setdefault(word, None)
    return list(seen)


def render_date(value: datetime) -> str:
    """A date as people write it ('8 May 2023'), so 'May 2023' in a query can match."""
    return f"{value.day} {value:%B %Y}"


def vector_text(content: str, author: str | None) -> str:
    return f"{author}: {content}" if author else content


def lexical_text(item: MemoryItem) -> str:
    parts: list[str] = []
    if item.author:
        parts.append(f"{item.author}:")
    parts.append(item.content or "")
    if item.context:
        parts.append(item.context)
    parts.extend(item.tags)
    parts.extend(item.keywords)
    # Only a stated world time is worth matching; the default is just the recording time.
    if item.valid_from != item.created_at:
        parts.append(render_date(item.valid_from))
    return " ".join(parts)


def mentions(query: str, names: Iterable[str]) -> set[str]:
    """The names (or their first word) that a query mentions as whole words."""
    lowered = query.lower()
    found: set[str] = set()
    for name in names:
        for candidate in {name.lower(), name.lower().split()[0]} if name.strip() else set():
            if re.search(rf"(?<!\w){re.escape(candidate)}(?!\w)", lowered):
                found.add(name)
    return found


_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}
_MONTH = r"(?P<{}>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(?P<{}>[0-3]?\d)(?:st|nd|rd|th)?"
_YEAR = r"(?P<{}>(?:19|20)\d\d)"
_DATE_FORMS = [
    re.compile(rf"\b{_YEAR.format('y')}-(?P<m>[01]\d)-(?P<d>[0-3]\d)\b"),
    re.compile(rf"\b{_DAY.format('d')}(?: of)? {_MONTH.format('mn')},? {_YEAR.format('y')}\b"),
    re.compile(rf"\b{_MONTH.format('mn')} {_DAY.format('d')},? {_YEAR.format('y')}\b"),
    re.compile(rf"\b{_DAY.format('d')}(?: of)? {_MONTH.format('mn')}\b(?!,? \d)"),
    re.compile(rf"\b{_MONTH.format('mn')} {_DAY.format('d')}\b(?!,? (?:19|20)\d\d)(?!\d)"),
    re.compile(rf"\b{_MONTH.format('mn')},? {_YEAR.format('y')}\b"),
    re.compile(rf"\b{_YEAR.format('y')}\b"),
]


def query_dates(query: str) -> list[tuple[date, date]]:
    """The calendar spans a query names, as inclusive (first day, last day) pairs.

    '1 May, 2022', 'May 1st 2022' and '2022-05-01' name a day; 'November 2022' a month;
    '2023' a year. A day without a year ('between August 11 and August 15 2023') takes
    the year the query names elsewhere, and is dropped when it names none. Each part of
    the text counts once, for its most precise reading.
    """
    text = query.lower()
    taken: list[tuple[int, int]] = []
    spans: list[tuple[date, date]] = []
    years = [int(y) for y in re.findall(r"\b((?:19|20)\d\d)\b", text)]
    for form in _DATE_FORMS:
        for found in form.finditer(text):
            start, end = found.span()
            if any(start < e and s < end for s, e in taken):
                continue
            parts = found.groupdict()
            if parts.get("y") is None and not years:
                continue
            year = int(parts["y"]) if parts.get("y") else years[-1]
            month = _MONTHS[parts["mn"]] if parts.get("mn") else parts.get("m")
            try:
                if month is None:
                    span = (date(year, 1, 1), date(year, 12, 31))
                elif parts.get("d") is None:
                    last = calendar.monthrange(year, int(month))[1]
                    span = (date(year, int(month), 1), date(year, int(month), last))
                else:
                    day = date(year, int(month), int(parts["d"]))
                    span = (day, day)
            except ValueError:  # '31 February' names no day: not a year either
                taken.append((start, end))
                continue
            taken.append((start, end))
            spans.append(span)
    return spans
