"""`memos kv`: activation memory (KV caches of memory prefixes)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from memos.cli.derived import (
    CubeOption,
    ItemsArgument,
    OptionalCube,
    cube_for,
    derived_list,
    freshness,
    size_text,
    sources_text,
    state_of,
)
from memos.models import Kind, MemoryItem

kv_app = typer.Typer(
    help="Activation memory: KV caches of memory prefixes, reused to skip prefill.",
    no_args_is_help=True,
)


def _line(item: MemoryItem, tier: str) -> str:
    tokens = item.attributes.get("prefix_tokens", "?")
    storage = item.attributes.get("storage", "?")
    return (
        f"#{item.id} v{item.version} {item.status.value} {freshness(item)} {tier:<4} "
        f"{tokens} tokens {storage} {size_text(item.size_bytes)} from {sources_text(item)}"
    )


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
    made = state.mos.cube(cube).build_activation(items, template=template, storage=storage)
    state.out(made, f"built {_line(made, 'disk')}")


@kv_app.command("rebuild")
def rebuild(
    ctx: typer.Context,
    item: str,
    cube: OptionalCube = None,
    force: Annotated[bool, typer.Option(help="Rebuild even a frozen cache.")] = False,
) -> None:
    """Rebuild a (stale) KV cache from its sources' current versions."""
    state = state_of(ctx)
    holder, ref = cube_for(state, item, cube)
    made = holder.rebuild(ref, force=force)
    state.out(made, f"rebuilt {_line(made, 'disk')}")


@kv_app.command("list")
def list_caches(
    ctx: typer.Context,
    cube: CubeOption,
    all: Annotated[bool, typer.Option("--all", help="Include forgotten caches.")] = False,
) -> None:
    """List the cube's KV caches with freshness, tier and size."""
    from memos.activation.build import where

    state = state_of(ctx)
    holder = state.mos.cube(cube)
    found = derived_list(holder, Kind.ACTIVATION, include_deleted=all)
    parts = state.mos.runtime_parts
    rows: list[dict[str, Any]] = [{"item": i.to_dict(), "tier": where(parts, i)} for i in found]
    human = "\n".join(_line(i, r["tier"]) for i, r in zip(found, rows, strict=True))
    state.out(rows, human or "no KV caches; build one with `memos kv build ITEM... -c CUBE`")


@kv_app.command("drop")
def drop(ctx: typer.Context, item: str, cube: OptionalCube = None) -> None:
    """Forget a KV cache and delete its file."""
    state = state_of(ctx)
    holder, ref = cube_for(state, item, cube)
    found = holder.get(ref)
    if found.kind is not Kind.ACTIVATION:
        from memos.errors import InvalidInputError

        raise InvalidInputError(f"item #{found.id} is not a KV cache; use `memos forget`")
    gone = holder.forget(found.id, hard=True)
    state.out(gone, f"dropped KV cache #{gone.id}")


@kv_app.command("stats")
def stats(ctx: typer.Context, cube: CubeOption) -> None:
    """Tier usage against budgets, hit and eviction counters, and cache freshness."""
    state = state_of(ctx)
    holder = state.mos.cube(cube)
    found = derived_list(holder, Kind.ACTIVATION, include_deleted=False)
    report: dict[str, Any] = {
        "cube": holder.name,
        "caches": len(found),
        "stale": sum(1 for i in found if i.stale),
        **holder.runtime.kv_stats(),
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
    result = state.mos.cube(cube).generate(
        prompt,
        activation=kv,
        memories=memory,
        adapters=adapter or (),
        max_new_tokens=max_new_tokens,
    )
    state.out(
        result, f"{result.text}\n[ttft {result.ttft_s * 1000:.0f} ms, {len(result.tokens)} tokens]"
    )
