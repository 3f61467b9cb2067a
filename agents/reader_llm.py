"""MemReader's LLM path: prompts, answer schemas, and the checks that keep a model's
mistakes out of the store.

A model's memories are kept only when they are *grounded*: each must share content words
with the message it cites, and a keyed state's value must appear in that message. This
drops echoes of the prompt's example, invented facts and answers about the wrong message,
which small local models produce often. When nothing a model proposed survives, the batch
goes to the offline extractor instead.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from memos.agents.candidates import TYPES, Candidate, State, canonical_attribute, thing_name
from memos.agents.events import Utterance
from memos.agents.extract import Skip, state_candidate, things_in
from memos.agents.keyphrases import IGNORED, stem
from memos.agents.patterns import display_author
from memos.agents.reconcile import Advice
from memos.agents.structured import Attempt, ask
from memos.protocols import ChatMessage, LLMClient

EXTRACT_SYSTEM = """You read messages and events from chat and work tools and pick out \
what is worth remembering later: facts, events, preferences and the state of tasks.
Rules:
- One memory per fact, as one short sentence that stands on its own: use names, never \
"I", "he" or "it" (the author of each message is given).
- Skip greetings, thanks, questions, jokes and anything not worth remembering.
- When a memory states something that can change later (a ticket's status or assignee, \
the date of an event, a price, a count, where a person lives or works, what someone \
likes), also give "subject" (the ticket id, person or thing, named as the messages name \
it), "attribute" (status, assignee, owner, date, price, count, location, version, rollout, \
vendor, employer, name, priority, "<milestone> date" such as "go-live date", or "opinion \
of <thing>") and "value" (as the message says it), and in "names" any other names the \
messages use for the same subject (an id, a title, a short name).
- Skip hedges, questions, proposals not yet accepted and conditional offers.
- "message" is the number of the message the memory comes from.
Answer with JSON only, in this shape:
{"memories": [{"message": 1, "type": "task_state", "content": "ENG-7 is assigned to \
Dana.", "subject": "ENG-7", "attribute": "assignee", "value": "Dana", "names": \
["login bug"], "keywords": ["ENG-7"]}]}
"type" is one of: fact, event, preference, task_state."""

DECIDE_SYSTEM = """You keep an agent's memory consistent. For each new memory, compare it \
with the existing memories listed under it and choose one action:
- "add": it is new information;
- "update": it refines or extends existing memory #id; give the merged sentence as \
"content";
- "supersede": it contradicts existing memory #id, which is no longer true;
- "skip": the existing memories already say it.
Answer with JSON only, in this shape:
{"decisions": [{"candidate": 1, "action": "add", "target": null, "content": null, \
"reason": "new fact"}]}"""

_OPINION_VERBS = {
    "likes": "likes",
    "loves": "likes",
    "enjoys": "likes",
    "prefers": "likes",
    "dislikes": "dislikes",
    "hates": "dislikes",
}
_NOTHING = {"", "null", "none", "n/a", "unknown", "-"}
_ENDED = re.compile(r"(?i)\bno longer\b|\bany ?more\b")
# Negated, or ambiguous about which value ended ("Ida left Oslo for Bergen"): keep unkeyed.
_NEGATED = re.compile(r"(?i)\bnot\b|n't\b|\bnever\b|\bleft\b|\bquit\b")


def _optional_text(value: object) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    text = str(value).strip()
    return None if text.lower() in _NOTHING else text


class ExtractedMemory(BaseModel):
    """One memory as a model proposes it (coerced leniently: small models vary)."""

    model_config = ConfigDict(extra="ignore")

    message: int = Field(ge=1)
    type: str = "fact"
    content: str = Field(min_length=3, max_length=1000)
    subject: str | None = None
    attribute: str | None = None
    value: str | None = None
    names: list[str] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)

    @field_validator("message", mode="before")
    @classmethod
    def _number(cls, value: object) -> object:
        if isinstance(value, str):
            digits = re.sub(r"\D", "", value)
            return int(digits) if digits else value
        return value

    @field_validator("type", mode="before")
    @classmethod
    def _type(cls, value: object) -> str:
        text = str(value or "fact").strip().lower().replace(" ", "_")
        return text if text in TYPES else "fact"

    @field_validator("subject", "attribute", "value", mode="before")
    @classmethod
    def _optional(cls, value: object) -> str | None:
        return _optional_text(value)

    @field_validator("keywords", "names", mode="before")
    @classmethod
    def _keywords(cls, value: object) -> list[str]:
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list):
            return []
        cleaned = [str(k).strip() for k in items if isinstance(k, str | int) and str(k).strip()]
        return [k for k in cleaned if len(k) <= 64][:12]


class Extraction(BaseModel):
    memories: list[ExtractedMemory] = Field(default_factory=list, max_length=200)

    @model_validator(mode="before")
    @classmethod
    def _bare_list(cls, value: object) -> object:
        return {"memories": value} if isinstance(value, list) else value


class Decision(BaseModel):
    model_config = ConfigDict(extra="ignore")

    candidate: int = Field(ge=1)
    action: str
    target: int | None = None
    content: str | None = Field(default=None, max_length=1000)
    reason: str = Field(default="", max_length=300)

    @field_validator("action", mode="before")
    @classmethod
    def _action(cls, value: object) -> str:
        text = str(value).strip().lower()
        aliases = {"none": "skip", "noop": "skip", "no-op": "skip", "delete": "supersede"}
        return aliases.get(text, text)

    @field_validator("target", mode="before")
    @classmethod
    def _target(cls, value: object) -> object:
        if isinstance(value, str):
            digits = re.sub(r"\D", "", value)
            return int(digits) if digits else None
        return value

    @field_validator("content", "reason", mode="before")
    @classmethod
    def _text(cls, value: object) -> str | None:
        return _optional_text(value)


class Decisions(BaseModel):
    decisions: list[Decision] = Field(default_factory=list, max_length=200)

    @model_validator(mode="before")
    @classmethod
    def _bare_list(cls, value: object) -> object:
        return {"decisions": value} if isinstance(value, list) else value


# -- extraction ---------------------------------------------------------------------------


def _line(number: int, utterance: Utterance) -> str:
    when = utterance.at.strftime("%Y-%m-%d %H:%M") + " " if utterance.at else ""
    where = utterance.platform or utterance.source
    about = f", about {utterance.subject_hint}" if utterance.subject_hint else ""
    text = " ".join(utterance.text.split())[:2000]
    return f"[{number}] {when}{utterance.author or 'someone'} ({where}{about}): {text}"


def extraction_messages(batch: Sequence[Utterance]) -> list[ChatMessage]:
    lines = "\n".join(_line(n, u) for n, u in enumerate(batch, start=1))
    return [
        {"role": "system", "content": EXTRACT_SYSTEM},
        {"role": "user", "content": f"Messages:\n{lines}"},
    ]


def _stems(text: str) -> set[str]:
    words = re.findall(r"[A-Za-z0-9][\w'-]*", text.lower())
    return {stem(w) for w in words if w not in IGNORED}


def _grounded(content: str, utterance: Utterance) -> bool:
    """The memory shares at least one content word (besides its author's name) with the
    message it cites."""
    names = {stem(n) for n in (utterance.author or "").lower().split()}
    return bool((_stems(content) - names) & _stems(utterance.text))


def _state(memory: ExtractedMemory, utterance: Utterance) -> State | None:
    if not (memory.subject and memory.attribute and memory.value):
        return None
    attribute, value = canonical_attribute(memory.attribute), memory.value
    if attribute in _OPINION_VERBS:  # {"attribute": "likes", "value": "hiking"}
        attribute, value = f"opinion of {value.lower()}", _OPINION_VERBS[attribute]
    elif attribute.startswith("opinion of "):
        value = _OPINION_VERBS.get(value.lower(), value)
    subject = memory.subject
    if subject.lower() in ("i", "me", "myself", (utterance.author or "").lower()):
        subject = display_author(utterance.author) or subject
    elif things_in(subject):
        subject = thing_name(subject)
    text = utterance.text.lower()
    mentioned = subject.lower() in text or subject == display_author(utterance.author)
    stated = value.lower() in text or value in _OPINION_VERBS.values()
    if not (mentioned and stated):
        return None  # a key the message does not support is a guess; keep it unkeyed
    # "Erin no longer works at Acme" with value Acme ends Acme; never key that as current.
    ended = bool(_ENDED.search(memory.content))
    if not ended and _NEGATED.search(memory.content):
        return None
    # Other names of the subject count only when the message uses them.
    names = tuple(n for n in memory.names if n.lower() in text and n.lower() != subject.lower())
    state = State(subject, attribute, value, said_at=utterance.at, ended=ended, names=names)
    return state if state.makes_sense() else None


def extract_with_llm(
    llm: LLMClient, batch: Sequence[Utterance], *, max_tokens: int, extractor: str
) -> tuple[list[Candidate], list[Skip], str | None]:
    """Candidates a model proposes for a batch, grounded; plus what it dropped, and the
    reason to fall back to the offline extractor (None when the answer is usable)."""
    attempts: list[Attempt] = []
    answer = ask(
        llm, extraction_messages(batch), Extraction, max_tokens=max_tokens, attempts=attempts
    )
    if answer is None:
        problem = attempts[-1].error if attempts else "no answer"
        return [], [], f"LLM answer unusable after {len(attempts)} tries: {problem}"
    candidates: list[Candidate] = []
    dropped: list[Skip] = []
    for memory in answer.memories:
        if memory.message > len(batch):
            continue
        origin = batch[memory.message - 1]
        if not _grounded(memory.content, origin):
            dropped.append(Skip(origin, "LLM memory not grounded in the message", memory.content))
            continue
        state = _state(memory, origin)
        if state is not None:
            candidates.append(state_candidate(state, memory.content, origin, extractor=extractor))
            continue
        keywords = tuple(dict.fromkeys([*things_in(memory.content), *memory.keywords]))[:12]
        candidates.append(
            Candidate(memory.content.strip(), memory.type, origin, extractor, keywords=keywords)
        )
    if answer.memories and not candidates:
        return [], dropped, "no LLM memory was grounded in its message"
    return candidates, dropped, None


# -- reconciliation advice ------------------------------------------------------------------


def decision_messages(pairs: Sequence[tuple[Candidate, Sequence[Any]]]) -> list[ChatMessage]:
    blocks = []
    for number, (candidate, similar) in enumerate(pairs, start=1):
        who = candidate.origin.author or "someone"
        lines = [f'New memory {number} (from {who}): "{candidate.content}"']
        lines += [f'  existing #{item.id}: "{item.content}"' for item in similar]
        blocks.append("\n".join(lines))
    return [
        {"role": "system", "content": DECIDE_SYSTEM},
        {"role": "user", "content": "\n\n".join(blocks)},
    ]


def advise_with_llm(
    llm: LLMClient, pairs: Sequence[tuple[Candidate, Sequence[Any]]], *, max_tokens: int
) -> dict[int, Advice]:
    """Advice per pair index, for the pairs the model answered sensibly about (targets
    outside what it was shown are ignored); empty when its answer is unusable."""
    answer = ask(llm, decision_messages(pairs), Decisions, max_tokens=max_tokens)
    if answer is None:
        return {}
    advice: dict[int, Advice] = {}
    for decision in answer.decisions:
        index = decision.candidate - 1
        if not 0 <= index < len(pairs) or decision.action not in (
            "add",
            "update",
            "supersede",
            "skip",
        ):
            continue
        shown = {item.id for item in pairs[index][1]}
        if decision.action in ("update", "supersede") and decision.target not in shown:
            continue
        content = decision.content
        if content and not _grounded(content, pairs[index][0].origin):
            content = None
        advice.setdefault(index, Advice(decision.action, decision.target, content, decision.reason))
    return advice
