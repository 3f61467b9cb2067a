"""The offline extractor: deterministic memories from a message, with no LLM.

A message is cut into sentences. Questions, greetings, acknowledgements and code are
skipped. A sentence that states a change ("moved ENG-142 to Done", see
`memos.agents.patterns`) becomes a keyed state, written as one plain statement with the
sentence kept as its context; any other sentence becomes a fact, event or preference in
the third person ("I moved to Berlin" by alice -> "Alice moved to Berlin"), with
keyphrases and the tickets it names as keywords and tags.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

from memos.agents.candidates import THING, Candidate, State, canonical_attribute, slug, thing_name
from memos.agents.dates import resolve
from memos.agents.entities import ID
from memos.agents.events import Utterance
from memos.agents.keyphrases import IGNORED, keyphrases
from memos.agents.listing import list_topic
from memos.agents.naming import canonical, invite_title, learn_message, names_of
from memos.agents.naming import message_topic as topic_of
from memos.agents.patterns import display_author, states
from memos.agents.signatures import joined_signature
from memos.agents.statements import Context, general_states
from memos.agents.tables import unfold_tables

EXTRACTOR = "offline"
MAX_SENTENCE_CHARS = 2000
_TRACKERS = frozenset({"linear", "jira", "git", "github", "gitlab", "ci", "pagerduty"})
_FENCED = re.compile(r"```.*?(?:```|$)", re.DOTALL)
_BREAK = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9@#])")
_ABBREVIATION = re.compile(
    r"(?i)\b(?:mr|mrs|ms|dr|prof|sr|jr|st|vs|etc|approx|inc|ltd|no|ext|tel|dept|apt|ste|bldg|rm|e\.g|i\.e)\.$"
    r"|(?<![\w.])[A-Z]\.$"
)
_BULLET = re.compile(r"^\s*(?:[-*•>]+|\d+[.)])\s+")
_FILLER = re.compile(
    r"(?i)^(?:(?:ok(?:ay)?|k|thanks?(?: you)?(?: all| everyone| so much)?|thx|ty|lgtm|\+1|"
    r"sounds good|got it|cool|nice|great|awesome|yes|yep|yeah|no|nope|sure|hi|hello|hey|"
    r"good (?:morning|night|evening|afternoon)|bye|see you|lol|haha|ack|noted|will do|"
    r"on it|done|np|no worries|welcome|same|agreed|exactly|right|true|wow|oh)[\s.!,:)(]*)+$"
)
_PREFERENCE = re.compile(
    r"(?i)\b(?:prefer|prefers|rather|favou?rite|love|loves|like|likes|enjoy|enjoys|hate|"
    r"hates|dislike|dislikes|allergic|vegan|vegetarian|always want|never want|please always|"
    r"please never)\b"
)
_PAST = re.compile(
    r"(?i)\b(?:[a-z]{3,}ed|went|met|saw|got|made|took|gave|found|bought|ran|came|wrote|won|"
    r"lost|left|sent|built|broke|began|ate|flew|drove|did|was|were|shipped|hit|cut|put|"
    r"spoke|told|said|held|paid|sold|threw|caught|taught|brought|thought|felt|kept|slept)\b"
)
_SUBJECT_VERB = re.compile(
    r"(?<![\w-])I(?P<adverb>\s+(?:just|really|also|still|usually|always|never|now|actually|finally|"
    r"recently|mostly|often|sometimes|only|already|totally|definitely|no longer))?\s+"
    r"(?P<verb>[a-z]+(?:n['\u2019]t)?)(?![\w'\u2019])"
)
_FIRST_PERSON = (
    (re.compile(r"\bI(?:'m|\u2019m| am)\b"), "{name} is"),
    (re.compile(r"\bI(?:'ve|\u2019ve)\b"), "{name} has"),
    (re.compile(r"\bI(?:'ll|\u2019ll)\b"), "{name} will"),
    (re.compile(r"\bI(?:'d|\u2019d)\b"), "{name} would"),
    (re.compile(r"\bI was\b"), "{name} was"),
    (re.compile(r"\b(?:my|My)\b"), "{name}'s"),
    (re.compile(r"\bmine\b"), "{name}'s"),
    (re.compile(r"\b(?:me|myself)\b"), "{name}"),
)
# Modal and past-tense verbs keep their form ("I meant" is "Mira meant", not "meants").
_KEEP_WORDS = """can could will would should must may might did was had shall cannot can't
won't didn't wasn't meant went met saw got made took gave found bought ran came wrote won lost
left sent built broke began ate flew drove spoke told said held paid sold threw caught taught
brought thought felt kept slept heard knew forgot chose became stood understood"""
_KEEP_VERBS = frozenset(_KEEP_WORDS.split())
_IRREGULAR = {
    "have": "has",
    "do": "does",
    "don't": "doesn't",
    "don\u2019t": "doesn\u2019t",
    "haven't": "hasn't",
    "haven\u2019t": "hasn\u2019t",
    "go": "goes",
    "am": "is",
}


@dataclass(frozen=True, slots=True)
class Skip:
    """A piece of a message that holds nothing to remember, and why."""

    origin: Utterance
    reason: str
    text: str = ""


def sentences(text: str) -> Iterator[str]:
    """Sentences and list items of a message, code blocks left out, its signature block
    one line (`memos.agents.signatures`)."""
    for raw in unfold_tables(_FENCED.sub("\n", joined_signature(text))).splitlines():
        line = _BULLET.sub("", raw).strip()
        if not line:
            continue
        pending = ""
        for piece in _BREAK.split(line):
            pending = f"{pending} {piece}".strip() if pending else piece.strip()
            if not _ABBREVIATION.search(pending):
                yield pending
                pending = ""
        if pending:
            yield pending


def third_person(sentence: str, author: str | None) -> str:
    """First-person words replaced by the author's name ("I live" -> "Mira lives")."""
    name = display_author(author)
    if name is None or not re.search(r"\b(?:I|me|my|My|mine|myself)\b", sentence):
        return sentence
    text = sentence
    for pattern, replacement in _FIRST_PERSON:
        text = pattern.sub(replacement.format(name=name), text)

    def conjugate(match: re.Match[str]) -> str:
        verb = match["verb"]
        adverb = match["adverb"] or ""
        return f"{name}{adverb} {_third_person_verb(verb)}"

    text = _SUBJECT_VERB.sub(conjugate, text)
    text = re.sub(r"(?<![\w-])I(?![\w-])", name, text)
    return text[:1].upper() + text[1:]


