"""`memos lora`: parametric memory (LoRA adapters distilled from memories)."""

from __future__ import annotations

from typing import Annotated

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
from memos.errors import InvalidInputError
from memos.models import Kind, MemoryItem

lora_app = typer.Typer(
    help="Parametric memory: LoRA adapters distilled from memories.", no_args_is_help=True
)


def _line(item: MemoryItem) -> str:
    hyper = item.attributes.get("hyperparameters", {})
    held = item.attributes.get("heldout_loss")
    held_text = f" held-out loss {held:.3f}" if isinstance(held, float) else ""
    return (
        f"#{item.id} v{item.version} {item.status.value} {freshness(item)} rank "
        f"{hyper.get('rank', '?')} {item.attributes.get('steps', '?')} steps{held_text} "
        f"{size_text(item.size_bytes)} from {sources_text(item)}"
    )


@lora_app.command("distill")
def distill(
    ctx: typer.Context,
    items: ItemsArgument,
    cube: CubeOption,
    rank: Annotated[int, typer.Option(help="LoRA rank.")] = 8,
    steps: Annotated[
        int | None, typer.Option(help="Training steps (default: about ten passes).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed: same seed, same adapter.")] = 0,
    learning_rate: Annotated[float, typer.Option(help="AdamW learning rate.")] = 1e-3,
    target_loss: Annotated[
        float | None, typer.Option(help="Stop once the mean recent loss is this low.")
    ] = None,
    anchor_weight: Annotated[
        float, typer.Option(help="KL weight keeping general language near the base (0: off).")
    ] = 1.0,
) -> None:
    """Train an adapter on ITEMS (statements and question-answer pairs)."""
    state = state_of(ctx)
    made = state.mos.cube(cube).distill(
        items,
        rank=rank,
        steps=steps,
        seed=seed,
        learning_rate=learning_rate,
        target_loss=target_loss,
        anchor_weight=anchor_weight,
    )
    state.out(made, f"distilled {_line(made)}")


@lora_app.command("rebuild")
def rebuild(
    ctx: typer.Context,
    item: str,
    cube: OptionalCube = None,
    force: Annotated[bool, typer.Option(help="Retrain even a frozen adapter.")] = False,
) -> None:
    """Retrain a (stale) adapter on its sources' current versions."""
    state = state_of(ctx)
    holder, ref = cube_for(state, item, cube)
    made = holder.rebuild(ref, force=force)
    state.out(made, f"rebuilt {_line(made)}")


@lora_app.command("list")
def list_adapters(
    ctx: typer.Context,
    cube: CubeOption,
    all: Annotated[bool, typer.Option("--all", help="Include forgotten adapters.")] = False,
) -> None:
    """List the cube's adapters with freshness, training summary and size."""
    state = state_of(ctx)
    found = derived_list(state.mos.cube(cube), Kind.PARAMETRIC, include_deleted=all)
    human = "\n".join(_line(i) for i in found)
    state.out(found, human or "no adapters; distill one with `memos lora distill ITEM... -c CUBE`")


@lora_app.command("drop")
def drop(ctx: typer.Context, item: str, cube: OptionalCube = None) -> None:
    """Forget an adapter and delete its file."""
    state = state_of(ctx)
    holder, ref = cube_for(state, item, cube)
    found = holder.get(ref)
    if found.kind is not Kind.PARAMETRIC:
        raise InvalidInputError(f"item #{found.id} is not an adapter; use `memos forget`")
    gone = holder.forget(found.id, hard=True)
    state.out(gone, f"dropped adapter #{gone.id}")


@lora_app.command("eval")
def evaluate(
    ctx: typer.Context,
    item: str,
    cube: OptionalCube = None,
    text: Annotated[
        list[str] | None, typer.Option(help="A text to score (default: the sources); repeat.")
    ] = None,
) -> None:
    """Perplexity with and without an adapter, and its recorded held-out losses."""
    state = state_of(ctx)
    holder, ref = cube_for(state, item, cube)
    report = holder.runtime.evaluate(ref, texts=text)
    human = (
        f"adapter #{report['adapter']} on {report['texts']} texts: perplexity "
        f"{report['perplexity_base']:.2f} without, {report['perplexity_adapter']:.2f} with "
        f"({report['ratio']:.2f}x lower)"
    )
    if report["heldout_loss"] is not None:
        human += (
            f"\nheld-out loss at training: {report['heldout_loss_base']:.3f} base, "
            f"{report['heldout_loss']:.3f} with the adapter"
        )
    state.out(report, human)
