"""Identifiers and phone numbers: values of their own shape that the reader keeps no state
for and the other kinds misread ("PR-27-3312" is no count 1, "413-555-0140" no date).

A question asks for an identifier when it says "number", "id", "reference" or "code" of a
thing ("the Parks permit number", "the number of the records request"), but not "the
number of players" (a count) nor a phone's number; it asks for a phone number when it says
phone, cell, mobile or extension.
"""

from __future__ import annotations

import re

from memos.agents.values import PHONE_NUMBER

# "the number of the request" names an identifier; "the number of players" counts.
_ASKS_CODE = re.compile(
    r"(?i)\b(?:number|no\.|id|code|reference|ref|tag|serial)\b"
    r"(?!\s+of\s+(?!the\b|its\b|our\b|their\b|this\b|that\b|his\b|her\b))"
)
_COUNTS = re.compile(r"(?i)^\s*how\s+(?:many|much)\b")
_ASKS_PHONE = re.compile(r"(?i)\b(?:phone|cell|mobile|telephone|extension|ext|direct\s+line)\b")
_ASKS_EXTENSION = re.compile(r"(?i)\b(?:extension|ext)\b")
# "413-555-0140", "(503) 555-0133", "+41 44 123 45 67": the reader's phone shapes.
PHONE = PHONE_NUMBER
# "ext. 4417", "x4417", "extension 4417".
EXTENSION = re.compile(r"(?i)\b(?:ext\.?|extension|x)\s*(?P<n>\d{2,6})\b")
# "PRR-2027-0193", "55-1038", "8D-BW-0117", "#4471", "4500187733": upper-case or digit
# parts joined by hyphens with a digit among them, or a long run of digits.
# A shipping container's number ("MSKU 4471928", "TGHU8812334") keeps its owner letters.
_CODE = re.compile(
    r"(?<![\w/.-])(?:[A-Z]{4}\s?\d{6,7}|(?=[A-Z0-9-]*\d)[A-Z0-9]+(?:-[A-Z0-9]+)+|#\d+|\d{5,})"
    r"(?![\w/-]|\.\d)"
)
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def asks_for_phone(question: str) -> bool:
    """The question asks for a phone number or an extension."""
    return bool(_ASKS_PHONE.search(question))


def asks_for_code(question: str) -> bool:
    """The question asks for an identifier (and not for a phone number or a count)."""
    if asks_for_phone(question) or _COUNTS.match(question):
        return False
    return bool(_ASKS_CODE.search(question))


# "Which PO number ...", "the INV no.": a short upper-case word before "number" is the
# prefix the identifier is written with ("PO-2027-0453"), not "PUR-3317".
_PREFIX = re.compile(r"\b(?P<p>[A-Z]{2,5})\s+(?:number|no\.|id|#|ref|reference)\b")


def code_prefix(question: str) -> str | None:
    """The prefix an asked identifier starts with, when the question names one."""
    found = _PREFIX.search(question)
    return found["p"] if found else None


def written_with(value: str, prefix: str | None) -> bool:
    """`value` is written with `prefix` ("PO-2027-0453" for "PO"); any is when None."""
    return prefix is None or value.upper().startswith(prefix)


def with_prefix(found: list[tuple[int, str]], prefix: str | None) -> list[tuple[int, str]]:
    """The identifiers written with `prefix`, all when None."""
    return [(at, value) for at, value in found if written_with(value, prefix)]


def is_code(text: str) -> bool:
    """`text` is one identifier as `codes` reads them."""
    return any(value == text.strip() for _, value in codes(text))


def codes(text: str) -> list[tuple[int, str]]:
    """(position, identifier) in `text`; phone numbers, ISO dates and short ranges ("1-4")
    are not identifiers."""
    found = []
    for match in _CODE.finditer(text):
        value = match.group(0)
        if PHONE.fullmatch(value) or _ISO_DATE.match(value):
            continue
        if "-" in value and len(value) < 5:
            continue  # "fields 1-4", "U-2": a range or a label, not a reference
        found.append((match.start(), value))
    return found


