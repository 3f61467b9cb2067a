"""The `memos` backend: events read by MemReader into a cube, recalled by hybrid search.

Each instance gets its own cube. Events go through `cube.ingest` (extraction, keyed
states, supersession of contradicted states, duplicates skipped), and questions through
`cube.search` with the default weights, so what a question sees is the cube's current
state: superseded items are discounted and marked `current=False`. The best few current
states that replaced another are followed by the state they replaced, the best one by its
history back to the first value (up to four earlier values; one `cube.get` each, counted
as a memory call), so "what was it before / originally" has its answer at hand; the list
is then cut back to k. Earlier values come after the search's own hits, except that a
question about the first value follows the history all the way and puts the first value
in place of the last hit.

Provenance (for evidence recall) is every event an item was written, revised or
confirmed by: the item's `source_ref`, plus the events the ingest report ties to it
(a repeat that was skipped still supports the item it repeats). An item's time is when
it became true, or the latest repeat of it if later: a state restated after a change
MemReader did not recognise is the newer statement.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from typing import Any

from memos.agents.events import SUBJECT_FIELDS
from memos.agents.reader import MemReader, ReaderSettings
from memos.errors import NotFoundError
from memos.eval.memtrack.backends import Memory, Retrieval, Retrieved
from memos.eval.memtrack.format import Event
from memos.models import MemoryItem
from memos.mos import MemOS
from memos.protocols import LLMClient
from memos.timeutil import ReplayClock


@dataclass(frozen=True, slots=True)
class StateRetrieved(Retrieved):
    """A recalled keyed state: the item's `state` (subject, attribute, value, previous,
    state_key), the sentence it was read from (`said`), and when it held (`valid_from`,
    `valid_to`), so an answerer can read the value itself, the one before it or the one at
    a past time, instead of a text span."""

    state: Mapping[str, Any] = field(default_factory=dict)
    said: str = ""
    valid_from: datetime | None = None
    valid_to: datetime | None = None


_STATE_FIELDS = (
    "subject",
    "attribute",
    "value",
    "previous",
    "state_key",
    "ended",
    "names",
    "attribute_names",
)
# "What was X on March 12?", "as of 2026-03-12": the instant a question asks about.
_AS_OF = re.compile(
    r"(?i)\b(?:on|as of|at|by|in)\s+(?P<d>(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)"
    r"[a-z]*\.?\s+\d{1,2}(?:st|nd|rd|th)?(?:,?\s+\d{4})?|\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?"
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*(?:,?\s+\d{4})?|\d{4}-\d{2}-\d{2})"
)


def asked_as_of(question: str, asked_at: datetime | None) -> datetime | None:
    """The end of the day a question asks about ('What was X on March 12?'), the latest
    such day not after `asked_at`; None when it names no day."""
    from memos.agents.dates import resolve

    found = _AS_OF.search(question)
    if found is None or not re.search(r"(?i)\b(?:was|were|did|had)\b", question):
        return None
    base = asked_at or datetime.now(UTC)
    day = resolve(found["d"], base)
    if day is None:
        return None
    if day > base.date() and not re.search(r"\d{4}", found["d"]):
        try:
            day = day.replace(year=day.year - 1)
        except ValueError:
            return None
    return datetime.combine(day, time(23, 59, 59), tzinfo=UTC)


# "originally", "when it was first planned": the first value, not the one before the latest.
_FIRST = re.compile(
    r"(?i)\b(?:originally|initially|original|initial|at first|to begin with|at the start)\b|"
    r"\bfirst\s+[a-z]+(?:ed|en)\b|"
    # "Orbit's first quote": the first of a thing that gets revised, not "the first author"
    r"\bfirst\s+(?:quote|offer|estimate|proposal|bid|draft|plan|price|date|deadline|figure|"
    r"budget|schedule|count|number|target|timeline|invoice)s?\b"
)


def asks_first(question: str) -> bool:
    """The question asks for the first value of something that changed ('originally', 'when
    it was first planned', 'the first quote')."""
    return bool(_FIRST.search(question))


# How many earlier values the best recalled state brings back (its history, newest first);
# for a question about the first value, as many as it takes to reach it.
_HISTORY_DEPTH = 4
_ROOT_DEPTH = 32

# Fields MemReader reads itself; an event's `meta` may not override them.
_RESERVED = frozenset(
    {"platform", "actor", "author", "text", "content", "role", "speaker", "name", "id"}
    | {"timestamp", "ts", "channel"}
)


def reader_record(event: Event) -> dict[str, Any]:
    """An event as MemReader reads it: `{platform, actor, timestamp, text, id, ...}` with
    the event's `meta` fields alongside (`ticket`, `pr`, `field` / `from` / `to`, ...)."""
    record: dict[str, Any] = {
        key: value for key, value in event.meta.items() if key not in _RESERVED
    }
    record.update(
        platform=event.platform,
        actor=event.actor,
        timestamp=event.timestamp.isoformat(),
        text=event.text,
        id=event.id,
    )
    if event.channel:
        record["channel"] = event.channel
    # A subject given as a number (pr: 88) is read as text, as MemReader expects.
    for key in SUBJECT_FIELDS:
        if isinstance(record.get(key), int) and not isinstance(record.get(key), bool):
            record[key] = str(record[key])
    return record


class _CubeMemory:
    def __init__(
        self,
        mos: MemOS,
        name: str,
        reader: MemReader,
        weights: Mapping[str, float],
        predecessors: int,
        clock: ReplayClock | None,
    ) -> None:
        self.mos = mos
        self.predecessors = predecessors
        self.clock = clock
        self.replayed = False  # the first event rewinds the clock to this timeline's start
        self.cube = mos.create_cube(name)
        self.reader = reader
        self.weights = dict(weights)
        self.refs: dict[int, set[str]] = {}
        self.latest: datetime | None = None
        self.restated: dict[int, datetime] = {}

    def observe(self, events: Sequence[Event]) -> None:
        if not events:
            return
        self.latest = events[-1].timestamp
        if self.clock is None:
            self._ingest(events)
            return
        # Replaying: each event is stored at its own time, as it would have been live.
        for event in events:
            self.clock.set(event.timestamp, rewind=not self.replayed)
            self.replayed = True
            self._ingest([event])

    def _ingest(self, events: Sequence[Event]) -> None:
        report = self.cube.ingest([reader_record(e) for e in events], reader=self.reader)
        for entry in (*report.added, *report.updated, *report.superseded, *report.skipped):
            if entry.item_id is not None and entry.source_ref:
                self.refs.setdefault(entry.item_id, set()).add(entry.source_ref)
        # A skipped repeat says the item was still true when it was repeated; MemReader
        # keeps no trace of that on the item, so the backend keeps the latest such time.
        when = {e.id: e.timestamp for e in events}
        for entry in report.skipped:
            moment = when.get(entry.source_ref or "")
            if entry.item_id is not None and moment is not None:
                latest = self.restated.get(entry.item_id)
                self.restated[entry.item_id] = moment if latest is None else max(latest, moment)

    def _retrieved(self, item: MemoryItem, score: float) -> Retrieved:
        refs = self.refs.get(item.id, set()) | ({item.source_ref} if item.source_ref else set())
        restated = self.restated.get(item.id)
        current = item.superseded_by is None and item.valid_to is None
        when = item.valid_from if restated is None else max(item.valid_from, restated)
        if "state_key" in item.attributes:
            state = {k: item.attributes[k] for k in _STATE_FIELDS if k in item.attributes}
            return StateRetrieved(
                text=item.content or "",
                refs=tuple(sorted(refs)),
                timestamp=when,
                actor=item.author,
                platform=item.source,
                score=score,
                current=current,
                state=state,
                said=item.context or "",
                valid_from=item.valid_from,
                valid_to=item.valid_to,
            )
        return Retrieved(
            text=item.content or "",
            refs=tuple(sorted(refs)),
            timestamp=when,
            actor=item.author,
            platform=item.source,
            score=score,
            current=current,
        )

    def retrieve(self, question: str, *, k: int) -> Retrieval:
        if self.clock is not None and self.latest is not None:
            self.clock.set(self.latest)  # asked right after the last event replayed
        hits = self.cube.search(question, k=k, weights=self.weights or None)
        seen = {h.item.id for h in hits}
        found: list[Retrieved] = []
        calls = 1
        moment = asked_as_of(question, self.latest)
        if moment is not None:
            # A question about a past day reads the cube as it was then (valid time).
            then = self.cube.search(question, k=k, as_of=moment, weights=self.weights or None)
            calls += 1
            for hit in then[: max(1, k // 2)]:
                if hit.item.id not in seen and "state_key" in hit.item.attributes:
                    seen.add(hit.item.id)
                    found.append(self._retrieved(hit.item, hit.score))
        walked = 0  # states whose earlier values were followed
        deeper: list[Retrieved] = []
        first = asks_first(question)
        for hit in hits:
            found.append(self._retrieved(hit.item, hit.score))
            if walked >= self.predecessors or "state_key" not in hit.item.attributes:
                continue
            # Each state brings the value it replaced; the best one its history back to
            # the first value ("what was it originally?"), after the search's own hits, so
            # that a long history never pushes a hit out of the k.
            depth = 1
            if walked == 0:
                depth = _ROOT_DEPTH if first else _HISTORY_DEPTH
            item = hit.item
            for step in range(depth):
                earlier = item.supersedes
                if earlier is None or earlier in seen:
                    break
                try:
                    item = self.cube.get(earlier)
                except NotFoundError:
                    break  # forgotten: the chain starts here
                calls += 1
                seen.add(item.id)
                (found if step == 0 else deeper).append(self._retrieved(item, hit.score))
            if item is not hit.item:
                walked += 1
        recalled = [*found, *deeper]
        if first and deeper and all(r is not deeper[-1] for r in recalled[:k]):
            # Asked for the first value: the best state's first value, which the hits
            # would push out of the k, takes the last hit's place.
            recalled[k - 1] = deeper[-1]
        return Retrieval(tuple(recalled[:k]), calls)

    def close(self) -> None:
        self.mos.flush()  # access counts and the index snapshot, before the next cube


class MemosBackend:
    """`memos`: MemReader in, hybrid search out, one cube per instance in `mos`.

    `llm` is MemReader's LLM (None: the offline extractor); `weights` override search
    weights (e.g. `{"graph": 0}`) for ablations; `predecessors` is how many current states
    per question bring the state they replaced (0: search only). On a `mos` opened with a
    `ReplayClock`, each event is stored at its own time and each question asked at the
    time of the last event before it, so recency and "has this ended" read the timeline's
    time, not the day the evaluation runs."""

    name = "memos"

    def __init__(
        self,
        mos: MemOS,
        *,
        llm: LLMClient | None = None,
        weights: Mapping[str, float] | None = None,
        predecessors: int = 3,
        prefix: str = "memtrack",
    ) -> None:
        self.mos = mos
        self.predecessors = predecessors
        self.llm = llm
        self.weights = dict(weights or {})
        self.prefix = prefix
        self._started = 0

    def start(self, instance_id: str) -> Memory:
        self._started += 1
        slug = re.sub(r"[^A-Za-z0-9._-]+", "-", instance_id).strip("-.")[:80] or "instance"
        name = f"{self.prefix}-{self._started:04d}-{slug}"
        reader = MemReader(self.llm, settings=ReaderSettings(parse=self.mos.settings.reader_parse))
        clock = self.mos.clock
        replay = clock if isinstance(clock, ReplayClock) else None
        return _CubeMemory(self.mos, name, reader, self.weights, self.predecessors, replay)
