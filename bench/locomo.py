"""LoCoMo evidence recall with ablation: memos' pipeline against plain BM25 and plain
vector search over the same turns, plus memos with single stages switched off.

    python bench/locomo.py [--data PATH] [--conversations N] [--record docs/BENCHMARKS.md]
    python bench/locomo.py --sweep [--record docs/BENCHMARKS.md]

`--sweep` is how the default `SearchWeights` were chosen: a small grid scored on
conversations 0-4 (dev) and, separately, on 5-9 (held out), so the held-out column shows
what the choice is worth on questions it never saw.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import tempfile
from pathlib import Path

from common import record  # bench/common.py

import memos
from memos.eval import locomo
from memos.retrieval.hybrid import SearchWeights

SECTION = "LoCoMo evidence recall (`bench/locomo.py`)"
INTRO = """\
What it measures: each of the 10 LoCoMo conversations goes into its own cube, one memory per
turn (author = speaker, `valid_from` = session time, `source_ref` = the turn's `dia_id`, the
image caption appended, the previous turn of the session as context, `next` links between
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
    parser.add_argument("--record", type=Path)
    args = parser.parse_args()
    data = locomo.load(args.data)[: args.conversations]
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


GRID = {"vector": (0.5, 0.75, 1.0), "graph": (0.15, 0.3), "author": (0.4, 0.7)}


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


if __name__ == "__main__":
    main()