def phones(text: str, question: str) -> list[tuple[int, str]]:
    """(position, number) of the phone numbers in `text`, or of its extensions' digits
    when the question asks for an extension."""
    if _ASKS_EXTENSION.search(question):
        return [(m.start(), m["n"]) for m in EXTENSION.finditer(text)]
    return [(m.start(), m.group(0)) for m in PHONE.finditer(text)]


# "the phone number of the U10 Thunder head coach", "What phone extension reaches the
# engineer who took over SQE-2281": whose number, asked as a person.
_WHOSE = re.compile(
    # "for Dana Reyes" names a holder; "for emergencies" names none.
    r"(?i)\b(?:of|for|reaches|reach|to\s+call)\s+(?P<who>(?:the|our|their|a)\b.+|(?-i:[A-Z]).+)$"
)


_WHO_ACTED = re.compile(
    r"(?i)^(?:the|a|our|their)\s+(?:[\w'-]+\s+){1,3}?(?:who|that)\s+(?P<act>.+)$"
)


def whose_number(question: str) -> str | None:
    """ "Who is the U10 Thunder head coach?" for "What is the phone number of the U10 Thunder
    head coach?", or None when the question names no holder."""
    if not asks_for_phone(question):
        return None
    found = _WHOSE.search(question.strip().rstrip("?").strip())
    if found is None:
        return None
    acted = _WHO_ACTED.match(found["who"])
    if acted is not None:
        # "the engineer who took over SQE-2281": "Who took over SQE-2281?" asks the act.
        return f"Who {acted['act']}?"
    return f"Who is {found['who']}?"


def number_beside(name: str, text: str, question: str) -> str | None:
    """The phone number written nearest after `name` in `text` ("Beth Sorensen (asst),
    413-555-0156"), or nearest before it when none follows; None when `name` (or its last
    word, for "Ms. Boyd") is not there."""
    numbers = phones(text, question)
    if not numbers:
        return None
    words = name.split()
    at = [m.end() for m in re.finditer(re.escape(name), text)]
    if not at and len(words) > 1:
        at = [m.end() for m in re.finditer(rf"\b{re.escape(words[-1])}\b", text)]
    if not at:
        return None

    def distance(number: tuple[int, str]) -> int:
        return min(number[0] - end if number[0] >= end else 3 * (end - number[0]) for end in at)

    # "the cell number": of a card's "Office 800-555-0134 x212; Cell 508-555-0187", the
    # number labelled as asked.
    labelled = [n for n in numbers if _labelled_at(text, n[0], question)]
    return min(labelled or numbers, key=distance)[1]


def labelled_as_asked(text: str, number: str, question: str) -> bool:
    """Whether `number` is written in `text` under the kind of line the question asks for
    ("her direct line is (503) 555-0133" for "the direct phone number")."""
    return any(
        _labelled_at(text, m.start(), question) for m in re.finditer(re.escape(number), text)
    )


def _labelled_at(text: str, at: int, question: str) -> bool:
    asked = {m.group(0).lower() for m in _LINE_KIND.finditer(question)}
    # The label just before the number: "Cell 508-...", "her direct line is (503) ...".
    return bool(asked & _labels(text[max(0, at - _LABEL_REACH) : at]))


_LABEL_REACH = 20
_LINE_KIND = re.compile(r"(?i)\b(?:cell|mobile|direct|office|desk|fax|home|work)\b")
_SAME_KIND = {"mobile": "cell", "desk": "direct", "work": "office"}


def _labels(text: str) -> set[str]:
    """The kinds of line a label before a number names, and what they are also called."""
    found = {m.group(0).lower() for m in _LINE_KIND.finditer(text)}
    return (
        found
        | {_SAME_KIND.get(f, f) for f in found}
        | {k for k, v in _SAME_KIND.items() if v in found}
    )
