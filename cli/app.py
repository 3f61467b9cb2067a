"""The `memos` command: thin commands over the SDK, human output or --json."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

# typer vendors click; its usage errors are these classes, not the click package's.
from typer._click.exceptions import ClickException, NoArgsIsHelpError

from memos.cli import render
from memos.cli.concept import concept_app
from memos.cli.eval import eval_app
from memos.cli.graph import graph_app
from memos.cli.index import index_app
from memos.cli.ingest import ingest
from memos.cli.keys import keys_app
from memos.cli.kv import kv_app
from memos.cli.lora import lora_app
from memos.cli.note import note_app
from memos.cli.scheduler import scheduler_app
from memos.cli.serve import NoServerOption, cube_for_command, mcp, serve
from memos.cli.state import State, state_of
from memos.errors import (
    BackendError,
    ConfigError,
    ConflictError,
    IndexMismatchError,
    InvalidInputError,
    MemosError,
    NotFoundError,
    PermissionDeniedError,
)
from memos.progress import set_quiet

# Distinct exit codes let scripts react without parsing messages.
EXIT_CODES: dict[type[MemosError], int] = {
    InvalidInputError: 2,
    NotFoundError: 3,
    PermissionDeniedError: 4,
    ConflictError: 5,
    BackendError: 6,
    ConfigError: 7,
    IndexMismatchError: 8,
}


def exit_code(error: MemosError) -> int:
    for kind in type(error).__mro__:
        if kind in EXIT_CODES:
            return EXIT_CODES[kind]
    return 1


class MemosGroup(typer.core.TyperGroup):
    """Turns a MemosError anywhere below into one line on stderr and an exit code."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except MemosError as error:
            typer.echo(f"memos: error: {error}", err=True)
            raise typer.Exit(exit_code(error)) from None

    def main(
        self, args: Sequence[str] | None = None, prog_name: str | None = None,
        complete_var: str | None = None, standalone_mode: bool = True,
        windows_expand_args: bool = True, **extra: Any,
    ) -> Any:  # fmt: skip
        """Usage errors (an unknown option, a missing argument, a value of the wrong
        type) end the same way as a refused value: one `memos: error:` line, exit 2."""
        given = (args, prog_name, complete_var, False, windows_expand_args)
        if not standalone_mode:
            return super().main(*given, **extra)
        try:
            code = super().main(*given, **extra)
        except NoArgsIsHelpError as error:
            error.show()  # `memos cube` alone: its help
            sys.exit(error.exit_code)
        except ClickException as error:
            where = getattr(getattr(error, "ctx", None), "command_path", "memos")
            message = " ".join(error.format_message().split())
            typer.echo(f"memos: error: {message} (see `{where} --help`)", err=True)
            sys.exit(2)
        except typer.Abort:
            typer.echo("memos: error: aborted; nothing was changed", err=True)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


