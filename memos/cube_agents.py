"""The agents' half of `MemCube`: MemReader, conversations, Zettelkasten notes, concept
memory and the link graph (`memos.agents`). Each agent module loads when first used: the
extraction patterns and NLP tables are not worth paying for in a CLI call that only reads
an item, and the agents reach the cube through the `Memory` protocol, never its parts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from memos import validation
from memos.models import MemoryItem, Permission
from memos.protocols import ItemRef, LLMClient, Memory
from memos.requests import ingest_records

if TYPE_CHECKING:
    from memos.agents.concepts import Abstraction, Concept, ConceptChange, ConceptMemory
    from memos.agents.events import Utterance
    from memos.agents.graph import MemoryGraph
    from memos.agents.reader import MemReader
    from memos.agents.report import IngestReport
    from memos.agents.zettelkasten import NoteResult, NoteSettings
    from memos.kernel import CubeKernel
    from memos.mos import MemOS


class AgentMemory:
    """MemReader, notes, concepts and the graph of one cube (mixed into `MemCube`)."""

    _mos: MemOS
    _kernel: CubeKernel

    @property
    def _memory(self) -> Memory:
        """This cube as the agents see it (`MemCube` implements the `Memory` protocol)."""
        return cast("Memory", self)

    def _concepts(self, llm: LLMClient | None = None) -> ConceptMemory:
        from memos.agents.concepts import ConceptMemory

        return ConceptMemory(self._memory, llm=llm)

    def add_conversation(
        self,
        turns: Iterable[Mapping[str, Any]],
        *,
        session: str | None = None,
        at: datetime | str | None = None,
        source: str = "chat",
    ) -> list[MemoryItem]:
        """Store chat turns (`{speaker, text, timestamp?, id?}`) as messages by their
        speakers, each with the previous turn as context and `next` links between them;
        `at` dates turns without a timestamp. See `memos.agents.conversation`."""
        listed = validation.listed(turns, field="turns", of="turns")
        from memos.agents import conversation

        return conversation.add_conversation(
            self._memory, listed, session=session, at=at, source=source
        )

    def _llm(self, llm: LLMClient | None) -> LLMClient | None:
        return validation.part(llm, LLMClient, field="llm") if llm is not None else self._mos.llm

    def ingest(
        self,
        records: Iterable[Mapping[str, Any] | str | Utterance] | Mapping[str, Any],
        *,
        source: str | None = None,
        reader: MemReader | None = None,
        llm: LLMClient | None = None,
    ) -> IngestReport:
        """MemReader: chat messages (`{role or speaker, content, timestamp?, id?}`) and
        platform events (`{platform, actor, timestamp, text, id, ...}`) become memories
        with provenance, reconciled with what the cube holds (duplicates skipped,
        extensions as versions, contradicted states superseded). See `memos.agents.reader`.

        Raises:
            InvalidInputError: a malformed record (nothing is stored).
            PermissionDeniedError: the user may not write to this cube.
            ConfigError: the LLM server refused its credentials.
        """
        self._kernel.require(Permission.WRITE)
        from memos.agents.ledger import record_usage
        from memos.agents.reader import MemReader, ReaderSettings

        chosen = validation.part(reader, MemReader, field="reader") or MemReader(
            self._llm(llm), settings=ReaderSettings(parse=self._mos.settings.reader_parse)
        )
        batch, source = ingest_records(records, source)
        report = chosen.ingest(self._memory, batch, source=source)
        record_usage(
            self._mos.kernel.store,
            self._kernel.cube_id,
            "ingest",
            messages=report.messages,
            usage=report.usage,
        )
        return report

    def note(
        self,
        content: str,
        *,
        agent: str | None = None,
        llm: LLMClient | None = None,
        settings: NoteSettings | None = None,
        **fields: Any,
    ) -> NoteResult:
        """Add a Zettelkasten note (A-MEM): keywords, tags and context, linked to its nearest
        neighbours, evolving theirs as versions; offline without an LLM. `fields` are those
        of `add`. See `memos.agents.zettelkasten`."""
        from memos.agents.zettelkasten import NoteTaker

        taker = NoteTaker(self._memory, llm=self._llm(llm), settings=settings)
        return taker.add(
            validation.content(content, max_chars=self._kernel.max_content_chars),
            agent=agent,
            **fields,
        )

    def graph(self) -> MemoryGraph:
        """A networkx view of the links the user may see, built now. See
        `memos.agents.graph`."""
        from memos.agents.graph import MemoryGraph

        return MemoryGraph.build(*self._kernel.graph_data())

    def abstract(
        self,
        trace: str | Sequence[str],
        *,
        outcome: str | bool = "success",
        task: str | None = None,
        used: Iterable[ItemRef] = (),
        llm: LLMClient | None = None,
    ) -> Abstraction:
        """Concept memory (ArcMemo): store a solution trace and distil reusable concepts,
        merged with same-named ones; `used` concepts get the outcome counted."""
        memory = self._concepts(self._llm(llm))
        return memory.abstract(trace, outcome=outcome, task=task, used=used)

    def concepts_for(self, problem: str, *, k: int = 5) -> list[Concept]:
        """The k concepts whose cues best fit a problem."""
        return self._concepts().retrieve(problem, k=k)

    def record_concept_use(self, concepts: Iterable[ItemRef], *, success: bool) -> list[Concept]:
        """Count that these concepts were applied and whether it worked."""
        return self._concepts().record_use(concepts, success=success)

    def add_concept(self, name: str, *, kind: str, description: str, **lists: Any) -> ConceptChange:
        """Store a concept by hand (`cues`, `parameters`, `notes` lists); one with the same
        name is merged into, as a new version."""
        from memos.agents.concepts import spec_of

        return self._concepts().add(spec_of(name, kind=kind, description=description, **lists))

    def concepts(self, *, kind: str | None = None, limit: int = 1000) -> list[Concept]:
        """Live concepts, newest first."""
        return self._concepts().all(kind=kind, limit=limit)
