"""LoCoMo evidence recall with ablation: memos' pipeline against plain BM25 and plain
vector search over the same turns, plus memos with single stages switched off.

    python bench/locomo.py [--data PATH] [--conversations N] [--record docs/BENCHMARKS.md]
    python bench/locomo.py --compare [--record docs/BENCHMARKS.md]
    python bench/locomo.py --sweep [--record docs/BENCHMARKS.md]

`--compare` sets what a user gets from the plain SDK (`cube.add` per turn with author and
time) beside `cube.add_conversation` as it was before issue #12 (the previous turn as
context, graph weight 0.3) and as it is now, with recall on the dev conversations 0-4 (all
tuning was done there) and the held-out conversations 5-9 side by side, and query latency
without the query embedding.

`--sweep` is how the default `SearchWeights` were chosen: a small grid scored on
conversations 0-4 (dev) and, separately, on 5-9 (held out), so the held-out column shows
what the choice is worth on questions it never saw.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from common import record  # bench/common.py

import memos
from memos.cube import MemCube
from memos.eval import locomo
from memos.retrieval.hybrid import SearchWeights

SECTION = "LoCoMo evidence recall (`bench/locomo.py`)"
INTRO = """\
What it measures: each of the 10 LoCoMo conversations goes into its own cube through
`cube.add_conversation`, one call per session (one memory per turn: author = speaker,
`valid_from` = session time, `source_ref` = the turn's `dia_id`, the image caption appended,
the turns around it as context, an importance from how much it states, `next` links between
consecutive turns). Every question of categories 1-4 with evidence (1,536) is asked once;
recall@k is the share of a question's evidence turns among the top k (malformed evidence ids
normalised). Baselines in the same run: plain BM25 (SQLite FTS5 with the porter stemmer over
the bare turn texts) and plain vector search (cosine over MiniLM embeddings of the turn
texts). The ablation rows switch single stages of memos' pipeline off. Latency is per query
and includes the query embedding (charged to every system that needs it). Embedder: all-
MiniLM-L6-v2. Target (issue #4): recall@10 >= 0.75.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=locomo.DEFAULT_DATA)
    parser.add_argument("--conversations", type=int, default=None)
    parser.add_argument("--no-ablation", action="store_true")
    parser.add_argument("--sweep", action="store_true", help="score a weight grid, dev vs held out")
    parser.add_argument(
        "--compare", action="store_true", help="plain SDK vs add_conversation, dev vs held out"
    )
    parser.add_argument("--record", type=Path)
    args = parser.parse_args()
    data = locomo.load(args.data)[: args.conversations]
    if args.compare:
        table = compare(data)
        print(table)
        if args.record:
            record(args.record, "Plain SDK vs add_conversation: dev 0-4, held out 5-9", table,
                   section=SECTION, intro=INTRO)  # fmt: skip
        return
    if args.sweep:
        table = sweep(data)
        print(table)
        if args.record:
            record(args.record, "Weight selection: dev 0-4, held out 5-9", table, section=SECTION,
                   intro=INTRO)  # fmt: skip
        return
    with (
        tempfile.TemporaryDirectory(prefix="memos-locomo-") as home,
        memos.open(home, user="eval") as mos,
    ):
        report = locomo.evaluate(mos, data, ablation=not args.no_ablation)
    table = locomo.markdown(report)
    print(table)
    if args.record:
        record(args.record, "LoCoMo evidence recall", table, section=SECTION, intro=INTRO)


GRID = {"vector": (0.5, 0.75, 1.0), "graph": (0.15, 0.3, 0.45), "author": (0.7, 1.0)}


def sweep(data: list[locomo.Conversation]) -> str:
    """Recall@5/@10 of every grid point on the dev and the held-out conversations."""
    half = len(data) // 2
    default = SearchWeights()
    lines = [
        f"Dev: conversations 0-{half - 1}; held out: {half}-{len(data) - 1}. "
        "Other weights at their defaults; * marks the defaults.",
        "",
        "| vector | graph | author | dev R@5 | dev R@10 | held-out R@5 | held-out R@10 |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    with (
        tempfile.TemporaryDirectory(prefix="memos-locomo-") as home,
        memos.open(home, user="eval") as mos,
    ):
        cubes = [locomo.ingest(mos, c, f"locomo-{n}") for n, c in enumerate(data)]
        asked = [(n, cubes[n], q) for n, c in enumerate(data) for q in c.questions if q.evidence]
        splits = (
            [(c, q) for n, c, q in asked if n < half],
            [(c, q) for n, c, q in asked if n >= half],
        )
        for point in itertools.product(*GRID.values()):
            weights = {**dict(zip(GRID, point, strict=True)), "access": 0.0}
            cells = []
            for questions in splits:
                result = locomo.SystemResult("sweep")
                for cube, question in questions:
                    hits = cube.search(question.text, k=10, weights=weights)
                    result.record(question, [h.item.source_ref or "" for h in hits], (5, 10))
                cells += [
                    f"{statistics.fmean(v for _, v in result.recalls[k]):.3f}" for k in (5, 10)
                ]
            mark = (
                "*"
                if all(getattr(default, n) == v for n, v in zip(GRID, point, strict=True))
                else ""
            )
            lines.append(
                f"| {point[0]}{mark} | {point[1]} | {point[2]} | " + " | ".join(cells) + " |"
            )
    return "\n".join(lines)


Ingest = Callable[[memos.MemOS, locomo.Conversation, str], MemCube]


def ingest_before_issue_12(
    mos: memos.MemOS, conversation: locomo.Conversation, name: str
) -> MemCube:
    """What `add_conversation` stored before issue #12: the previous turn of the session as
    context, `next` links, default importance (searched with graph weight 0.3)."""
    cube = mos.create_cube(name)
    for session, turns in itertools.groupby(conversation.turns, key=lambda t: t.session):
        held = list(turns)
        items = cube.add_many(
            {"content": t.text, "type": "message", "author": t.speaker, "source": "locomo",
             "source_ref": t.dia_id, "valid_from": t.when,
             "context": f"{p.speaker}: {p.text}"[:1000] if p else None,
             "attributes": {"session": f"session_{session}"}}
            for p, t in zip([None, *held], held, strict=False)
        )  # fmt: skip
        cube.link_many(
            {"src": a.id, "dst": b.id, "kind": "next"} for a, b in itertools.pairwise(items)
        )
    return cube


SYSTEMS: dict[str, tuple[Ingest, dict[str, float]]] = {
    "plain SDK: cube.add per turn": (locomo.ingest_plain, {}),
    "add_conversation before #12": (ingest_before_issue_12, {"graph": 0.3}),
    "add_conversation now (memos eval locomo)": (locomo.ingest, {}),
}


def compare(data: list[locomo.Conversation]) -> str:
    """Recall@5/@10 per system on dev, held out and all, per category, and latency."""
    half = len(data) // 2
    splits = {"dev": range(half), "held-out": range(half, len(data)), "all": range(len(data))}
    rows: list[dict[str, Any]] = []
    embed_ms: list[float] = []
    with (
        tempfile.TemporaryDirectory(prefix="memos-locomo-") as home,
        memos.open(home, user="eval") as mos,
    ):
        for number, (system, (ingest, weights)) in enumerate(SYSTEMS.items()):
            results = {name: locomo.SystemResult(name) for name in splits}
            started = time.perf_counter()
            cubes = [ingest(mos, c, f"system-{number}-{n}") for n, c in enumerate(data)]
            ingest_s = time.perf_counter() - started
            for n, conversation in enumerate(data):
                for question in conversation.questions:
                    if not question.evidence:
                        continue
                    # The query embedding is cached first, so the time is memos' own.
                    started = time.perf_counter()
                    mos.embedder.embed_queries([question.text])
                    if number == 0:
                        embed_ms.append(1000 * (time.perf_counter() - started))
                    started = time.perf_counter()
                    hits = cubes[n].search(question.text, k=10, weights={**weights, "access": 0})
                    spent = 1000 * (time.perf_counter() - started)
                    ranked = [h.item.source_ref or "" for h in hits]
                    for name, members in splits.items():
                        if n in members:
                            results[name].record(question, ranked, (5, 10))
                            results[name].latencies_ms.append(spent)
            rows.append(
                {"system": system, "ingest_s": ingest_s,
                 **{name: r.summary() for name, r in results.items()}}
            )  # fmt: skip
    return _comparison_table(rows, half, len(data), embed_ms)


def _comparison_table(
    rows: Sequence[Mapping[str, Any]], half: int, total: int, embed_ms: Sequence[float]
) -> str:
    names = list(locomo.CATEGORIES.values())
    lines = [
        f"Dev: conversations 0-{half - 1}; held out: {half}-{total - 1} (never tuned on). "
        "Latency: `cube.search` with the query embedding already cached.",
        "",
        "| system | dev R@5 | dev R@10 | held-out R@5 | held-out R@10 | all R@5 | all R@10 | "
        + " | ".join(f"{n} R@10 dev / held-out" for n in names)
        + " | p50 ms | p95 ms | ingest s |",
        "|---|" + "---:|" * (6 + len(names) + 3),
    ]  # fmt: skip
    for row in rows:
        cells = [
            f"{row[split]['recall'][f'@{k}']:.3f}"
            for split in ("dev", "held-out", "all")
            for k in (5, 10)
        ]
        cells += [
            " / ".join(
                f"{row[split]['by_category'][n]['@10']:.3f}"
                if n in row[split]["by_category"]
                else "-"
                for split in ("dev", "held-out")
            )
            for n in names
        ]
        latency = row["all"]["latency_ms"]
        cells += [f"{latency['p50']:.1f}", f"{latency['p95']:.1f}", f"{row['ingest_s']:.0f}"]
        lines.append(f"| {row['system']} | " + " | ".join(cells) + " |")
    ordered = sorted(embed_ms)
    lines += [
        "",
        f"Query embedding (MiniLM, first time): p50 {statistics.median(ordered):.1f} ms, "
        f"p95 {ordered[round(0.95 * (len(ordered) - 1))]:.1f} ms.",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