app = typer.Typer(
    cls=MemosGroup,
    name="memos",
    help="memos: a memory operating system for LLM agents.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
cube_app = typer.Typer(help="Create, list, share and drop cubes.", no_args_is_help=True)
app.add_typer(cube_app, name="cube")
app.add_typer(kv_app, name="kv")
app.add_typer(lora_app, name="lora")
app.add_typer(eval_app, name="eval")
app.add_typer(note_app, name="note")
app.add_typer(graph_app, name="graph")
app.add_typer(index_app, name="index")
app.add_typer(scheduler_app, name="scheduler")
app.add_typer(concept_app, name="concept")
app.command("ingest")(ingest)
app.add_typer(keys_app, name="keys")
app.command("serve")(serve)
app.command("mcp")(mcp)


@app.callback()
def main_options(
    ctx: typer.Context,
    home: Annotated[
        Path | None,
        typer.Option(help="memos home directory (default: MEMOS_HOME or platform dir)."),
    ] = None,
    url: Annotated[
        str | None, typer.Option(help="SQLAlchemy database URL, e.g. postgresql://host/db.")
    ] = None,
    user: Annotated[
        str | None, typer.Option(help="Act as this user (default: MEMOS_USER).")
    ] = None,
    embedder: Annotated[
        str | None, typer.Option(help="'minilm' (default), 'hash', or a model folder.")
    ] = None,
    json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    state = State(home=home, url=url, user=user, embedder=embedder, json=json)
    set_quiet(json)
    ctx.obj = state
    ctx.call_on_close(state.close)


CubeOption = Annotated[str, typer.Option("--cube", "-c", help="Cube name.")]
OptionalCube = Annotated[
    str | None, typer.Option("--cube", "-c", help="Cube name (default: the item's cube).")
]


# -- cubes ------------------------------------------------------------------------------


@cube_app.command("create")
def cube_create(
    ctx: typer.Context,
    name: str,
    exist_ok: Annotated[
        bool, typer.Option("--exist-ok", help="Succeed if the cube exists already.")
    ] = False,
) -> None:
    """Create a cube owned by the acting user."""
    state = state_of(ctx)
    cube = state.mos.cube(name, create=True) if exist_ok else state.mos.create_cube(name)
    state.out(cube.info, f"cube {cube.name!r} ready" if exist_ok else f"created cube {cube.name!r}")


@cube_app.command("list")
def cube_list(ctx: typer.Context) -> None:
    """List the cubes the acting user may read."""
    state = state_of(ctx)
    found = state.mos.cubes()
    state.out(found, render.cubes(found))


@cube_app.command("drop")
def cube_drop(
    ctx: typer.Context,
    name: str,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a cube with all its memories and history."""
    state = state_of(ctx)
    if not yes and not typer.confirm(f"delete cube {name!r} and everything in it?"):
        raise typer.Exit(1)
    state.mos.drop_cube(name)
    state.out({"dropped": name}, f"dropped cube {name!r}")


@cube_app.command("grant")
def cube_grant(ctx: typer.Context, name: str, user: str, permission: str) -> None:
    """Grant USER read, write or admin on cube NAME ('*' = everyone)."""
    state = state_of(ctx)
    grant = state.cube(name).grant(user, permission)
    state.out(grant, f"{user} now has {grant.permission.value} on {name!r}")


@cube_app.command("revoke")
def cube_revoke(ctx: typer.Context, name: str, user: str) -> None:
    """Remove USER's grant on cube NAME."""
    state = state_of(ctx)
    state.cube(name).revoke(user)
    state.out({"revoked": user, "cube": name}, f"revoked {user}'s access to {name!r}")


@cube_app.command("grants")
def cube_grants(ctx: typer.Context, name: str) -> None:
    """Show who has access to cube NAME."""
    state = state_of(ctx)
    found = state.cube(name).grants()
    state.out(found, render.grants(found))


# -- memories ---------------------------------------------------------------------------


@app.command()
def add(
    ctx: typer.Context,
    text: str,
    cube: CubeOption,
    type: Annotated[str, typer.Option(help="fact, event, preference, note, ...")] = "fact",
    source: Annotated[str | None, typer.Option(help="slack, git, user, ...")] = None,
    source_ref: Annotated[str | None, typer.Option(help="Message, event or commit id.")] = None,
    tag: Annotated[list[str] | None, typer.Option(help="A tag; repeat for more.")] = None,
    valid_from: Annotated[str | None, typer.Option(help="ISO date it became true.")] = None,
    valid_to: Annotated[str | None, typer.Option(help="ISO date it stopped being true.")] = None,
    ttl: Annotated[str | None, typer.Option(help="Time to live: seconds or 30m, 12h, 7d.")] = None,
    visibility: Annotated[str, typer.Option(help="private, shared or public.")] = "shared",
    no_server: NoServerOption = False,
) -> None:
    """Remember TEXT in a cube."""
    state = state_of(ctx)
    item = cube_for_command(ctx, state, cube, no_server=no_server).add(
        text,
        type=type,
        source=source,
        source_ref=source_ref,
        tags=tag or [],
        valid_from=valid_from,
        valid_to=valid_to,
        ttl=ttl,
        visibility=visibility,
    )
    state.out(item, f"added {render.item_line(item)}")


@app.command()
def search(
    ctx: typer.Context,
    query: str,
    cube: CubeOption,
    k: Annotated[int, typer.Option("-k", "--k", help="How many results.")] = 10,
    type: Annotated[list[str] | None, typer.Option(help="Only these types.")] = None,
    source: Annotated[list[str] | None, typer.Option(help="Only these sources.")] = None,
    author: Annotated[list[str] | None, typer.Option(help="Only these authors.")] = None,
    tag: Annotated[list[str] | None, typer.Option(help="Only items with all these tags.")] = None,
    status: Annotated[list[str] | None, typer.Option(help="Statuses (default: live).")] = None,
    valid_from: Annotated[str | None, typer.Option(help="Valid at some time after this.")] = None,
    valid_to: Annotated[str | None, typer.Option(help="Valid at some time before this.")] = None,
    as_of: Annotated[str | None, typer.Option(help="What was valid at this ISO time.")] = None,
    weight: Annotated[
        list[str] | None, typer.Option(help="Signal weight NAME=VALUE, e.g. graph=0.")
    ] = None,
    explain: Annotated[bool, typer.Option(help="Show each hit's score by signal.")] = False,
    no_server: NoServerOption = False,
) -> None:
    """Find the memories that best answer QUERY (hybrid vector + BM25 + links)."""
    state = state_of(ctx)
    found = cube_for_command(ctx, state, cube, no_server=no_server).search(
        query, k=k, types=type, sources=source, authors=author, tags=tag, statuses=status,
        valid_from=valid_from, valid_to=valid_to, as_of=as_of, weights=_weights(weight),
    )  # fmt: skip
    state.out(found, render.explained(found) if explain else render.hits(found))


def _weights(pairs: list[str] | None) -> dict[str, float] | None:
    if not pairs:
        return None
    weights: dict[str, float] = {}
    for pair in pairs:
        name, _, value = pair.partition("=")
        try:
            weights[name.strip()] = float(value)
        except ValueError:
            raise InvalidInputError(f"--weight takes NAME=NUMBER, got {pair!r}") from None
    return weights


@app.command()
def get(
    ctx: typer.Context,
    item: str,
    cube: OptionalCube = None,
    as_of: Annotated[str | None, typer.Option(help="What was true at this ISO time.")] = None,
    known_at: Annotated[str | None, typer.Option(help="What memos knew at this ISO time.")] = None,
) -> None:
    """Show one memory by id or uid."""
    state = state_of(ctx)
    holder, ref = state.cube_for(item, cube)
    found = holder.get(ref, as_of=as_of, known_at=known_at)
    state.out(found, render.item_detail(found))


@app.command()
def update(
    ctx: typer.Context,
    item: str,
    text: str,
    cube: OptionalCube = None,
    force: Annotated[bool, typer.Option(help="Update even a frozen item.")] = False,
) -> None:
    """Replace a memory's text; the old text stays in its history."""
    state = state_of(ctx)
    holder, ref = state.cube_for(item, cube)
    updated = holder.update(ref, text, force=force)
    state.out(updated, f"updated {render.item_line(updated)}")


@app.command()
def history(ctx: typer.Context, item: str, cube: OptionalCube = None) -> None:
    """Every version of a memory, oldest first."""
    state = state_of(ctx)
    holder, ref = state.cube_for(item, cube)
    found = holder.history(ref)
    state.out(found, render.versions(found))


@app.command()
def forget(
    ctx: typer.Context,
    item: str,
    cube: OptionalCube = None,
    hard: Annotated[bool, typer.Option(help="Also purge the text from every version.")] = False,
) -> None:
    """Forget a memory (soft by default; --hard purges its text)."""
    state = state_of(ctx)
    holder, ref = state.cube_for(item, cube)
    gone = holder.forget(ref, hard=hard)
    state.out(gone, f"forgot #{gone.id}{' and purged its text' if hard else ''}")


@app.command("status")
def set_status(ctx: typer.Context, item: str, status: str, cube: OptionalCube = None) -> None:
    """Move a memory through the lifecycle (activated, frozen, archived, ...)."""
    state = state_of(ctx)
    holder, ref = state.cube_for(item, cube)
    moved = holder.set_status(ref, status)
    state.out(moved, render.item_line(moved))


@app.command()
def link(
    ctx: typer.Context,
    src: str,
    dst: str,
    cube: OptionalCube = None,
    kind: Annotated[str, typer.Option(help="related, supports, contradicts, ...")] = "related",
    reason: Annotated[str | None, typer.Option(help="Why the two are linked.")] = None,
) -> None:
    """Link memory SRC to memory DST."""
    state = state_of(ctx)
    holder, ref = state.cube_for(src, cube)
    edge = holder.link(ref, dst, kind=kind, reason=reason)
    state.out(edge, render.link(edge))


@app.command("export")
def export_cube(ctx: typer.Context, file: Path, cube: CubeOption) -> None:
    """Write a cube, with every version and link, to a JSONL file."""
    state = state_of(ctx)
    count = state.cube(cube).export_jsonl(file)
    state.out(
        {"cube": cube, "file": str(file), "items": count}, f"exported {count} items to {file}"
    )


@app.command("import")
def import_cube(
    ctx: typer.Context,
    file: Path,
    name: Annotated[
        str | None, typer.Option(help="Cube name (default: the exported name).")
    ] = None,
) -> None:
    """Create a cube from a JSONL export."""
    state = state_of(ctx)
    cube = state.mos.import_jsonl(file, name=name)
    stats = cube.stats()
    state.out(stats, f"imported {stats['items']} items into cube {cube.name!r}")


@app.command()
def stats(ctx: typer.Context, cube: CubeOption) -> None:
    """Counts by status and kind, index size and log position of a cube."""
    state = state_of(ctx)
    found = state.cube(cube).stats()
    human = "\n".join(f"{k}: {v}" for k, v in found.items())
    state.out(found, human)


def main() -> None:
    """Console entry point."""
    app(prog_name="memos")


if __name__ == "__main__":
    main()
