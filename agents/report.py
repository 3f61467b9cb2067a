"""What an ingest did: every item added, updated, superseded or skipped, with why, and
what the LLM cost."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from memos.agents.llm.base import Usage
from memos.models import Record


class Action(StrEnum):
    ADDED = "added"
    UPDATED = "updated"
    SUPERSEDED = "superseded"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class Entry(Record):
    """One decision. `item_id` is the item written (added, updated, superseded) or, for a
    skipped duplicate, the item it repeats; `related_id` is the other side of a
    supersession (the replacement of a superseded item, the item an added one replaces)."""

    action: Action
    reason: str
    item_id: int | None = None
    source_ref: str | None = None
    content: str | None = None
    related_id: int | None = None


@dataclass(frozen=True, slots=True)
class IngestReport(Record):
    """The outcome of `cube.ingest`. `extractor` is 'offline' or 'llm:<model>';
    `fallbacks` says why batches went to the offline extractor instead."""

    messages: int
    candidates: int
    added: tuple[Entry, ...]
    updated: tuple[Entry, ...]
    superseded: tuple[Entry, ...]
    skipped: tuple[Entry, ...]
    usage: Usage
    extractor: str
    fallbacks: tuple[str, ...]
    seconds: float
    llm_calls_per_message: float
    tokens_per_message: float

    @classmethod
    def build(
        cls,
        *,
        messages: int,
        candidates: int,
        entries: list[Entry],
        usage: Usage,
        extractor: str,
        fallbacks: list[str],
        seconds: float,
    ) -> IngestReport:
        def pick(action: Action) -> tuple[Entry, ...]:
            return tuple(e for e in entries if e.action is action)

        per = max(messages, 1)
        return cls(
            messages=messages,
            candidates=candidates,
            added=pick(Action.ADDED),
            updated=pick(Action.UPDATED),
            superseded=pick(Action.SUPERSEDED),
            skipped=pick(Action.SKIPPED),
            usage=usage,
            extractor=extractor,
            fallbacks=tuple(fallbacks),
            seconds=round(seconds, 3),
            llm_calls_per_message=round(usage.calls / per, 3),
            tokens_per_message=round(usage.total_tokens / per, 1),
        )

    def summary(self) -> str:
        """One line for people."""
        failed = f" ({self.usage.failures} failed)" if self.usage.failures else ""
        cost = (
            f"; {self.usage.calls} LLM calls{failed}, {self.usage.total_tokens} tokens "
            f"({self.tokens_per_message:g}/message)"
            if self.usage.calls
            else ""
        )
        fallback = f"; {len(self.fallbacks)} batch(es) fell back offline" if self.fallbacks else ""
        return (
            f"read {self.messages} messages ({self.extractor}): {len(self.added)} added, "
            f"{len(self.updated)} updated, {len(self.superseded)} superseded, "
            f"{len(self.skipped)} skipped{cost}{fallback} in {self.seconds:.1f}s"
        )
