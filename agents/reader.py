"""MemReader: messages and platform events in, reconciled memory items out.

`cube.ingest(records)` runs it. Records are checked first (a malformed one stores
nothing), then read in batches: the LLM extracts when there is one (one call per batch,
plus one call to advise on candidates that resemble existing items), the offline
extractor (`memos.agents.extract`) when there is none or when the LLM's answer is
unusable, and `memos.agents.reconcile` decides, candidate by candidate, whether to add,
update, supersede or skip. Every decision is reported with its reason, and the LLM's
calls and tokens are counted.

Re-reading the same messages stores nothing new (every candidate is a duplicate or an
already-current state), so an interrupted ingest can simply be run again.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import TYPE_CHECKING

from memos.agents.candidates import Candidate
from memos.agents.events import Utterance, utterances
from memos.agents.extract import EXTRACTOR, Skip, extract, named_state
from memos.agents.llm.base import MeteredLLM, Usage
from memos.agents.parse import load_parser
from memos.agents.reader_llm import advise_with_llm, extract_with_llm
from memos.agents.reconcile import Advice, Reconciler
from memos.agents.report import Action, Entry, IngestReport
from memos.agents.similarity import Shape, jaccard
from memos.agents.statements import Context
from memos.errors import ConfigError, InvalidInputError
from memos.progress import progress
from memos.protocols import LLMClient

if TYPE_CHECKING:
    from memos.models import MemoryItem
    from memos.protocols import Memory


@dataclass(frozen=True, slots=True)
class ReaderSettings:
    """Knobs of a MemReader. `related` is the word overlap above which an LLM is asked
    whether a new memory updates or contradicts an existing one; `max_llm_failures` is
    how many batches in a row may fail before the rest of an ingest goes offline."""

    batch_size: int = 8
    similar_k: int = 8
    near_duplicate: float = 0.8
    event_window: timedelta = timedelta(days=1)
    llm_max_tokens: int = 1024
    llm_reconcile: bool = True
    related: float = 0.3
    max_llm_failures: int = 2
    # The offline extractor's dependency parse: None (rules alone), 'auto', or a spaCy
    # pipeline's package name or folder (`memos.agents.parse.load_parser`).
    parse: str | None = None

    def __post_init__(self) -> None:
        counts = (self.batch_size, self.similar_k, self.llm_max_tokens, self.max_llm_failures)
        if min(counts) < 1 or not 0 < self.near_duplicate <= 1 or not 0 <= self.related <= 1:
            raise InvalidInputError(
                "reader settings: batch_size, similar_k, llm_max_tokens and max_llm_failures "
                "must be >= 1; near_duplicate in (0, 1]; related in [0, 1]"
            )


@dataclass
class _Run:
    entries: list[Entry] = field(default_factory=list)
    candidates: int = 0
    fallbacks: list[str] = field(default_factory=list)
    failures_in_a_row: int = 0
    context: Context = field(default_factory=Context)


class MemReader:
    """Reads messages into a cube (see the module doc)."""

    def __init__(self, llm: LLMClient | None = None, *, settings: ReaderSettings | None = None):
        self.llm = llm
        self.settings = settings or ReaderSettings()

    def ingest(
        self,
        cube: Memory,
        records: Iterable[object],
        *,
        source: str | None = None,
    ) -> IngestReport:
        """Read records (message / event mappings, text, or `Utterance`s) into `cube`.

        Raises:
            InvalidInputError: a record is malformed; nothing was stored.
            ConfigError: the LLM refused its credentials (fix the key, or ingest offline).
        """
        started = time.perf_counter()
        found = utterances(records, source=source)
        meter = MeteredLLM(self.llm) if self.llm is not None else None
        reconciler = Reconciler(
            cube,
            similar_k=self.settings.similar_k,
            near_duplicate=self.settings.near_duplicate,
            event_window=self.settings.event_window,
        )
        run = _Run(context=Context.of(cube))
        run.context.parser = load_parser(self.settings.parse)
        size = self.settings.batch_size
        batches = [found[start : start + size] for start in range(0, len(found), size)]
        for batch in progress(batches, desc="ingesting", total=len(batches)):
            self._read(batch, meter, reconciler, run)
        return IngestReport.build(
            messages=len(found),
            candidates=run.candidates,
            entries=run.entries,
            usage=meter.usage if meter is not None else Usage(),
            extractor=f"llm:{meter.model}" if meter is not None else EXTRACTOR,
            fallbacks=run.fallbacks,
            seconds=time.perf_counter() - started,
        )

    def _read(
        self,
        batch: Sequence[Utterance],
        meter: MeteredLLM | None,
        reconciler: Reconciler,
        run: _Run,
    ) -> None:
        candidates, skipped = self._extract(batch, meter, run)
        run.candidates += len(candidates)
        run.entries += [
            Entry(Action.SKIPPED, s.reason, None, s.origin.ref, s.text or None) for s in skipped
        ]
        advice: dict[int, Advice] = {}
        if meter is not None and self.settings.llm_reconcile and run.failures_in_a_row == 0:
            advice = self._advise(candidates, meter, reconciler)
        for index, candidate in enumerate(candidates):
            run.entries += reconciler.apply(candidate, advice.get(index))

    def _extract(
        self, batch: Sequence[Utterance], meter: MeteredLLM | None, run: _Run
    ) -> tuple[list[Candidate], list[Skip]]:
        people = [u for u in batch if not u.machine]
        if meter is None or not people or run.failures_in_a_row >= self.settings.max_llm_failures:
            return _offline(batch, run.context)
        found, dropped, problem = extract_with_llm(
            meter, people, max_tokens=self.settings.llm_max_tokens, extractor=f"llm:{meter.model}"
        )
        if isinstance(meter.last_error, ConfigError):
            raise meter.last_error  # wrong key or URL: every later call would fail the same way
        if problem is not None:
            run.failures_in_a_row += 1
            refs = ", ".join(u.ref or f"#{u.position}" for u in batch)
            run.fallbacks.append(f"messages {refs}: {problem}; read offline")
            if run.failures_in_a_row == self.settings.max_llm_failures:
                run.fallbacks.append(
                    f"{run.failures_in_a_row} LLM batches failed in a row; the rest of this "
                    "ingest is read offline"
                )
            candidates, skipped = _offline(batch, run.context)
            return candidates, dropped + skipped
        run.failures_in_a_row = 0
        # The offline read teaches the context the batch's names (subject lines, ids);
        # exact state changes that events carry as fields need no model.
        offline = _offline(batch, run.context)[0]
        found = [_named(c, run.context) for c in found]
        keyed = {c.state.key for c in found if c.state is not None}
        for candidate in offline:
            if candidate.structured and candidate.state and candidate.state.key not in keyed:
                found.append(candidate)
        machine = [Skip(u, f"{u.role} turn: memories come from people") for u in batch if u.machine]
        return found, dropped + machine

    def _advise(
        self, candidates: Sequence[Candidate], meter: MeteredLLM, reconciler: Reconciler
    ) -> dict[int, Advice]:
        """Ask the LLM about free statements that resemble existing items (one call)."""
        pairs: list[tuple[Candidate, list[MemoryItem]]] = []
        indexes: list[int] = []
        for index, candidate in enumerate(candidates):
            if candidate.state is not None:
                continue  # keyed states are reconciled exactly, by key
            shape = Shape.of(candidate.content)
            related = [
                item
                for item in reconciler.similar(candidate)[:3]
                if jaccard(shape, Shape.of(item.content or "")) >= self.settings.related
            ]
            if related:
                pairs.append((candidate, related))
                indexes.append(index)
        if not pairs:
            return {}
        advice = advise_with_llm(meter, pairs, max_tokens=self.settings.llm_max_tokens)
        if isinstance(meter.last_error, ConfigError):
            raise meter.last_error
        return {indexes[i]: a for i, a in advice.items()}


def _named(candidate: Candidate, context: Context) -> Candidate:
    """A model's state named as the conversation names its subject (the same schema as
    the offline reader's: canonical subject, its entity's names, the attribute's names)."""
    state = candidate.state
    if state is None:
        return candidate
    for name in state.names:
        context.entities.learn(state.subject, name)
    renamed = named_state(state, context)
    context.note(renamed, candidate.origin.author)
    return replace(
        candidate, state=renamed, tags=tuple(dict.fromkeys([*renamed.tags(), *candidate.tags]))
    )


def _offline(
    batch: Sequence[Utterance], context: Context | None = None
) -> tuple[list[Candidate], list[Skip]]:
    candidates: list[Candidate] = []
    skipped: list[Skip] = []
    for utterance in batch:
        found, passed = extract(utterance, context)
        candidates += found
        skipped += passed
    return candidates, skipped
