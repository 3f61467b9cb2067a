"""`memos eval ...`: benchmark harnesses that score memory systems."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer

from memos.cli.state import state_of
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
    from memos.cli.render import emit_json
    from memos.eval import locomo as harness

    state = state_of(ctx)
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


class _RunByDefault(typer.core.TyperGroup):
    """`memos eval memtrack PATH...` runs; `memos eval memtrack generate ...` generates:
    anything that is not a subcommand name is read as the arguments of `run`."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = ["run", *args]
        return super().parse_args(ctx, args)


memtrack_app = typer.Typer(
    cls=_RunByDefault,
    help="MEMTRACK-style eval: replay platform timelines, ask questions in order, and "
    "score backends on Correctness, Efficiency and Redundancy (docs/MEMTRACK.md).\n\n"
    "memos eval memtrack PATH... [--backend B] [--answerer A] [--json] [--out DIR] [--plot]\n\n"
    "memos eval memtrack generate --n N --seed S OUT_DIR",
    no_args_is_help=True,
)
eval_app.add_typer(memtrack_app, name="memtrack")


def _backend_names(given: list[str] | None) -> list[str]:
    from memos.eval.memtrack import BACKENDS

    names = [n.strip() for raw in given or [] for n in raw.split(",") if n.strip()]
    if not names or "all" in names:
        return list(BACKENDS)
    unknown = [n for n in names if n not in BACKENDS]
    if unknown:
        raise InvalidInputError(
            f"unknown backend {unknown[0]!r}; choose from: {', '.join(BACKENDS)} (or all)"
        )
    return list(dict.fromkeys(names))


@memtrack_app.command("run")
def memtrack_run(
    ctx: typer.Context,
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="Instance files (*.json), folders of them, or a MEMTRACK archive folder "
            "(test_configs/ + test_event_histories/) or config_<id>.yaml."
        ),
    ],
    backend: Annotated[
        list[str] | None,
        typer.Option(
            "--backend",
            "-b",
            help="memos, rag, full-context, none (repeat or comma-separate; default: all).",
        ),
    ] = None,
    answerer: Annotated[
        str,
        typer.Option(help="'extractive' (offline, no LLM) or 'llm' (the MEMOS_LLM client)."),
    ] = "extractive",
    judge: Annotated[
        bool, typer.Option("--judge", help="Also grade answers with the MEMOS_LLM client.")
    ] = False,
    reader_llm: Annotated[
        bool,
        typer.Option(
            "--reader-llm", help="The memos backend's MemReader uses MEMOS_LLM (default: offline)."
        ),
    ] = False,
    k: Annotated[int, typer.Option("--k", min=1, help="Items a ranked backend returns.")] = 10,
    budget: Annotated[
        int, typer.Option(min=1, help="Token budget of the full-context backend.")
    ] = 32_000,
    json_output: Annotated[bool, typer.Option("--json", help="Print the JSON report.")] = False,
    out: Annotated[
        Path | None,
        typer.Option(help="Write memtrack.json and memtrack.md (and the --plot PNG) here."),
    ] = None,
    plot: Annotated[
        bool, typer.Option("--plot", help="Write memtrack.png (into --out, else here).")
    ] = False,
    workdir: Annotated[
        Path | None, typer.Option(help="Keep the memos backend's cubes here (default: temp).")
    ] = None,
) -> None:
    """Score backends on MEMTRACK-style instances (correctness, evidence, cost, redundancy)."""
    import memos
    from memos.cli.render import emit_json
    from memos.errors import ConfigError
    from memos.eval import memtrack
    from memos.progress import set_quiet
    from memos.timeutil import ReplayClock

    state = state_of(ctx)
    as_json = state.json or json_output
    if as_json:
        set_quiet(True)
    if answerer not in ("extractive", "llm"):
        raise InvalidInputError(f"--answerer is 'extractive' or 'llm', got {answerer!r}")
    names = _backend_names(backend)
    if plot:
        from memos.eval.memtrack.report import check_plotting

        check_plotting()
    instances = memtrack.load_paths(paths)
    with tempfile.TemporaryDirectory(prefix="memos-memtrack-") as scratch:
        home = workdir or Path(scratch)
        # Timelines are replayed at their own times (ReplayClock), not today's.
        clock = ReplayClock()
        with memos.open(home, embedder=state.embedder, user="eval", clock=clock) as mos:
            report = memtrack.evaluate(
                mos, instances, backends=names, answerer=answerer, judge=judge,
                reader_llm=reader_llm, k=k, budget=budget,
            )  # fmt: skip
    table = memtrack.markdown(report)
    written: list[Path] = []
    if out is not None:
        try:
            out.mkdir(parents=True, exist_ok=True)
            (out / "memtrack.json").write_text(json.dumps(report, indent=2) + "\n")
            (out / "memtrack.md").write_text(table + "\n")
        except OSError as error:
            raise ConfigError(f"cannot write the report into {out}: {error}") from None
        written += [out / "memtrack.json", out / "memtrack.md"]
    if plot:
        written.append(memtrack.plot(report, (out or Path()) / "memtrack.png"))
    if as_json:
        emit_json(report)
        return
    typer.echo(table)
    for path in written:
        typer.echo(f"wrote {path}", err=True)


@memtrack_app.command("generate")
def memtrack_generate(
    ctx: typer.Context,
    out_dir: Annotated[Path, typer.Argument(help="Folder to write <id>.json instances into.")],
    n: Annotated[int, typer.Option("--n", min=1, help="How many instances.")] = 20,
    seed: Annotated[int, typer.Option(help="The same seed gives the same instances.")] = 0,
    events: Annotated[int, typer.Option(min=30, help="Events per timeline (about).")] = 120,
) -> None:
    """Write N seeded instances, answers derived from ground truth, into OUT_DIR."""
    from memos.cli.render import emit_json
    from memos.errors import ConfigError
    from memos.eval.memtrack import generator

    state = state_of(ctx)
    instances = generator.generate(n, seed, events=events)
    try:
        paths = generator.write(instances, out_dir)
    except OSError as error:
        raise ConfigError(f"cannot write instances into {out_dir}: {error}") from None
    summary = {
        "seed": seed,
        "instances": len(paths),
        "questions": sum(len(i.questions) for i in instances),
        "events": sum(len(i.events) for i in instances),
        "files": [str(p) for p in paths],
    }
    if state.json:
        emit_json(summary)
    else:
        typer.echo(
            f"wrote {summary['instances']} instances ({summary['events']} events, "
            f"{summary['questions']} questions) to {out_dir}"
        )
