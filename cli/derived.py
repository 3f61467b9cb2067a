"""Shared pieces of the `memos kv` and `memos lora` commands (kept apart from cli/app.py,
which registers them, so neither imports the other)."""

from __future__ import annotations

from typing import Annotated, Any, Protocol

import typer

from memos.models import Kind, MemoryItem, Status


class CommandState(Protocol):
    """What the root callback puts on the context (cli.app.State)."""

    json: bool

    @property
    def mos(self) -> Any: ...

    def out(self, value: Any, human: str) -> None: ...


def state_of(ctx: typer.Context) -> CommandState:
    state: CommandState = ctx.find_root().obj
    return state


def cube_for(state: CommandState, item_ref: str, cube: str | None) -> tuple[Any, int | str]:
    """The cube holding an item given by id or uid, and the reference to pass on."""
    mos = state.mos
    if cube is not None:
        return mos.cube(cube), item_ref
    ref = item_ref.strip()
    item_id = int(ref) if ref.isdigit() else mos.store.resolve_uid(ref)
    return mos.cube_of(item_id), item_id


def derived_list(cube: Any, kind: Kind, *, include_deleted: bool) -> list[MemoryItem]:
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