def _third_person_verb(verb: str) -> str:
    if verb in _IRREGULAR:
        return _IRREGULAR[verb]
    if verb in _KEEP_VERBS or verb.endswith(("ed", "s", "n't", "n\u2019t")) or len(verb) < 2:
        return verb
    if verb.endswith(("sh", "ch", "x", "z", "o")):
        return verb + "es"
    if verb.endswith("y") and verb[-2:-1] not in "aeiou":
        return verb[:-1] + "ies"
    return verb + "s"


def _content_words(text: str) -> list[str]:
    found = [w for w in re.findall(r"[A-Za-z][\w'-]*|\d+", text) if w.lower() not in IGNORED]
    return found + [t.group(0) for t in THING.finditer(text)]


# Content words a sentence may say beyond its states before it is also kept as a fact.
_MORE_WORDS = 3


def _says_more(sentence: str, seen: Sequence[State]) -> bool:
    """Whether a sentence says more than the states read from it ("Adyen is live for 10%
    of EU card traffic, error rate 0.2%": the status is a state, the error rate is not),
    so it is kept as a fact too and a question about the rest still finds it."""
    said: set[str] = set()
    for state in seen:
        parts = [state.subject, *state.names, state.attribute, state.value, state.previous or ""]
        said.update(_bare(w) for w in _content_words(" ".join(parts)))
    rest = {_bare(w) for w in _content_words(sentence)} - said
    return len(rest) >= _MORE_WORDS


def _bare(word: str) -> str:
    return word.lower().strip("'\u2019-")


def skip_reason(sentence: str) -> str | None:
    """Why a sentence holds nothing worth remembering, or None."""
    if sentence.rstrip(" )\"'").endswith("?"):
        return "a question, not a statement"
    if _FILLER.match(sentence):
        return "small talk"
    if len(_content_words(sentence)) < 2:
        return "too little content"
    return None


