"""CLI start-up benchmark: wall time of commands that need no embedding model (get,
history, cube list, stats, export, keys list) and of one that does (add), each a
fresh process, against the bare interpreter in the same run.

    python bench/cli.py [--runs 10] [--record docs/BENCHMARKS.md]

Target (issue #16): non-embedding commands start and finish in 0.5 s or less.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import record

COMMANDS: list[tuple[str, list[str]]] = [
    ("get 1", ["get", "1"]),
    ("history 1", ["history", "1"]),
    ("cube list", ["cube", "list"]),
    ("stats -c work", ["stats", "-c", "work"]),
    ("export -c work", ["export", "{tmp}/work.jsonl", "-c", "work"]),
    ("keys list", ["keys", "list"]),
]


def timed(args: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed: {done.stderr.strip()}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--record", type=Path)
    args = parser.parse_args()
    memos_cli = [sys.executable, "-m", "memos.cli.app"]
    with tempfile.TemporaryDirectory(prefix="memos-bench-cli-") as tmp:
        env = {**os.environ, "MEMOS_HOME": f"{tmp}/home", "MEMOS_USER": "bench",
               "MEMOS_NO_SERVER": "1"}  # fmt: skip
        timed([*memos_cli, "cube", "create", "work"], env)
        timed([*memos_cli, "add", "the launch is on March 3", "-c", "work"], env)
        rows = [("python -c pass (baseline)", [sys.executable, "-c", "pass"])]
        rows += [
            (name, [*memos_cli, *(a.format(tmp=tmp) for a in argv)]) for name, argv in COMMANDS
        ]
        rows.append(("add (loads the embedder)", [*memos_cli, "add", "another fact", "-c", "work"]))
        results = []
        for name, command in rows:
            runs = [timed(command, env) for _ in range(args.runs if "add" not in name else 3)]
            results.append((name, statistics.median(runs), max(runs)))
    lines = [
        "| command | p50 (s) | max (s) | within 0.5 s |",
        "|---|---:|---:|---|",
    ]
    for name, median, worst in results:
        verdict = "" if name.startswith(("python", "add")) else ("yes" if median <= 0.5 else "no")
        lines.append(f"| `{name}` | {median:.3f} | {worst:.3f} | {verdict} |")
    table = "\n".join(lines)
    print(table)
    if args.record:
        record(args.record, "CLI start-up", table, section="CLI (`bench/cli.py`)")


if __name__ == "__main__":
    main()
