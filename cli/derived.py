"""Shared pieces of the `memos kv` and `memos lora` commands."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer

from memos.cli.state import State, state_of
from memos.errors import InvalidInputError
from memos.models import Kind, MemoryItem, Status

if TYPE_CHECKING:
    from memos.cube import MemCube


def derived_list(cube: MemCube, kind: Kind, *, include_deleted: bool) -> list[MemoryItem]:
    found: list[MemoryItem] = cube.items(kind=[kind], limit=1000)
    return [i for i in found if include_deleted or i.status is not Status.DELETED]


def size_text(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def sources_text(item: MemoryItem) -> str:
    return ",".join(f"#{d.get('id')}" for d in item.derived_from) or "-"


def freshness(item: MemoryItem) -> str:
    return "STALE" if item.stale else "fresh"


CubeOption = Annotated[str, typer.Option("--cube", "-c", help="Cube name.")]
OptionalCube = Annotated[
    str | None, typer.Option("--cube", "-c", help="Cube name (default: the item's cube).")
]
ItemsArgument = Annotated[list[str], typer.Argument(help="Plaintext item ids or uids.")]


NOUNS = {Kind.ACTIVATION: "KV cache", Kind.PARAMETRIC: "adapter"}
ARTICLES = {Kind.ACTIVATION: "a", Kind.PARAMETRIC: "an"}
BUILDERS = {Kind.ACTIVATION: "memos kv build ITEM... -c CUBE",
            Kind.PARAMETRIC: "memos lora distill ITEM... -c CUBE"}  # fmt: skip


def add_shared_commands(
    app: typer.Typer,
    kind: Kind,
    line: Callable[[State, MemoryItem], str],
    row: Callable[[State, MemoryItem], object] = lambda _state, item: item,
) -> None:
    """The commands `memos kv` and `memos lora` share, for one kind of derived memory:
    `rebuild`, `list` and `drop`. `line` renders one item for people, `row` for --json."""
    noun = NOUNS[kind]

    @app.command("rebuild")
    def rebuild(
        ctx: typer.Context,
        item: str,
        cube: OptionalCube = None,
        force: Annotated[bool, typer.Option(help="Rebuild even when frozen.")] = False,
    ) -> None:
        """Rebuild from the sources' current versions (a stale one becomes fresh)."""
        state = state_of(ctx)
        holder, ref = state.cube_for(item, cube)
        made = holder.rebuild(ref, force=force)
        state.out(made, f"rebuilt {line(state, made)}")

    @app.command("list")
    def list_items(
        ctx: typer.Context,
        cube: CubeOption,
        all: Annotated[bool, typer.Option("--all", help="Include forgotten ones.")] = False,
    ) -> None:
        """List the cube's items of this kind with freshness and size."""
        state = state_of(ctx)
        found = derived_list(state.cube(cube), kind, include_deleted=all)
        human = "\n".join(line(state, i) for i in found)
        rows = [row(state, i) for i in found]
        state.out(rows, human or f"no {noun}s; build one with `{BUILDERS[kind]}`")

    @app.command("drop")
    def drop(ctx: typer.Context, item: str, cube: OptionalCube = None) -> None:
        """Forget it and delete its file."""
        state = state_of(ctx)
        holder, ref = state.cube_for(item, cube)
        found = holder.get(ref)
        if found.kind is not kind:
            raise InvalidInputError(
                f"item #{found.id} is not {ARTICLES[kind]} {noun}; use `memos forget`"
            )
        gone = holder.forget(found.id, hard=True)
        state.out(gone, f"dropped {noun} #{gone.id}")
