"""What the scheduler reports: its decisions, one pass, and its status."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from memos.models import Record


@dataclass(frozen=True, slots=True)
class Decision(Record):
    """One thing the scheduler did, and why (kept in the scheduler log)."""

    policy: str  # promote, invalidate, demote, expire, distill, place
    action: str  # build, drop, archive, expire, queue, run, evict, skip
    cube_id: int | None
    subject: str  # what it acted on: "item #12", "prefix #3,#5,#9", ...
    reason: str
    at: datetime
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PassReport(Record):
    """What one scheduling pass (`tick`) decided, and how long deciding took."""

    decisions: tuple[Decision, ...]
    seconds: float


@dataclass(frozen=True, slots=True)
class TierStatus(Record):
    """One tier's use against its budget."""

    used_bytes: int
    budget_bytes: int
    entries: int = 0


@dataclass(frozen=True, slots=True)
class SchedulerStatus(Record):
    """Tiers and counters since this memos was opened."""

    running: bool
    eviction_policy: str
    tiers: dict[str, TierStatus]
    promotions: int = 0
    demotions: int = 0
    evictions: int = 0
    hits: int = 0
    misses: int = 0
    bytes_moved: int = 0
    distillations_queued: int = 0
    distillations_run: int = 0
    stale_dropped: int = 0
    expired: int = 0
    tracked_prefixes: int = 0
    decision_p99_ms: float = 0.0
