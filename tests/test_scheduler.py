"""The scheduler: prefix caches for recurring generations (same tokens either way), reuse
admission, invalidation (no stale cache ever served), tiers, expiry and archiving,
distillation, decision logging, crash safety, and its CLI. A tiny random transformer
stands in for the runtime model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

import memos
from memos.cli.app import app
from memos.errors import ConfigError
from memos.eval.trace import replay
from memos.kernel.events import Generated
from memos.models import Kind, Status
from memos.runtime.model import Runtime
from memos.scheduler.usage import UsageTracker
from memos.testing import FakeClock, HashEmbedder, tiny_runtime

FACTS = [
    "Mira lives in Bergen.",
    "Mira's dog is called Pickle.",
    "The launch is on March 3.",
    "Bob owns a red bicycle.",
    "The office is in Oslo.",
    "Ana leads the payments team.",
]


@pytest.fixture(scope="module")
def runtime() -> Runtime:
    return tiny_runtime()


def open_memos(home: Path, runtime: Runtime, **settings: object) -> memos.MemOS:
    return memos.open(
        home, user="alice", embedder=HashEmbedder(dim=64), runtime=runtime, **settings
    )


@pytest.fixture
def mos(tmp_path: Path, runtime: Runtime) -> Iterator[memos.MemOS]:
    with open_memos(tmp_path / "home", runtime) as opened:
        yield opened


def stocked(mos: memos.MemOS) -> memos.MemCube:
    cube = mos.create_cube("lab")
    cube.add_many(FACTS)
    return cube


def test_a_recurring_prefix_gets_a_cache_and_the_tokens_do_not_change(mos: memos.MemOS) -> None:
    cube = stocked(mos)
    first = cube.generate("Where does Mira live?", retrieve=3, max_new_tokens=8)
    assert first.activation_id is None and first.cached_tokens == 0
    assert mos.scheduler.tick().decisions == ()  # seen once: not worth a cache yet
    second = cube.generate("Where does Mira live?", retrieve=3, max_new_tokens=8)
    assert second.activation_id is None
    built = [d for d in mos.scheduler.tick().decisions if d.action == "build"]
    assert len(built) == 1 and "read 2 times" in built[0].reason
    third = cube.generate("Where does Mira live?", retrieve=3, max_new_tokens=8)
    assert third.activation_id == built[0].details["item"]
    assert third.cached_tokens > 0 and third.prompt_tokens == first.prompt_tokens
    assert third.tokens == first.tokens == second.tokens
    cache = cube.get(third.activation_id)
    assert cache.kind is Kind.ACTIVATION and cache.created_by == "memos.scheduler"
    status = mos.scheduler.status()
    assert (status.promotions, status.hits, status.misses) == (1, 1, 2)
    assert status.tiers["cpu"].used_bytes > 0 and status.tiers["disk"].used_bytes > 0


def test_a_longer_request_continues_from_a_shorter_cached_run(mos: memos.MemOS) -> None:
    """A cache over the first memories serves a request that reads them and more: the
    rest is prefilled after it, and the tokens equal a full recompute's."""
    cube = stocked(mos)
    for _ in range(2):
        cube.generate("Mira", retrieve=2, max_new_tokens=6)
    mos.scheduler.tick()
    shorter = cube.generate("Mira", retrieve=2, max_new_tokens=6)
    assert shorter.activation_id is not None
    longer = cube.generate("Mira", retrieve=4, max_new_tokens=6)
    sources = [h.item for h in cube.search("Mira", k=4)]
    recomputed = cube.generate(
        "Mira",
        memories=[i.id for i in sorted(sources, key=lambda i: (i.valid_from, i.id))],
        max_new_tokens=6,
    )
    if longer.activation_id is not None:  # the 2 best are the 2 oldest of the 4 best
        assert 0 < longer.cached_tokens < longer.prompt_tokens
    assert longer.text == recomputed.text


