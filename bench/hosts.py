"""Many hosts on one PostgreSQL: write throughput of 1, 2 and 4 memos processes (each its
own home and vector index, as separate hosts would have), lost or duplicated items, and the
index lag: how long after a write commits another process's vector search finds it.

    python bench/hosts.py [--processes 1,2,4] [--seconds 20] [--pg-url URL]
        [--record docs/BENCHMARKS.md]

Each writer adds items with unique texts through the SDK for `--seconds` and reports every
acknowledged one with its commit time. An observer process (one more host) follows the
writers' reports and, for each new item, runs vector-only searches (`weights={"lexical": 0}`,
so SQL's own lexical index cannot answer) until the item is first; the time from its commit
to that moment is its lag. At the end every acknowledged item must be in SQL exactly once.
The hash embedder keeps embedding cost out of the numbers.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from common import record
from sqlalchemy import create_engine, text

import memos

CUBE = "shared"


def writer(url: str, home: str, tag: str, seconds: float, out: str) -> None:
    with memos.open(home, url=url, user="bench", embedder="hash") as mos:
        cube = mos.cube(CUBE)
        deadline = time.monotonic() + seconds
        number = 0
        with Path(out).open("w", encoding="utf-8") as report:
            while time.monotonic() < deadline:
                content = f"note {tag} {number} about the {tag}x{number} topic"
                item = cube.add(content)
                report.write(f"{item.id}\t{time.time():.6f}\t{content}\n")
                report.flush()
                number += 1


def observer(url: str, home: str, reports: list[str], seconds: float, out: str) -> None:
    lags: list[float] = []
    seen: set[int] = set()
    offsets = dict.fromkeys(reports, 0)
    with memos.open(home, url=url, user="bench", embedder="hash") as mos:
        cube = mos.cube(CUBE)
        deadline = time.monotonic() + seconds + 5
        while time.monotonic() < deadline:
            fresh: list[tuple[int, float, str]] = []
            for path in reports:
                try:
                    with Path(path).open(encoding="utf-8") as handle:
                        handle.seek(offsets[path])
                        lines = handle.readlines()
                        offsets[path] = handle.tell()
                except FileNotFoundError:
                    continue
                for line in lines:
                    if line.endswith("\n"):
                        item_id, at, content = line.rstrip("\n").split("\t")
                        fresh.append((int(item_id), float(at), content))
            for item_id, at, content in fresh[-5:]:  # sample the newest: the lag that matters
                if item_id in seen:
                    continue
                while time.monotonic() < deadline:
                    hits = cube.search(content, k=1, weights={"lexical": 0})
                    if hits and hits[0].item.id == item_id:
                        lags.append(time.time() - at)
                        seen.add(item_id)
                        break
                    time.sleep(0.005)
            time.sleep(0.02)
    Path(out).write_text("\n".join(f"{lag:.6f}" for lag in lags))


def run(url: str, processes: int, seconds: float, scratch: Path) -> dict[str, Any]:
    with memos.open(scratch / "setup", url=url, user="bench", embedder="hash") as mos:
        if CUBE in [c.name for c in mos.cubes()]:
            mos.drop_cube(CUBE)
        mos.create_cube(CUBE)
    reports = [str(scratch / f"writer-{processes}-{n}.tsv") for n in range(processes)]
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(
            target=writer, args=(url, str(scratch / f"host-{n}"), f"w{n}", seconds, reports[n])
        )
        for n in range(processes)
    ]
    lag_file = str(scratch / f"lags-{processes}.txt")
    watch = context.Process(
        target=observer, args=(url, str(scratch / "observer"), reports, seconds, lag_file)
    )
    watch.start()
    for process in workers:
        process.start()
    for process in [*workers, watch]:
        process.join()
    acknowledged: list[int] = []
    for path in reports:
        acknowledged += [int(line.split("\t")[0]) for line in Path(path).read_text().splitlines()]
    with memos.open(scratch / "setup", url=url, user="bench", embedder="hash") as mos:
        stored = [i.id for i in mos.cube(CUBE).items(limit=100_000)]
        report = mos.cube(CUBE).verify_index()
    lags = [float(v) for v in Path(lag_file).read_text().split()]
    return {
        "processes": processes,
        "writes_per_s": len(acknowledged) / seconds,
        "lost": len(set(acknowledged) - set(stored)),
        "duplicated": len(stored) - len(set(stored)),
        "extra": len(set(stored) - set(acknowledged)),
        "lag_p50_ms": 1000 * statistics.median(lags) if lags else float("nan"),
        "lag_p95_ms": 1000 * sorted(lags)[int(0.95 * (len(lags) - 1))] if lags else float("nan"),
        "lag_samples": len(lags),
        "index_ok": report.ok,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", default="1,2,4")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--record", type=Path)
    args = parser.parse_args()
    schema = f"memos_hosts_{uuid.uuid4().hex[:10]}"
    admin = create_engine(args.pg_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{args.pg_url}?options=-csearch_path%3D{schema}"
    rows = []
    try:
        with tempfile.TemporaryDirectory(prefix="memos-bench-hosts-") as scratch:
            for count in (int(p) for p in args.processes.split(",")):
                rows.append(run(url, count, args.seconds, Path(scratch)))
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    base = rows[0]["writes_per_s"]
    lines = [
        f"Writers add for {args.seconds:g} s each, one more process observes; PostgreSQL 15 on "
        "loopback; hash embedder.",
        "",
        "| writer processes | writes/s | vs one | lost | duplicated | index lag p50 / p95 (ms) "
        "| lag samples | observer's index vs SQL |",
        "|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['processes']} | {row['writes_per_s']:.0f} | "
            f"{row['writes_per_s'] / base:.2f}x | {row['lost']} | {row['duplicated']} | "
            f"{row['lag_p50_ms']:.0f} / {row['lag_p95_ms']:.0f} | {row['lag_samples']} | "
            f"{'agrees' if row['index_ok'] else 'DISAGREES'} |"
        )
    table = "\n".join(lines)
    print(table)
    if args.record:
        record(
            args.record,
            "Many hosts on one PostgreSQL",
            table,
            section="Scale-out (`bench/hosts.py`)",
        )


if __name__ == "__main__":
    main()
