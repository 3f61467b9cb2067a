"""Training data for an adapter: the statements themselves and question-answer pairs.

Offline, questions come from templates over common statement shapes ("X's A is V",
"X is V", "X lives in V", ...) plus a generic "what do you remember about X" and a
completion cue, so every statement yields a few pairs. A `qa` function adds more: with an
LLM client configured, `llm_pairs` asks it for paraphrased questions. A seeded share of the
pairs is held out to measure whether the adapter answers questions it was not trained on.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from memos.errors import MemosError
from memos.models import MemoryItem
from memos.protocols import ChatMessage, LLMClient

QAFunction = Callable[[str], Sequence[tuple[str, str]]]

_END = r"[\s.!]*$"
_POSSESSIVE = re.compile(
    r"^(?P<owner>.+?)['\u2019]s (?P<attr>[\w -]{1,40}?) (?P<verb>is|are|was|were) (?P<value>.+?)"
    + _END
)
_COPULA = re.compile(r"^(?P<subject>.+?) (?P<verb>is|are|was|were) (?P<value>.+?)" + _END)
_PLACE = re.compile(
    r"^(?P<subject>[A-Z][\w'\u2019 -]{0,60}?) (?P<verb>lives|works|stays|studies|grew up|was born)"
    r" (?P<prep>in|at|near|on) (?P<value>.+?)" + _END
)
_VERB = re.compile(
    r"^(?P<subject>[A-Z][\w'\u2019 -]{0,60}?) (?P<verb>[a-z]+s) (?P<value>.+?)" + _END
)
_DETERMINERS = {"the", "a", "an", "this", "that", "our", "my", "your", "his", "her", "their"}
_WHEN = re.compile(
    r"^(on |in |at |since |until )?(the )?(\d|january|february|march|april|may|june|july|"
    r"august|september|october|november|december|monday|tuesday|wednesday|thursday|friday|"
    r"saturday|sunday|next|last|tomorrow|yesterday|today|noon|midnight)",
    re.IGNORECASE,
)
_BASE_FORMS = {"has": "have", "does": "do", "goes": "go"}
_NOT_VERBS = {"is", "was", "has", "this", "always", "also", "less", "plus", "its", "us"}


@dataclass(frozen=True, slots=True)
class Example:
    """One training text. A statement (no prompt) is learnt whole; for a question only the
    answer is learnt, as the reply to the prompt rendered like `generate` renders it."""

    text: str
    prompt: str | None = None
    source: int = 0
    origin: str = "statement"  # or "template", or "qa" (from the `qa` function)

    @property
    def kind(self) -> str:
        return "statement" if self.prompt is None else "qa"


def _clean(text: str) -> str:
    return " ".join(text.split()).rstrip(" .!")


def _base_verb(verb: str) -> str:
    if verb in _BASE_FORMS:
        return _BASE_FORMS[verb]
    if verb.endswith("ies"):
        return verb[:-3] + "y"
    if verb.endswith(("ches", "shes", "sses", "xes", "zes")):
        return verb[:-2]
    return verb[:-1]


def template_pairs(statement: str) -> list[tuple[str, str]]:
    """Question-answer pairs for one statement, from templates (no model needed)."""
    text = _clean(statement)
    pairs: list[tuple[str, str]] = []
    subject = None
    if match := _POSSESSIVE.match(text):
        owner, attr, verb, value = match.group("owner", "attr", "verb", "value")
        pairs.append((f"What {verb} {owner}'s {attr}?", value))
        pairs.append((f"Do you know {owner}'s {attr}?", f"{owner}'s {attr} {verb} {value}."))
        subject = owner
    elif match := _PLACE.match(text):
        subject, verb, prep, value = match.group("subject", "verb", "prep", "value")
        if verb == "was born":
            asker = "When" if prep == "on" or _WHEN.match(value) else "Where"
            pairs.append((f"{asker} was {subject} born?", value))
        elif verb == "grew up":
            pairs.append((f"Where did {subject} grow up?", value))
        else:
            pairs.append(
                (f"Where does {subject} {_base_verb(verb)}?", f"{prep.capitalize()} {value}.")
            )
    elif (match := _VERB.match(text)) and match.group("verb") not in _NOT_VERBS:
        subject, verb, value = match.group("subject", "verb", "value")
        pairs.append((f"What does {subject} {_base_verb(verb)}?", value))
    elif match := _COPULA.match(text):
        subject, verb, value = match.group("subject", "verb", "value")
        first, _, rest = subject.partition(" ")
        if first.lower() in _DETERMINERS:
            subject = f"{first.lower()} {rest}".strip()
        asker = "What"
        if _WHEN.match(value):
            asker = "When"
        elif value.startswith(("in ", "at ", "near ")):
            asker = "Where"
        elif subject[:1].isupper():
            asker = "Who"
        pairs.append((f"{asker} {verb} {subject}?", value))
    if subject:
        pairs.append((f"What do you remember about {subject}?", text + "."))
    words = text.split()
    if len(words) >= 4:
        cut = max(2, len(words) // 2)
        pairs.append(
            (f"Complete this memory: {' '.join(words[:cut])} ...", " ".join(words[cut:]) + ".")
        )
    return pairs


_QA_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "pairs": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"question": {"type": "string"}, "answer": {"type": "string"}},
                "required": ["question", "answer"],
            },
        }
    },
    "required": ["pairs"],
}
_QA_INSTRUCTIONS = (
    "Write up to {count} different questions that the user's statement answers, phrased the "
    "way a person would ask them, each with its answer: a short phrase copied from the "
    'statement. Reply only with JSON: {{"pairs": [{{"question": "...", "answer": "..."}}]}}'
)


def llm_pairs(client: LLMClient, *, count: int = 3) -> QAFunction:
    """A `qa` function that asks an LLM for paraphrased question-answer pairs. Pairs whose
    answer is not in the statement are dropped (a made-up answer would be learnt as fact);
    an unreachable LLM or an unreadable reply yields none, leaving the templates."""

    def pairs(statement: str) -> list[tuple[str, str]]:
        messages: list[ChatMessage] = [
            {"role": "system", "content": _QA_INSTRUCTIONS.format(count=count)},
            {"role": "user", "content": statement},
        ]
        try:
            reply = client.complete(messages, json_schema=_QA_SCHEMA, max_tokens=256).text
            data = json.loads(reply)
        except (MemosError, ValueError):  # offline path: the templates still apply
            return []
        entries = data.get("pairs") if isinstance(data, dict) else None
        found: list[tuple[str, str]] = []
        for entry in entries if isinstance(entries, list) else []:
            if not isinstance(entry, dict):
                continue
            question, answer = entry.get("question"), entry.get("answer")
            if not isinstance(question, str) or not isinstance(answer, str):
                continue
            if question.strip() and answer.strip() and answer.strip().lower() in statement.lower():
                found.append((question.strip(), answer.strip()))
        return found[:count]

    return pairs


def build_examples(
    items: Sequence[MemoryItem],
    *,
    seed: int,
    heldout_fraction: float = 0.2,
    qa: QAFunction | None = None,
) -> tuple[list[Example], list[Example]]:
    """Training and held-out examples from plaintext items (deterministic under `seed`).

    Every statement trains; question-answer pairs are split, at least one held out when
    there are two or more.
    """
    statements = [Example(text=_clean(i.content or "") + ".", source=i.id) for i in items]
    pairs: list[Example] = []
    for item in items:
        text = item.content or ""
        made = [(q, a, "template") for q, a in template_pairs(text)]
        made += [(q, a, "qa") for q, a in (qa(text) if qa is not None else [])]
        seen: set[str] = set()
        for question, answer, origin in made:
            if question not in seen and question.strip() and answer.strip():
                seen.add(question)
                pairs.append(
                    Example(answer.strip(), question.strip(), source=item.id, origin=origin)
                )
    rng = random.Random(seed)
    order = list(range(len(pairs)))
    rng.shuffle(order)
    count = round(len(pairs) * heldout_fraction)
    if heldout_fraction > 0 and len(pairs) >= 2:
        count = max(count, 1)
    held = {order[i] for i in range(count)}
    train = statements + [p for n, p in enumerate(pairs) if n not in held]
    heldout = [p for n, p in enumerate(pairs) if n in held]
    return train, heldout
