"""`memos note`: Zettelkasten notes that construct themselves, link and evolve (A-MEM)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from memos.cli.derived import CubeOption, OptionalCube
from memos.cli.render import item_line
from memos.cli.state import state_of
from memos.models import Link, MemoryItem

if TYPE_CHECKING:
    from memos.agents.graph import Neighbour
    from memos.agents.zettelkasten import Evolution, NoteResult

note_app = typer.Typer(
    help="Zettelkasten notes: keywords, tags and context, links to related notes, and "
    "evolution of their neighbours (versioned, undoable).",
    no_args_is_help=True,
)


def link_view(link: Link, item_id: int) -> Neighbour:
    """A link seen from one of its ends, in the shape `memos graph neighbors` prints."""
    from memos.agents.graph import Neighbour  # agents load when a note command runs

    outgoing = link.src_id == item_id
    return Neighbour(
        id=link.dst_id if outgoing else link.src_id,
        kind=link.kind,
        reason=link.reason,
        direction="out" if outgoing else "in",
        weight=link.weight,
        created_by=link.created_by,
        link_id=link.id,
        distance=1,
        via=item_id,
    )


def neighbour_line(found: Neighbour) -> str:
    arrow = "->" if found.direction == "out" else "<-"
    reason = f": {found.reason}" if found.reason else ""
    label = f" {found.label}" if found.label else ""
    return f"{arrow} #{found.id} [{found.kind}]{label}{reason} (by {found.created_by})"


def evolution_line(change: Evolution) -> str:
    return (
        f"evolved #{change.item_id} v{change.from_version} -> v{change.to_version} "
        f"({', '.join(change.fields)}); undo: memos revert {change.item_id} "
        f"{change.from_version}"
    )


def _note_text(note: MemoryItem) -> list[str]:
    return [
        item_line(note),
        f"  keywords: {', '.join(note.keywords) or '-'}",
        f"  context: {note.context or '-'}",
    ]


def _result_text(result: NoteResult) -> str:
    lines = _note_text(result.note)
    lines[0] = f"added {lines[0]}"
    lines.append(f"  built by {result.construction}; linked by {result.linking}")
    lines += [f"  {neighbour_line(link_view(link, result.note.id))}" for link in result.links]
    lines += [f"  {evolution_line(change)}" for change in result.evolved]
    lines += [f"  ignored {why}" for why in result.ignored]
    return "\n".join(lines)


@note_app.command("add")
def add(
    ctx: typer.Context,
    text: str,
    cube: CubeOption,
    agent: Annotated[str | None, typer.Option(help="Who writes the note (its author).")] = None,
    tag: Annotated[list[str] | None, typer.Option(help="A tag of your own; repeat.")] = None,
    candidates: Annotated[int, typer.Option(help="Neighbours considered for links.")] = 5,
    evolve: Annotated[bool, typer.Option(help="Let the note update its neighbours.")] = True,
) -> None:
    """Add TEXT as a note: constructed, linked to related notes, evolving them."""
    state = state_of(ctx)
    from memos.agents.zettelkasten import NoteSettings

    settings = NoteSettings(
        candidates=candidates, vocabulary_pool=max(25, candidates), evolve=evolve
    )
    result = state.mos.cube(cube).note(text, agent=agent, tags=tag or [], settings=settings)
    state.out(result, _result_text(result))


@note_app.command("show")
def show(ctx: typer.Context, item: str, cube: OptionalCube = None) -> None:
    """A note with its keywords, context, links and the evolutions it caused."""
    state = state_of(ctx)
    holder, ref = state.cube_for(item, cube)
    found = holder.get(ref)
    links = [link_view(link, found.id) for link in holder.links(found.id)]
    from memos.agents.zettelkasten import evolutions

    changes = evolutions(holder, found.id)
    lines = _note_text(found) + [f"  {neighbour_line(n)}" for n in links]
    lines += [f"  {evolution_line(change)}" for change in changes]
    state.out({"note": found, "links": links, "evolved": changes}, "\n".join(lines))


@note_app.command("links")
def links(ctx: typer.Context, item: str, cube: OptionalCube = None) -> None:
    """The links of a note (or any item), with kind, reason and who made them."""
    state = state_of(ctx)
    holder, ref = state.cube_for(item, cube)
    item_id = holder.get(ref).id
    found = [link_view(link, item_id) for link in holder.links(item_id)]
    state.out(found, "\n".join(neighbour_line(n) for n in found) or "no links")


@note_app.command("undo")
def undo(
    ctx: typer.Context,
    item: str,
    cube: OptionalCube = None,
    force: Annotated[bool, typer.Option(help="Revert even items changed since.")] = False,
) -> None:
    """Take back every change a note's evolution made to its neighbours."""
    state = state_of(ctx)
    holder, ref = state.cube_for(item, cube)
    from memos.agents.zettelkasten import undo_evolution

    reverted = undo_evolution(holder, ref, force=force)
    human = "\n".join(f"reverted {item_line(i)}" for i in reverted) or "nothing to undo"
    state.out(reverted, human)
