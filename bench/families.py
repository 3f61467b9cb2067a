"""Timeline families scored two ways, dev and held-out side by side.

A family is a folder of MEMTRACK instances (`<family>/<id>.json`) with state-truth files
(`<family>/truth/<id>.truth.json`, format in bench/heldout/TRUTH.md). For every set of
families (`--dev`, default bench/dev; `--heldout`, opt-in):

(a) MemReader extraction: each instance's events go through `cube.ingest` one by one
    (the offline reader), then the keyed states the cube holds are scored against the
    truth (`memos.eval.truth`): final-state accuracy, `as_of` accuracy on the probes, and
    precision (supported / (supported + invented); unmatched states are counted apart).
(b) MEMTRACK correctness of `memos` against `rag` with the extractive answerer
    (`memos.eval.memtrack.evaluate`), per category, and redundancy.

    python bench/families.py [--dev bench/dev] [--heldout bench/heldout]
                             [--embedder minilm|hash] [--misses] [--record docs/BENCHMARKS.md]

`--misses` lists what the reader and the answerer got wrong, for dev sets only: held-out
failures are never printed.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import record  # bench/common.py

import memos
from memos.eval import memtrack
from memos.eval.memtrack.memos_backend import reader_record
from memos.eval.truth import Score, load_truth, read_states, score
from memos.timeutil import ReplayClock

ROOT = Path(__file__).resolve().parent.parent
SECTION = "MEMTRACK (`bench/memtrack.py`)"
TITLE = "Timeline families, dev and held-out side by side (`bench/families.py`)"
ABOUT = """\
What it measures (issue #12): whether MemReader and the extractive answerer work on text
their authors did not write. `bench/dev/` holds dev families written beside the reader
(tuned on); `bench/heldout/` holds families written independently and frozen, run once.
Reader rows score the keyed states of each instance's cube (offline reader, events
ingested one by one) against its state-truth file (format in bench/heldout/TRUTH.md):
final-state accuracy, `as_of` accuracy on the probes, precision (supported / (supported
+ invented); states whose entity or attribute match no truth pair are only counted as
unmatched), exact match after the MEMTRACK normalisation. MEMTRACK rows are `memos` vs
`rag` correctness with the extractive answerer, k = 10, per category and per family.
"""


def families(root: Path) -> dict[str, list[Path]]:
    """family name -> its instance files (folders with a truth/ subfolder)."""
    found: dict[str, list[Path]] = {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        instances = sorted(folder.glob("*.json"))
        if instances and (folder / "truth").is_dir():
            found[folder.name] = instances
    return found


def _reader_scores(mos: memos.MemOS, paths: list[Path]) -> tuple[Score, Score]:
    """The scores with the names the reader stored (aliases) and without (strict)."""
    total, strict = Score(), Score()
    for path in paths:
        instance = memtrack.load_instance(path)
        truth = load_truth(path.parent / "truth" / f"{path.stem}.truth.json")
        cube = mos.create_cube(f"reader-{path.parent.name}-{path.stem}"[:100])
        for event in instance.events:
            cube.ingest([reader_record(event)])
        when = {e.id: e.timestamp for e in instance.events}
        states = read_states(cube)
        total.add(score(truth, states, when))
        strict.add(score(truth, states, when, aliases=False))
    return total, strict


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def run_set(root: Path, embedder: str) -> dict[str, Any]:
    """Reader scores and MEMTRACK reports for one folder of families."""
    sets = families(root)
    reader: dict[str, Score] = {}
    strict: dict[str, Score] = {}
    started = time.perf_counter()
    with (
        tempfile.TemporaryDirectory(prefix="memos-families-") as home,
        memos.open(home, embedder="hash", user="eval") as mos,
    ):
        for name, paths in sets.items():
            reader[name], strict[name] = _reader_scores(mos, paths)
    reader_seconds = time.perf_counter() - started
    instances = [memtrack.load_instance(p) for paths in sets.values() for p in paths]
    family_of = {memtrack.load_instance(p).id: name for name, paths in sets.items() for p in paths}
    started = time.perf_counter()
    with (
        tempfile.TemporaryDirectory(prefix="memos-families-") as home,
        memos.open(home, embedder=embedder, user="eval", clock=ReplayClock()) as mos,
    ):
        report = memtrack.evaluate(mos, instances, backends=["memos", "rag"])
    return {
        "root": root,
        "reader": reader,
        "strict": strict,
        "report": report,
        "family_of": family_of,
        "embedder": report["embedder"],
        "seconds": (reader_seconds, time.perf_counter() - started),
    }


def _correctness(entry: dict[str, Any], pick: Any) -> float | None:
    chosen = [q["correct"] for q in entry["questions"] if pick(q)]
    return sum(chosen) / len(chosen) if chosen else None


def summary(results: list[tuple[str, dict[str, Any]]]) -> str:
    """The headline numbers, one column per set (dev, held-out)."""
    rows: dict[str, list[str]] = {
        "MemReader final-state accuracy": [],
        "MemReader as_of accuracy (probes)": [],
        "MemReader precision": [],
        "same, stored subject and attribute only (no aliases)": [],
        "MEMTRACK correctness, memos": [],
        "MEMTRACK correctness, rag": [],
        "memos - rag": [],
        "redundancy, memos": [],
        "redundancy, rag": [],
    }
    for _, result in results:
        overall = Score()
        for found in result["reader"].values():
            overall.add(found)
        entries = {e["backend"]: e["overall"] for e in result["report"]["reports"]}
        memos_c, rag_c = entries["memos"]["correctness"], entries["rag"]["correctness"]
        rows["MemReader final-state accuracy"].append(_fmt(overall.final_accuracy))
        rows["MemReader as_of accuracy (probes)"].append(_fmt(overall.as_of_accuracy))
        rows["MemReader precision"].append(_fmt(overall.precision))
        plain = Score()
        for found in result["strict"].values():
            plain.add(found)
        rows["same, stored subject and attribute only (no aliases)"].append(
            f"{_fmt(plain.final_accuracy)} / {_fmt(plain.as_of_accuracy)} / {_fmt(plain.precision)}"
        )
        rows["MEMTRACK correctness, memos"].append(_fmt(memos_c))
        rows["MEMTRACK correctness, rag"].append(_fmt(rag_c))
        gap = None if memos_c is None or rag_c is None else memos_c - rag_c
        rows["memos - rag"].append(_fmt(gap))
        rows["redundancy, memos"].append(_fmt(entries["memos"]["redundancy"]))
        rows["redundancy, rag"].append(_fmt(entries["rag"]["redundancy"]))
    names = [n for n, _ in results]
    lines = ["| metric | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    lines += [f"| {name} | " + " | ".join(cells) + " |" for name, cells in rows.items()]
    return "\n".join(lines)


def tables(results: list[tuple[str, dict[str, Any]]]) -> str:
    """The summary, reader and MEMTRACK tables, one column group per set."""
    names = [n for n, _ in results]
    lines = [summary(results), ""]
    lines += ["**MemReader extraction** (per family; exact match after normalisation)", ""]
    lines.append("| set | family | pairs | final-state | probes | as_of | precision | unmatched |")
    lines.append("|---|---|---|---|---|---|---|---|")
    for name, result in results:
        overall = Score()
        for family, found in result["reader"].items():
            overall.add(found)
            lines.append(
                f"| {name} | {family} | {found.final_total} | {_fmt(found.final_accuracy)} | "
                f"{found.as_of_total} | {_fmt(found.as_of_accuracy)} | {_fmt(found.precision)} | "
                f"{found.unmatched} |"
            )
        lines.append(
            f"| {name} | **all** | {overall.final_total} | **{_fmt(overall.final_accuracy)}** | "
            f"{overall.as_of_total} | **{_fmt(overall.as_of_accuracy)}** | "
            f"**{_fmt(overall.precision)}** | {overall.unmatched} |"
        )
    lines += ["", "**MEMTRACK correctness, memos vs rag** (extractive answerer, k = 10)", ""]
    categories = sorted(
        {q["category"] for _, r in results for e in r["report"]["reports"] for q in e["questions"]}
    )
    header = "| row | " + " | ".join(f"{n}: memos | {n}: rag" for n in names) + " |"
    lines += [header, "|---|" + "---|---|" * len(names)]

    def row(label: str, pick: Any) -> str:
        cells = []
        for _, result in results:
            entries = {e["backend"]: e for e in result["report"]["reports"]}
            for backend in ("memos", "rag"):
                cells.append(_fmt(_correctness(entries[backend], pick)))
        return f"| {label} | " + " | ".join(cells) + " |"

    lines.append(row("**overall**", lambda q: True))
    for category in categories:
        lines.append(row(category, lambda q, c=category: q["category"] == c))
    every = sorted({f for _, r in results for f in r["reader"]})
    for family in every:
        lines.append(
            row(
                f"family {family}",
                lambda q, f=family, rs=results: any(
                    r["family_of"].get(q["instance"]) == f for _, r in rs
                ),
            )
        )
    cells = []
    for _, result in results:
        entries = {e["backend"]: e for e in result["report"]["reports"]}
        cells += [_fmt(entries[b]["overall"]["redundancy"]) for b in ("memos", "rag")]
    lines.append("| redundancy | " + " | ".join(cells) + " |")
    cells = []
    for _, result in results:
        entries = {e["backend"]: e for e in result["report"]["reports"]}
        cells += [_fmt(entries[b]["overall"]["evidence_recall"]) for b in ("memos", "rag")]
    lines.append("| evidence recall | " + " | ".join(cells) + " |")
    counts = ", ".join(
        f"{n}: {len(r['family_of'])} instances, "
        f"{r['report']['questions']} questions, embedder {r['embedder']}, "
        f"{r['seconds'][0]:.0f} s reader + {r['seconds'][1]:.0f} s MEMTRACK"
        for n, r in results
    )
    lines += ["", counts]
    return "\n".join(lines)


def misses(result: dict[str, Any]) -> str:
    """What went wrong on a dev set: reader misses and wrong memos answers."""
    lines = []
    for family, found in result["reader"].items():
        lines += [f"[reader {family}] {m}" for m in found.misses]
    for entry in result["report"]["reports"]:
        for q in entry["questions"]:
            if not q["correct"]:
                lines.append(
                    f"[{entry['backend']} {q['instance']} {q['id']} {q['category']}] "
                    f"{q['question']} -> {q['predicted']!r} (want {q['answers'][0]!r})"
                )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dev", type=Path, default=ROOT / "bench" / "dev")
    parser.add_argument("--heldout", type=Path, help="Held-out families (run once, at the end).")
    parser.add_argument("--embedder", default="minilm")
    parser.add_argument("--misses", action="store_true", help="List dev failures.")
    parser.add_argument("--json", type=Path, help="Also write the raw numbers here.")
    parser.add_argument("--record", type=Path)
    args = parser.parse_args()
    results = [("dev", run_set(args.dev, args.embedder))]
    if args.heldout:
        results.append(("held-out", run_set(args.heldout, args.embedder)))
    body = tables(results)
    print(body)
    if args.misses:
        print("\n" + misses(results[0][1]), file=sys.stderr)
    if args.json:
        summary = {
            name: {
                "reader": {
                    f: {
                        "final": s.final_accuracy,
                        "as_of": s.as_of_accuracy,
                        "precision": s.precision,
                        "unmatched": s.unmatched,
                    }
                    for f, s in r["reader"].items()
                },
                "memtrack": [
                    {k: v for k, v in e.items() if k != "questions"} for e in r["report"]["reports"]
                ],
            }
            for name, r in results
        }
        args.json.write_text(json.dumps(summary, indent=2, default=str))
    if args.record:
        record(args.record, TITLE, f"{ABOUT}\n{body}", section=SECTION)


if __name__ == "__main__":
    main()