def test_a_changed_source_makes_its_cache_stale_and_it_is_never_served(mos: memos.MemOS) -> None:
    cube = stocked(mos)
    for _ in range(2):
        cube.generate("Where does Mira live?", retrieve=3, max_new_tokens=6)
    mos.scheduler.tick()
    cached = cube.generate("Where does Mira live?", retrieve=3, max_new_tokens=6)
    assert cached.activation_id is not None
    source = cube.search("Mira lives", k=1)[0].item
    cube.update(source.id, "Mira lives in Tromso.")
    assert cube.get(cached.activation_id).stale  # at once, in the update's transaction
    after = cube.generate("Where does Mira live?", retrieve=3, max_new_tokens=6)
    assert after.activation_id is None  # recomputed from the new text
    dropped = [d for d in mos.scheduler.tick().decisions if d.policy == "invalidate"]
    assert [d.subject for d in dropped] == [f"item #{cached.activation_id}"]
    assert mos.scheduler.status().stale_dropped == 1
    with pytest.raises(memos.NotFoundError):
        cube.get(cached.activation_id)


def test_a_trace_that_updates_and_forgets_while_running_serves_no_stale_cache(
    mos: memos.MemOS,
) -> None:
    cube = stocked(mos)
    ids = [i.id for i in cube.items(limit=10)]
    questions = ["Where does Mira live?", "Who owns a bicycle?", "Where is the office?"]
    trace: list[dict[str, object]] = []
    for round_ in range(6):
        trace += [{"cube": "lab", "generate": q, "k": 3} for q in questions]
        trace.append({"tick": True})
        if round_ == 2:
            trace.append({"cube": "lab", "update": ids[-1], "content": "Mira lives in Tromso."})
        if round_ == 4:
            trace.append({"cube": "lab", "forget": ids[-4], "hard": True})
    report = replay(mos, trace, tick_every=0)
    assert report.generations == 18
    assert report.cache_hits > 0
    assert report.stale_served == 0
    assert report.status["stale_dropped"] >= 1


def test_hard_forget_leaves_no_cache_holding_the_text(mos: memos.MemOS) -> None:
    cube = stocked(mos)
    for _ in range(2):
        cube.generate("Where does Mira live?", retrieve=3, max_new_tokens=4)
    mos.scheduler.tick()
    hit = cube.generate("Where does Mira live?", retrieve=3, max_new_tokens=4)
    assert hit.activation_id is not None
    cache = cube.get(hit.activation_id)
    store = mos.runtime_parts.kv_store
    assert store.contains(cache.artifact or "")
    source = cube.search("Mira lives", k=1)[0].item
    cube.forget(source.id, hard=True)
    assert not store.contains(cache.artifact or "")  # purged with the source, not later
    assert (
        cube.generate("Where does Mira live?", retrieve=3, max_new_tokens=4).activation_id is None
    )


def test_budgets_of_zero_negative_or_absurd_are_configuration_errors(tmp_path: Path) -> None:
    for name, value in (
        ("kv_ram_bytes", 0),
        ("kv_disk_bytes", -1),
        ("kv_ram_bytes", 1 << 62),
        ("kv_gpu_bytes", -5),
        ("scheduler_interval_s", 0),
        ("kv_eviction", "random"),
    ):
        with pytest.raises(ConfigError, match=name):
            memos.open(tmp_path / "home", embedder="hash", **{name: value})


def test_expiry_and_archiving_of_idle_items(tmp_path: Path, runtime: Runtime) -> None:
    clock = FakeClock()
    with memos.open(
        tmp_path / "home", user="alice", embedder=HashEmbedder(dim=64), runtime=runtime,
        clock=clock, scheduler_archive_after_days=30,
    ) as mos:  # fmt: skip
        cube = mos.create_cube("lab")
        short = cube.add("a reminder for today", ttl="1d")
        idle = cube.add("an old note nobody reads")
        used = cube.add("a note read every week")
        for _ in range(5):
            clock.advance(days=10)
            cube.search("note read every week", k=1)  # a use (get() also expires due items)
            mos.flush()
        report = mos.scheduler.tick()
        actions = {(d.policy, d.subject) for d in report.decisions}
        assert ("expire", f"item #{short.id}") in actions
        assert ("demote", f"item #{idle.id}") in actions
        assert cube.get(idle.id, as_of=None).status is Status.ARCHIVED
        assert cube.get(used.id).status is Status.ACTIVATED
        assert mos.scheduler.status().demotions == 1


