"""Dates as people write them in chat ("March 10", "10 Mar", "2025-03-10", "Friday",
"next week", "tomorrow"), resolved against the time the message was sent."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

MONTHS = {
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "may": 5,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "sept": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
# One case-insensitive alternation, longest forms first, for use inside larger patterns.
DATE = (
    rf"(?i:\d{{4}}-\d{{2}}-\d{{2}}"
    rf"|{_MONTH}\s+{_DAY}(?:,?\s+\d{{4}})?"
    rf"|{_DAY}\s+(?:of\s+)?{_MONTH}(?:,?\s+\d{{4}})?"
    rf"|(?:next|this)\s+(?:{'|'.join(_WEEKDAYS)}|week|month)"
    rf"|{'|'.join(_WEEKDAYS)}|tomorrow|today"
    rf"|q[1-4](?:\s+\d{{4}})?)"
)
_DATE_ONLY = re.compile(rf"^{DATE}$", re.IGNORECASE)


def is_date(text: str) -> bool:
    return bool(_DATE_ONLY.match(text.strip()))


def resolve(text: str, said_at: datetime | None) -> date | None:
    """The calendar date `text` names, seen from `said_at` (a month and day without a year
    is the next such date within a year, allowing a month of looking back); None when it
    names no single day (a quarter) or is not a date."""
    value = text.strip().lower().replace(",", " ")
    value = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", value).replace(" of ", " ")
    base = (said_at or datetime.now()).date()
    iso = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", value)
    if iso:
        return _day(int(iso[1]), int(iso[2]), int(iso[3]))
    words = value.replace(".", "").split()
    if value == "today":
        return base
    if value == "tomorrow":
        return base + timedelta(days=1)
    if words and words[-1] in _WEEKDAYS:
        ahead = (_WEEKDAYS.index(words[-1]) - base.weekday()) % 7 or 7
        return base + timedelta(days=ahead)  # "(next) Friday": the coming one
    if words in (["next", "week"], ["next", "month"]):
        return base + timedelta(days=7 if words[1] == "week" else 30)
    month, day, year = _parts(words)
    if month is None or day is None:
        return None
    if year is not None:
        return _day(year, month, day)
    found = _day(base.year, month, day)
    if found is not None and found < base - timedelta(days=31):
        found = _day(base.year + 1, month, day)
    return found


def _parts(words: list[str]) -> tuple[int | None, int | None, int | None]:
    month = day = year = None
    for word in words:
        if word[:4] in MONTHS or word[:3] in MONTHS:
            month = MONTHS.get(word[:4], MONTHS.get(word[:3]))
        elif word.isdigit() and len(word) == 4:
            year = int(word)
        elif word.isdigit() and len(word) <= 2:
            day = int(word)
    return month, day, year


def _day(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None
