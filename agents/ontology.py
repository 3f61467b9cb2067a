"""A small ontology of the attributes people track, so that one fact named two ways is one
fact: "price", "cost" and "rate" are one attribute; so are "owner", "assignee", "lead" and
"DRI", or "date", "deadline" and "launch date".

An attribute is read as an optional *qualifier* and a *head* noun ("move-in date" is the
date of the move-in, "monthly rent" a price, "hiring manager" an owner). The head's class
gives its synonyms. A state keeps the name it was written with and, beside it, the other
names a reader or a question may use (`attribute_names`), most specific first: the name as
written, the same qualifier with each synonym of the head, then -- for a name with no
qualifier, or a milestone date such as "go-live date" -- the bare synonyms.

Reconciliation uses `same_attribute` (one class and compatible qualifiers) so that
"cost" replaces "price" on the same entity; the answerer and the truth scorer use
`attribute_names` to match a question's or a truth file's wording.
"""

from __future__ import annotations

import re
from functools import lru_cache

# class -> its names, the class's own name first. A name belongs to one class.
CLASSES: dict[str, tuple[str, ...]] = {
    "price": (
        "price",
        "cost",
        "rate",
        "fee",
        "fees",
        "charge",
        "pricing",
        "quote",
        "rent",
        "amount",
        "list price",
        "unit price",
    ),
    "budget": (
        "budget",
        "contract sum",
        "contract value",
        "contract price",
        "contract total",
        "total",
        "total cost",
        "cap",
        "spend",
        "deal value",
        "annual value",
        "acv",
    ),
    "owner": (
        "owner",
        "assignee",
        "lead",
        "dri",
        "responsible",
        "point of contact",
        "contact",
        "manager",
        "coordinator",
        "handler",
        "owned by",
        "assigned to",
        "in charge",
    ),
    "date": (
        "date",
        "deadline",
        "due date",
        "day",
        "when",
        "scheduled date",
        "schedule",
        "eta",
        "target date",
    ),
    "location": ("location", "venue", "place", "address", "where", "city"),
    "status": ("status", "state", "stage", "phase", "progress", "resolution"),
    "version": ("version", "release", "build", "target release", "target version"),
    "count": (
        "count",
        "headcount",
        "head count",
        "number",
        "quantity",
        "qty",
        "size",
        "capacity",
        "total number",
    ),
    "rollout": (
        "rollout",
        "rollout percentage",
        "percentage rollout",
        "percentage",
        "exposure",
        "traffic",
        "enabled",
        "flag",
    ),
    "vendor": (
        "vendor",
        "supplier",
        "provider",
        "contractor",
        "subcontractor",
        "agency",
        "installer",
        "caterer",
        "forwarder",
        "carrier",
    ),
    "name": ("name", "title", "codename", "called"),
    "priority": ("priority", "severity", "sev", "urgency"),
    "term": ("term", "contract term", "duration", "length"),
    "speaker": ("speaker", "keynote speaker", "presenter", "host"),
}
_CLASS_OF = {name: cls for cls, names in CLASSES.items() for name in names}
# Heads that are dates of a milestone: "go-live", "move-in", "sunset", "launch".
MILESTONES = frozenset(
    [
        "launch",
        "go-live",
        "golive",
        "move-in",
        "cutover",
        "kickoff",
        "kick-off",
        "sunset",
        "completion",
        "delivery",
        "handover",
        "signing",
        "renewal",
        "start",
        "end",
        "ship",
        "due",
        "freeze",
        "expiry",
        "expiration",
        "arrival",
        "departure",
        "install",
        "installation",
        "demo",
        "templating",
        "eta",
        "etd",
        "cutoff",
        "cut-off",
        "ga",
    ]
)
_DATE_HEADS = frozenset(["date", "day", "deadline", "when", "time"])
# Dates whose name says which milestone they are.
_DATE_MILESTONE = {"eta": "arrival", "etd": "departure", "due date": "due"}
_WORD = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def _words(name: str) -> list[str]:
    return _WORD.findall(name.lower().replace("_", " "))


