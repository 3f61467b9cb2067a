"""A "Key: value" line of a list-shaped message (`memos.agents.listing`), read where the
general field rules would not: under a heading, a line's key names an attribute of what
the heading is about even when the key is no attribute noun the rules know ("Lead
associate: Rachel Denney", "Stores participating: 42", "GC: Dunmore Builders").

Outside a list such a line is as often a sentence with a colon in it ("Swap: Data takes
Bay B", "Updated proposal attached: 320"), which is why the general rules ask for a known
attribute noun there."""

from __future__ import annotations

import re
from datetime import datetime

from memos.agents.statements.context import Reading
from memos.agents.statements.phrases import _attribute_name, _value_after
from memos.agents.statements.vocabulary import _EVENT_NOUNS
from memos.agents.values import Value
from memos.agents.words import without_asides

_EVENT = re.compile(rf"(?i)\b(?:{_EVENT_NOUNS})$")
_KEY = re.compile(r"[A-Za-z][\w/&'-]*(?:\s+[A-Za-z0-9][\w/&'-]*){0,3}")
# Values that say the value is not known yet.
_OPEN = re.compile(r"(?i)^(?:tbd|tbc|tba|n/?a|none|pending|unknown|\?+|-+)$")
# A name: capitalised words, with the small words names keep ("Bank of the West").
_NAME = re.compile(
    r"[A-Z\u00C0-\u00DE][\w\u00C0-\u017F.'&-]*"
    r"(?:\s+(?:of|de|the|and|&|van|von|da|[A-Z\u00C0-\u00DE][\w\u00C0-\u017F.'&-]*)){0,4}"
)


def list_line_reading(key: str, rest: str, at: datetime | None) -> Reading | None:
    """The reading of one list line `key: rest`, or None (see the module doc): a typed
    value at the start of `rest`, or a name that is all of it before any aside."""
    key = key.strip()
    if not _KEY.fullmatch(key) or "?" in rest:
        return None
    body = without_asides(rest).strip()
    body = re.split(r"\s*(?:[;,]\s|\s[-\u2013\u2014]\s)", body, maxsplit=1)[0].strip(" .")
    if not body or _OPEN.match(body):
        return None
    value = _value_after(body, 0, at)
    if value is not None and value.kind != "word" and value.start <= 1:
        if value.kind == "date" and _EVENT.search(key):
            return Reading(key, "date", value, None, "list line")  # "DSMB meeting: Oct 14"
        return Reading(None, _attribute_name(key.lower()), value, None, "list line")
    named = _NAME.fullmatch(body)
    if named is None or (body.isupper() and len(body) <= 4):
        return None  # "in review", "OK": not a name, nor a value the rules type
    name = Value("word", body, 0, len(body))
    return Reading(None, _attribute_name(key.lower()), name, None, "list line")


__all__ = ["list_line_reading"]