def kind_of(sentence: str, utterance: Utterance) -> str:
    """fact, event or preference, from the wording and where it was said."""
    if _PREFERENCE.search(sentence) and re.search(r"\b(?:I|my|we|our)\b", sentence, re.I):
        return "preference"
    if utterance.platform in _TRACKERS:
        return "event"
    opening = " ".join(sentence.split()[:4])  # the main verb comes early in chat
    if _PAST.search(opening) and not re.search(r"(?i)\b(?:is|are|am)\b", sentence):
        return "event"  # something happened ("Deploy failed"), not a standing fact
    return "fact"


def things_in(text: str) -> list[str]:
    """Tickets, pull requests and commits named in a text, in one spelling each."""
    return list(dict.fromkeys(thing_name(t.group(0)) for t in THING.finditer(text)))


def _labels(sentence: str, *, limit: int = 6) -> tuple[tuple[str, ...], tuple[str, ...]]:
    things = things_in(sentence)
    taken = {slug(t) for t in things}
    words = [
        k
        for k in keyphrases(sentence, limit=limit)
        if len(k) <= 64
        and not any(slug(k) in t for t in taken)  # "45" of "PR #45", "ENG 142" of "ENG-142"
        and not ("'" in k and " " not in k)
    ]
    keywords = tuple(dict.fromkeys([*things, *words]))[: limit + len(things)]
    return keywords, tuple(slug(t) for t in things)


def state_candidate(
    state: State, sentence: str, utterance: Utterance, *, extractor: str = EXTRACTOR
) -> Candidate:
    keywords, tags = _labels(sentence)
    is_task = bool(THING.fullmatch(state.subject)) or utterance.subject_hint is not None
    kind = "preference" if state.attribute.startswith(("opinion of", "favorite")) else "fact"
    return Candidate(
        content=state.sentence(),
        type="task_state" if is_task and kind == "fact" else kind,
        origin=utterance,
        extractor=extractor,
        keywords=keywords,
        tags=tuple(dict.fromkeys([*state.tags(), *tags])),
        context=_context(sentence, utterance),
        state=state,
        plain=third_person(sentence, utterance.author) if state.ended else None,
    )


def _context(sentence: str, utterance: Utterance) -> str:
    where = utterance.platform or utterance.source
    about = f" about {utterance.subject_hint}" if utterance.subject_hint else ""
    who = utterance.author or "someone"
    return f"{who} on {where}{about}: {sentence}"[:4096]


def _event_state(utterance: Utterance) -> State | None:
    """An event that states its change as fields: {field, from, to} about its subject."""
    changed, new = utterance.fields.get("field"), utterance.fields.get("to")
    subject = utterance.subject_hint
    if not (isinstance(changed, str) and isinstance(new, str | int) and subject):
        return None
    old = utterance.fields.get("from")
    state = State(
        subject=thing_name(subject),
        attribute=canonical_attribute(changed),
        value=str(new).strip(),
        previous=str(old).strip() if isinstance(old, str | int) and str(old) else None,
        said_at=utterance.at,
    )
    return state if state.makes_sense() else None


_QUOTE_LINE = re.compile(r"^\s*>|^\s*On .{4,80} wrote:\s*$")


def _merged(
    seen: list[State], sentence: str, utterance: Utterance, context: Context
) -> list[State]:
    """The patterns' states, and the general rules' for keys the patterns did not read;
    a general 'resolved X as Won't Fix' says more than the pattern's 'resolved'."""
    seen = [named_state(state, context) for state in seen]
    for state in seen:
        context.note(state, utterance.author)
    keyed = {state.key: index for index, state in enumerate(seen)}
    merged = list(seen)
    # The parse reads only sentences nothing else read: a second reading of "the v3.3
    # release slipped to February 14" could key it to a similar name (v3.4).
    found = general_states(sentence, utterance, context, utterance.text, parse=not seen)
    for state, reason in found:
        if any(_same_reading(state, other) for other in seen):
            continue  # "Veridian go-live" / date and "Veridian" / "go-live": one state
        if state.key not in keyed:
            keyed[state.key] = len(merged)
            merged.append(state)
        elif reason.endswith(" as"):
            merged[keyed[state.key]] = state
    return merged


