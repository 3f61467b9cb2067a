"""MEMTRACK-style evaluation: chronologically interleaved platform timelines, questions
asked in sequence, and Correctness / Efficiency / Redundancy per backend.

```python
from memos.eval import memtrack
from memos.timeutil import ReplayClock

instances = memtrack.load_paths([Path("examples/memtrack")])  # or memtrack.generate(20, 0)
# A replay clock stores each event at its own time and asks each question at its time.
with memos.open(home, embedder="minilm", clock=ReplayClock()) as mos:
    backends = memtrack.default_backends(mos)  # memos, rag, full-context, none
    runs = memtrack.run(backends, instances, memtrack.ExtractiveAnswerer())
report = memtrack.build_report(runs, instances=len(instances), answerer="extractive",
                               judge=None, settings=memtrack.RunSettings())
print(memtrack.markdown(report))
```

Modules: `format` (the instance format and its validator), `archive` (the MEMTRACK
release's layout, and loading paths), `generator` / `world` / `generated_questions` (the
seeded generator), `backends` and `memos_backend` (the backend protocol and the four
backends), `answerers` and `extractive` (answering and judging), `metrics` (the scores'
definitions), `runner`, `report`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from memos.eval.memtrack.answerers import Answer, Answerer, LLMAnswerer, LLMJudge
from memos.eval.memtrack.archive import convert_config, load_archive, load_paths
from memos.eval.memtrack.backends import (
    FULL_CONTEXT_BUDGET,
    Backend,
    FullContextBackend,
    Memory,
    NoBackend,
    RagBackend,
    Retrieval,
    Retrieved,
)
from memos.eval.memtrack.extractive import ExtractiveAnswerer
from memos.eval.memtrack.format import (
    Event,
    Instance,
    Question,
    instance_from_dict,
    load_instance,
    write_instance,
)
from memos.eval.memtrack.generator import generate, generate_instance
from memos.eval.memtrack.memos_backend import MemosBackend
from memos.eval.memtrack.report import build as build_report
from memos.eval.memtrack.report import markdown, plot
from memos.eval.memtrack.runner import BackendRun, QuestionResult, RunSettings, run

if TYPE_CHECKING:
    from memos.mos import MemOS
    from memos.protocols import LLMClient

BACKENDS = ("memos", "rag", "full-context", "none")


def make_backend(
    name: str,
    mos: MemOS,
    *,
    reader_llm: LLMClient | None = None,
    budget: int | None = FULL_CONTEXT_BUDGET,
) -> Backend:
    """A built-in backend by name. `mos` supplies the embedder and holds the memos
    backend's cubes; `reader_llm` is MemReader's LLM (None: offline); `budget` caps the
    full-context backend's tokens (None: no cap).

    Raises:
        InvalidInputError: an unknown name.
    """
    from memos.errors import InvalidInputError

    if name == "memos":
        return MemosBackend(mos, llm=reader_llm)
    if name == "rag":
        return RagBackend(mos.embedder)
    if name == "full-context":
        return FullContextBackend(budget)
    if name == "none":
        return NoBackend()
    raise InvalidInputError(f"unknown backend {name!r}; choose from: {', '.join(BACKENDS)}")


def default_backends(mos: MemOS) -> list[Backend]:
    """The four built-in backends."""
    return [make_backend(name, mos) for name in BACKENDS]


def _configured_llm(mos: MemOS, role: str) -> LLMClient:
    """The LLM configured for memos (MEMOS_LLM ...), or a clear error naming `role`."""
    from memos.errors import ConfigError

    client = mos.llm
    if client is None:
        raise ConfigError(
            f"{role} needs an LLM: set MEMOS_LLM=openai with MEMOS_LLM_BASE_URL and "
            "MEMOS_LLM_MODEL (any OpenAI-compatible server), or MEMOS_LLM=local"
        )
    return client


def evaluate(
    mos: MemOS,
    instances: list[Instance],
    *,
    backends: Sequence[str] = BACKENDS,
    answerer: str = "extractive",
    judge: bool = False,
    reader_llm: bool = False,
    k: int = 10,
    budget: int | None = FULL_CONTEXT_BUDGET,
) -> dict[str, Any]:
    """Run the named backends over `instances` and build the report (`memos eval
    memtrack` runs this). `answerer` is 'extractive' or 'llm'; `judge` grades with the
    configured LLM; `reader_llm` lets the memos backend's MemReader use it.

    Raises:
        InvalidInputError: an unknown backend or answerer.
        ConfigError: an LLM role with no LLM configured.
    """
    from memos.errors import InvalidInputError

    if answerer not in ("extractive", "llm"):
        raise InvalidInputError(f"answerer is 'extractive' or 'llm', got {answerer!r}")
    chosen: Answerer = ExtractiveAnswerer()
    if answerer == "llm":
        chosen = LLMAnswerer(_configured_llm(mos, "--answerer llm"))
    grader = LLMJudge(_configured_llm(mos, "--judge")) if judge else None
    reader = _configured_llm(mos, "--reader-llm") if reader_llm else None
    built = [make_backend(name, mos, reader_llm=reader, budget=budget) for name in backends]
    settings = RunSettings(k=k)
    runs = run(built, instances, chosen, judge=grader, settings=settings)
    return build_report(
        runs,
        instances=len(instances),
        answerer=chosen.name,
        judge=grader.name if grader else None,
        settings=settings,
        embedder=mos.embedder.spec.model,
    )


__all__ = [
    "BACKENDS",
    "Answer",
    "Answerer",
    "Backend",
    "BackendRun",
    "Event",
    "ExtractiveAnswerer",
    "FullContextBackend",
    "Instance",
    "LLMAnswerer",
    "LLMJudge",
    "Memory",
    "MemosBackend",
    "NoBackend",
    "Question",
    "QuestionResult",
    "RagBackend",
    "Retrieval",
    "Retrieved",
    "RunSettings",
    "build_report",
    "convert_config",
    "default_backends",
    "evaluate",
    "generate",
    "generate_instance",
    "instance_from_dict",
    "load_archive",
    "load_instance",
    "load_paths",
    "markdown",
    "make_backend",
    "plot",
    "run",
    "write_instance",
]
