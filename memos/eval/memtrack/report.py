"""Reports: JSON (per backend: overall, by category, per question), Markdown tables, and a
PNG comparing backends.

Aggregates: correctness, token F1 and evidence recall are means over questions (the
judge over judged questions, evidence recall over questions with evidence); efficiency
numbers are means per question, plus ingest time per replayed event; redundancy is
pooled: redundant retrieved items / all retrieved items (None when nothing was
retrieved); `redundancy_within` counts only duplicates inside one retrieval.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from memos.errors import ConfigError
from memos.eval.memtrack.runner import BackendRun, QuestionResult, RunSettings

CATEGORY_ORDER = ("state", "conflict", "history", "cross-reference")


def _mean(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.fmean(present) if present else None


def summarise(results: Sequence[QuestionResult]) -> dict[str, Any]:
    """The scores of a set of questions (see the module doc)."""
    retrieved = sum(r.retrieved_items for r in results)
    return {
        "questions": len(results),
        "correctness": _mean([r.correct for r in results]),
        "token_f1": _mean([r.token_f1 for r in results]),
        "judge": _mean([r.judge for r in results]),
        "evidence_recall": _mean([r.evidence_recall for r in results]),
        "efficiency": {
            "memory_calls": _mean([r.memory_calls for r in results]),
            "retrieved_items": _mean([r.retrieved_items for r in results]),
            "retrieved_tokens": _mean([r.retrieved_tokens for r in results]),
            "seconds": _mean([r.seconds for r in results]),
            "llm_calls": _mean([r.llm_calls for r in results]),
            "llm_tokens": _mean([r.llm_tokens for r in results]),
        },
        "redundancy": sum(r.redundant_items for r in results) / retrieved if retrieved else None,
        "redundancy_within": (
            sum(r.duplicate_items for r in results) / retrieved if retrieved else None
        ),
    }


def _categories(results: Sequence[QuestionResult]) -> list[str]:
    present = {r.category for r in results}
    return [c for c in CATEGORY_ORDER if c in present] + sorted(present - set(CATEGORY_ORDER))


def backend_report(outcome: BackendRun) -> dict[str, Any]:
    """`{"backend", "overall", "by_category", "questions"}` for one backend."""
    overall = summarise(outcome.results)
    overall["efficiency"]["ingest_seconds_per_event"] = (
        outcome.ingest_seconds / outcome.events if outcome.events else None
    )
    return {
        "backend": outcome.backend,
        "overall": overall,
        "by_category": {
            c: summarise([r for r in outcome.results if r.category == c])
            for c in _categories(outcome.results)
        },
        "questions": [r.to_dict() for r in outcome.results],
    }


def build(
    runs: Sequence[BackendRun],
    *,
    instances: int,
    answerer: str,
    judge: str | None,
    settings: RunSettings,
    embedder: str | None = None,
) -> dict[str, Any]:
    """The whole run's JSON report: settings, then one backend report per backend."""
    return {
        "instances": instances,
        "questions": len(runs[0].results) if runs else 0,
        "answerer": answerer,
        "judge": judge,
        "embedder": embedder,
        "k": settings.k,
        "duplicate_threshold": settings.duplicate_threshold,
        "reports": [backend_report(r) for r in runs],
    }


def _cell(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def markdown(report: dict[str, Any]) -> str:
    """The overall table, then correctness by category."""
    lines = [
        f"{report['questions']} questions over {report['instances']} instances; answerer "
        f"{report['answerer']}, judge {report['judge'] or 'none'}, k = {report['k']}.",
        "",
        "| backend | correctness | token F1 | judge | evidence recall | redundancy | "
        "within one retrieval | memory calls / q | items / q | tokens / q | ms / q | "
        "ingest ms / event |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for entry in report["reports"]:
        o, e = entry["overall"], entry["overall"]["efficiency"]
        ingest = e.get("ingest_seconds_per_event")
        lines.append(
            f"| {entry['backend']} | {_cell(o['correctness'])} | {_cell(o['token_f1'])} | "
            f"{_cell(o['judge'])} | {_cell(o['evidence_recall'])} | {_cell(o['redundancy'])} | "
            f"{_cell(o['redundancy_within'])} | "
            f"{_cell(e['memory_calls'], 1)} | {_cell(e['retrieved_items'], 1)} | "
            f"{_cell(e['retrieved_tokens'], 0)} | {_cell(1000 * e['seconds'], 1)} | "
            f"{_cell(None if ingest is None else 1000 * ingest, 2)} |"
        )
    categories: list[str] = []
    for entry in report["reports"]:
        categories += [c for c in entry["by_category"] if c not in categories]
    if categories:
        counts = {c: report["reports"][0]["by_category"].get(c, {}).get("questions", 0)
                  for c in categories}  # fmt: skip
        lines += [
            "",
            "Correctness (redundancy) by category:",
            "",
            "| backend | " + " | ".join(f"{c} ({counts[c]})" for c in categories) + " |",
            "|---|" + "---:|" * len(categories),
        ]
        for entry in report["reports"]:
            cells = []
            for c in categories:
                part = entry["by_category"].get(c)
                cells.append(
                    "-" if part is None
                    else f"{_cell(part['correctness'])} ({_cell(part['redundancy'], 2)})"
                )  # fmt: skip
            lines.append(f"| {entry['backend']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _pyplot() -> Any:
    """matplotlib's pyplot, drawing to files only.

    Raises:
        ConfigError: matplotlib is not installed.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only: no display is needed or wanted
        import matplotlib.pyplot as plt
    except ImportError:
        raise ConfigError(
            "--plot needs matplotlib: pip install 'memos-kernel[plot]' (or matplotlib)"
        ) from None
    return plt


def check_plotting() -> None:
    """Fail early, before a long run, when `plot` could not draw.

    Raises:
        ConfigError: matplotlib is not installed.
    """
    _pyplot()


def plot(report: dict[str, Any], path: Path) -> Path:
    """A PNG: correctness by category, and overall correctness, evidence recall and
    redundancy, one bar per backend.

    Raises:
        ConfigError: matplotlib is not installed.
    """
    plt = _pyplot()
    entries = report["reports"]
    categories: list[str] = []
    for entry in entries:
        categories += [c for c in entry["by_category"] if c not in categories]

    def by_category(entry: dict[str, Any], category: str) -> float | None:
        value: float | None = entry["by_category"].get(category, {}).get("correctness")
        return value

    def overall(entry: dict[str, Any], name: str) -> float | None:
        value: float | None = entry["overall"][name]
        return value

    panels: list[tuple[str, list[str], Callable[[dict[str, Any], str], float | None]]] = [
        ("correctness by category", categories, by_category),
        ("overall", ["correctness", "evidence_recall", "redundancy"], overall),
    ]
    figure, axes = plt.subplots(1, 2, figsize=(12, 4.5), constrained_layout=True)
    width = 0.8 / max(len(entries), 1)
    for axis, (title, groups, value) in zip(axes, panels, strict=True):
        for number, entry in enumerate(entries):
            heights = [value(entry, g) or 0.0 for g in groups]
            offsets = [i + (number - (len(entries) - 1) / 2) * width for i in range(len(groups))]
            axis.bar(offsets, heights, width, label=entry["backend"])
        axis.set_xticks(range(len(groups)), [g.replace("_", " ") for g in groups])
        axis.set_ylim(0, 1)
        axis.set_title(title)
    axes[0].legend(loc="upper right", fontsize="small")
    figure.suptitle(
        f"MEMTRACK-style eval: {report['questions']} questions, {report['instances']} "
        f"instances, answerer {report['answerer']}"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
