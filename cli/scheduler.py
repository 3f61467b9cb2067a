"""`memos scheduler`: the scheduler's status, a pass on demand, its decisions, and trace
replay."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from memos.cli.state import state_of

if TYPE_CHECKING:
    from memos.scheduler import SchedulerStatus

scheduler_app = typer.Typer(
    help="The scheduler: KV caches for recurring memory prefixes, tiers under budgets, "
    "archiving, expiry and LoRA distillation.",
    no_args_is_help=True,
)


def _size(value: int) -> str:
    amount = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if amount < 1024 or unit == "TiB":
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    return f"{value} B"


def _status_text(status: SchedulerStatus) -> str:
    lines = [
        f"scheduler: {'running' if status.running else 'on demand'}, "
        f"{status.eviction_policy} eviction, {status.tracked_prefixes} prefixes tracked"
    ]
    for name, tier in status.tiers.items():
        lines.append(
            f"  {name:<4} {_size(tier.used_bytes):>10} of {_size(tier.budget_bytes):>10}"
            f"  ({tier.entries} entries)"
        )
    counters = {
        "promotions": status.promotions,
        "demotions": status.demotions,
        "evictions": status.evictions,
        "hits": status.hits,
        "misses": status.misses,
        "moved": _size(status.bytes_moved),
        "distillations queued": status.distillations_queued,
        "stale dropped": status.stale_dropped,
        "expired": status.expired,
    }
    lines.append("  " + ", ".join(f"{k} {v}" for k, v in counters.items()))
    lines.append(f"  decision time p99 {status.decision_p99_ms:.2f} ms")
    return "\n".join(lines)


@scheduler_app.command("status")
def status(
    ctx: typer.Context,
    cube: Annotated[
        str | None, typer.Option("--cube", "-c", help="Also its last decisions.")
    ] = None,
) -> None:
    """Tier use against budgets and the scheduler's counters."""
    state = state_of(ctx)
    found = state.mos.scheduler.status()
    value: dict[str, Any] = found.to_dict()
    text = _status_text(found)
    if cube is not None:
        recent = state.mos.scheduler.decisions(cube_id=state.cube(cube).id, limit=10)
        value["decisions"] = [d.to_dict() for d in recent]
        text += "".join(
            f"\n  {d.at:%Y-%m-%d %H:%M} {d.policy} {d.action} {d.subject}: {d.reason}"
            for d in recent
        )
    state.out(value, text)


@scheduler_app.command("tick")
def tick(
    ctx: typer.Context,
    jobs: Annotated[bool, typer.Option(help="Also run queued distillations now.")] = False,
) -> None:
    """Run one scheduling pass now and show what it decided."""
    state = state_of(ctx)
    report = state.mos.scheduler.tick()
    decisions = list(report.decisions)
    if jobs:
        decisions += state.mos.scheduler.run_jobs().decisions
    lines = [f"{d.policy} {d.action} {d.subject}: {d.reason}" for d in decisions]
    state.out(
        {"decisions": [d.to_dict() for d in decisions], "seconds": report.seconds},
        "\n".join(lines) or "nothing to do",
    )


@scheduler_app.command("trace")
def trace(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="JSONL: one operation per line.")],
    tick_every: Annotated[
        int, typer.Option(min=0, help="A pass every N operations (0: none).")
    ] = 10,
) -> None:
    """Replay a trace of generations, searches and changes; report hits and counters."""
    from memos.eval.trace import read_trace, replay

    state = state_of(ctx)
    report = replay(state.mos, read_trace(file), tick_every=tick_every)
    text = (
        f"{report.operations} operations, {report.generations} generations, "
        f"{report.cache_hits} served from a prefix cache; time to first token p50 "
        f"{report.ttft_p50_ms:.1f} ms (with a cache {report.ttft_warm_p50_ms:.1f} ms); "
        f"stale caches served: {report.stale_served}"
    )
    state.out(report, text)
