"""MEMTRACK-style comparison of the four backends (memos, rag, full-context, none) with
the offline extractive answerer, on seeded generated instances and on the hand-written
ones in examples/memtrack/.

    python bench/memtrack.py [--n 20] [--seed 0] [--embedder minilm] [--out DIR]
                             [--record docs/BENCHMARKS.md]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from common import record  # bench/common.py

import memos
from memos.eval import memtrack
from memos.timeutil import ReplayClock

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "memtrack"
SECTION = "MEMTRACK (`bench/memtrack.py`)"
INTRO = """\
What it measures: the harness of `memos eval memtrack` (definitions in docs/MEMTRACK.md).
Each backend replays every instance's timeline and answers its questions in order, with
the offline extractive answerer (no LLM), k = 10. Correctness is normalised exact match;
evidence recall is the share of a question's evidence events among the provenance of what
was retrieved; redundancy is the share of retrieved items that repeat an item retrieved
earlier in the same retrieval or instance. `full-context` hands over the whole replayed
timeline (a 32k-token budget), an upper bound on recall at a much higher reading cost.
"""


def _run(instances: list[memtrack.Instance], embedder: str) -> tuple[dict[str, object], float]:
    started = time.perf_counter()
    with (
        tempfile.TemporaryDirectory(prefix="memos-memtrack-") as home,
        memos.open(home, embedder=embedder, user="eval", clock=ReplayClock()) as mos,
    ):
        runs = memtrack.run(
            memtrack.default_backends(mos), instances, memtrack.ExtractiveAnswerer()
        )
        report = memtrack.build_report(
            runs,
            instances=len(instances),
            answerer="extractive",
            judge=None,
            settings=memtrack.RunSettings(),
            embedder=mos.embedder.spec.model,
        )
    return report, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--embedder", default="minilm")
    parser.add_argument("--out", type=Path, help="Also write the JSON reports here.")
    parser.add_argument("--record", type=Path)
    args = parser.parse_args()
    suites = {
        f"generated (--n {args.n} --seed {args.seed})": memtrack.generate(args.n, args.seed),
        "examples/memtrack": memtrack.load_paths([EXAMPLES]),
    }
    parts = []
    for name, instances in suites.items():
        report, seconds = _run(instances, args.embedder)
        table = memtrack.markdown(report)
        parts.append(f"**{name}**, embedder {report['embedder']} ({seconds:.0f} s):\n\n{table}")
        print(parts[-1] + "\n")
        if args.out:
            args.out.mkdir(parents=True, exist_ok=True)
            slug = "generated" if name.startswith("generated") else "examples"
            (args.out / f"memtrack-{slug}.json").write_text(json.dumps(report, indent=2))
    if args.record:
        record(
            args.record,
            "MEMTRACK: four backends, extractive answerer",
            "\n\n".join(parts),
            section=SECTION,
            intro=INTRO,
        )


if __name__ == "__main__":
    main()
