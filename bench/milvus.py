"""Milvus vector store benchmark: Milvus Lite (pymilvus + milvus-lite, through memos'
MilvusIndex) against memos' SpannIndex, with exact search (faiss IndexFlatIP) as the ground
truth, on the same clustered vectors.

    python bench/milvus.py [--size 100000] [--cubes 10] [--record docs/BENCHMARKS.md]

Data: the clustered 384-d generator of bench/ann.py (seed 1 for the base, 3 for the
queries). Two layouts of the same vectors: one cube holding all of them, and `--cubes`
cubes with each vector in a random cube and each query asked of one cube. memos keeps
one SpannIndex (or exact index) per cube, so a cube's search touches only its vectors;
MilvusIndex keeps every cube in one collection (partition key `cube_id`) and filters each
search by cube, so the second layout measures filtered search.

Per index: build time (Milvus: upserts of 1,000 vectors, as memos' log replay would send
them, until all are searchable); recall@10 against exact search in the query's cube;
warm single-query latency (wall clock, one query per call); resident memory as anonymous
RSS (RssAnon) that opening the index and answering the queries adds in a fresh child
process. Milvus Lite runs embedded in that process (its gRPC server on a thread); the
"served" rows reopen the same data with `milvus-lite server` as a separate process on a
loopback port, and report that server's RSS growth. A sweep of HNSW's search width `ef`
shows what filtered recall@10 >= 0.95 needs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np
from ann import DIM, Clustered, disk_bytes, mib, percentiles, recall, rss_anon
from common import record  # bench/common.py: scripts run as `python bench/milvus.py`

from memos.progress import status
from memos.retrieval.milvus import HnswParams, MilvusConnection, MilvusIndex
from memos.retrieval.spann import SpannIndex

SECTION = "Milvus vector store (`bench/milvus.py`)"
INTRO = (
    "Milvus Lite through memos' MilvusIndex (issue #17) against memos' SpannIndex, with "
    "faiss IndexFlatIP as ground truth, on the same clustered vectors; one cube, and many "
    "cubes in one Milvus collection searched with a cube filter. See the docstring of "
    "bench/milvus.py for what each column measures."
)
BATCH = 1000
EF_SWEEP = (32, 64, 128, 256, 512)


@dataclass
class Layout:
    """The same vectors split into cubes; each query is asked of one cube."""

    name: str
    base: np.ndarray
    owner: np.ndarray
    queries: np.ndarray
    query_cube: np.ndarray
    truth: np.ndarray
    work: Path

    @property
    def cubes(self) -> int:
        return int(self.owner.max()) + 1

    def members(self, cube: int) -> np.ndarray:
        return np.flatnonzero(self.owner == cube).astype(np.int64)


@dataclass
class Row:
    name: str
    settings: str
    build_s: float | None = None
    recall10: float = 0.0
    latency: tuple[float, float] = (0.0, 0.0)
    rss: int = 0
    disk: int | None = None
    note: str = ""


def make_layout(name: str, base: np.ndarray, queries: np.ndarray, cubes: int, work: Path) -> Layout:
    owner = np.random.default_rng(4).integers(0, cubes, len(base)).astype(np.int64)
    query_cube = np.arange(len(queries)) % cubes
    truth = np.full((len(queries), 10), -1, dtype=np.int64)
    for cube in range(cubes):
        members = np.flatnonzero(owner == cube)
        asked = np.flatnonzero(query_cube == cube)
        exact = faiss.IndexFlatIP(DIM)
        exact.add(base[members])
        truth[asked] = members[exact.search(queries[asked], 10)[1]]
    work.mkdir(parents=True, exist_ok=True)
    np.savez(work / "queries.npz", queries=queries, query_cube=query_cube)
    return Layout(name, base, owner, queries, query_cube, truth, work)


def single_queries(search: Callable[[int, np.ndarray], np.ndarray], layout: Layout) -> Row:
    """Recall@10 and warm per-query latency; one query per call, as memos asks."""
    found = np.empty_like(layout.truth)
    took = []
    faiss.omp_set_num_threads(1)
    try:
        for cube, query in zip(layout.query_cube[:20], layout.queries[:20], strict=True):
            search(int(cube), query[None, :])  # warm up: first reads load indexes
        for row, (cube, query) in enumerate(zip(layout.query_cube, layout.queries, strict=True)):
            started = time.perf_counter()
            found[row] = search(int(cube), query[None, :])[0][:10]
            took.append(time.perf_counter() - started)
    finally:
        faiss.omp_set_num_threads(os.cpu_count() or 1)
    return Row("", "", recall10=recall(found, layout.truth, 10), latency=percentiles(took))


def resident(kind: str, layout: Layout) -> int:
    """RssAnon that opening the indexes and answering the queries adds, in a fresh child."""
    done = subprocess.run(
        [sys.executable, __file__, "--rss-child", kind, str(layout.work)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return int(done.stdout.split()[-1])


def rss_child(kind: str, work: str) -> None:
    saved = np.load(Path(work) / "queries.npz")
    queries, query_cube = saved["queries"], saved["query_cube"]
    cubes = int(query_cube.max()) + 1
    if kind == "milvus":
        import milvus_lite  # noqa: F401  (imports are not the index's memory)
        import pymilvus  # noqa: F401
    before = rss_anon()
    indexes: list[Any]
    if kind == "flat":
        indexes = [faiss.read_index(str(Path(work) / f"flat{c}.faiss")) for c in range(cubes)]
    elif kind == "spann":
        indexes = [SpannIndex.open(Path(work) / f"spann{c}") for c in range(cubes)]
    else:
        connection = MilvusConnection.connect(f"milvus://{work}/milvus.db")
        indexes = [connection.index(c, DIM, "ip") for c in range(cubes)]
    for cube, query in zip(query_cube, queries, strict=True):
        indexes[int(cube)].search(query[None, :], 10)
    print(rss_anon() - before)


# -- the indexes --------------------------------------------------------------------------


def bench_flat(layout: Layout) -> Row:
    indexes = []
    started = time.perf_counter()
    for cube in range(layout.cubes):
        index = faiss.IndexFlatIP(DIM)
        index.add(layout.base[layout.members(cube)])
        indexes.append(index)
    build = time.perf_counter() - started
    members = [layout.members(cube) for cube in range(layout.cubes)]
    row = single_queries(lambda cube, q: members[cube][indexes[cube].search(q, 10)[1]], layout)
    for cube, index in enumerate(indexes):
        faiss.write_index(index, str(layout.work / f"flat{cube}.faiss"))
    row.name, row.settings, row.build_s = "faiss IndexFlatIP", "exact, one index per cube", build
    row.rss = resident("flat", layout)
    row.disk = sum(disk_bytes(layout.work / f"flat{c}.faiss") for c in range(layout.cubes))
    return row


def bench_spann(layout: Layout) -> Row:
    indexes = []
    with status(f"building {layout.cubes} SpannIndex over {len(layout.base):,}"):
        started = time.perf_counter()
        for cube in range(layout.cubes):
            members = layout.members(cube)
            path = layout.work / f"spann{cube}"
            shutil.rmtree(path, ignore_errors=True)
            indexes.append(SpannIndex.build(path, members, layout.base[members]))
        build = time.perf_counter() - started
    row = single_queries(lambda cube, query: indexes[cube].search(query, 10)[0], layout)
    for index in indexes:
        index.close()
    row.name, row.settings, row.build_s = "SpannIndex", "defaults, one index per cube", build
    row.rss = resident("spann", layout)
    row.disk = sum(disk_bytes(layout.work / f"spann{c}") for c in range(layout.cubes))
    return row


def fill_milvus(layout: Layout, connection: MilvusConnection) -> tuple[list[MilvusIndex], float]:
    indexes = [connection.index(cube, DIM, "ip") for cube in range(layout.cubes)]
    n = len(layout.base)
    with status(f"upserting {n:,} vectors into Milvus Lite in batches of {BATCH:,}"):
        started = time.perf_counter()
        for start in range(0, n, BATCH):
            ids = np.arange(start, min(n, start + BATCH), dtype=np.int64)
            for cube in np.unique(layout.owner[ids]):
                mine = ids[layout.owner[ids] == cube]
                indexes[int(cube)].add(mine, layout.base[mine])
        for index in indexes:
            index.flush()
        # Searchable means loaded: the first search of a cube reads its segments' HNSW.
        for index in indexes:
            index.search(layout.queries[:1], 10)
        build = time.perf_counter() - started
    return indexes, build


def bench_milvus(layout: Layout, sweep: dict[str, list[tuple[int, float, float]]]) -> Row:
    path = layout.work / "milvus.db"
    shutil.rmtree(path, ignore_errors=True)
    connection = MilvusConnection.connect(f"milvus://{path}")
    indexes, build = fill_milvus(layout, connection)
    params = connection.params
    points = []
    for ef in EF_SWEEP:
        connection.params = HnswParams(params.m, params.ef_construction, ef)
        tried = single_queries(lambda cube, query: indexes[cube].search(query, 10)[0], layout)
        points.append((ef, tried.recall10, tried.latency[0]))
    sweep[layout.name] = points
    connection.params = params
    row = single_queries(lambda cube, query: indexes[cube].search(query, 10)[0], layout)
    connection.close()
    row.name = "Milvus Lite (embedded)"
    row.settings = f"HNSW M={params.m}, efConstruction={params.ef_construction}, ef={params.ef}"
    if layout.cubes > 1:
        row.settings += ", one collection, cube filter"
    row.build_s = build
    row.rss = resident("milvus", layout)
    row.disk = disk_bytes(path)
    return row


def rss_of(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) * 1024
    return 0


def bench_served(layout: Layout) -> Row:
    """The same Milvus Lite data, served by `milvus-lite server` in its own process."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    data = layout.work / "milvus.db"
    server = subprocess.Popen(
        [sys.executable, "-m", "milvus_lite", "server", "--data-dir", str(data),
         "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("milvus-lite server did not start") from None
                time.sleep(0.2)
        idle = rss_of(server.pid)
        connection = MilvusConnection.connect(f"milvus://127.0.0.1:{port}")
        indexes = [connection.index(cube, DIM, "ip") for cube in range(layout.cubes)]
        row = single_queries(lambda cube, query: indexes[cube].search(query, 10)[0], layout)
        row.rss = rss_of(server.pid) - idle
        connection.close()
    finally:
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    row.name = "Milvus Lite (served)"
    row.settings = "same data, `milvus-lite server` process, gRPC over loopback"
    row.note = "server process"
    return row


# -- report -------------------------------------------------------------------------------


def table(layout: Layout, rows: list[Row]) -> str:
    raw = layout.base.nbytes
    sizes = np.bincount(layout.owner)
    lines = [
        f"**{layout.name}**: {len(layout.base):,} vectors x {DIM} dims in {layout.cubes} "
        f"cube(s) of {sizes.min():,}-{sizes.max():,}, raw float32 {mib(raw)} MiB; "
        f"{len(layout.queries):,} queries, each asked of one cube.",
        "",
        "| index | settings | build s | R@10 | p50 / p95 ms | RSS MiB (% raw) | disk MiB |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        build = "(reused)" if row.build_s is None else f"{row.build_s:.1f}"
        disk = "(same)" if row.disk is None else mib(row.disk)
        rss = f"{mib(row.rss)} ({100 * row.rss / raw:.1f}%)"
        if row.note:
            rss += f", {row.note}"
        lines.append(
            f"| {row.name} | {row.settings} | {build} | {row.recall10:.3f} | "
            f"{row.latency[0]:.2f} / {row.latency[1]:.2f} | {rss} | {disk} |"
        )
    return "\n".join(lines)


def sweep_table(sweep: dict[str, list[tuple[int, float, float]]]) -> str:
    names = list(sweep)
    lines = [
        "Milvus Lite, HNSW search width `ef` against recall@10 and p50 latency:",
        "",
        "| ef | " + " | ".join(f"{name}: R@10 / p50 ms" for name in names) + " |",
        "|---:|" + "---:|" * len(names),
    ]
    for i, ef in enumerate(EF_SWEEP):
        cells = [f"{sweep[name][i][1]:.3f} / {sweep[name][i][2]:.2f}" for name in names]
        lines.append(f"| {ef} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--cubes", type=int, default=10)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--record", type=Path, help="append the tables to this Markdown file")
    parser.add_argument("--rss-child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss_child:
        rss_child(*args.rss_child)
        return
    load = os.getloadavg()[0]
    data = Clustered(args.size)
    with status(f"generating {args.size:,} clustered vectors"):
        base, queries = data.sample(args.size, seed=1), data.sample(args.queries, seed=3)
    work = Path(tempfile.mkdtemp(prefix="memos-bench-milvus-"))
    sections = []
    sweep: dict[str, list[tuple[int, float, float]]] = {}
    try:
        for name, cubes in (("One cube", 1), (f"{args.cubes} cubes", args.cubes)):
            layout = make_layout(name, base, queries, cubes, work / f"c{cubes}")
            rows = [bench_flat(layout), bench_spann(layout), bench_milvus(layout, sweep)]
            rows.append(bench_served(layout))
            sections.append(table(layout, rows))
            print(sections[-1], flush=True)
            shutil.rmtree(layout.work, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    sections.append(sweep_table(sweep))
    import milvus_lite
    import pymilvus

    body = "\n\n".join(sections)
    body += (
        f"\n\npymilvus {pymilvus.__version__}, milvus-lite {milvus_lite.__version__}, "
        f"faiss {faiss.__version__}. Load average (1 min) at start / end: {load:.1f} / "
        f"{os.getloadavg()[0]:.1f} (the machine is shared; latencies are wall clock)."
    )
    print("\n" + sections[-1] + body[body.rindex("\n\n") :])
    if args.record:
        record(args.record, "Milvus Lite against SpannIndex", body, section=SECTION, intro=INTRO)


if __name__ == "__main__":
    main()
