"""`memos lora`: parametric memory (LoRA adapters distilled from memories)."""

from __future__ import annotations

from typing import Annotated

import typer

from memos.cli.derived import (
    CubeOption,
    ItemsArgument,
    OptionalCube,
    add_shared_commands,
    freshness,
    size_text,
    sources_text,
)
from memos.cli.state import State, state_of
from memos.models import Kind, MemoryItem

lora_app = typer.Typer(
    help="Parametric memory: LoRA adapters distilled from memories.", no_args_is_help=True
)


def _line(_state: State, item: MemoryItem) -> str:
    hyper = item.attributes.get("hyperparameters", {})
    held = item.attributes.get("heldout_loss")
    held_text = f" held-out loss {held:.3f}" if isinstance(held, float) else ""
    return (
        f"#{item.id} v{item.version} {item.status.value} {freshness(item)} rank "
        f"{hyper.get('rank', '?')} {item.attributes.get('steps', '?')} steps{held_text} "
        f"{size_text(item.size_bytes)} from {sources_text(item)}"
    )


add_shared_commands(lora_app, Kind.PARAMETRIC, _line)


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
    made = state.cube(cube).distill(
        items,
        rank=rank,
        steps=steps,
        seed=seed,
        learning_rate=learning_rate,
        target_loss=target_loss,
        anchor_weight=anchor_weight,
    )
    state.out(made, f"distilled {_line(state, made)}")


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
    holder, ref = state.cube_for(item, cube)
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
