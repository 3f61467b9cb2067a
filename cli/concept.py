"""`memos concept`: concept memory (ArcMemo), abstractions distilled from solution traces."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from memos import validation
from memos.cli.derived import CubeOption
from memos.cli.state import state_of
from memos.errors import InvalidInputError

if TYPE_CHECKING:
    from memos.agents.concepts import Abstraction, Concept

concept_app = typer.Typer(
    help="Concept memory: reusable routines, heuristics, patterns and pitfalls from traces.",
    no_args_is_help=True,
)


def concept_line(concept: Concept) -> str:
    score = f"{concept.score:6.3f}  " if concept.score is not None else ""
    record = f" used {concept.uses}x, {concept.successes} ok" if concept.uses else ""
    return f"{score}#{concept.id} v{concept.version} {concept.name} ({concept.kind}){record}"


def concept_detail(concept: Concept) -> str:
    lines = [concept_line(concept), f"    {concept.description}"]
    if concept.cues:
        lines.append(f"    when: {'; '.join(concept.cues)}")
    if concept.parameters:
        lines.append(f"    parameters: {'; '.join(concept.parameters)}")
    return "\n".join(lines)


def _abstraction_text(result: Abstraction) -> str:
    lines = [f"stored trace #{result.trace.id}; abstracted by {result.method}"]
    lines += [f"  {c.action} {concept_line(c.concept)}" for c in result.changes]
    lines += [f"  ignored {why}" for why in result.ignored]
    if not result.changes:
        lines.append("  no concept found; mark lines with 'Routine:', 'Heuristic:', ...")
    return "\n".join(lines)


@concept_app.command("add")
def add(
    ctx: typer.Context,
    name: str,
    cube: CubeOption,
    kind: Annotated[str, typer.Option(help="routine, heuristic, pattern or pitfall.")],
    description: Annotated[str, typer.Option("--description", "-d", help="What it says.")],
    cue: Annotated[list[str] | None, typer.Option(help="When it applies; repeat.")] = None,
    param: Annotated[list[str] | None, typer.Option(help="A parameter; repeat.")] = None,
    note: Annotated[list[str] | None, typer.Option(help="An implementation note; repeat.")] = None,
) -> None:
    """Store a concept by hand (merged into one of the same name)."""
    state = state_of(ctx)
    change = state.mos.cube(cube).add_concept(
        name, kind=kind, description=description, cues=cue or [], parameters=param or [],
        notes=note or [],
    )  # fmt: skip
    state.out(change, f"{change.action} {concept_detail(change.concept)}")


@concept_app.command("list")
def list_concepts(
    ctx: typer.Context,
    cube: CubeOption,
    kind: Annotated[str | None, typer.Option(help="Only this kind.")] = None,
) -> None:
    """Every live concept, newest first."""
    state = state_of(ctx)
    found = state.mos.cube(cube).concepts(kind=kind)
    state.out(found, "\n".join(concept_line(c) for c in found) or "no concepts yet")


@concept_app.command("for")
def for_problem(
    ctx: typer.Context,
    problem: str,
    cube: CubeOption,
    k: Annotated[int, typer.Option("-k", "--k", help="How many concepts.")] = 5,
) -> None:
    """The concepts whose cues best fit PROBLEM."""
    state = state_of(ctx)
    found = state.mos.cube(cube).concepts_for(problem, k=k)
    state.out(found, "\n".join(concept_detail(c) for c in found) or "no matching concepts")


@concept_app.command("abstract")
def abstract(
    ctx: typer.Context,
    trace: Annotated[str, typer.Argument(help="A file holding the trace, or - for stdin.")],
    cube: CubeOption,
    outcome: Annotated[str, typer.Option(help="success or failure.")] = "success",
    task: Annotated[str | None, typer.Option(help="The problem the trace solved.")] = None,
    used: Annotated[list[str] | None, typer.Option(help="A concept id applied; repeat.")] = None,
) -> None:
    """Store a solution trace and distil concepts from it (offline without an LLM)."""
    state = state_of(ctx)
    if trace == "-":
        text = sys.stdin.read()
    else:
        source = validation.input_file(trace, what="trace file (pass a file, or - for stdin)")
        try:
            text = source.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise InvalidInputError(f"{source} is not UTF-8 text") from None
        except OSError as exc:
            raise InvalidInputError(f"cannot read {source}: {exc.strerror}") from None
    result = state.mos.cube(cube).abstract(text, outcome=outcome, task=task, used=used or [])
    state.out(result, _abstraction_text(result))


@concept_app.command("outcome")
def outcome(
    ctx: typer.Context,
    concepts: Annotated[list[str], typer.Argument(help="Concept ids that were applied.")],
    cube: CubeOption,
    success: Annotated[bool, typer.Option("--success/--failure", help="Did it work?")],
) -> None:
    """Record that CONCEPTS were applied and whether it worked."""
    state = state_of(ctx)
    updated = state.mos.cube(cube).record_concept_use(concepts, success=success)
    state.out(updated, "\n".join(concept_line(c) for c in updated))
