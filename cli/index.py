"""`memos index`: check a cube's vector index against SQL, and rebuild it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from memos.cli.derived import CubeOption
from memos.cli.state import state_of
from memos.errors import BackendError

if TYPE_CHECKING:
    from memos.retrieval.cube_index import IndexReport

index_app = typer.Typer(
    help="The vector index of a cube: verify it against SQL, rebuild it from SQL.",
    no_args_is_help=True,
)


def _text(report: IndexReport) -> str:
    verdict = "ok" if report.ok else "MISMATCH"
    return (
        f"cube {report.cube}: {verdict} ({report.backend})\n"
        f"  vectors: {report.sql_vectors} in SQL, {report.index_vectors} in the index "
        f"({report.missing} missing, {report.extra} extra)\n"
        f"  log place: {report.applied_seq} applied of {report.log_seq}\n"
        f"  self-lookup: {report.self_found} of {report.sampled} sampled vectors found "
        "themselves first"
    )


@index_app.command("verify")
def verify(ctx: typer.Context, cube: CubeOption) -> None:
    """Compare counts, ids and the log place with SQL; exit 6 on a mismatch."""
    state = state_of(ctx)
    report = state.cube(cube).verify_index()
    state.out({**report.to_dict(), "ok": report.ok}, _text(report))
    if not report.ok:
        raise BackendError(
            f"the vector index of cube {cube!r} disagrees with SQL; run `memos index rebuild "
            f"-c {cube}`"
        )


@index_app.command("rebuild")
def rebuild(ctx: typer.Context, cube: CubeOption) -> None:
    """Build the index again from the vectors stored in SQL."""
    state = state_of(ctx)
    report = state.cube(cube).rebuild_index()
    state.out({**report.to_dict(), "ok": report.ok}, _text(report))
