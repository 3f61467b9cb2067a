"""`memos eval ...`: benchmark harnesses that score memory systems."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import typer

from memos.errors import InvalidInputError

eval_app = typer.Typer(help="Score memos on benchmarks.", no_args_is_help=True)


def _ks(text: str) -> list[int]:
    try:
        ks = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise InvalidInputError(f"--k takes comma-separated integers, got {text!r}") from None
    if not ks or ks[0] < 1:
        raise InvalidInputError("--k needs positive integers, e.g. 1,5,10,25")
    return ks


@eval_app.command("locomo")
def locomo(
    ctx: typer.Context,
    data: Annotated[
        Path | None, typer.Option(help="locomo10.json (default: ../shared/data/locomo10.json)")
    ] = None,
    k: Annotated[str, typer.Option("--k", help="Cut-offs for recall@k.")] = "1,5,10,25",
    conversations: Annotated[
        int | None, typer.Option(help="Only the first N conversations.")
    ] = None,
    ablation: Annotated[bool, typer.Option(help="Also run memos with stages off.")] = False,
    workdir: Annotated[
        Path | None, typer.Option(help="Keep the eval cubes here (default: a temp dir).")
    ] = None,
) -> None:
    """Evidence recall@k on LoCoMo categories 1-4, against plain BM25 and vector search."""
    import memos
    from memos.cli.app import State
    from memos.cli.render import emit_json
    from memos.eval import locomo as harness

    state = ctx.find_root().obj
    assert isinstance(state, State)
    cutoffs = _ks(k)
    dataset = harness.load(data or harness.DEFAULT_DATA)
    if conversations is not None:
        if conversations < 1:
            raise InvalidInputError("--conversations must be at least 1")
        dataset = dataset[:conversations]
    with tempfile.TemporaryDirectory(prefix="memos-locomo-") as scratch:
        home = workdir or Path(scratch)
        with memos.open(home, embedder=state.embedder, user="eval") as mos:
            report = harness.evaluate(mos, dataset, ks=cutoffs, ablation=ablation)
    if state.json:
        emit_json(report)
    else:
        typer.echo(harness.markdown(report))
