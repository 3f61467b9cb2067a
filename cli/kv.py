"""`memos kv`: activation memory (KV caches of memory prefixes)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from memos.cli.derived import (
    CubeOption,
    ItemsArgument,
    add_shared_commands,
    derived_list,
    freshness,
    size_text,
    sources_text,
)
from memos.cli.state import State, state_of
from memos.models import Kind, MemoryItem

kv_app = typer.Typer(
    help="Activation memory: KV caches of memory prefixes, reused to skip prefill.",
    no_args_is_help=True,
)


def _tier(state: State, item: MemoryItem) -> str:
    from memos.activation.build import where  # torch: only for KV commands

    return where(state.mos.runtime_parts, item)


def _line(state: State, item: MemoryItem) -> str:
    tokens = item.attributes.get("prefix_tokens", "?")
    storage = item.attributes.get("storage", "?")
    return (
        f"#{item.id} v{item.version} {item.status.value} {freshness(item)} "
        f"{_tier(state, item):<4} {tokens} tokens {storage} {size_text(item.size_bytes)} "
        f"from {sources_text(item)}"
    )


def _row(state: State, item: MemoryItem) -> dict[str, Any]:
    return {"item": item.to_dict(), "tier": _tier(state, item)}


add_shared_commands(kv_app, Kind.ACTIVATION, _line, _row)


@kv_app.command("build")
def build(
    ctx: typer.Context,
    items: ItemsArgument,
    cube: CubeOption,
    template: Annotated[
        str | None, typer.Option(help="Prefix template containing {memories}.")
    ] = None,
    storage: Annotated[
        str, typer.Option(help="native (lossless), float16, bfloat16 or int8.")
    ] = "native",
) -> None:
    """Build a KV cache over the prefix made from ITEMS."""
    state = state_of(ctx)
    made = state.cube(cube).build_activation(items, template=template, storage=storage)
    state.out(made, f"built {_line(state, made)}")


@kv_app.command("stats")
def stats(ctx: typer.Context, cube: CubeOption) -> None:
    """Tier usage against budgets, hit and eviction counters, and cache freshness."""
    state = state_of(ctx)
    holder = state.cube(cube)
    found = derived_list(holder, Kind.ACTIVATION, include_deleted=False)
    report: dict[str, Any] = {
        "cube": holder.name,
        "caches": len(found),
        "stale": sum(1 for i in found if i.stale),
        **state.mos.runtime_parts.kv_stats(),
    }
    lines = [f"cube {holder.name}: {report['caches']} caches ({report['stale']} stale)"]
    for name, tier in report["tiers"].items():
        lines.append(
            f"  {name:<4} {tier['entries']:>4} entries  {size_text(tier['bytes']):>10} "
            f"of {size_text(tier['budget_bytes'])}"
        )
    if report["counters"]:
        lines.append("  " + ", ".join(f"{k} {v}" for k, v in sorted(report["counters"].items())))
    state.out(report, "\n".join(lines))


@kv_app.command("generate")
def generate(
    ctx: typer.Context,
    prompt: str,
    cube: CubeOption,
    kv: Annotated[str | None, typer.Option("--kv", help="A KV cache item to continue.")] = None,
    memory: Annotated[
        list[str] | None, typer.Option(help="A memory to put in the prefix; repeat.")
    ] = None,
    adapter: Annotated[list[str] | None, typer.Option(help="An adapter to apply; repeat.")] = None,
    max_new_tokens: Annotated[int, typer.Option(help="Most tokens to generate.")] = 32,
) -> None:
    """Generate greedily from PROMPT after a KV cache, memories or adapters."""
    state = state_of(ctx)
    result = state.cube(cube).generate(
        prompt,
        activation=kv,
        memories=memory,
        adapters=adapter or (),
        max_new_tokens=max_new_tokens,
    )
    state.out(
        result, f"{result.text}\n[ttft {result.ttft_s * 1000:.0f} ms, {len(result.tokens)} tokens]"
    )
