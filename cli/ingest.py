"""`memos ingest`: read chat messages or platform events from a JSONL file (MemReader)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from memos.cli.derived import CubeOption
from memos.cli.state import state_of

if TYPE_CHECKING:
    from memos.agents.report import Entry, IngestReport


def _short(text: str, width: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _entry_line(entry: Entry) -> str:
    item = f"#{entry.item_id}" if entry.item_id is not None else "-"
    ref = f" [{entry.source_ref}]" if entry.source_ref else ""
    text = f": {_short(entry.content, 80)}" if entry.content else ""
    return f"  {entry.action.value:<10} {item}{ref}{text} ({entry.reason})"


def report_text(report: IngestReport, *, verbose: bool) -> str:
    lines = [report.summary()]
    shown = (*report.added, *report.updated, *report.superseded)
    if verbose:
        shown += report.skipped
    lines += [_entry_line(e) for e in shown]
    if report.skipped and not verbose:
        lines.append(f"  ({len(report.skipped)} skipped; --verbose lists them)")
    lines += [f"  fallback: {why}" for why in report.fallbacks]
    return "\n".join(lines)


def ingest(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="JSONL file: one message or event per line.")],
    cube: CubeOption,
    source: Annotated[
        str | None,
        typer.Option(help="Source of chat messages (default 'chat'; events use their platform)."),
    ] = None,
    llm: Annotated[
        str | None, typer.Option(help="'openai', 'local' or 'none' (default: MEMOS_LLM).")
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Messages per LLM call.")] = 8,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="List skips too.")] = False,
) -> None:
    """Read messages or events from FILE into a cube: extract memories, skip duplicates,
    supersede outdated states. Every line is checked before anything is stored."""
    # The reader loads here, not with the CLI: commands that do not read stay fast.
    from memos.agents.events import read_jsonl
    from memos.agents.reader import MemReader, ReaderSettings

    state = state_of(ctx)
    records = read_jsonl(file, source=source)
    holder = state.cube(cube)
    with state.mos.llm_for(llm) as client:
        chosen = ReaderSettings(batch_size=batch_size, parse=state.mos.settings.reader_parse)
        reader = MemReader(client, settings=chosen)
        report = holder.ingest(records, source=source, reader=reader)
    state.out(report, report_text(report, verbose=verbose))
