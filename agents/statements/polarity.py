"""Whether a clause states anything, and what it takes back: hedges, questions and
conditions state nothing (`stated_nothing`), negations negate, a correction gives the new
value of a state that held the mistaken one, a retraction restores the value a recent
change replaced."""

from __future__ import annotations

import re

from memos.agents.dates import resolve
from memos.agents.events import Utterance
from memos.agents.statements.context import Context, Known, Reading, _same_value
from memos.agents.statements.vocabulary import (
    _CODE_IS,
    _CORRECTION,
    _FIELD,
    _HEDGE,
    _NOT_OLD,
    _NOT_SUBJECT_WORDS,
    _QUESTION,
    _SCHEDULE_WORDS,
)
from memos.agents.values import (
    Value,
    ordinal_day,
    values,
)
from memos.agents.words import without_asides

_RETRACTION = re.compile(
    r"(?i)\b(?:scratch that|ignore (?:my|that|the) (?:last|previous|earlier)|never ?mind|"
    r"disregard|after all|we(?:'re| are) (?:keeping|staying)|staying (?:at|with|on)|"
    r"keeping|stays? (?:at|with|on)|back to|as (?:it )?was|revert(?:ing|ed)? (?:to|back)|"
    r"stick(?:ing)? with|sticks with)\b"
)


def correction(
    clause: str,
    utterance: Utterance,
    context: Context,
    *,
    cued: bool = False,
    taken_back: str | None = None,
) -> Reading | None:
    """'Sorry, I meant March 24, not March 23': the new value of the state holding the old
    (`cued`: the sentence around the clause says it corrects; `taken_back`: what the message
    said before taking a value back, "June 9 as agreed... wait, scratch that", whose last
    value of the new one's kind is the old)."""
    if not (cued or _CORRECTION.search(clause)):
        return None
    old = _NOT_OLD.search(clause)
    body = _NOT_OLD.sub("", clause)
    cue = _CORRECTION.search(body)
    after = cue.end() if cue else 0
    new_values = [v for v in values(body, utterance.at) if v.kind != "person" and v.end > after]
    code = _CODE_IS.search(body)
    if code is not None:
        # "Correction: the PO number is 7781-23": the identifier, not the number in it
        new_values = [Value("word", code["v"], code.start("v"), code.end("v"))]
    if not new_values:
        return None
    new = new_values[0]
    target: Known | None = None
    if old is not None:
        stale = (old["old"] or old["was"] or old["ins"] or "").strip()
        stale_values = values(stale, utterance.at)
        if not stale_values and new.kind == "date":
            # "October 28, not the 29th": the day in the new value's month.
            near = resolve(new.text, utterance.at)
            day = ordinal_day(stale, utterance.at, near)
            stale_values = [day] if day is not None else []
        stale_text = stale_values[0].text if stale_values else stale
        target = context.holding(stale_text)
    if target is None and taken_back is not None:
        said = [v for v in values(taken_back, utterance.at) if v.kind == new.kind]
        target = context.holding(said[-1].text) if said else None
        if target is None and not cue:
            return None  # "Actually, ... Let's make it 40": nothing known was taken back
    if target is None:
        target = context.newest(kind=new.kind, author=utterance.author)
    if target is None:
        return None
    return Reading(target.subject, target.attribute, new, target.value, "correction")


def retraction(clause: str, utterance: Utterance, context: Context) -> Reading | None:
    """'Scratch that, we're staying at Harbor Hall': a recent change undone."""
    if not _RETRACTION.search(clause):
        return None
    for value in [*values(clause, utterance.at), *_named(clause)]:
        known = context.holding(value.text, past=True)
        if known is not None and not _same_value(known.value, value.text):
            restored = next(v for v in reversed(known.earlier) if _same_value(v, value.text))
            return Reading(
                known.subject,
                known.attribute,
                Value(value.kind, restored, value.start, value.end),
                known.value,
                "retraction",
            )
    named = [
        v
        for v in _named(clause)
        if v.start > 0 and v.text.split()[0].lower() not in _NOT_SUBJECT_WORDS
    ]
    if named or values(clause, utterance.at):
        return None  # it names a value no known state had: not ours to restore
    if re.search(
        r"(?i)\b(?:scratch that|ignore (?:my|that|the) (?:last|previous)|disregard)", clause
    ):
        known = context.newest(author=utterance.author)
        if known is not None and known.earlier:
            kind = known.kind or "word"
            return Reading(
                known.subject,
                known.attribute,
                Value(kind, known.earlier[-1], 0, 0),
                known.value,
                "retraction",
            )
    return None


def _named(clause: str) -> list[Value]:
    found = []
    for match in re.finditer(r"(?:[A-Z][\w'&.-]*)(?:\s+[A-Z][\w'&.-]*){0,3}", clause):
        found.append(Value("word", match.group(0), match.start(), match.end()))
    return found


def stated_nothing(clause: str) -> bool:
    """A hedge, question, condition or proposal: it states no value. A record's field
    named 'Estimated delivery' or 'Expected close' states its value all the same."""
    field_match = _FIELD.match(clause)
    if field_match and _SCHEDULE_WORDS.match(field_match["key"].strip()):
        clause = field_match["rest"]
    # A bracketed aside ("(estimate $15,950 less the deductible)") hedges nothing, and an
    # estimate someone sent ("Revised estimate: $15,950", "our estimate ... is") is a
    # quote, not a guess; "we estimate", "estimated at" still hedge.
    said = _ESTIMATE_NOUN.sub(r"\g<by>\g<mid> quote", without_asides(clause))
    said = _AS_ASKED.sub("", said)  # "As requested, we've extended the block": done
    return bool(_HEDGE.search(said) or _QUESTION.search(clause) or clause.rstrip().endswith("?"))


def _hedged_by_estimate(clause: str) -> bool:
    """The clause's only hedge is an estimate someone sent ("our estimate ... is")."""
    return bool(_HEDGE.search(without_asides(clause))) and not stated_nothing(clause)


_AS_ASKED = re.compile(
    r"(?i)\b(?:as (?:you )?(?:requested|asked|discussed|agreed|promised)|per your request)\b"
)
_ESTIMATE_NOUN = re.compile(
    r"(?i)\b(?P<by>the|our|your|their|its|his|her|an|this|that|revised|updated|new|final|"
    r"written|formal|original|first|second|latest|[\w-]+['\u2019]s)"
    # "the renovation estimate": a noun or two may say what it estimates.
    r"(?P<mid>(?:\s+[a-z][\w-]*){0,2}?)\s+estimates?\b"
    r"(?!\s+(?:that|it|we|they|the|a|an|at|around|about|roughly)\b)"
)


_NEGATION = re.compile(r"(?i)\bnot\b|n't\b|\bnever\b|\bno longer\b|\bcannot\b")


_NEGATIVE_NAMES = re.compile(r"(?i)\b(?:won'?t fix|won'?t do|can'?t reproduce|cannot reproduce)\b")


def _negated(clause: str) -> bool:
    # A bracketed aside ("(their SSO isn't ready)") does not negate the clause.
    return bool(_NEGATION.search(_NEGATIVE_NAMES.sub("", without_asides(_NOT_OLD.sub("", clause)))))
