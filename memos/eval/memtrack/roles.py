"""Who holds a role or a thing: "Who is the U10 Thunder head coach?", "Who's dealing with
the county on the plan review now?" read from what people said.

A role changes hands in words, not in keyed states: "Beth Sorensen is head coach of
Thunder effective now", "Alicia Moreno becomes your loan officer", "Tasha confirmed:
she's officially our scheduler", or a signature card's "Alicia Moreno; Loan Officer". A
roster line ("U10 Thunder: Ryan Kowalski (head)") never names the role's noun and is left
to the span reader. Of the statements that name the role's noun (the last word of the
question's role: "coach", "officer", "scheduler"), the one sharing most of the role's
other words wins, then the latest: whoever was named last holds it now.

A thing changes hands the same way: "Handing this to Dev", "Alicia Brandt is taking over
the bridge", "Assignee: Jordan Pike -> Alicia Brandt", "Gabe Morales will be your property
manager". Of such statements in items that share a word with the thing asked about
(vague words like "stuff" aside), the latest names its holder.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime

from memos.agents.tables import unfold_tables
from memos.eval.memtrack.backends import Retrieved
from memos.eval.memtrack.states import SENTENCE, content_stems

# "Who is the U10 Thunder head coach?", "Who's our current loan officer?"
_ASKS = re.compile(
    r"(?i)^\s*who(?:\s+is|'s)\s+(?:(?:the|our|your|their|a|an)\s+)?(?P<role>[^?]+?)\s*\??\s*$"
)
_NAME = r"(?P<name>(?:[A-Z][a-z][\w'-]*)(?:\s+[A-Z][a-z][\w'-]*){0,2})"
_PRONOUN = r"(?P<pronoun>(?i:she|he|they))"
# "<Name> is (now) (officially) (the|our) (new) <role>", "<Name> becomes your <role>",
# "<Name> takes over as <role>", "she's officially our <role>".
_HOLDS = re.compile(
    rf"(?:{_NAME}|\b{_PRONOUN})(?:\s+is|\s+becomes|\s+will\s+be|\s+has\s+become|'s|\s+takes\s+over\s+as"
    r"|\s+is\s+taking\s+over\s+as|\s+steps\s+(?:in|up)\s+as|\s+stepping\s+(?:in|up)\s+as)"
    r"(?:\s+(?:now|officially|formally|also))*(?:\s+(?:the|our|your|their|a|an))?"
    r"(?:\s+new)?\s+(?P<role>[^.;,!?]{2,80})"
)
# "Alicia Moreno; Loan Officer | NMLS ...", "Rafael Ocampo | Supplier Quality Engineer".
_CARD = re.compile(rf"^\s*{_NAME}\s*[;|,\u2022]\s*(?P<role>[A-Z][^;|\u2022]{{2,60}})")
# Capitalised words that open a sentence and name nobody.
_NOBODY = frozenset(
    {"the", "this", "that", "these", "those", "it", "we", "you", "they", "he", "she", "our"}
    | {"your", "my", "their", "his", "her", "its", "there", "here", "everyone", "someone"}
)
_NOT_ROLE = frozenset({"current", "currently", "now", "new", "official", "officially"})
_GIVEN_UP = re.compile(r"(?i)(?:no\s+longer|not|stepping|leaving|moving|out|off|done)\b")


def asked_role(question: str) -> set[str] | None:
    """The stems of the role a "Who is the <role>?" question asks about, or None."""
    found = _ASKS.match(question)
    if found is None:
        return None
    words = [w for w in content_stems(found["role"]) if w not in _NOT_ROLE]
    return set(words) or None


def _head(role: str) -> str | None:
    """The role's noun: the last word with content ("U10 Thunder head coach" -> coach)."""
    for word in reversed(re.findall(r"[\w'-]+", role)):
        stems = content_stems(word)
        if stems and not stems & _NOT_ROLE:
            return next(iter(stems))
    return None


