"""Signature blocks: the name, title and numbers a message ends with, read as one line.

An email ends "Maria Lindqvist / Licensed Customs Broker, Apex Trade Compliance /
(714) 555-0152 | maria@apextrade.com". Split into lines, the name is dropped (a bare name
states nothing) and the number is left beside no name, so "the broker's phone number" is
found nowhere. Joined, the block is one memory that says whose number it is and what they
do.
"""

from __future__ import annotations

import re

from memos.agents.values import PHONE_NUMBER

# A closing before the name ("Thanks,", "Best regards,", "--") is not part of the block.
_CLOSING = re.compile(
    r"(?i)^(?:--+|[-\u2013\u2014]|(?:many\s+)?thanks?(?:\s+you)?(?:\s+again)?|thx|best|"
    r"best\s+regards|kind\s+regards|regards|cheers|sincerely|warmly|take\s+care|talk\s+soon)"
    r"\s*[,!.]?$"
)
# "Maria Lindqvist", "- Tom Baptiste, REHS", "Dr. Ravi Menon": a name, perhaps with letters.
_NAME = re.compile(
    r"^(?:[-\u2013\u2014~]\s*)?(?:(?:Dr|Mr|Mrs|Ms|Prof)\.?\s+)?[A-Z][\w'.-]+(?:\s+[A-Z][\w'.-]+){0,3}"
    r"(?:\s*,\s*[A-Z][\w.]*(?:\s*,?\s*[A-Z][\w.]*){0,2})?"
    # "Rafael Ocampo | Supplier Quality Engineer": the title on the name's line.
    r"(?:\s*[|\u2022\u00b7]\s*[A-Z][^|\u2022\u00b7]*)?$"
)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.-]+\b")
_CONTACT_WORD = re.compile(r"(?i)\b(?:cell|mobile|office|direct|tel|phone|fax|ext)\b")
_MAX_LINES = 6
_MAX_LINE_CHARS = 90


def joined_signature(text: str) -> str:
    """`text` with its closing signature block (a name line, then title and contact lines,
    one of them a phone number or an email) joined into one line by "; "; unchanged when
    it ends otherwise."""
    body, _, block = text.rstrip().rpartition("\n\n")
    lines = [line.strip() for line in block.split("\n") if line.strip()]
    while lines and _CLOSING.match(lines[0]):
        lines = lines[1:]
    if not 2 <= len(lines) <= _MAX_LINES or any(len(line) > _MAX_LINE_CHARS for line in lines):
        return text
    if not _NAME.match(lines[0]) or not any(
        PHONE_NUMBER.search(line) or _EMAIL.search(line) or _CONTACT_WORD.search(line)
        for line in lines[1:]
    ):
        return text
    name = re.sub(r"^[-\u2013\u2014~]\s*", "", lines[0])
    card = "; ".join([name, *lines[1:]])
    return f"{body}\n\n{card}" if body else card
