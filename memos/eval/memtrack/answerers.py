"""Answerers turn what a memory recalled into an answer; a judge grades answers.

* `ExtractiveAnswerer` (`memos.eval.memtrack.extractive`): no LLM; picks the answer span
  from the recalled items, so the harness runs anywhere, CI included.
* `LLMAnswerer`: any `LLMClient` (OpenAI-compatible server, local model), shown the
  recalled items oldest first with time, platform and author.
* `LLMJudge`: asks an LLM whether an answer means the same as an acceptable one; its
  verdicts give the `judge` score.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, Field

from memos.agents.llm.base import MeteredLLM
from memos.agents.structured import Attempt, ask
from memos.eval.memtrack.backends import Retrieved
from memos.protocols import ChatMessage, LLMClient

UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Answer:
    """An answer and what it cost."""

    text: str
    llm_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0


@runtime_checkable
class Answerer(Protocol):
    """Answers a question from recalled items (`asked_at`: the time it is asked)."""

    @property
    def name(self) -> str: ...

    def answer(
        self, question: str, items: Sequence[Retrieved], *, asked_at: datetime | None
    ) -> Answer: ...


def render(items: Sequence[Retrieved]) -> str:
    """Recalled items as prompt lines, oldest first (undated ones last, in given order)."""
    dated = sorted((i for i in items if i.timestamp), key=lambda i: i.timestamp or 0)
    lines = []
    for item in [*dated, *(i for i in items if not i.timestamp)]:
        when = f"{item.timestamp:%Y-%m-%d %H:%M}" if item.timestamp else "undated"
        where = " ".join(p for p in (item.platform, item.actor) if p)
        note = "" if item.current is not False else " (superseded)"
        text = " ".join(item.text.split())
        lines.append(f"- [{when}] {where}: {text}{note}")
    return "\n".join(lines) or "(no memories)"


class _Reply(BaseModel):
    answer: str = Field(description="the shortest exact answer, or 'unknown'")


ANSWER_PROMPT = (
    "You answer questions about a team's work (tickets, pull requests, releases, people) "
    "using only the memories given, listed oldest first with time, platform and author. "
    "When memories disagree, the later statement holds, unless it is only a question, a "
    "guess or a negation. Answer with the shortest exact value (a status, a person's "
    'name, a date, a ticket or pull request id, a title), as JSON: {"answer": "..."}. '
    "If the memories do not say, answer unknown."
)


class LLMAnswerer:
    """Answers with an LLM (see the module doc)."""

    def __init__(self, llm: LLMClient, *, max_tokens: int = 64) -> None:
        self.llm = MeteredLLM(llm)
        self.max_tokens = max_tokens

    @property
    def name(self) -> str:
        return f"llm:{self.llm.model}"

    def answer(
        self, question: str, items: Sequence[Retrieved], *, asked_at: datetime | None
    ) -> Answer:
        before = self.llm.usage
        when = f" (asked on {asked_at:%Y-%m-%d %H:%M})" if asked_at else ""
        messages: list[ChatMessage] = [
            {"role": "system", "content": ANSWER_PROMPT},
            {
                "role": "user",
                "content": f"Memories:\n{render(items)}\n\nQuestion{when}: {question}",
            },
        ]
        attempts: list[Attempt] = []
        reply = ask(self.llm, messages, _Reply, max_tokens=self.max_tokens, attempts=attempts)
        if reply is not None:
            text = reply.answer
        else:
            # A model that ignores the JSON format often still answers in plain text.
            raw = next((a.answer for a in attempts if a.answer.strip()), "")
            text = raw.strip().splitlines()[0] if raw.strip() else UNKNOWN
        spent = self.llm.usage
        return Answer(
            text.strip().strip("\"'`").removeprefix("Answer:").strip() or UNKNOWN,
            spent.calls - before.calls,
            spent.prompt_tokens - before.prompt_tokens,
            spent.completion_tokens - before.completion_tokens,
        )


class _Verdict(BaseModel):
    correct: bool


JUDGE_PROMPT = (
    "You grade answers. Given a question, the acceptable answers and a candidate answer, "
    "say whether the candidate means the same as one acceptable answer (formatting, case "
    "and extra words that do not change the meaning do not matter; a different value or "
    'a hedge between values is wrong). Reply as JSON: {"correct": true} or '
    '{"correct": false}.'
)


class LLMJudge:
    """Grades an answer 1.0 / 0.0 with an LLM; None when the LLM gives no usable verdict."""

    def __init__(self, llm: LLMClient) -> None:
        self.llm = MeteredLLM(llm)

    @property
    def name(self) -> str:
        return f"llm:{self.llm.model}"

    def grade(self, question: str, answers: Sequence[str], predicted: str) -> float | None:
        accepted = "; ".join(answers)
        messages: list[ChatMessage] = [
            {"role": "system", "content": JUDGE_PROMPT},
            {
                "role": "user",
                "content": f"Question: {question}\nAcceptable answers: {accepted}\n"
                f"Candidate answer: {predicted}",
            },
        ]
        verdict = ask(self.llm, messages, _Verdict, max_tokens=32)
        return None if verdict is None else float(verdict.correct)
