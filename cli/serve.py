"""`memos serve` (REST + MCP over HTTP), `memos mcp` (MCP over stdio), and the CLI's reuse
of a running server for `add` and `search` (see `memos.server.local`)."""

from __future__ import annotations

import inspect
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from memos.cli.state import State, state_of
from memos.config import load_settings
from memos.errors import BackendError, NotFoundError

if TYPE_CHECKING:
    from memos.client import Client, RemoteCube
    from memos.cube import MemCube
    from memos.mos import MemOS

NO_SERVER_ENV = "MEMOS_NO_SERVER"

HomeOption = Annotated[
    Path | None, typer.Option(help="memos home directory (overrides the global --home).")
]
UrlOption = Annotated[
    str | None, typer.Option(help="SQLAlchemy database URL (overrides the global --url).")
]
NoServerOption = Annotated[
    bool,
    typer.Option("--no-server", help=f"Do not reuse a running `memos serve` ({NO_SERVER_ENV}=1)."),
]


def _open(state: State, home: Path | None, url: str | None, **extra: Any) -> MemOS:
    from memos.mos import open as open_memos

    return open_memos(
        home or state.home, url=url or state.url, user=state.user, embedder=state.embedder, **extra
    )


def serve(
    ctx: typer.Context,
    home: HomeOption = None,
    url: UrlOption = None,
    host: Annotated[str, typer.Option(help="Address to bind (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port (0: any free one).")] = 8765,
    scheduler: Annotated[
        bool, typer.Option("--scheduler/--no-scheduler", help="Run the memory scheduler too.")
    ] = False,
) -> None:
    """Serve memory over REST (/v1) and MCP (/mcp) until interrupted; callers
    authenticate with API keys (`memos keys create`)."""
    from memos.mos import open as open_memos
    from memos.server.run import serve as run_server

    state = state_of(ctx)
    extra: dict[str, Any] = {}
    if scheduler:
        if "scheduler" in inspect.signature(open_memos).parameters:
            extra["scheduler"] = True
        else:
            typer.echo("memos: this memos has no scheduler yet; serving without one", err=True)
    settings = load_settings(
        home=home or state.home, url=url or state.url, user=state.user, embedder=state.embedder
    )
    mos = _open(state, home, url, **extra)
    try:
        run_server(
            mos,
            host=host,
            port=port,
            embedder=settings.embedder,
            database=settings.url,
            announce=lambda line: typer.echo(line, err=True),
        )
    finally:
        mos.close()


def mcp(ctx: typer.Context, home: HomeOption = None, url: UrlOption = None) -> None:
    """Serve MCP over stdin/stdout as the local user (for agent hosts that launch tools)."""
    from memos.server.run import serve_stdio

    state = state_of(ctx)
    mos = _open(state, home, url)
    try:
        serve_stdio(mos)
    finally:
        mos.close()


def cube_for_command(
    ctx: typer.Context, state: State, name: str, *, no_server: bool
) -> MemCube | RemoteCube:
    """The cube `add` and `search` work on: through a running `memos serve` of the same
    home, database, user and embedder when there is one (the embedder is already
    loaded there), else in process. Same results either way."""
    if no_server or os.environ.get(NO_SERVER_ENV, "") not in ("", "0"):
        return state.cube(name)
    client = _served_client(state)
    if client is None:
        return state.cube(name)
    ctx.call_on_close(client.close)
    try:
        return client.cube(name)
    except (BackendError, NotFoundError):
        # Unreachable (nothing was sent), or not readable: the embedded SDK says which.
        return state.cube(name)


def _served_client(state: State) -> Client | None:
    from memos.server.local import live_server

    settings = load_settings(
        home=state.home, url=state.url, user=state.user, embedder=state.embedder
    )
    found = live_server(
        settings.resolved_home(),
        user=settings.user,
        embedder=settings.embedder,
        database=settings.url,
    )
    if found is None:
        return None
    from memos.client import connect

    return connect(found.url, api_key=found.token, timeout=120.0)
