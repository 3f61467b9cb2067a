"""MEMTRACK-style evaluation: chronologically interleaved platform timelines, questions
asked in sequence, and Correctness / Efficiency / Redundancy per backend.

```python
from memos.eval import memtrack

instances = memtrack.load_paths([Path("examples/memtrack")])  # or memtrack.generate(20, 0)
with memos.open(home, embedder="minilm") as mos:
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

from typing import TYPE_CHECKING

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
