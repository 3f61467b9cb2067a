"""The scheduler's policies: each a small class that looks at usage and state and returns
what it did. One pass (`Scheduler.tick`) runs them in order; each decision carries its
reason and lands in the scheduler log.

- `Promote`: cache the memory prefixes generations keep reading (reuse-based admission).
- `Invalidate`: drop the scheduler's caches and adapters whose sources changed.
- `Place`: keep the disk tier within its budget and report the tiers.
- `Expire` and `Demote`: TTL expiry, and archiving plaintext nobody used for long.
- `Distill`: queue a LoRA adapter over settled, heavily used facts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from memos.activation.build import KVRecipe
from memos.errors import MemosError
from memos.models import CubeInfo, Kind, MemoryItem, Status
from memos.runtime.derived import derive
from memos.scheduler.host import SchedulerHost
from memos.scheduler.records import Decision
from memos.scheduler.usage import Prefix, UsageTracker

SCHEDULER = "memos.scheduler"
# A cache's write and bookkeeping cost on top of its prefill, as a fraction of it.
_BUILD_OVERHEAD = 0.1


@dataclass
class PassContext:
    """What a policy works with during one pass."""

    host: SchedulerHost
    tracker: UsageTracker
    now: datetime
    counters: dict[str, int]
    jobs: list[Job] = field(default_factory=list)

    def decide(
        self,
        policy: str,
        action: str,
        cube: CubeInfo | None,
        subject: str,
        reason: str,
        **details: Any,
    ) -> Decision:
        return Decision(
            policy=policy,
            action=action,
            cube_id=cube.id if cube else None,
            subject=subject,
            reason=reason,
            at=self.now,
            details=details,
        )


@dataclass(frozen=True)
class Job:
    """Long work a policy queued (a distillation): run by the background thread, or by
    `Scheduler.run_jobs()`; `describe` names it in the log."""

    cube: CubeInfo
    describe: str
    run: Callable[[], MemoryItem]


class Policy(Protocol):
    name: str

    def run(self, ctx: PassContext) -> list[Decision]: ...


class Promote:
    """Build an open-prefix KV cache over a run of memories when the prefill it is expected
    to save (uses so far x its prefill time: a run read n times is likely read again)
    exceeds building it (its prefill, plus writing); only runs read at least `admit_after`
    times qualify, never a first sight. Uses are the reads no longer cached run serves: a
    generation continues from its longest cached leading run, so once [a, b, c] is cached,
    [a, b] counts only the reads that went on with something else (without this, every
    pass after the first built the next shorter run of a popular prefix, never read)."""

    name = "promote"

    def run(self, ctx: PassContext) -> list[Decision]:
        settings = ctx.host.settings
        if settings.scheduler_builds_per_pass == 0 or not ctx.host.model_loaded():
            return []  # caching is for a model in use; never load one just to build caches
        tracker = ctx.tracker
        admit = settings.scheduler_admit_after
        scored = [
            (prefix, tracker.uncovered(prefix))
            for prefix in tracker.candidates(admit, settings.scheduler_min_prefix_tokens)
        ]
        ranked = sorted(
            ((p, uses) for p, uses in scored if uses >= admit and self._gain(tracker, p, uses) > 0),
            key=lambda pair: (self._gain(tracker, *pair), pair[0].tokens),
            reverse=True,
        )
        chosen: list[tuple[Prefix, int]] = []
        for prefix, _ in ranked:
            # A longer run chosen before this one serves part of its reads: count the rest.
            uses = tracker.uncovered(prefix, also=[p.key for p, _ in chosen])
            if uses < admit or self._gain(tracker, prefix, uses) <= 0:
                continue
            chosen.append((prefix, uses))
            if len(chosen) == settings.scheduler_builds_per_pass:
                break
        return [
            self._build(ctx, prefix, uses) for prefix, uses in chosen if self._room(ctx, prefix)
        ]

    @staticmethod
    def _gain(tracker: UsageTracker, prefix: Prefix, uses: int) -> float:
        prefill = tracker.prefill_s(prefix.tokens)
        return uses * prefill - prefill * (1 + _BUILD_OVERHEAD)

    @staticmethod
    def _room(ctx: PassContext, prefix: Prefix) -> bool:
        limit = ctx.host.settings.scheduler_max_prefix_caches
        held = sum(1 for p in ctx.tracker.cached() if p.cube_id == prefix.cube_id)
        return held < limit

    def _build(self, ctx: PassContext, prefix: Prefix, uses: int) -> Decision:
        cube = next((c for c in ctx.host.store.all_cubes() if c.id == prefix.cube_id), None)
        if cube is None:
            ctx.tracker.forget_cube(prefix.cube_id)
            return ctx.decide(self.name, "skip", None, prefix.subject(), "its cube is gone")
        view = ctx.host.as_owner(cube)
        try:
            sources = [view.get(item_id) for item_id, _ in prefix.sources]
        except MemosError as exc:
            ctx.tracker.mark_cached(prefix.key, None)
            return ctx.decide(
                self.name, "skip", cube, prefix.subject(), f"source unreadable: {exc}"
            )
        if [(s.id, s.version) for s in sources] != list(prefix.sources):
            return ctx.decide(self.name, "skip", cube, prefix.subject(), "a source changed since")
        recipe = KVRecipe(prefix.template, open_prefix=True, created_by=SCHEDULER)
        made = derive(view, ctx.host.parts(), recipe, [s.id for s in sources])
        ctx.tracker.mark_cached(prefix.key, made.id)
        ctx.counters["promotions"] += 1
        prefill = ctx.tracker.prefill_s(prefix.tokens)
        return ctx.decide(
            self.name, "build", cube, prefix.subject(),
            f"read {uses} times where no longer cached run serves it; expected to save "
            f"{uses * prefill:.3f} s of prefill against {prefill * (1 + _BUILD_OVERHEAD):.3f} s "
            f"to build",
            item=made.id, tokens=prefix.tokens, uses=uses, bytes=made.size_bytes,
        )  # fmt: skip


class Invalidate:
    """The scheduler's own caches and adapters whose sources changed or were forgotten are
    stale (the store marks them in the same transaction) and never served; drop them,
    files included. A run still in use gets a new cache through `Promote`."""

    name = "invalidate"

    def run(self, ctx: PassContext) -> list[Decision]:
        decisions = []
        for cube in ctx.host.store.all_cubes():
            for item in ctx.host.store.derived_by(cube.id, SCHEDULER):
                if not item.stale:
                    continue
                ctx.host.as_owner(cube).forget(item.id, hard=True)
                for prefix in ctx.tracker.cached():
                    if prefix.cache == item.id:
                        ctx.tracker.mark_cached(prefix.key, None)
                ctx.counters["stale_dropped"] += 1
                decisions.append(ctx.decide(
                    self.name, "drop", cube, f"item #{item.id}",
                    f"stale {item.kind.value} memory: a source changed or was forgotten",
                ))  # fmt: skip
        return decisions


class Place:
    """Keep the KV files within the disk budget (least recently used go first; the RAM and
    GPU tiers evict online with the configured policy) and count tier movements."""

    name = "place"

    def run(self, ctx: PassContext) -> list[Decision]:
        tiers = ctx.host.parts().tiers_loaded
        if tiers is None:
            return []
        return [
            ctx.decide(self.name, "evict", None, f"kv file {digest[:12]}", "disk tier over budget")
            for digest in tiers.enforce_disk()
        ]


class Expire:
    """Move items whose time to live has passed to `expired`."""

    name = "expire"

    def run(self, ctx: PassContext) -> list[Decision]:
        decisions = []
        for cube in ctx.host.store.all_cubes():
            expired = ctx.host.store.expire_due(cube.id)
            ctx.counters["expired"] += len(expired)
            decisions += [
                ctx.decide(self.name, "expire", cube, f"item #{i}", "its time to live passed")
                for i in expired
            ]
        return decisions


class Demote:
    """Archive live plaintext neither used nor changed for `scheduler_archive_after_days`
    (0: never). Archived items leave default search and stay retrievable on request."""

    name = "demote"
    batch = 500

    def run(self, ctx: PassContext) -> list[Decision]:
        days = ctx.host.settings.scheduler_archive_after_days
        if days <= 0:
            return []
        idle_before = ctx.now - timedelta(days=days)
        decisions = []
        for cube in ctx.host.store.all_cubes():
            view = ctx.host.as_owner(cube)
            for item in ctx.host.store.idle_items(cube.id, idle_before, self.batch):
                view.set_status(item.id, Status.ARCHIVED)
                ctx.counters["demotions"] += 1
                decisions.append(ctx.decide(
                    self.name, "archive", cube, f"item #{item.id}",
                    f"not used or changed for over {days:g} days",
                ))  # fmt: skip
        return decisions


class Distill:
    """Queue a LoRA adapter over a cube's settled facts: used at least
    `scheduler_distill_min_uses` times, unchanged for `scheduler_distill_stable_days`, and
    not in a fresh scheduler adapter already. Changed facts are never distilled: the job
    checks again when it runs."""

    name = "distill"

    def run(self, ctx: PassContext) -> list[Decision]:
        settings = ctx.host.settings
        stable_before = ctx.now - timedelta(days=settings.scheduler_distill_stable_days)
        decisions = []
        for cube in ctx.host.store.all_cubes():
            covered = {
                int(d["id"])
                for item in ctx.host.store.derived_by(cube.id, SCHEDULER)
                if item.kind is Kind.PARAMETRIC and not item.stale
                for d in item.derived_from
            }
            settled = [
                item
                for item in ctx.host.store.settled_items(
                    cube.id,
                    min_uses=settings.scheduler_distill_min_uses,
                    changed_before=stable_before,
                    limit=settings.scheduler_distill_batch * 4,
                )
                if item.id not in covered
            ][: settings.scheduler_distill_batch]
            if len(settled) < min(settings.scheduler_distill_batch, 4):
                continue
            ids = [item.id for item in settled]
            ctx.jobs.append(Job(cube, f"adapter over {len(ids)} facts", self._job(ctx, cube, ids)))
            ctx.counters["distillations_queued"] += 1
            decisions.append(ctx.decide(
                self.name, "queue", cube, "facts " + ",".join(f"#{i}" for i in ids),
                f"{len(ids)} facts used at least {settings.scheduler_distill_min_uses} times "
                f"and unchanged for {settings.scheduler_distill_stable_days:g} days",
            ))  # fmt: skip
        return decisions

    @staticmethod
    def _job(ctx: PassContext, cube: CubeInfo, ids: list[int]) -> Callable[[], MemoryItem]:
        host = ctx.host

        def run() -> MemoryItem:
            from memos.parametric.distill import LoraRecipe  # torch: only when a job runs
            from memos.parametric.train import TrainingPlan

            view = host.as_owner(cube)
            stable_before = host.now() - timedelta(days=host.settings.scheduler_distill_stable_days)
            fresh = [i for i in ids if view.get(i).updated_at <= stable_before]
            plan = TrainingPlan.of(steps=host.settings.scheduler_distill_steps)
            recipe = LoraRecipe(plan, created_by=SCHEDULER)
            return derive(view, host.parts(), recipe, fresh or ids[:0])

        return run


DEFAULT_POLICIES: tuple[Callable[[], Policy], ...] = (
    Invalidate,
    Expire,
    Promote,
    Place,
    Demote,
    Distill,
)
