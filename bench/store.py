"""Store benchmark: add and search throughput and latency at several cube sizes, with
embedding time measured apart from storage time.

Storage is timed with a `TableEmbedder` that looks vectors up in a precomputed table (so
its cost is ~0) at MiniLM's width of 384; the MiniLM model is timed on its own over the
same kind of text. The ratio storage / embedding is the number that matters: memos'
bookkeeping (SQL row, version, log entry, vector, index) should be small next to
embedding.

    python bench/store.py --sizes 10000,100000 [--backends sqlite,postgresql]
                          [--pg-url postgresql://postgres@127.0.0.1:5432/test]
                          [--record docs/BENCHMARKS.md]

With several backends every size runs on each in the same process, on the same data, and
the table gives PostgreSQL's search latency as a ratio to SQLite's (the machines are
shared and noisy; ratios from one run are what to compare). PostgreSQL runs in a fresh
schema of the given database, dropped afterwards.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
from common import record  # bench/common.py: scripts run as `python bench/store.py`

import memos
from memos.models import EmbedderSpec
from memos.progress import progress
from memos.retrieval.embedders import BaseEmbedder, make_embedder

SUBJECTS = ["Alice", "Bob", "Carol", "Dan", "Erin", "Frank", "Grace", "Heidi", "Ivan", "Judy"]
VERBS = ["moved to", "is allergic to", "prefers", "scheduled", "reviewed", "owns", "visited",
         "booked", "fixed", "renamed"]  # fmt: skip
OBJECTS = ["Lisbon", "peanuts", "green tea", "the launch for March 3", "PR #88",
           "a golden retriever", "Kyoto", "the offsite venue", "the flaky login test",
           "ticket REL-12 to Payments"]  # fmt: skip


def sentences(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return [
        f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)} "
        f"(note {i}, week {rng.randint(1, 52)})"
        for i in range(n)
    ]


class TableEmbedder(BaseEmbedder):
    """Returns precomputed random unit vectors by text: storage cost without model cost."""

    def __init__(self, texts: Sequence[str], dim: int = 384, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        matrix = rng.standard_normal((len(texts), dim)).astype(np.float32)
        matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
        self._rows = dict(zip(texts, matrix, strict=True))
        self._spec = EmbedderSpec(model="bench/table", dim=dim, metric="ip")

    @property
    def spec(self) -> EmbedderSpec:
        return self._spec

    def _encode(self, texts: Sequence[str], *, query: bool) -> np.ndarray:
        return np.vstack([self._rows[t] for t in texts])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def timed(call: object) -> float:
    started = time.perf_counter()
    call()  # type: ignore[operator]
    return time.perf_counter() - started


def bench_embedding(samples: int) -> dict[str, float]:
    """MiniLM cost per sentence: batched, and one sentence at a time (as `add` does)."""
    model = make_embedder("minilm")
    texts = sentences(samples, seed=1)
    model.embed_documents(texts[:8])  # load the model outside the timing
    batch_s = timed(lambda: model.embed_documents(texts))
    singles = [timed(lambda t=t: model.embed_documents([t])) for t in texts[:200]]
    return {
        "batched_ms_per_item": 1000 * batch_s / samples,
        "single_p50_ms": 1000 * statistics.median(singles),
        "query_p50_ms": 1000
        * statistics.median(timed(lambda t=t: model.embed_queries([t])) for t in texts[:200]),
    }


@contextlib.contextmanager
def database(backend: str, pg_url: str) -> Iterator[str | None]:
    """None for SQLite under the home; a fresh PostgreSQL schema's URL, dropped after."""
    if backend == "sqlite":
        yield None
        return
    from sqlalchemy import create_engine, text

    schema = f"memos_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(pg_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{pg_url}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def bench_size(
    size: int, singles: int, queries: int, batch: int, url: str | None
) -> dict[str, float]:
    texts = sentences(size + singles + queries, seed=2)
    embedder = TableEmbedder(texts)
    home = Path(tempfile.mkdtemp(prefix=f"memos-bench-{size}-"))
    result: dict[str, float] = {"size": size}
    with memos.open(home, url=url, embedder=embedder, user="bench") as mos:
        cube = mos.create_cube("bench")
        load = texts[:size]
        started = time.perf_counter()
        chunks = range(0, size, batch)
        for start in progress(chunks, desc=f"loading {size}", total=len(chunks)):
            cube.add_many(load[start : start + batch])
        result["bulk_items_per_s"] = size / (time.perf_counter() - started)
        single_texts = texts[size : size + singles]
        adds = [timed(lambda t=t: cube.add(t)) for t in single_texts]
        result["add_p50_ms"] = 1000 * statistics.median(adds)
        result["add_p95_ms"] = 1000 * percentile(adds, 0.95)
        probes = texts[size + singles :]
        searches = [timed(lambda q=q: cube.search(q, k=10)) for q in probes]
        result["search_p50_ms"] = 1000 * statistics.median(searches)
        result["search_p95_ms"] = 1000 * percentile(searches, 0.95)
        result["searches_per_s"] = len(probes) / sum(searches)
        searches = [timed(lambda q=q: cube.search(q, k=10, weights={"lexical": 0})) for q in probes]
        result["vector_only_p50_ms"] = 1000 * statistics.median(searches)
        mos.flush()
        db = home / "memos.db"
        if url is None:
            result["db_bytes_per_item"] = db.stat().st_size / (size + singles)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--singles", type=int, default=300, help="single adds timed per size")
    parser.add_argument("--queries", type=int, default=200, help="searches timed per size")
    parser.add_argument("--batch", type=int, default=1000, help="add_many batch for loading")
    parser.add_argument("--embed-samples", type=int, default=2000)
    parser.add_argument("--backends", default="sqlite", help="sqlite, postgresql or both")
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--record", type=Path, help="append the table to this Markdown file")
    args = parser.parse_args()

    embedding = bench_embedding(args.embed_samples)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        for backend in backends:
            with database(backend, args.pg_url) as url:
                row = bench_size(size, args.singles, args.queries, args.batch, url)
            row["backend"] = backend  # type: ignore[assignment]
            rows.append(row)
    lines = [
        f"MiniLM embedding (the baseline): {embedding['batched_ms_per_item']:.2f} ms/item "
        f"batched, {embedding['single_p50_ms']:.2f} ms single document, "
        f"{embedding['query_p50_ms']:.2f} ms single query (p50)",
        "",
        "| items | database | bulk add (items/s) | add p50 / p95 (ms) | add storage / embed | "
        "search p50 / p95 (ms) | vector-only search p50 (ms) | search vs SQLite (p50) | "
        "search storage / query embed | DB bytes/item |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    sqlite_p50 = {r["size"]: r["search_p50_ms"] for r in rows if r["backend"] == "sqlite"}
    for row in rows:
        baseline = sqlite_p50.get(row["size"])
        ratio = f"{row['search_p50_ms'] / baseline:.2f}x" if baseline else "-"
        db_bytes = row.get("db_bytes_per_item")
        db_text = f"{db_bytes:,.0f}" if db_bytes else "-"
        lines.append(
            f"| {row['size']:,.0f} | {row['backend']} | {row['bulk_items_per_s']:,.0f} | "
            f"{row['add_p50_ms']:.2f} / {row['add_p95_ms']:.2f} | "
            f"{row['add_p50_ms'] / embedding['single_p50_ms']:.2f}x | "
            f"{row['search_p50_ms']:.2f} / {row['search_p95_ms']:.2f} | "
            f"{row['vector_only_p50_ms']:.2f} | {ratio} | "
            f"{row['search_p50_ms'] / embedding['query_p50_ms']:.2f}x | {db_text} |"
        )
    table = "\n".join(lines)
    print(table)
    if args.record:
        record(args.record, "Store: add and search", table, section="Store (`bench/store.py`)")


if __name__ == "__main__":
    main()