def test_settled_heavily_used_facts_are_distilled_and_recent_ones_are_not(
    tmp_path: Path, runtime: Runtime
) -> None:
    clock = FakeClock()
    with memos.open(
        tmp_path / "home", user="alice", embedder=HashEmbedder(dim=64), runtime=runtime,
        clock=clock, scheduler_distill_min_uses=3, scheduler_distill_stable_days=2,
        scheduler_distill_batch=4, scheduler_distill_steps=2,
    ) as mos:  # fmt: skip
        cube = mos.create_cube("lab")
        items = cube.add_many(FACTS[:5])
        clock.advance(days=3)
        recent = cube.update(items[4].id, "The launch moved to March 9.")
        for _ in range(4):
            for item in items:
                cube.get(item.id)
            cube.search("Mira launch bicycle office dog", k=5)
        mos.flush()
        queued = [d for d in mos.scheduler.tick().decisions if d.policy == "distill"]
        assert len(queued) == 1 and f"#{recent.id}" not in queued[0].subject
        ran = mos.scheduler.run_jobs().decisions
        assert [d.action for d in ran] == ["run"]
        adapter = cube.get(ran[0].details["item"])
        assert adapter.kind is Kind.PARAMETRIC and adapter.created_by == "memos.scheduler"
        assert {int(d["id"]) for d in adapter.derived_from} <= {i.id for i in items[:4]}
        assert mos.scheduler.status().distillations_queued == 1
        assert not [d for d in mos.scheduler.tick().decisions if d.policy == "distill"]


def test_decisions_are_recorded_with_reasons_in_the_database(mos: memos.MemOS) -> None:
    cube = stocked(mos)
    for _ in range(2):
        cube.generate("Bob", retrieve=2, max_new_tokens=2)
    mos.scheduler.tick()
    recorded = mos.scheduler.decisions(cube_id=cube.id)
    assert [(d.policy, d.action) for d in recorded] == [("promote", "build")]
    assert "expected to save" in recorded[0].reason


def test_the_background_thread_promotes_by_itself(tmp_path: Path, runtime: Runtime) -> None:
    with open_memos(tmp_path / "home", runtime, scheduler=True, scheduler_interval_s=0.05) as mos:
        assert mos.scheduler.status().running
        cube = stocked(mos)
        for _ in range(2):
            cube.generate("Ana", retrieve=2, max_new_tokens=2)
        deadline = time.monotonic() + 20
        while mos.scheduler.status().promotions == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert mos.scheduler.status().promotions == 1
    assert not mos.scheduler.running  # close() stops it


def test_a_build_holds_no_database_write_lock_while_the_model_runs(
    tmp_path: Path, runtime: Runtime
) -> None:
    home = tmp_path / "home"
    with open_memos(home, runtime) as mos:
        cube = stocked(mos)
        for _ in range(2):
            cube.generate("Mira", retrieve=3, max_new_tokens=2)
        wrote: list[bool] = []
        prefill = runtime.prefill

        def prefill_while_another_process_writes(ids: list[int]) -> object:
            writer = subprocess.run(
                [sys.executable, "-m", "memos.cli.app", "--home", str(home), "--embedder",
                 "hash:64", "add", "written during a build", "-c", "lab"],
                capture_output=True, text=True, timeout=120,
                env={**os.environ, "MEMOS_USER": "alice", "MEMOS_SQLITE_BUSY_TIMEOUT_S": "1",
                     "MEMOS_NO_SERVER": "1"},
            )  # fmt: skip
            wrote.append(writer.returncode == 0)
            return prefill(ids)

        runtime.prefill = prefill_while_another_process_writes  # type: ignore[method-assign]
        try:
            assert [d.action for d in mos.scheduler.tick().decisions] == ["build"]
        finally:
            del runtime.prefill
        assert wrote == [True]
        assert [h.item.content for h in cube.search("written during a build", k=1)]


def test_a_crash_mid_promotion_leaves_no_half_built_cache(tmp_path: Path) -> None:
    """A child builds a prefix cache and is killed after writing the artifact but before
    recording the item: reopening finds no item pointing at anything, and works."""
    home = tmp_path / "home"
    script = f"""
import memos
from memos.testing import HashEmbedder, tiny_runtime
with memos.open({str(home)!r}, user="alice", embedder=HashEmbedder(dim=64),
                runtime=tiny_runtime()) as mos:
    cube = mos.create_cube("lab")
    cube.add_many({FACTS!r})
    for _ in range(2):
        cube.generate("Mira", retrieve=3, max_new_tokens=2)
    mos.scheduler.tick()
"""
    child = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "MEMOS_CRASH_AT": "derive-before-record"},
        capture_output=True,
        timeout=300,
    )
    assert child.returncode == -9, child.stderr
    with open_memos(home, tiny_runtime()) as mos:
        cube = mos.cube("lab")
        assert cube.items(kind=["activation"], limit=10) == []
        again = cube.generate("Mira", retrieve=3, max_new_tokens=2)
        assert again.activation_id is None and again.tokens


