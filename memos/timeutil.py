"""Time handling: every timestamp in memos is a timezone-aware UTC datetime."""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from memos.errors import InvalidInputError

# Where memos reads the time: injectable, so tests and replays control it.
Clock = Callable[[], datetime]

# Longer than anyone means by a time to live, and far from datetime overflow.
MAX_TTL = timedelta(days=100 * 365)

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def utcnow() -> datetime:
    """The current time as an aware UTC datetime."""
    return datetime.now(UTC)


class ReplayClock:
    """The time of a replayed timeline: it reads the moment a replayer last set (the
    event being stored, the question being asked), one microsecond later per reading so
    successive writes stay ordered; the wall clock until the first `set`. A memos opened
    on it (`memos.open(home, clock=ReplayClock())`) stores and searches as if each event
    arrived at its own time, so results do not depend on the day the replay runs."""

    def __init__(self) -> None:
        self._at: datetime | None = None
        self._lock = threading.Lock()

    def set(self, moment: datetime, *, rewind: bool = False) -> None:
        """Make `moment` (aware) the time from now on. Time never goes back unless
        `rewind` (a new timeline starts): two events stamped alike, or a question asked
        at its event's time, must not order writes before earlier ones."""
        if moment.tzinfo is None:
            raise InvalidInputError(f"a replay time must be timezone-aware, got {moment!r}")
        moment = moment.astimezone(UTC)
        with self._lock:
            if rewind or self._at is None or moment > self._at:
                self._at = moment

    def __call__(self) -> datetime:
        with self._lock:
            if self._at is None:
                return utcnow()
            self._at += timedelta(microseconds=1)
            return self._at


def to_utc(value: datetime) -> datetime:
    """Normalise a datetime to aware UTC; a naive one is taken to be UTC already.

    Raises:
        InvalidInputError: the moment falls outside the years 1-9999 once in UTC.
    """
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise InvalidInputError(
            f"{value.isoformat()} is out of range once converted to UTC (years 1-9999)"
        ) from None


def parse_time(value: datetime | str | None, *, field: str = "time") -> datetime | None:
    """Parse an ISO 8601 string (or pass a datetime through) into aware UTC.

    Raises:
        InvalidInputError: the string is not an ISO 8601 date or date-time.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return to_utc(value)
    if not isinstance(value, str):
        raise InvalidInputError(f"{field} must be an ISO 8601 string or datetime, got {value!r}")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInputError(
            f"{field} {value!r} is not a valid ISO 8601 date or date-time "
            "(for example 2025-03-03 or 2025-03-03T09:00:00Z)"
        ) from None
    try:
        return to_utc(parsed)
    except InvalidInputError as exc:
        raise InvalidInputError(f"{field}: {exc}") from None


def parse_ttl(value: timedelta | float | int | str | None) -> timedelta | None:
    """Parse a time-to-live: a timedelta, seconds, or a string such as '90s', '2h', '7d'.

    Raises:
        InvalidInputError: the value is not a positive duration.
    """
    if value is None:
        return None
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, bool):
        raise InvalidInputError(f"ttl must be a duration, got {value!r}")
    elif isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        match = _DURATION.match(value)
        if match is None:
            raise InvalidInputError(
                f"ttl {value!r} is not a duration; use seconds or a number with s, m, h, d or w"
            )
        seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    else:
        raise InvalidInputError(f"ttl must be a duration, got {value!r}")
    if not math.isfinite(seconds) or seconds <= 0:
        raise InvalidInputError(f"ttl must be a positive, finite duration, got {value!r}")
    if seconds > MAX_TTL.total_seconds():
        raise InvalidInputError(
            f"ttl {value!r} is longer than {MAX_TTL.days // 365} years; leave ttl unset for "
            "a memory that does not expire"
        )
    return timedelta(seconds=seconds)


def isoformat(value: datetime | None) -> str | None:
    """ISO 8601 text of an aware datetime, or None."""
    return None if value is None else to_utc(value).isoformat()