def _same_reading(general: State, pattern: State) -> bool:
    """Whether the general rules read a pattern's state again under other words: the same
    value, and the same words in subject and attribute (a bare 'date' aside)."""
    if general.key == pattern.key:
        return False
    days = [resolve(s.value, s.said_at) for s in (general, pattern)]
    if general.value_key != pattern.value_key and (days[0] is None or days[0] != days[1]):
        return False

    def words(state: State) -> set[str]:
        return set(re.findall(r"[a-z0-9]+", f"{state.subject} {state.attribute}".lower())) - {
            "date"
        }

    return words(general) == words(pattern)


def named_state(state: State, context: Context) -> State:
    """A pattern's state with its subject as the conversation names it (its entity's
    canonical name) and every name that entity goes by."""
    subject = canonical(state.subject, context.entities)
    return replace(state, subject=subject, names=names_of(subject, context.entities))


def extract(
    utterance: Utterance, context: Context | None = None
) -> tuple[list[Candidate], list[Skip]]:
    """Candidate memories of one message or event, and the parts skipped (with why).

    With a `context` (the states the reader already knows), the general rules of
    `memos.agents.statements` read what the patterns do not, and every state read is
    added to the context for the messages after it."""
    if utterance.machine:
        return [], [Skip(utterance, f"{utterance.role} turn: memories come from people")]
    found: dict[str, Candidate] = {}
    skipped: list[Skip] = []
    if context is not None:
        learn_message(utterance, context.entities)
        context.topic = topic_of(utterance, context.entities)
        listed = list_topic(utterance.text)
        # Its exact name only: "LOW TIDE" is not the "LOW TIDE Day 3" met before.
        known = None if listed is None else context.entities.find(listed)
        context.list_topic = listed if known is None else known.name
        titled = utterance.fields.get("subject") or invite_title(utterance)
        if listed is not None and not titled and not ID.fullmatch(context.topic or ""):
            # A list's heading says what it is about; the one numbered name a line holds
            # ("Room: Whitmore Hall 210") does not, the one id does ("File: ST-27-04418").
            context.topic = None
    structured = _event_state(utterance)
    if structured is not None and context is not None:
        structured = named_state(structured, context)
    if structured is not None:
        candidate = state_candidate(structured, utterance.text.strip()[:500], utterance)
        found[structured.key] = replace(candidate, structured=True)
    named = things_in(utterance.text) or (
        [utterance.subject_hint] if utterance.subject_hint else []
    )
    quoted = "\n".join(line for line in utterance.text.splitlines() if _QUOTE_LINE.match(line))
    if context is not None:
        context.focus = []  # what this message is about, sentence by sentence
    for sentence in sentences(utterance.text):
        if quoted and sentence in quoted:
            skipped.append(Skip(utterance, "a quoted earlier message", sentence[:200]))
            continue
        if len(sentence) > MAX_SENTENCE_CHARS:
            # A pasted blob or log, not prose: checked before reading, because the rules
            # would spend seconds on it and read noise.
            too_long = f"a sentence over {MAX_SENTENCE_CHARS} characters (not prose)"
            skipped.append(Skip(utterance, too_long, sentence[:200]))
            continue
        seen = states(sentence, utterance)
        if context is not None:
            seen = _merged(seen, sentence, utterance, context)
        if not seen and structured is not None and len(_content_words(sentence)) < 4:
            skipped.append(Skip(utterance, "restates the event's change", sentence[:200]))
            continue
        if not seen:
            why = skip_reason(sentence)
            if why is not None:
                skipped.append(Skip(utterance, why, sentence[:200]))
                continue
        for state in seen:
            # A later sentence's value of a key wins ("the PO number is 7781-22. Correction:
            # the PO number is 7781-23"); the event's own fields win over any sentence.
            if structured is None or state.key != structured.key:
                found[state.key] = state_candidate(state, sentence, utterance)
        if seen and not _says_more(sentence, seen):
            continue
        text = third_person(sentence, utterance.author)
        if len(named) == 1 and not things_in(sentence):
            # A commit body or a ticket's description, about the one thing the event names.
            text = f"{text.rstrip('.')} ({thing_name(named[0])})."
        keywords, tags = _labels(text)
        found.setdefault(
            text.lower(),
            Candidate(
                content=text,
                type=kind_of(sentence, utterance),
                origin=utterance,
                extractor=EXTRACTOR,
                keywords=keywords,
                tags=tags,
                context=_context(sentence, utterance) if text != sentence else None,
            ),
        )
    return list(found.values()), skipped
