"""List-shaped messages: a heading line over bullets, numbered items or "Key: value" lines
("Atlas bid kickoff notes / * Lead: Mira Sandoval / * Budget: $240k"), the shape of
meeting notes, checklists, standups and offer summaries.

Such a message is about what its heading names, less the words that say what kind of
document it is ("kickoff notes", "checklist", "standup 12/3"): a line that names no subject
of its own ("Budget: $240k") is about the heading's topic, not about a subject another
line named ("Appendix C word limit: 800 words"). `list_topic(text)` gives that topic, or
None when the message is not list-shaped or its heading names nothing.
"""

from __future__ import annotations

import re
from functools import lru_cache

from memos.agents.entities import ID
from memos.agents.naming import plausible_subject
from memos.agents.values import MONTH_NAMES

_ITEM = re.compile(r"^\s*(?:[-*\u2022\u00b7\u25aa\u2013]|\d{1,2}[.)])\s+\S")
_KEY_VALUE = re.compile(r"^\s*[^:\s][^:]{0,40}:\s+\S")
# Words that say what kind of document the list is, not what it is about.
_DOCUMENT = (
    r"(?:kick-?off|stand-?up|weekly|daily|quick|meeting|call|sync|notes?|recap|summary|"
    r"minutes|checklist|agenda|updates?|status|details|info|highlights|takeaways|decisions|"
    r"to-?dos?|action items|overview|snapshot|rundown|terms|points|items|list|reminders?|"
    r"runbook|playbook|brief|memo|report|tracker|updated|draft|revised|logistics|plan)"
)
_DOCUMENT_ONLY = re.compile(rf"(?i)^(?:{_DOCUMENT}\s*)+$")
_TRAILING_DOCUMENT = re.compile(rf"(?i)(?:\s+{_DOCUMENT})+$")
_LEADING_DOCUMENT = re.compile(rf"(?i)^(?:{_DOCUMENT}\s+)+(?:for|on|re|about|from)\s+")
_FOR = re.compile(rf"(?i)^[\w\s-]*?{_DOCUMENT}\s+(?:for|on|re|about|from)\s+(?P<t>.+)$")
_MONTH = rf"(?:{'|'.join(MONTH_NAMES)}|jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec)\.?"
# Whole names or their short forms only: "Monitoring" and "Satellite" are no days.
_WEEKDAY = (
    r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
    r"mon|tues?|wed|thu|thurs?|fri|sat|sun)\.?"
)
_STAMP = re.compile(
    rf"(?i)\b(?:\d{{4}}-\d{{2}}-\d{{2}}|\d{{1,2}}/\d{{1,2}}(?:/\d{{2,4}})?|"
    rf"{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?|\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH}|{_WEEKDAY}|"
    rf"today|yesterday|this week|last week)\b"
)
# A state remarked after the name: "Harbor lease signed", "Q3 plan approved".
_REMARK = re.compile(
    r"(?i)\s+(?:confirmed|revised|updated|created|approved|signed|closed|opened|cancell?ed|"
    r"finali[sz]ed|changed|done|complete|completed|received|submitted|shipped|booked)$"
)
_REPLY = re.compile(r"(?i)^(?:(?:re|fwd?|aw|sv)\s*:\s*)+")
_PARENTHESIS = re.compile(r"\(([^()]{2,60})\)")
_PARTS = re.compile(r"\s+(?:--?|[\u2013\u2014|])\s+|[:,]\s+|\s*[\u2013\u2014|]\s*")


@lru_cache(maxsize=256)  # asked per field line of the same message
def is_list(text: str) -> bool:
    """Whether a message is a heading over list lines: at least two lines after the first,
    most of them bullets, numbered items or "Key: value" lines, the first none of these
    ("Kickoff recap: Harbor St. clinic" is a heading: its colon ends a label, not a key)."""
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) < 3 or _ITEM.match(lines[0]) or _is_field(lines[0]):
        return False
    listed = [line for line in lines[1:] if _ITEM.match(line) or _KEY_VALUE.match(line)]
    return len(listed) >= 2 and len(listed) >= 0.6 * (len(lines) - 1)


def _is_field(line: str) -> bool:
    """A "Key: value" line ("Attendees: Dana, Marcus (Lumenly CSM)"), not a heading whose
    colon ends a label of document words ("Kickoff recap: Harbor St. clinic")."""
    text = _REPLY.sub("", line.strip())
    if not _KEY_VALUE.match(text):
        return False
    label = " ".join(_STAMP.sub(" ", text.split(":", 1)[0]).split())
    return not (label and _DOCUMENT_ONLY.match(label))


def heading_topic(heading: str) -> str | None:
    """What a list's heading names ("Atlas bid kickoff notes" -> "Atlas bid", "Standup
    12/3 - Orion app" -> "Orion app", "Renewal terms (Northwind contract)" -> "Northwind
    contract"), or None."""
    text = _REPLY.sub("", heading.strip()).rstrip(":").strip()
    if len(text.split()) > 12 or text.endswith(("?", "!")):
        return None  # a sentence leading into the list, not a heading
    bare = _PARENTHESIS.sub(" ", text)
    record = ID.search(bare)
    if record is not None:
        return record.group(0)  # "PO-5521 revised (rev 2)": the record the heading names
    for aside in _PARENTHESIS.findall(text):
        if not re.search(r"[A-Z0-9]", aside):
            continue  # "(privileged)", "(updated)": a remark, not a name
        named = _cleaned(aside)
        if named is not None:
            return named  # "Launch checklist (Falcon 2.0)": the bracket names the thing
    parts = [p for p in (_cleaned(part) for part in _PARTS.split(bare)) if p is not None]
    return parts[0] if parts else None  # "Offsite logistics - Lisbon, May": the offsite


def _cleaned(part: str) -> str | None:
    text = _STAMP.sub(" ", part)
    text = " ".join(text.split()).strip(" ,.;-")
    if not text or _DOCUMENT_ONLY.match(text):
        return None
    about = _FOR.match(text)
    if about is not None:
        text = about["t"]  # "Venue checklist for the offsite": the offsite
    text = _LEADING_DOCUMENT.sub("", text)
    text = _TRAILING_DOCUMENT.sub("", text).strip(" ,.;-")
    text = _REMARK.sub("", text).strip(" ,.;-")  # "Harbor lease signed": the lease
    if not text or not re.search(r"[A-Za-z]", text):
        return None
    return plausible_subject(text)


def list_topic(text: str) -> str | None:
    """The topic of a list-shaped message's heading, or None (see the module doc)."""
    if not is_list(text):
        return None
    first = next(line for line in text.splitlines() if line.strip())
    return heading_topic(first)


__all__ = ["heading_topic", "is_list", "list_topic"]
