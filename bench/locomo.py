"""LoCoMo evidence recall with ablation: memos' pipeline against plain BM25 and plain
vector search over the same turns, plus memos with single stages switched off.

    python bench/locomo.py [--data PATH] [--conversations N] [--record docs/BENCHMARKS.md]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from common import record  # bench/common.py

import memos
from memos.eval import locomo

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
    parser.add_argument("--record", type=Path)
    args = parser.parse_args()
    data = locomo.load(args.data)[: args.conversations]
    with (
        tempfile.TemporaryDirectory(prefix="memos-locomo-") as home,
        memos.open(home, user="eval") as mos,
    ):
        report = locomo.evaluate(mos, data, ablation=not args.no_ablation)
    table = locomo.markdown(report)
    print(table)
    if args.record:
        record(args.record, "LoCoMo evidence recall", table, section=SECTION, intro=INTRO)


if __name__ == "__main__":
    main()