def test_cli_status_tick_and_trace(tmp_path: Path, runtime: Runtime) -> None:
    home = tmp_path / "home"
    with open_memos(home, runtime) as mos:
        stocked(mos)
    trace = tmp_path / "trace.jsonl"
    trace.write_text(
        "\n".join(json.dumps({"cube": "lab", "search": q, "k": 2}) for q in ("Mira", "Bob")) + "\n"
    )
    runner = CliRunner()
    base = ["--home", str(home), "--embedder", "hash:64", "--user", "alice", "--json"]
    status = runner.invoke(app, [*base, "scheduler", "status"])
    assert status.exit_code == 0, status.output
    assert set(json.loads(status.stdout)["tiers"]) == {"gpu", "cpu", "disk"}
    ticked = runner.invoke(app, [*base, "scheduler", "tick"])
    assert ticked.exit_code == 0 and json.loads(ticked.stdout)["decisions"] == []
    replayed = runner.invoke(app, [*base, "scheduler", "trace", str(trace)])
    assert replayed.exit_code == 0, replayed.output
    assert json.loads(replayed.stdout)["operations"] == 2
    bad = runner.invoke(app, [*base, "scheduler", "trace", str(tmp_path / "missing.jsonl")])
    assert bad.exit_code == 3 and "no trace file" in bad.stderr


def test_status_reports_decision_time(mos: memos.MemOS) -> None:
    cube = stocked(mos)
    for question in ("Mira", "Bob", "Ana"):
        cube.generate(question, retrieve=2, max_new_tokens=1)
    assert 0 < mos.scheduler.status().decision_p99_ms < 1000


def _read(tracker: UsageTracker, *items: int, times: int = 1) -> None:
    sources = tuple((item, 1) for item in items)
    tokens = tuple(range(0, 10 * len(items) + 1, 10))
    for _ in range(times):
        tracker.generated(Generated(1, "alice", sources, "t", tokens, 0, None, 0.1))


def test_reads_a_cached_longer_run_serves_do_not_count_for_its_shorter_runs() -> None:
    tracker = UsageTracker()
    _read(tracker, 1, 2, 3, times=3)
    runs = {p.sources: p for p in tracker.candidates(2, 0)}
    whole, head = runs[((1, 1), (2, 1), (3, 1))], runs[((1, 1), (2, 1))]
    assert tracker.uncovered(head) == 3  # nothing cached: every read counts
    assert tracker.uncovered(head, also=[whole.key]) == 0  # chosen in this pass
    tracker.mark_cached(whole.key, 99)
    assert tracker.uncovered(head) == tracker.uncovered(runs[((1, 1),)]) == 0
    _read(tracker, 1, 2, 4, times=2)  # the same head, then something else
    assert tracker.uncovered(head) == 2
    longer = {p.sources: p for p in tracker.candidates(2, 0)}[((1, 1), (2, 1), (4, 1))]
    assert tracker.uncovered(head, also=[longer.key]) == 0
    # All five reads of [1] went on to [1, 2], now cached; [1, 2, 3] lies beneath it and
    # is not subtracted a second time.
    tracker.mark_cached(head.key, 100)
    assert tracker.uncovered(runs[((1, 1),)]) == 0
    assert tracker.uncovered(whole) == 3  # a run's own reads are never subtracted from it


def test_a_cached_prefix_is_not_followed_by_caches_of_its_shorter_runs(
    mos: memos.MemOS,
) -> None:
    cube = stocked(mos)
    for _ in range(2):
        cube.generate("Where does Mira live?", retrieve=3, max_new_tokens=2)
    built = [d for d in mos.scheduler.tick().decisions if d.action == "build"]
    assert len(built) == 1 and built[0].subject.count("#") == 3
    for _ in range(3):
        made = cube.generate("Where does Mira live?", retrieve=3, max_new_tokens=2)
        assert made.activation_id == built[0].details["item"]
        # Every read of its shorter runs went on to the cached run: nothing left to cache
        # (before, each pass built the next shorter run, which no generation read).
        assert [d for d in mos.scheduler.tick().decisions if d.action == "build"] == []
    assert mos.scheduler.status().promotions == 1