def _somebody(name: str) -> bool:
    return name.split(maxsplit=1)[0].lower() not in _NOBODY


def _named_before(text: str, at: int) -> str | None:
    """The last name written before `at` ("Tasha confirmed: she's ..."), for a pronoun."""
    names = re.findall(_NAME, text[:at])
    return names[-1] if names else None


def role_holder(question: str, items: Sequence[Retrieved]) -> str | None:
    """Who the retrieved texts last named as holding the role the question asks about."""
    found = _ASKS.match(question)
    role = asked_role(question)
    if found is None or role is None:
        return None
    head = _head(found["role"])
    if head is None:
        return None
    best: tuple[tuple[int, datetime], str] | None = None
    for item in items:
        when = item.timestamp or datetime.min.replace(tzinfo=UTC)
        for sentence in SENTENCE.split(unfold_tables(item.text)):
            for match in [*_HOLDS.finditer(sentence), *_CARD.finditer(sentence)]:
                if _GIVEN_UP.match(match["role"]):
                    continue  # "Marcus is stepping down as scheduler"
                said = content_stems(match["role"])
                if head not in said:
                    continue
                name = match["name"] or _named_before(sentence, match.start())
                if name is None or not _somebody(name) or content_stems(name) & role:
                    continue  # "Loan Officer is ...": the role itself, not a person
                key = (len(role & said), when)
                if best is None or key > best[0]:
                    best = (key, name)
    return best[1] if best else None


# "Who has the imaging ticket now?", "Who's dealing with the county on the plan review?",
# "Who should we call at the landlord about building stuff?"
_ASKS_THING = re.compile(
    r"(?i)^\s*who(?:'s|\s+is)?\s+(?:has|owns|handles|handling|dealing\s+with|deals\s+with|"
    r"running|covering|in\s+charge\s+of|should\s+(?:we|i)\s+(?:call|contact|ask|talk\s+to|check\s+with)"
    r"|do\s+(?:we|i)\s+(?:call|contact|ask))\s+(?P<thing>[^?]+?)\s*\??\s*$"
)
# "Handing this to Dev", "I'm handing Brightwater over to my colleague Alicia Brandt".
_HANDED = re.compile(
    rf"(?i:\bhand(?:ing|ed|s)?)\s+[^.;!?]{{0,60}}?\bto\s+(?:(?i:my|our|your)\s+(?:\w+\s+)?)?{_NAME}"
)
# "Dev is taking over the permit", "Alicia Brandt owns the bridge", "Assignee: A -> B".
_TAKES = re.compile(
    rf"{_NAME}\s+(?:is\s+taking\s+over|will\s+take\s+over|takes\s+over|took\s+over|owns|"
    r"is\s+handling|will\s+handle|handles|is\s+picking\s+up|will\s+be\s+(?:your|our|the))\b"
)
_ARROW = re.compile(rf"(?i:assignee|owner):\s*[^\n]*?->\s*{_NAME}")
_VAGUE = frozenset({"thing", "stuff", "ticket", "now", "current", "currently", "day", "these"})


def thing_holder(question: str, items: Sequence[Retrieved]) -> str | None:
    """Whoever the retrieved texts last named as taking, owning or being handed what the
    question asks about; a statement counts when its item shares a word of the thing."""
    found = _ASKS_THING.match(question)
    if found is None:
        return None
    thing = {w for w in content_stems(found["thing"]) if w not in _VAGUE}
    if not thing:
        return None
    best: tuple[datetime, str] | None = None
    for item in items:
        when = item.timestamp or datetime.min.replace(tzinfo=UTC)
        if not thing & content_stems(item.text):
            continue
        for sentence in SENTENCE.split(unfold_tables(item.text)):
            for pattern in (_HANDED, _TAKES, _ARROW):
                for match in pattern.finditer(sentence):
                    name = match["name"]
                    if (
                        not _somebody(name)
                        or content_stems(name) & thing
                        or (best is not None and best[0] > when)
                    ):
                        continue
                    best = (when, name)
    return best[1] if best else None
