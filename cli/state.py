"""The CLI's global options and the one `MemOS` a command uses (typed, opened lazily)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from memos.cli import render

if TYPE_CHECKING:
    from memos.cube import MemCube
    from memos.mos import MemOS


@dataclass
class State:
    """Global options; the MemOS opens on first use so `--help` stays instant."""

    home: Path | None = None
    url: str | None = None
    user: str | None = None
    embedder: str | None = None
    json: bool = False
    _opened: MemOS | None = field(default=None, repr=False)

    @property
    def mos(self) -> MemOS:
        if self._opened is None:
            from memos.mos import open as open_memos

            self._opened = open_memos(
                self.home, url=self.url, user=self.user, embedder=self.embedder
            )
        return self._opened

    def cube(self, name: str) -> MemCube:
        return self.mos.cube(name)

    def cube_for(self, item: str, cube: str | None) -> tuple[MemCube, int | str]:
        """The cube holding an item given by id or uid (the named one, else its own), and
        the reference to pass on."""
        if cube is not None:
            return self.mos.cube(cube), item
        holder = self.mos.cube_of(item)
        return holder, item

    def close(self) -> None:
        if self._opened is not None:
            self._opened.close()

    def out(self, value: Any, human: str) -> None:
        if self.json:
            render.emit_json(value)
        else:
            typer.echo(human)


def state_of(ctx: typer.Context) -> State:
    """The root command's state (set by the `memos` callback)."""
    state = ctx.find_root().obj
    assert isinstance(state, State)
    return state
