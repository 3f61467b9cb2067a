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
        record(args.record, "LoCoMo evidence recall", table)


if __name__ == "__main__":
    main()
