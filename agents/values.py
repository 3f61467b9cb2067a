"""Typed values in a sentence: money, percentages, versions, dates (relative ones resolved
against the message's time), counts with their unit, people, places and on/off switches.

The general statement reader (`memos.agents.statements`) asks for the value a clause
states and, when the clause names no attribute, lets the value's kind say what it is
("rolled back to 0%" is a rollout, "pushed to September 30" a date). Values keep the
surface form of the text, trimmed to the value itself ("€39", not "€39 per person"), so a
question's answer can be read straight from a stored state; dates are written one way
("September 30"), with relative ones ("Tuesday next week") resolved to that form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from memos.agents.dates import resolve
from memos.agents.words import NOT_NAMES

MONTH_NAMES = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_WEEKDAY = r"(?:mon|tues?|wed(?:nes)?|thu(?:rs?)?|fri|sat(?:ur)?|sun)(?:day)?\.?"
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
_NUMBER_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "a": 1,
    "an": 1,
}
# Counts people spell out ("twenty extras", "thirty-two guests"): eleven to ninety-nine.
_TEENS = [
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen"
]  # fmt: skip
_TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_ONES = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
_NUMBER_WORDS.update({word: 11 + i for i, word in enumerate(_TEENS)})
_NUMBER_WORDS.update({word: 20 + 10 * i for i, word in enumerate(_TENS)})
_NUMBER_WORDS.update(
    {
        f"{tens}-{one}": 20 + 10 * i + 1 + j
        for i, tens in enumerate(_TENS)
        for j, one in enumerate(_ONES)
    }
)
_ABSOLUTE = re.compile(
    rf"(?i)\b(?:{_WEEKDAY},?\s+)?(?:(?P<iso>\d{{4}}-\d{{2}}-\d{{2}})"
    rf"|(?P<m1>{_MONTH})\s+(?P<d1>{_DAY})\b(?:,?\s+(?P<y1>\d{{4}}))?"
    rf"|(?P<d2>{_DAY})\s+(?:of\s+)?(?P<m2>{_MONTH})(?:,?\s+(?P<y2>\d{{4}}))?)(?![\w/])"
)
_RELATIVE = re.compile(
    rf"(?i)\b(?:(?P<wd1>{_WEEKDAY})\s+(?P<which>next|this)\s+week"
    rf"|(?P<rel>next|this|coming)\s+(?P<wd2>{_WEEKDAY})"
    rf"|(?:in\s+)?(?P<n>\d+|one|two|three|four|five|six|seven|eight|nine|ten|a)\s+"
    rf"(?P<unit>days?|weeks?)\s+from\s+(?:today|now)"
    rf"|in\s+(?P<n2>\d+|one|two|three|four|five|six|seven|eight|nine|ten|a)\s+"
    rf"(?P<unit2>days?|weeks?)"
    rf"|(?P<day>tomorrow|today)"
    rf"|(?P<wd3>{_WEEKDAY})(?!\s*,?\s*(?:{_MONTH}|\d)))\b"
)
# "the 23rd": a day of the month the reader knows from context.
_NUMERIC_DATE = re.compile(
    r"(?<![\w/.-])(?P<a>\d{1,2})/(?P<b>\d{1,2})/(?P<y>\d{4}|\d{2})(?![\w/-]|\.\d)"
)
# "Sat 3/27", "due 4/30", "through 5/22": a month and day written with a slash and no
# year, read only beside a weekday or a word that introduces a date (a bare "3/4" is as
# often a share).
_SHORT_DATE = re.compile(
    rf"(?i)(?:\b(?P<wd>{_WEEKDAY})\.?,?|\b(?:on|by|due|through|thru|until|till|til|to|from|"
    r"before|after|starting|starts|effective|since|as of)\b)\s+"
    r"(?P<a>\d{1,2})/(?P<b>\d{1,2})(?![\w/%]|\.\d)"
)
_WEEKDAY_DAY = re.compile(
    rf"(?i)\b(?P<wd>{_WEEKDAY}),?\s+(?:the\s+)?(?P<d>\d{{1,2}})(?:st|nd|rd|th)\b"
)
_ORDINAL_DAY = re.compile(r"(?i)\bthe\s+(?P<d>\d{1,2})(?:st|nd|rd|th)\b")
_CURRENCY = r"(?:[$€£¥]|(?:USD|EUR|GBP|NOK|SEK|DKK|CHF|JPY|CAD|AUD|INR)\s?)"
MONEY = re.compile(
    rf"(?:(?<![\w$€£¥]){_CURRENCY}\s?\d+(?:,\d{{3}})*(?:\.\d+|,\d{{1,2}}(?!\d))?(?:\s?[kKmM](?![\w])|\s(?:million|billion|bn|thousand)\b)?"
    r"|\b\d+(?:,\d{3})*(?:\.\d+|,\d{1,2}(?!\d))?\s?(?:[kKmM]\s)?(?:euros?|dollars?|pounds|EUR|USD|NOK|SEK|DKK|GBP|"
    r"CHF|kr)\b)"
)
PERCENT = re.compile(r"(?i)(?<![\w.])\d+(?:\.\d+)?\s?(?:%|percent\b)")
VERSION = re.compile(
    r"(?i)(?<![\w.])v?\d+\.\d+(?:\.\d+)*(?:[-.]?(?:rc|beta|alpha|b)\.?\d*)?(?![\w%])(?!\.\d)"
)
_VERSION_CUE = re.compile(
    r"\b(?i:version|release[sd]?|build|sdk|app|ship(?:s|ped|ping)?|cut|tag(?:ged)?|"
    r"hotfix|patch|target(?:s|ed|ing)?|in|to|from|on|is|now|be|v)\s*$|\b[A-Z][\w-]{1,20}\s+$"
)
COUNT = re.compile(
    r"(?<![\w.,$€£%-])\d{1,3}(?:,\d{3})+(?![\w.,]\d)|(?<![\w.,$€£%:/-])\d{1,6}(?![\w%:/']|[.,]\d|-[a-z])"
)
_SCALED = re.compile(
    r"(?<![\w.,$€£%-])\d{1,4}(?:\.\d{1,3})?\s?(?:[kKM]|million|billion|bn|thousand)(?![\w-])"
)
_UNIT = re.compile(r"\s+(?P<unit>[a-z][a-z-]{1,20}(?:\s(?:per|a|an)\s[a-z]+)?|[KMGTP]i?B(?![\w-]))")
_NOT_UNITS = frozenset(
    [
        "now",
        "today",
        "tomorrow",
        "and",
        "or",
        "in",
        "on",
        "at",
        "by",
        "for",
        "per",
        "of",
        "to",
        "from",
        "more",
        "less",
        "so",
        "but",
        "with",
        "than",
        "again",
        "instead",
        "left",
        "total",
        "max",
        "min",
        "tops",
        "is",
        "are",
        "was",
        "were",
        "will",
        "be",
        "the",
        "a",
        "an",
        "this",
        "that",
        "it",
        "if",
        "as",
        "after",
        "before",
        "since",
        "until",
        "then",
        "still",
        "already",
        "yet",
        "only",
        "just",
        "also",
        "not",
        "no",
        "after",
    ]
)
_TIME_UNIT = re.compile(r"(?i)^(?:am|pm|h|hrs?|hours?|minutes?|mins?|seconds?|secs?|ms)$")
_SPELLED = "|".join(sorted((w for w in _NUMBER_WORDS if len(w) > 2), key=len, reverse=True))
# "one hundred fifty-one students (151)": a spelled-out large number is not "1 hundred".
_WORD_COUNT = re.compile(
    rf"(?i)(?<![\w-])(?<!hundred\s)(?<!thousand\s)(?P<w>{_SPELLED})\s+(?P<u>(?!more\b|of\b|"
    r"or\b|and\b|week|day|month|year|hour|minute|time|hundred|thousand|million|billion)"
    r"[a-z][a-z-]{2,20})\b"
)
# "one hundred fifty-one students", "a hundred and twelve seats": a count of hundreds.
_HUNDREDS = re.compile(
    rf"(?i)(?<![\w-])(?P<h>a|one|two|three|four|five|six|seven|eight|nine)\s+hundred"
    rf"(?:\s+(?:and\s+)?(?P<r>{_SPELLED}))?\s+(?P<u>(?!more\b|of\b|or\b|and\b|thousand\b)"
    r"[a-z][a-z-]{2,20})\b"
)
SWITCH = re.compile(r"(?i)\b(?:on|off|enabled|disabled|paused|live)\b")
_TITLE = r"(?:Dr|Mr|Mrs|Ms|Prof)\.?\s+"
_NOT_NAMES = NOT_NAMES | frozenset(
    [
        "active", "all", "approved", "as", "at", "basic", "blocked", "business", "by",
        "canceled", "cancelled", "closed", "comment", "deal", "done", "draft", "enterprise",
        "flag", "for", "free", "from", "growth", "i'm", "in", "invitation", "let's", "lost",
        "of", "on", "open", "or", "pending", "phone", "plus", "premium", "pro", "ready",
        "rejected", "release", "reminder", "stage", "standard", "starter", "status",
        "subject", "team", "then", "to", "we're", "we've", "with", "won", "yesterday",
        # A verb that opens a message is no first name ("Paging Maya to take IC").
        "paging", "pinging", "asking", "adding", "looping", "welcoming", "thanking",
        "calling", "inviting", "tagging", "messaging", "emailing", "texting", "nudging",
        "reminding", "congrats", "congratulations", "dear", "cc", "ping", "ask", "per"
    ]
)  # fmt: skip
# Capitalised last words that make a phrase a place, a stage or a company, not a person.
_NOT_NAME_ENDS = frozenset(
    [
        "hall",
        "office",
        "center",
        "centre",
        "room",
        "building",
        "hotel",
        "street",
        "st",
        "park",
        "labs",
        "inc",
        "ltd",
        "llc",
        "gmbh",
        "screen",
        "review",
        "progress",
        "done",
        "offer",
        "hired",
        "onsite",
        "team",
        "api",
        "app",
        "sdk",
        "board",
        "hq",
        "campus",
        "square",
        "station",
        "airport",
        "club",
        "bar",
        "cafe",
        "restaurant",
        "arena",
        "brothers",
        "bros",
        "builders",
        "electric",
        "logistics",
        "group",
        "partners",
        "services",
        "solutions",
        "systems",
        "consulting",
        "construction",
        "catering",
        "movers",
        "studio",
        "agency",
        "associates",
        "company",
        "corp",
        "corporation",
        "industries",
        "technologies",
        "media",
        "freight",
        "transport",
        "shipping",
        "fabrication",
        "cabinetry",
        "portal",
        "bank",
        "insurance",
        "realty",
        "properties",
        # Departments and bodies that sign an email ("Program Committee", "Group Sales").
        "committee",
        "council",
        "department",
        "dept",
        "office",
        "sales",
        "support",
        "engineering",
        "operations",
        "marketing",
        "finance",
        "procurement",
        "analytics",
        "status",
        "desk",
        "service",
        "photography",
    ]
)
# A name's word: "Dana", "O'Reilly", "Jean-Luc", "D'Angelo" (a capital may follow an
# apostrophe or a hyphen inside the word).
_NAME_WORD = (
    r"[A-Z](?:[a-z\u00C0-\u017F]+|'[A-Z][a-z\u00C0-\u017F]+)(?:[-'][A-Za-z][a-z\u00C0-\u017F]*)*"
)
PERSON = re.compile(
    rf"@[\w.-]+|(?:{_TITLE})?\b{_NAME_WORD}(?:\s+(?:van|de|von|da|del|der)?\s*{_NAME_WORD}){{1,2}}\b"
)


@dataclass(frozen=True, slots=True)
class Value:
    """A typed value found in a text: its kind, its form as stored, and where it was."""

    kind: str  # money | percent | version | date | count | person | switch
    text: str
    start: int
    end: int
    unit: str | None = None


def date_text(day: date) -> str:
    """The one written form of a date in memories ('September 30')."""
    return f"{MONTH_NAMES[day.month - 1]} {day.day}"


def _weekday(word: str) -> int:
    return _WEEKDAYS.index(word.lower()[:3])


def _count(word: str) -> int:
    return int(word) if word.isdigit() else _NUMBER_WORDS[word.lower()]


def _relative(match: re.Match[str], at: datetime | None) -> date | None:
    if at is None:
        return None
    base = at.date()
    if match["wd1"]:
        monday = base - timedelta(days=base.weekday())
        if match["which"].lower() == "next":
            monday += timedelta(days=7)
        return monday + timedelta(days=_weekday(match["wd1"]))
    if match["wd2"]:
        ahead = (_weekday(match["wd2"]) - base.weekday()) % 7 or 7
        if match["rel"].lower() == "next" and ahead < 7 and base.weekday() < _weekday(match["wd2"]):
            # "next Tuesday" said on a Monday is usually the Tuesday of next week.
            ahead += 7 if ahead <= 1 else 0
        return base + timedelta(days=ahead)
    number, unit = match["n"] or match["n2"], match["unit"] or match["unit2"]
    if number and unit:
        days = _count(number) * (7 if unit.lower().startswith("week") else 1)
        return base + timedelta(days=days)
    if match["day"]:
        return base + timedelta(days=1 if match["day"].lower() == "tomorrow" else 0)
    if match["wd3"]:
        ahead = (_weekday(match["wd3"]) - base.weekday()) % 7 or 7
        return base + timedelta(days=ahead)
    return None


def dates(text: str, at: datetime | None) -> list[Value]:
    """Dates in a text, absolute ones first in reading order, then relative ones that do
    not overlap them; each written as 'Month D'."""
    found: list[Value] = []
    for match in _ABSOLUTE.finditer(text):
        day = resolve(_strip_weekday(match.group(0)), at)
        if day is not None:
            found.append(Value("date", date_text(day), match.start(), match.end()))
    for match in _NUMERIC_DATE.finditer(text):
        # "9/30/2027" and "30/9/2027" name one day; "3/4/2027" could be either: skipped.
        a, b, year = int(match["a"]), int(match["b"]), int(match["y"])
        if (a > 12) == (b > 12):
            continue
        month, nth = (b, a) if a > 12 else (a, b)
        try:
            numeric = date(year if year > 99 else 2000 + year, month, nth)
        except ValueError:
            continue
        found.append(Value("date", date_text(numeric), match.start(), match.end()))
    taken = [(v.start, v.end) for v in found]
    for match in _SHORT_DATE.finditer(text):
        if any(s < match.end() and match.start() < e for s, e in taken):
            continue
        day = _short_date(int(match["a"]), int(match["b"]), match["wd"], at)
        if day is not None:
            start = match.start("wd") if match["wd"] else match.start("a")
            found.append(Value("date", date_text(day), start, match.end()))
            taken.append((start, match.end()))
    for match in _WEEKDAY_DAY.finditer(text):
        if any(s < match.end() and match.start() < e for s, e in taken):
            continue
        day = _weekday_day(_weekday(match["wd"]), int(match["d"]), at)
        if day is not None:
            found.append(Value("date", date_text(day), match.start(), match.end()))
            taken.append((match.start(), match.end()))
    for match in _RELATIVE.finditer(text):
        if any(s < match.end() and match.start() < e for s, e in taken):
            continue
        day = _relative(match, at)
        if day is not None:
            found.append(Value("date", date_text(day), match.start(), match.end()))
    return sorted(found, key=lambda v: v.start)


def _short_date(a: int, b: int, weekday: str | None, at: datetime | None) -> date | None:
    """ "3/27" seen from `at`: month first (day first when the first number cannot be a
    month), the next such day within a year allowing a month of looking back; a weekday
    written beside it picks the reading and the year it falls on ("Mon 1/18")."""
    orders = [(a, b), (b, a)] if a <= 12 and b <= 12 else [(a, b)] if a <= 12 else [(b, a)]
    base = (at or datetime.now(UTC)).date()
    for month, nth in orders:
        days = []
        for year in (base.year - 1, base.year, base.year + 1):
            try:
                days.append(date(year, month, nth))
            except ValueError:
                continue
        if weekday is None:
            ahead = [d for d in days if d >= base - timedelta(days=31)]
            return min(ahead) if ahead else None  # "3/4" unqualified is March 4
        fitting = [d for d in days if d.weekday() == _weekday(weekday)]
        if fitting:
            return min(fitting, key=lambda d: abs((d - base).days))
    return None


def _weekday_day(weekday: int, day: int, at: datetime | None) -> date | None:
    """'Saturday the 20th': the first such day from `at` on that falls on that weekday
    (within three months); the weekday names which month is meant."""
    if at is None or not 1 <= day <= 31:
        return None
    year, month = at.year, at.month
    for _ in range(3):
        try:
            found = date(year, month, day)
        except ValueError:
            found = None
        if found is not None and found >= at.date() and found.weekday() == weekday:
            return found
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return None


def _strip_weekday(text: str) -> str:
    return re.sub(rf"(?i)^{_WEEKDAY},?\s+", "", text.strip())


def ordinal_day(text: str, at: datetime | None, near: date | None = None) -> Value | None:
    """'the 23rd', resolved in the month of `near` (a date the context holds) or of `at`."""
    match = _ORDINAL_DAY.search(text)
    base = near or (at.date() if at else None)
    if match is None or base is None:
        return None
    try:
        day = base.replace(day=int(match["d"]))
    except ValueError:
        return None
    return Value("date", date_text(day), match.start(), match.end())


# A phone number ("(518) 555-0143", "+41 44 123 45 67", "518-555-0143"), as written.
PHONE_NUMBER = re.compile(
    r"(?<![\w.])\(\d{2,4}\)\s?\d{3,4}[\s.-]\d{3,4}(?![\w-])"  # (518) 555-0143
    r"|(?<![\w.])\+\d{1,3}(?:[\s.-]?\(?\d{1,4}\)?){2,5}(?![\w-])"  # +41 44 123 45 67
    r"|(?<![\w.-])\d{3}[.-]\d{3}[.-]\d{4}(?![\w-])"  # 518-555-0143
)
# A phone number or extension in a signature ("ext. 4471", "tel: 555 0143" too) is no
# count, amount or date.
_PHONE = re.compile(
    rf"{PHONE_NUMBER.pattern}|\b(?:ext|tel|phone|mobile|fax)\.?:?\s*\+?\d[\d\s().-]{{2,}}\d"
)

# A street address ("218 Alder St", "14880 Jurupa Ave") is a place: its number is no count
# and its street no person.
STREET_ADDRESS = re.compile(
    r"(?<![\w.,-])\d{1,6}[A-Z]?\s+(?:[NSEW]\.?\s+)?(?:[A-Z][\w'.-]*\s+){1,3}"
    r"(?:St|Street|Ave|Avenue|Rd|Road|Blvd|Boulevard|Dr|Drive|Ln|Lane|Way|Pl|Place|Ct|Court|"
    r"Pkwy|Parkway|Hwy|Highway|Terrace|Ter|Sq|Square|Cir|Circle)\b\.?"
)


def values(text: str, at: datetime | None = None) -> list[Value]:
    """Every typed value in `text`, in reading order, none overlapping (money, percent,
    dates and versions win over the bare numbers inside them); phone numbers and street
    addresses are none."""
    found: list[Value] = []
    phones = [(m.start(), m.end()) for m in _PHONE.finditer(text)]
    phones += [(m.start(), m.end()) for m in STREET_ADDRESS.finditer(text)]

    def free(start: int, end: int) -> bool:
        if any(s < end and start < e for s, e in phones):
            return False
        return not any(v.start < end and start < v.end for v in found)

    for match in MONEY.finditer(text):
        found.append(Value("money", match.group(0).strip(), match.start(), match.end()))
    for match in PERCENT.finditer(text):
        if free(match.start(), match.end()):
            body = match.group(0).replace(" ", "").replace("percent", "%")
            found.append(Value("percent", body, match.start(), match.end()))
    for value in dates(text, at):
        if free(value.start, value.end):
            found.append(value)
    for match in VERSION.finditer(text):
        token = match.group(0)
        cue = _VERSION_CUE.search(text[: match.start()])
        if free(match.start(), match.end()) and (
            token.count(".") >= 2 or token.lower().startswith("v") or cue is not None
        ):
            found.append(Value("version", token.lstrip("vV"), match.start(), match.end()))
    for match in _SCALED.finditer(text):
        if free(match.start(), match.end()):  # "1.53M downloads", "2.5k users"
            found.append(Value("count", match.group(0), match.start(), match.end()))
    for match in COUNT.finditer(text):
        if not free(match.start(), match.end()):
            continue
        unit_match = _UNIT.match(text, match.end())
        unit = unit_match["unit"].split()[0] if unit_match else None
        if unit is not None and unit.lower() in _NOT_UNITS:
            unit = None
        if unit and _TIME_UNIT.match(unit):
            continue  # "10:00", "15 minutes": times and durations are not counts
        found.append(Value("count", match.group(0), match.start(), match.end(), unit))
    for match in _HUNDREDS.finditer(text):
        if free(match.start(), match.end()):
            rest = _NUMBER_WORDS[match["r"].lower()] if match["r"] else 0
            number = str(100 * _NUMBER_WORDS[match["h"].lower()] + rest)
            found.append(Value("count", number, match.start(), match.end(), match["u"]))
    for match in _WORD_COUNT.finditer(text):
        if free(match.start(), match.end()):
            number = str(_NUMBER_WORDS[match["w"].lower()])
            found.append(Value("count", number, match.start(), match.end(), match["u"]))
    for match in PERSON.finditer(text):
        words = match.group(0).split()
        if words[0].lower().rstrip(".") in _NOT_NAMES or not free(match.start(), match.end()):
            continue
        if words[-1].lower() in _NOT_NAME_ENDS:
            continue
        name = re.sub(rf"^{_TITLE}", "", match.group(0))
        found.append(Value("person", name.lstrip("@"), match.start(), match.end()))
    return sorted(found, key=lambda v: v.start)


def kind_of_value(text: str) -> str | None:
    """The kind of a stored value ('€39' -> money), or None for words."""
    found = values(text)
    if len(found) == 1 and found[0].end - found[0].start >= len(text.strip()) - 1:
        return found[0].kind
    if SWITCH.fullmatch(text.strip()):
        return "switch"
    return None


def number_of(text: str) -> str | None:
    """The bare number of a money, percent or count value ('€1,200' -> '1200')."""
    match = re.search(r"\d[\d,]*(?:\.\d+)?", text)
    return match.group(0).replace(",", "") if match else None
