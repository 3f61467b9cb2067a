"""Words that look like a name or a subject at the start of a phrase but never are one:
pronouns, determiners, days, months, greetings. The reader's patterns share this list and
add their own exceptions; the reader and the answerer also share what a bracketed aside
is."""

from __future__ import annotations

import re

NOT_NAMES = frozenset(
    [
        "a", "an", "and", "april", "august", "but", "december", "february", "final",
        "friday", "fyi", "good", "great", "he", "hello", "her", "here", "hey", "hi", "his",
        "i", "if", "it", "its", "january", "july", "june", "march", "may", "monday", "my",
        "new", "november", "october", "ok", "okay", "our", "please", "re", "saturday",
        "september", "she", "so", "sorry", "sunday", "thanks", "that", "the", "their",
        "there", "they", "this", "thursday", "today", "tomorrow", "tuesday", "update", "we",
        "wednesday", "you", "your"
    ]
)  # fmt: skip

# A bracketed aside: "(estimate $15,950 less the deductible)", "(was March 3)".
_ASIDE = re.compile(r"\s*\([^)]*\)")


def without_asides(text: str) -> str:
    """`text` with its bracketed asides taken out: what its main clause says."""
    return _ASIDE.sub("", text)


def asides(text: str) -> list[str]:
    """The bracketed asides of `text`, brackets stripped."""
    return [a.strip(" ()") for a in _ASIDE.findall(text)]


# Doing a job names its role: "Who is officiating?" asks for the officiant, "Who will give
# the talk?" for the speaker (the reader keys roles by the noun).
ROLE_OF_VERB_BASE = {
    "officiate": "officiant", "cater": "caterer", "photograph": "photographer",
    "moderate": "moderator", "facilitate": "facilitator", "interpret": "interpreter",
    "translate": "translator", "coordinate": "coordinator", "organize": "organizer",
    "organise": "organiser", "present": "presenter", "review": "reviewer",
    "approve": "approver", "manage": "manager", "own": "owner", "host": "host",
    "lead": "lead", "speak": "speaker", "chair": "chair", "emcee": "mc", "sponsor": "sponsor",
}  # fmt: skip


def _forms(verb: str) -> list[str]:
    stem = verb[:-1] if verb.endswith("e") else verb
    return [verb, f"{verb}s", f"{stem}ed" if verb.endswith("e") else f"{verb}ed", f"{stem}ing"]


ROLE_OF_VERB = {form: role for verb, role in ROLE_OF_VERB_BASE.items() for form in _forms(verb)}
ROLE_OF_VERB.update({"give": "speaker", "gives": "speaker", "giving": "speaker"})


def roles_asked(words: set[str]) -> set[str]:
    """The role nouns a question's verbs name ("officiating" -> "officiant"); "give" only
    names the speaker beside a talk or keynote."""
    found = {ROLE_OF_VERB[w] for w in words if w in ROLE_OF_VERB}
    talks = {"talk", "keynote", "presentation", "speech", "lecture", "session"}
    if "speaker" in found and words & {"give", "gives", "giving"} and not words & talks:
        found.discard("speaker")
    return found
