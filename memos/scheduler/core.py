"""The scheduler: watches the kernel's events, and in each pass runs its policies, which
promote hot memory prefixes to KV caches, drop stale derived memory, keep tiers within
their budgets, expire and archive plaintext, and queue LoRA distillations.

It runs on a background thread (`memos.open(..., scheduler=True)`) or on demand
(`mos.scheduler.tick()`). Models run outside any database transaction: a build prefills
first and then writes its item in one short transaction.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from typing import Any

from memos.activation.prefix import longest_match
from memos.errors import MemosError
from memos.kernel.events import Changed, CubeDropped, Event, Forgotten, Generated
from memos.models import Kind, MemoryItem, Tier
from memos.protocols import DerivedHost
from memos.scheduler.host import SchedulerHost
from memos.scheduler.policies import DEFAULT_POLICIES, SCHEDULER, Job, PassContext, Policy
from memos.scheduler.records import Decision, PassReport, SchedulerStatus, TierStatus
from memos.scheduler.usage import UsageTracker

log = logging.getLogger(__name__)

# Decision times kept for the p99 in `status()`.
_TIMINGS = 2048


class Scheduler:
    """Moves memory across kinds and tiers; see the module docstring."""

    def __init__(
        self,
        host: SchedulerHost,
        *,
        policies: Sequence[Callable[[], Policy]] = DEFAULT_POLICIES,
    ) -> None:
        self.host = host
        self.tracker = UsageTracker()
        self.policies = [make() for make in policies]
        self.counters: Counter[str] = Counter()
        self._jobs: deque[Job] = deque()
        self._timings: deque[float] = deque(maxlen=_TIMINGS)
        self._pass_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._recovered = False

    # -- events ----------------------------------------------------------------------------

    def observe(self, event: Event) -> None:
        """A kernel listener: cheap bookkeeping only (decisions happen in passes)."""
        started = time.perf_counter()
        if isinstance(event, Generated):
            self.tracker.generated(event)
        elif isinstance(event, Changed):
            for item in event.items:
                if item.version > 1:  # runs over its older versions will not recur
                    self.tracker.forget_item(event.cube_id, item.id, before=item.version)
        elif isinstance(event, Forgotten):
            self.tracker.forget_item(event.cube_id, event.item.id)
        elif isinstance(event, CubeDropped):
            self.tracker.forget_cube(event.cube_id)
        self._timings.append(time.perf_counter() - started)

    def prefix_cache(
        self, host: DerivedHost, sources: Sequence[MemoryItem], template: str
    ) -> MemoryItem | None:
        """The fresh prefix cache over the longest leading run of `sources` that the acting
        user may read, or None (looked up in memory, then checked in SQL: a stale or
        unreadable one is never returned)."""
        started = time.perf_counter()
        self._recover()
        try:
            keys = tuple((s.id, s.version) for s in sources)
            known = [
                p.cache
                for p in self.tracker.cached()
                if p.cube_id == host.cube_id and p.template == template
                and p.cache is not None and keys[: len(p.sources)] == p.sources
            ]  # fmt: skip
            candidates: list[MemoryItem] = []
            for item_id in known:
                try:
                    candidates.append(host.read(item_id))
                except MemosError:
                    continue  # gone, or not readable by this user: recompute instead
            return longest_match(candidates, sources, template)
        finally:
            self._timings.append(time.perf_counter() - started)

    def _recover(self) -> None:
        """Learn the prefix caches an earlier process built (once, lazily: opening memos
        stays free of queries), so they are used and not built twice."""
        if self._recovered:
            return
        self._recovered = True
        for cube in self.host.store.all_cubes():
            for item in self.host.store.derived_by(cube.id, SCHEDULER):
                if item.kind is Kind.ACTIVATION and item.attributes.get("open_prefix"):
                    self.tracker.adopt(cube.id, item)

    # -- passes ----------------------------------------------------------------------------

    def tick(self) -> PassReport:
        """Run one scheduling pass now; returns what it decided (and how long deciding
        took). Queued distillations wait for `run_jobs()` or the background thread."""
        self._recover()
        with self._pass_lock:
            started = time.perf_counter()
            counts: dict[str, int] = Counter()
            ctx = PassContext(self.host, self.tracker, self.host.now(), counts)
            decisions: list[Decision] = []
            for policy in self.policies:
                try:
                    decisions += policy.run(ctx)
                except MemosError as exc:
                    # One failing policy (a cube dropped meanwhile, a corrupt file) must not
                    # stop the others; the failure is a decision like any other.
                    decisions.append(ctx.decide(policy.name, "error", None, "-", str(exc)))
            self._jobs.extend(ctx.jobs)
            self.counters.update(counts)
            self._record(decisions)
            return PassReport(tuple(decisions), time.perf_counter() - started)

    def run_jobs(self, limit: int | None = None) -> PassReport:
        """Run queued long work (distillations) now, oldest first."""
        started = time.perf_counter()
        decisions: list[Decision] = []
        while self._jobs and (limit is None or len(decisions) < limit):
            job = self._jobs.popleft()
            ctx = PassContext(self.host, self.tracker, self.host.now(), {})
            try:
                made = job.run()
            except MemosError as exc:
                decisions.append(ctx.decide("distill", "error", job.cube, job.describe, str(exc)))
                continue
            self.counters["distillations_run"] += 1
            decisions.append(ctx.decide("distill", "run", job.cube, f"item #{made.id}",
                                        job.describe, item=made.id))  # fmt: skip
        self._record(decisions)
        return PassReport(tuple(decisions), time.perf_counter() - started)

    def _record(self, decisions: Sequence[Decision]) -> None:
        if decisions:
            self.host.store.record_decisions(
                {
                    "cube_id": d.cube_id,
                    "at": d.at,
                    "policy": d.policy,
                    "action": d.action,
                    "subject": d.subject[:512],
                    "reason": d.reason,
                    "details": d.details,
                }
                for d in decisions
            )

    def decisions(self, *, cube_id: int | None = None, limit: int = 100) -> list[Decision]:
        """The newest recorded decisions, newest first (of every process using this
        database)."""
        rows = self.host.store.decisions(cube_id, limit)
        return [
            Decision(
                policy=r["policy"],
                action=r["action"],
                cube_id=r["cube_id"],
                subject=r["subject"],
                reason=r["reason"],
                at=r["at"],
                details=dict(r["details"] or {}),
            )
            for r in rows
        ]

    # -- status ----------------------------------------------------------------------------

    def status(self) -> SchedulerStatus:
        """Tier use against budgets and counters since this memos opened."""
        settings = self.host.settings
        tiers = self.host.parts().tiers_loaded
        budgets = {
            Tier.GPU: settings.kv_gpu_bytes,
            Tier.CPU: settings.kv_ram_bytes,
            Tier.DISK: settings.kv_disk_bytes,
        }
        counters: dict[str, Any] = dict(tiers.counters) if tiers is not None else {}
        entries = tiers.stats()["tiers"] if tiers is not None else {}
        report = {}
        for tier, configured in budgets.items():
            if tiers is not None:
                used, budget = tiers.used(tier), tiers.budgets[tier]
            else:  # no cache used in this process yet: only the files count
                disk = tier is Tier.DISK
                used = sum(self.host.parts().kv_store.sizes().values()) if disk else 0
                budget = configured
            count = int(entries.get(tier.value, {}).get("entries", 0))
            report[tier.value] = TierStatus(used_bytes=used, budget_bytes=budget, entries=count)
        timings = sorted(self._timings)
        p99 = timings[min(len(timings) - 1, int(0.99 * len(timings)))] if timings else 0.0
        return SchedulerStatus(
            running=self.running,
            eviction_policy=settings.kv_eviction,
            tiers=report,
            promotions=self.counters["promotions"],
            demotions=self.counters["demotions"],
            evictions=sum(v for k, v in counters.items() if k.endswith("_evictions")),
            hits=self.tracker.hits,
            misses=self.tracker.misses,
            bytes_moved=int(counters.get("bytes_moved", 0)),
            distillations_queued=self.counters["distillations_queued"],
            distillations_run=self.counters["distillations_run"],
            stale_dropped=self.counters["stale_dropped"],
            expired=self.counters["expired"],
            tracked_prefixes=len(self.tracker),
            decision_p99_ms=round(1000 * p99, 3),
        )

    # -- the background thread -------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Run passes (and queued jobs) every `scheduler_interval_s` on a daemon thread."""
        if self.running:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="memos-scheduler", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        interval = self.host.settings.scheduler_interval_s
        while not self._stop.wait(interval):
            try:
                self.tick()
                self.run_jobs(limit=1)
            except Exception:  # the thread must survive any one bad pass; it is logged
                log.exception("scheduler pass failed")

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