def split(name: str) -> tuple[str, str]:
    """(qualifier, head): 'move-in date' -> ('move-in', 'date'), 'price per seat' ->
    ('per seat', 'price'), 'rent' -> ('', 'rent'), 'CRA' -> ('', 'cra')."""
    text = " ".join(_words(name))
    if text in _CLASS_OF:
        return "", text
    per = re.match(r"^(?P<h>.+?)\s+(?P<q>(?:per|a|each)\s+\w+)$", text)
    if per and per["h"] in _CLASS_OF:
        return per["q"], per["h"]
    words = text.split()
    for size in (3, 2, 1):
        if len(words) > size and " ".join(words[-size:]) in _CLASS_OF:
            return " ".join(words[:-size]), " ".join(words[-size:])
    return "", text


def attribute_class(name: str) -> str | None:
    """The class of an attribute name, or None when the ontology does not know its head."""
    _qualifier, head = split(name)
    if head in _CLASS_OF:
        return _CLASS_OF[head]
    if head in MILESTONES or head.replace(" ", "-") in MILESTONES:
        return "date"
    return None


@lru_cache(maxsize=4096)
def is_attribute_name(name: str) -> bool:
    """Whether a phrase is an attribute's name ('price', 'move-in date', 'hiring
    manager'), not the name of a thing or an event ('launch', 'fit-out')."""
    return split(name)[1] in _CLASS_OF


_COUNTED_PARTICIPLE = re.compile(r"(?P<n>[a-z][\w -]*?s)\s+(?P<p>[a-z]+ed)")


@lru_cache(maxsize=4096)
def attribute_names(name: str) -> tuple[str, ...]:
    """Every name the attribute goes by, the name as written first (see the module doc)."""
    written = " ".join(_words(name))
    if not written:
        return ()
    qualifier, head = split(written)
    cls = _CLASS_OF.get(head)
    found = [written]
    counted = _COUNTED_PARTICIPLE.fullmatch(written)
    if counted:
        # "merchants affected" is also "affected merchants" and, alone, "merchants"
        found += [f"{counted['p']} {counted['n']}", counted["n"]]
    if cls is None:
        if head in MILESTONES or head.replace(" ", "-") in MILESTONES:
            found += [f"{written} date", f"{written} day"]
        return tuple(dict.fromkeys(found))
    synonyms = CLASSES[cls]
    if qualifier:
        found += [f"{qualifier} {s}" for s in synonyms if s not in ("when", "where")]
        if qualifier.startswith(("per ", "a ", "each ")):
            found += [f"{s} {qualifier}" for s in synonyms]
        milestone = qualifier.split()[-1]
        if cls == "date" and milestone in MILESTONES:
            # "go-live date" is also "go-live"; "substantial completion date" is also
            # "completion date" and "completion".
            found += [qualifier, f"{milestone} date", milestone]
        if cls != "date" or milestone in MILESTONES:
            found += list(synonyms)
    else:
        found += list(synonyms)
    return tuple(dict.fromkeys(n for n in found if n))


def same_attribute(a: str, b: str) -> bool:
    """One attribute under two names: the same class and the same qualifier, or one name
    without a qualifier when the other's is not a different milestone or unit."""
    if " ".join(_words(a)) == " ".join(_words(b)):
        return True
    ca, cb = attribute_class(a), attribute_class(b)
    if ca is None or ca != cb:
        return False
    qa, ha = split(a)
    qb, hb = split(b)
    if ca == "date":
        # "move-in date" and "date" may be one; "move-in" and "completion" never are.
        ma = qa or _DATE_MILESTONE.get(ha, "" if ha in _DATE_HEADS else ha)
        mb = qb or _DATE_MILESTONE.get(hb, "" if hb in _DATE_HEADS else hb)
        return ma == mb
    # "monthly rent" and "rent", "hiring manager" and "manager": one; "tech lead" and
    # "incident lead" are two.
    return qa == qb or not qa or not qb


def asked_classes(question: str) -> set[str]:
    """The attribute classes whose names a question uses."""
    text = " ".join(_words(question))
    found = set()
    for name, cls in _CLASS_OF.items():
        if re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text):
            found.add(cls)
    return found


__all__ = [
    "CLASSES",
    "MILESTONES",
    "asked_classes",
    "attribute_class",
    "attribute_names",
    "is_attribute_name",
    "same_attribute",
    "split",
]
