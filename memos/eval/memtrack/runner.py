"""The run: each backend replays each instance and answers its questions in order.

For every question the runner replays the events up to its `after` point into the
backend's memory (`observe`, timed as ingest), retrieves (`retrieve`), answers, and
scores: correctness, token F1, the judge's verdict when there is a judge, evidence
recall, what the retrieval cost, and which retrieved items were redundant (against this
retrieval and the instance's earlier ones) or duplicated (within this retrieval only).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from memos.eval.memtrack.answerers import Answerer, LLMJudge
from memos.eval.memtrack.backends import Backend, Memory, Retrieval
from memos.eval.memtrack.format import Instance, Question
from memos.eval.memtrack.metrics import (
    DUPLICATE_THRESHOLD,
    Redundancy,
    count_tokens,
    evidence_recall,
    exact_match,
    token_f1,
)
from memos.progress import progress

SHOWN_ITEMS = 5  # retrieved texts kept per question in the report, for reading failures


@dataclass(frozen=True, slots=True)
class QuestionResult:
    """One question's answer, scores and costs under one backend."""

    instance: str
    id: str
    category: str
    question: str
    answers: tuple[str, ...]
    predicted: str
    correct: float
    token_f1: float
    judge: float | None
    evidence_recall: float | None
    memory_calls: int
    retrieved_items: int
    retrieved_tokens: int
    redundant_items: int
    duplicate_items: int
    seconds: float
    llm_calls: int
    llm_tokens: int
    retrieved: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "instance": self.instance,
            "id": self.id,
            "category": self.category,
            "question": self.question,
            "answers": list(self.answers),
            "predicted": self.predicted,
            "correct": self.correct,
            "token_f1": self.token_f1,
            "judge": self.judge,
            "evidence_recall": self.evidence_recall,
            "memory_calls": self.memory_calls,
            "retrieved_items": self.retrieved_items,
            "retrieved_tokens": self.retrieved_tokens,
            "redundant_items": self.redundant_items,
            "duplicate_items": self.duplicate_items,
            "seconds": self.seconds,
            "llm_calls": self.llm_calls,
            "llm_tokens": self.llm_tokens,
            "retrieved": list(self.retrieved),
        }


@dataclass
class BackendRun:
    """Everything one backend did over all instances."""

    backend: str
    results: list[QuestionResult] = field(default_factory=list)
    ingest_seconds: float = 0.0
    events: int = 0


@dataclass(frozen=True, slots=True)
class RunSettings:
    """`k`: items a ranked backend returns per question; `duplicate_threshold`: the word
    Jaccard at which two retrieved texts count as duplicates."""

    k: int = 10
    duplicate_threshold: float = DUPLICATE_THRESHOLD


def _ask(
    memory: Memory,
    instance: Instance,
    question: Question,
    answerer: Answerer,
    judge: LLMJudge | None,
    tracker: Redundancy,
    settings: RunSettings,
) -> QuestionResult:
    upto = instance.replayed_before(question)
    asked_at = instance.events[upto - 1].timestamp if upto else None
    started = time.perf_counter()
    retrieval: Retrieval = memory.retrieve(question.question, k=settings.k)
    answer = answerer.answer(question.question, retrieval.items, asked_at=asked_at)
    seconds = time.perf_counter() - started
    texts = [item.text for item in retrieval.items]
    flags = tracker.check(texts)
    within = Redundancy(settings.duplicate_threshold).check(texts)
    verdict = judge.grade(question.question, question.answers, answer.text) if judge else None
    return QuestionResult(
        instance=instance.id,
        id=question.id,
        category=question.category,
        question=question.question,
        answers=question.answers,
        predicted=answer.text,
        correct=exact_match(answer.text, question.answers),
        token_f1=token_f1(answer.text, question.answers),
        judge=verdict,
        evidence_recall=evidence_recall(question.evidence, (i.refs for i in retrieval.items)),
        memory_calls=retrieval.calls,
        retrieved_items=len(texts),
        retrieved_tokens=sum(count_tokens(t) for t in texts),
        redundant_items=sum(flags),
        duplicate_items=sum(within),
        seconds=seconds,
        llm_calls=answer.llm_calls,
        llm_tokens=answer.prompt_tokens + answer.completion_tokens,
        retrieved=tuple(" ".join(t.split())[:200] for t in texts[:SHOWN_ITEMS]),
    )


def run_backend(
    backend: Backend,
    instances: Sequence[Instance],
    answerer: Answerer,
    *,
    judge: LLMJudge | None = None,
    settings: RunSettings | None = None,
) -> BackendRun:
    """Replay every instance into a fresh memory of `backend` and ask its questions."""
    chosen = settings or RunSettings()
    outcome = BackendRun(backend.name)
    for instance in progress(instances, desc=f"memtrack: {backend.name}", total=len(instances)):
        memory = backend.start(instance.id)
        tracker = Redundancy(chosen.duplicate_threshold)
        replayed = 0
        try:
            for question in instance.questions:
                upto = instance.replayed_before(question)
                started = time.perf_counter()
                memory.observe(instance.events[replayed:upto])
                outcome.ingest_seconds += time.perf_counter() - started
                outcome.events += upto - replayed
                replayed = upto
                outcome.results.append(
                    _ask(memory, instance, question, answerer, judge, tracker, chosen)
                )
        finally:
            memory.close()
    return outcome


def run(
    backends: Sequence[Backend],
    instances: Sequence[Instance],
    answerer: Answerer,
    *,
    judge: LLMJudge | None = None,
    settings: RunSettings | None = None,
) -> list[BackendRun]:
    """Every backend over every instance, one after the other."""
    return [run_backend(b, instances, answerer, judge=judge, settings=settings) for b in backends]
