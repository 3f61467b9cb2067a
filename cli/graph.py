"""`memos graph`: the link graph as networkx sees it (neighbours, paths, topics, export)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from memos.cli.derived import CubeOption, OptionalCube
from memos.cli.note import neighbour_line
from memos.cli.state import state_of

graph_app = typer.Typer(
    help="Query and export the graph of links between memories (built from the links table).",
    no_args_is_help=True,
)


@graph_app.command("neighbors")
def neighbors(
    ctx: typer.Context,
    item: str,
    cube: OptionalCube = None,
    depth: Annotated[int, typer.Option(min=1, help="How many hops out.")] = 1,
    kind: Annotated[list[str] | None, typer.Option(help="Only links of this kind; repeat.")] = None,
) -> None:
    """Items linked to ITEM (within --depth hops), with each link's kind and reason."""
    state = state_of(ctx)
    holder, ref = state.cube_for(item, cube)
    item_id = holder.get(ref).id
    graph = holder.graph()
    # An item the user can read but nobody linked yet has no neighbours: an empty list.
    found = graph.neighbours(item_id, depth=depth, kinds=kind) if item_id in graph.graph else []
    human = (
        "\n".join(("  " * (n.distance - 1)) + neighbour_line(n) for n in found)
        or f"#{item_id} has no neighbours"
    )
    state.out(found, human)


@graph_app.command("path")
def path(ctx: typer.Context, src: str, dst: str, cube: OptionalCube = None) -> None:
    """A shortest chain of links from SRC to DST."""
    state = state_of(ctx)
    holder, ref = state.cube_for(src, cube)
    start, end = holder.get(ref).id, holder.get(dst).id
    steps = holder.graph().path(start, end)
    lines = [f"#{steps[0].id} {steps[0].label}"]
    for step in steps[1:]:
        arrow = "->" if step.direction == "out" else "<-"
        reason = f" ({step.reason})" if step.reason else ""
        lines.append(f"  {arrow}[{step.kind}]{reason} #{step.id} {step.label}")
    state.out(steps, "\n".join(lines))


@graph_app.command("topics")
def topics(
    ctx: typer.Context,
    cube: CubeOption,
    min_size: Annotated[int, typer.Option(help="Smallest topic shown.")] = 2,
) -> None:
    """Connected topics: communities of densely linked items (Louvain)."""
    state = state_of(ctx)
    found = state.mos.cube(cube).graph().topics(min_size=min_size)
    human = "\n".join(
        f"topic {t.id} ({len(t.items)} items) {t.label}: " + " ".join(f"#{i}" for i in t.items)
        for t in found
    )
    state.out(found, human or "no topics (no linked items yet)")


@graph_app.command("export")
def export(
    ctx: typer.Context,
    file: Path,
    cube: CubeOption,
    format: Annotated[
        str | None, typer.Option(help="graphml or json (default: from the file suffix).")
    ] = None,
) -> None:
    """Write the cube's link graph to FILE as GraphML or JSON."""
    state = state_of(ctx)
    graph = state.mos.cube(cube).graph()
    written = graph.write(file, format=format)
    summary = {"file": str(file), "format": written, "nodes": len(graph), "edges": graph.edge_count}
    state.out(
        summary, f"wrote {len(graph)} items and {graph.edge_count} links to {file} ({written})"
    )
