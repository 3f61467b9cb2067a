"""Vector index benchmark: faiss IndexFlatIP (exact), IndexHNSWFlat (M=32) and IndexIVFFlat
in RAM against memos' disk-backed SpannIndex, side by side on the same data in one process.

    python bench/ann.py --sizes 100000,1000000 --locomo [--hnsw-max N] [--record FILE]

Data: 384-d unit vectors from a clustered generator (topics -> subtopics -> points, subtopic
sizes Zipf-distributed, each point 37-73 degrees from its subtopic), queries drawn the same
way; and MiniLM embeddings of the LoCoMo conversation turns (../shared/data/locomo10.json,
read in place) with the LoCoMo questions as queries. Ground truth is exact inner product.

Per index: build time; resident memory as anonymous RSS (RssAnon, so page cache is not
counted) added by loading the index and running the queries in a fresh child process; bytes
on disk (allocated blocks); recall@1 and @10; single-query latency on one thread, warm (also
as that thread's CPU time, which a busy shared machine inflates less) and cold (every index
file evicted from the page cache with SpannIndex.evict before each query); batched
throughput (all queries in one call, all cores); inserts/s and deletes/s in batches of
1,000; recall@10 after growing the index 2x by inserts alone; and *inserted top-1*: n/10
vectors from held-out topics (a generator seed whose topics the build never saw) are
inserted in batches of 1,000 before the growth, and each of 500 of them is searched for
(k = 10, default parameters): the share that comes back first. HNSW's efSearch and IVF's
nprobe are the smallest that reach recall@10 >= 0.95 on these queries; SpannIndex runs
with its defaults. HNSW builds slowly on two cores: past --hnsw-max vectors it is built
on the first --hnsw-max of them (with its own ground truth), and the table says so.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import faiss
import numpy as np
from common import record  # bench/common.py: scripts run as `python bench/ann.py`

from memos.progress import progress, status
from memos.retrieval.spann import SpannIndex

DIM = 384
QUERIES = 1000
BATCH = 1000
LOCOMO = Path(__file__).resolve().parents[2] / "shared" / "data" / "locomo10.json"
SECTION = "Vector index: SPANN / ANN (`bench/ann.py`)"
INTRO = (
    "faiss IndexFlatIP, IndexHNSWFlat (M=32) and IndexIVFFlat in RAM against memos' "
    "disk-backed SpannIndex (issue #3), side by side in one process on the same data. See "
    "the docstring of bench/ann.py for what each column measures."
)
HELD_OUT_SEED = 77  # a Clustered seed whose topics no base or query vector comes from
HELD_OUT_QUERIES = 500


# -- data ---------------------------------------------------------------------------------


def _unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def _around(
    parents: np.ndarray, cosine: np.ndarray | float, rng: np.random.Generator
) -> np.ndarray:
    """Unit vectors at the given cosine from each parent, in a random direction."""
    noise = rng.standard_normal(parents.shape).astype(np.float32)
    noise -= (noise * parents).sum(axis=1, keepdims=True) * parents
    noise = _unit(noise)
    cos = np.asarray(cosine, dtype=np.float32).reshape(-1, 1)
    return _unit(cos * parents + np.sqrt(1 - cos * cos) * noise)


class Clustered:
    """Topics on the sphere (one per 20,000 points), subtopics around them (one per 50
    points, cosine 0.7), points around subtopics (cosine 0.3-0.8); subtopic sizes follow a
    Zipf law. Tuned so that faiss IVF with sqrt(n) lists needs 8-16 probes for recall@10
    0.95, as on real embeddings. Points and queries of any seed share the topics and
    subtopics, so a second batch grows the same distribution."""

    def __init__(self, n: int, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        topics = _unit(rng.standard_normal((max(8, n // 20_000), DIM)).astype(np.float32))
        count = max(64, n // 50)
        self.subtopics = _around(topics[rng.integers(0, len(topics), count)], 0.7, rng)
        weights = 1.0 / np.arange(1, count + 1) ** 0.5
        self.weights = weights / weights.sum()

    def sample(self, n: int, seed: int) -> np.ndarray:
        rng = np.random.default_rng(seed)
        out = np.empty((n, DIM), dtype=np.float32)
        for start in range(0, n, 100_000):
            m = min(100_000, n - start)
            parents = self.subtopics[rng.choice(len(self.subtopics), m, p=self.weights)]
            out[start : start + m] = _around(parents, rng.uniform(0.3, 0.8, m), rng)
        return out


def locomo() -> tuple[np.ndarray, np.ndarray]:
    """MiniLM embeddings of every LoCoMo turn (base) and question (queries), cached in the
    temp dir: embedding them takes minutes on a busy machine."""
    from memos.retrieval.embedders import make_embedder

    if not LOCOMO.exists():
        raise SystemExit(f"{LOCOMO} is missing; run without --locomo")
    stamp = LOCOMO.stat()
    cache = (
        Path(tempfile.gettempdir()) / f"memos-ann-locomo-{stamp.st_size}-{stamp.st_mtime_ns}.npz"
    )
    if cache.exists():
        saved = np.load(cache)
        return saved["base"], saved["queries"]

    samples = json.loads(LOCOMO.read_text())
    turns = [
        f"{turn['speaker']}: {turn['text']}"
        for sample in samples
        for key, session in sample["conversation"].items()
        if key.startswith("session_") and isinstance(session, list)
        for turn in session
    ]
    questions = [str(qa["question"]) for sample in samples for qa in sample["qa"]]
    model = make_embedder("minilm")
    with status(f"embedding {len(turns):,} LoCoMo turns and {len(questions):,} questions"):
        base = np.asarray(model.embed_documents(turns), dtype=np.float32)
        # In slices: the embedder's query cache holds 1,024 entries.
        queries = np.concatenate(
            [model.embed_queries(questions[s : s + 512]) for s in range(0, len(questions), 512)]
        ).astype(np.float32)
    np.savez(cache, base=base, queries=queries)
    return base, queries


def exact_top(base: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    index = faiss.IndexFlatIP(base.shape[1])
    index.add(base)
    _, ids = index.search(queries, k)
    return np.asarray(ids, dtype=np.int64)


# -- measuring ----------------------------------------------------------------------------


def recall(found: np.ndarray, truth: np.ndarray, k: int) -> float:
    hits = sum(
        len(set(f[:k].tolist()) & set(t[:k].tolist())) for f, t in zip(found, truth, strict=True)
    )
    return hits / (len(truth) * k)


def percentiles(samples: list[float]) -> tuple[float, float]:
    values = np.asarray(samples) * 1000
    return float(np.percentile(values, 50)), float(np.percentile(values, 95))


def disk_bytes(path: Path) -> int:
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return sum(p.stat().st_blocks * 512 for p in files)


def rss_anon() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) * 1024
    return 0


def resident(kind: str, path: Path, queries: Path) -> int:
    """Anonymous RSS that loading the index and answering the queries adds, measured in a
    fresh child process so nothing else this process allocated is counted."""
    done = subprocess.run(
        [sys.executable, __file__, "--rss-child", kind, str(path), str(queries)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return int(done.stdout.split()[-1])


def rss_child(kind: str, path: str, queries_file: str) -> None:
    queries = np.load(queries_file)
    before = rss_anon()
    if kind == "spann":
        index: Any = SpannIndex.open(path)
        for query in queries:
            index.search(query[None, :], 10)
    else:
        index = faiss.read_index(path)
        index.search(queries, 10)
    print(rss_anon() - before)


@dataclass
class Row:
    name: str
    settings: str
    build_s: float = 0.0
    rss: int = 0
    disk: int = 0
    recall1: float = 0.0
    recall10: float = 0.0
    warm: tuple[float, float] = (0.0, 0.0)
    warm_cpu: float = 0.0
    cold: tuple[float, float] | None = None
    batch_qps: float = 0.0
    inserts: float | None = None
    deletes: float | None = None
    grown_recall10: float | None = None
    inserted_top1: float | None = None
    notes: list[str] = field(default_factory=list)


def single_queries(search: Callable[[np.ndarray], object], queries: np.ndarray, row: Row) -> None:
    """Warm single-query latency on one thread: wall clock, and this thread's CPU time (on a
    shared machine the wall clock mostly measures waiting for a core)."""
    took, cpu = [], []
    faiss.omp_set_num_threads(1)
    try:
        for query in queries:
            started, started_cpu = time.perf_counter(), time.thread_time()
            search(query[None, :])
            cpu.append(time.thread_time() - started_cpu)
            took.append(time.perf_counter() - started)
    finally:
        faiss.omp_set_num_threads(os.cpu_count() or 1)
    row.warm, row.warm_cpu = percentiles(took), percentiles(cpu)[0]


def inserted_top1(
    add: Callable[[np.ndarray, np.ndarray], object],
    search: Callable[[np.ndarray], np.ndarray],
    held: np.ndarray,
    first_id: int,
) -> float:
    """Insert `held` (ids from first_id) in batches, then search for some of them: the
    share found first."""
    ids = np.arange(first_id, first_id + len(held), dtype=np.int64)
    for start in range(0, len(held), BATCH):
        add(ids[start : start + BATCH], held[start : start + BATCH])
    pick = np.random.default_rng(0).choice(len(held), min(HELD_OUT_QUERIES, len(held)), False)
    found = search(held[pick])
    return float((found[:, 0] == ids[pick]).mean())


def timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


# -- faiss baselines ----------------------------------------------------------------------


def tune(search: Callable[[int], np.ndarray], truth: np.ndarray, knobs: list[int]) -> int:
    """The smallest knob value reaching recall@10 >= 0.95 (else the largest)."""
    for knob in knobs:
        if recall(search(knob), truth, 10) >= 0.95:
            return knob
    return knobs[-1]


def bench_faiss(
    kind: str, base: np.ndarray, extra: np.ndarray, held: np.ndarray, queries: np.ndarray,
    truth: np.ndarray, grown_truth: np.ndarray, work: Path, queries_file: Path,
) -> Row:  # fmt: skip
    n = len(base)
    if kind == "flat":
        index: Any = faiss.IndexFlatIP(DIM)
        row = Row("faiss IndexFlatIP", "exact")
    elif kind == "hnsw":
        index = faiss.IndexHNSWFlat(DIM, 32, faiss.METRIC_INNER_PRODUCT)
        row = Row("faiss IndexHNSWFlat", "M=32, efConstruction=40")
    else:
        nlist = max(16, int(np.sqrt(n)))
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(DIM), DIM, nlist, faiss.METRIC_INNER_PRODUCT)
        row = Row("faiss IndexIVFFlat", f"nlist={nlist}")
    with status(f"building {row.name} over {n:,}"):
        started = time.perf_counter()
        if kind == "ivf":
            index.train(base)
        index.add(base)
        row.build_s = time.perf_counter() - started

    def run(knob: int) -> np.ndarray:
        if kind == "hnsw":
            index.hnsw.efSearch = knob
        elif kind == "ivf":
            index.nprobe = knob
        return np.asarray(index.search(queries, 10)[1])

    if kind == "hnsw":
        knob = tune(run, truth, [16, 32, 64, 128, 256, 512])
        row.settings += f", efSearch={knob}"
    elif kind == "ivf":
        knob = tune(run, truth, [1, 2, 4, 8, 16, 32, 64, 128, 256])
        row.settings += f", nprobe={knob}"
    else:
        knob = 0
    found = run(knob)
    row.recall1, row.recall10 = recall(found, truth, 1), recall(found, truth, 10)
    single_queries(lambda q: index.search(q, 10), queries, row)
    row.batch_qps = len(queries) / timed(lambda: index.search(queries, 10))
    saved = work / f"{kind}.faiss"
    faiss.write_index(index, str(saved))
    row.disk = disk_bytes(saved)
    row.rss = resident(kind, saved, queries_file)
    saved.unlink()
    # Inserts: time a batch-wise sample (HNSW is slow), then grow 2x where it is cheap.
    sample = extra[: min(len(extra), 20_000 if kind == "hnsw" else len(extra))]
    started = time.perf_counter()
    for start in range(0, len(sample), BATCH):
        index.add(sample[start : start + BATCH])
    row.inserts = len(sample) / (time.perf_counter() - started)
    if len(sample) == len(extra):
        row.grown_recall10 = recall(run(knob), grown_truth, 10)
    else:
        row.notes.append(f"inserts timed on {len(sample):,}; not grown 2x")
    if kind != "hnsw" and len(held):  # faiss numbers added vectors in order from ntotal
        row.inserted_top1 = inserted_top1(
            lambda _ids, vectors: index.add(vectors),
            lambda found: np.asarray(index.search(found, 10)[1]),
            held, int(index.ntotal),
        )  # fmt: skip
    if kind == "hnsw":
        row.notes.append("no deletes in faiss HNSW")
    else:
        doomed = np.arange(0, min(n, 10 * BATCH), dtype=np.int64)
        started = time.perf_counter()
        for start in range(0, len(doomed), BATCH):
            index.remove_ids(faiss.IDSelectorBatch(doomed[start : start + BATCH]))
        row.deletes = len(doomed) / (time.perf_counter() - started)
    return row


# -- SpannIndex ---------------------------------------------------------------------------


def bench_spann(
    base: np.ndarray, extra: np.ndarray, held: np.ndarray, queries: np.ndarray,
    truth: np.ndarray, grown_truth: np.ndarray, work: Path, queries_file: Path,
) -> Row:  # fmt: skip
    n = len(base)
    path = work / "spann"
    shutil.rmtree(path, ignore_errors=True)
    row = Row("SpannIndex", "defaults")
    with status(f"building SpannIndex over {n:,}"):
        started = time.perf_counter()
        index = SpannIndex.build(path, np.arange(n, dtype=np.int64), base)
        row.build_s = time.perf_counter() - started
    stats = index.stats()
    params = stats["params"]
    row.settings = (
        f"{params['codec']} ({stats['codec']}), scan_records={params['scan_records']:,}, "
        f"rerank={params['rerank']}, {stats['postings']:,} postings of "
        f"{stats['posting_length_mean']:.0f} avg"
    )
    found = index.search(queries, 10)[0]
    row.recall1, row.recall10 = recall(found, truth, 1), recall(found, truth, 10)
    single_queries(lambda q: index.search(q, 10), queries, row)
    cold = []
    for query in queries[:200]:
        index.evict()  # also drops its memory map of the vectors, which pins their pages
        started = time.perf_counter()
        index.search(query[None, :], 10)
        cold.append(time.perf_counter() - started)
    row.cold = percentiles(cold)
    row.batch_qps = len(queries) / timed(lambda: index.search(queries, 10))
    index.close()
    row.disk = disk_bytes(path)
    row.rss = resident("spann", path, queries_file)
    index = SpannIndex.open(path)
    ids = np.arange(n, n + len(extra), dtype=np.int64)
    chunks = range(0, len(extra), BATCH)
    started = time.perf_counter()
    for start in progress(chunks, desc="growing SpannIndex 2x", total=len(chunks)):
        index.add(ids[start : start + BATCH], extra[start : start + BATCH])
    row.inserts = len(extra) / (time.perf_counter() - started)
    row.grown_recall10 = recall(index.search(queries, 10)[0], grown_truth, 10)
    grown = index.stats()
    if len(held):
        row.inserted_top1 = inserted_top1(
            index.add, lambda found: index.search(found, 10)[0], held, 2 * n
        )
    row.notes.append(
        f"after growing: {grown['postings']:,} postings of {grown['posting_length_mean']:.0f} "
        f"avg; {index.stats()['strays']:,} strays watched after the held-out inserts"
    )
    doomed = np.arange(0, min(n, 10 * BATCH), dtype=np.int64)
    started = time.perf_counter()
    for start in range(0, len(doomed), BATCH):
        index.remove(doomed[start : start + BATCH])
    row.deletes = len(doomed) / (time.perf_counter() - started)
    index.close()
    shutil.rmtree(path, ignore_errors=True)
    return row


# -- report -------------------------------------------------------------------------------


def mib(value: int) -> str:
    return f"{value / 2**20:,.1f}"


def table(name: str, n: int, rows: list[Row], raw: int) -> str:
    def rate(value: float | None) -> str:
        return "n/a" if value is None else f"{value:,.0f}"

    lines = [
        f"**{name}**: {n:,} vectors x {DIM} dims, raw float32 {mib(raw)} MiB.",
        "",
        "| index | settings | build s | RSS MiB (% raw) | disk MiB (x raw) | R@1 | R@10 | "
        "warm p50 / p95 ms (CPU p50) | cold p50 / p95 ms | batch q/s | inserts/s | deletes/s | "
        "R@10 after 2x inserts | inserted top-1 |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        cold = "in RAM" if row.cold is None else f"{row.cold[0]:.2f} / {row.cold[1]:.2f}"
        grown = "n/a" if row.grown_recall10 is None else f"{row.grown_recall10:.3f}"
        top1 = "n/a" if row.inserted_top1 is None else f"{row.inserted_top1:.3f}"
        lines.append(
            f"| {row.name} | {row.settings} | {row.build_s:.1f} | "
            f"{mib(row.rss)} ({100 * row.rss / raw:.1f}%) | "
            f"{mib(row.disk)} ({row.disk / raw:.2f}x) | "
            f"{row.recall1:.3f} | {row.recall10:.3f} | "
            f"{row.warm[0]:.2f} / {row.warm[1]:.2f} ({row.warm_cpu:.2f}) | "
            f"{cold} | {row.batch_qps:,.0f} | {rate(row.inserts)} | {rate(row.deletes)} | {grown} "
            f"| {top1} |"
        )
    notes = [f"{row.name}: {'; '.join(row.notes)}" for row in rows if row.notes]
    if notes:
        lines += ["", "Notes: " + ". ".join(notes) + "."]
    return "\n".join(lines)


def targets(rows: list[Row], raw: int) -> str:
    """SpannIndex against issue #18's targets (set for N = 1M), met or missed."""
    spann = next((row for row in rows if row.name == "SpannIndex"), None)
    if spann is None:
        return ""
    ivf = next((row for row in rows if row.name == "faiss IndexIVFFlat"), None)
    cold = spann.cold[1] if spann.cold is not None else float("nan")
    checks = [
        ("recall@10 >= 0.95", spann.recall10 >= 0.95, f"{spann.recall10:.3f}"),
        ("anon RSS <= 5% of raw", spann.rss <= 0.05 * raw, f"{100 * spann.rss / raw:.1f}%"),
        (
            "warm p50 <= 1 ms",
            spann.warm[0] <= 1.0,
            f"{spann.warm[0]:.2f} ms wall, {spann.warm_cpu:.2f} ms CPU",
        ),
        ("cold p95 <= 10 ms", cold <= 10.0, f"{cold:.2f} ms"),
        ("disk <= 1.5x raw", spann.disk <= 1.5 * raw, f"{spann.disk / raw:.2f}x"),
    ]
    if ivf is not None:
        ratio = spann.build_s / max(ivf.build_s, 1e-9)
        checks.append(("build <= 1.5x IVFFlat's", ratio <= 1.5, f"{ratio:.2f}x"))
    if spann.inserts is not None and spann.grown_recall10 is not None:
        grown_ok = spann.inserts >= 10_000 and spann.grown_recall10 >= 0.95
        measured = f"{spann.inserts:,.0f}/s, recall@10 {spann.grown_recall10:.3f} after 2x"
        checks.append(("inserts >= 10,000/s, recall@10 >= 0.95 grown 2x", grown_ok, measured))
    if spann.inserted_top1 is not None:
        top1 = spann.inserted_top1
        checks.append(("inserted top-1 >= 0.99", top1 >= 0.99, f"{top1:.3f}"))
    items = [f"{name}: {'met' if ok else 'MISSED'} ({got})" for name, ok, got in checks]
    return "SpannIndex against the targets: " + "; ".join(items) + "."


def run_dataset(
    name: str, base: np.ndarray, extra: np.ndarray, held: np.ndarray, queries: np.ndarray,
    indexes: list[str], hnsw_max: int,
) -> str:  # fmt: skip
    work = Path(tempfile.mkdtemp(prefix="memos-ann-"))
    try:
        with status(f"exact ground truth for {name}"):
            truth = exact_top(base, queries, 10)
            grown_truth = exact_top(np.concatenate([base, extra]), queries, 10)
        queries_file = work / "queries.npy"
        np.save(queries_file, queries)
        rows = []
        for kind in indexes:
            if kind == "spann":
                rows.append(
                    bench_spann(base, extra, held, queries, truth, grown_truth, work, queries_file)
                )
            elif kind == "hnsw" and len(base) > hnsw_max:
                rows.append(hnsw_subset(base, extra, held, queries, work, queries_file, hnsw_max))
            else:
                rows.append(
                    bench_faiss(
                        kind, base, extra, held, queries, truth, grown_truth, work, queries_file
                    )
                )
            print(table(name, len(base), rows, base.nbytes), "\n", file=sys.stderr, flush=True)
        return (
            table(name, len(base), rows, base.nbytes)
            + "\n\n"
            + targets(rows, base.nbytes)
            + projection(rows, len(base), base.nbytes)
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


def hnsw_subset(
    base: np.ndarray, extra: np.ndarray, held: np.ndarray, queries: np.ndarray, work: Path,
    queries_file: Path, size: int,
) -> Row:  # fmt: skip
    """HNSW on the first `size` vectors, with its own ground truth: its build at full size
    would take most of a run on two cores."""
    part, more = base[:size], extra[:size]
    truth = exact_top(part, queries, 10)
    grown = exact_top(np.concatenate([part, more]), queries, 10)
    row = bench_faiss("hnsw", part, more, held, queries, truth, grown, work, queries_file)
    row.notes.insert(0, f"built on the first {size:,} vectors only (its own ground truth)")
    row.name += f" ({size // 1000}k)"
    return row


def projection(rows: list[Row], n: int, raw: int) -> str:
    """What SpannIndex would need at 10M vectors, scaled from its measured costs per vector."""
    spann = next((row for row in rows if row.name == "SpannIndex"), None)
    if spann is None or n < 100_000:
        return ""
    scale = 10_000_000 / n
    return (
        f"\n\nAt 10M vectors (x{scale:.0f}, scaled per vector from this run): raw "
        f"{mib(int(raw * scale))} MiB, disk {mib(int(spann.disk * scale))} MiB, anonymous "
        f"RSS after open and queries {mib(int(spann.rss * scale))} MiB "
        f"({spann.rss / n:.1f} bytes per vector)."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000", help="clustered dataset sizes")
    parser.add_argument("--locomo", action="store_true", help="also the LoCoMo MiniLM set")
    parser.add_argument("--indexes", default="flat,hnsw,ivf,spann")
    parser.add_argument(
        "--hnsw-max", type=int, default=300_000, help="build HNSW on at most this many vectors"
    )
    parser.add_argument("--record", type=Path, help="append the tables to this Markdown file")
    parser.add_argument("--rss-child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss_child:
        rss_child(*args.rss_child)
        return
    indexes = args.indexes.split(",")
    load = os.getloadavg()[0]
    sections = []
    if args.locomo:
        base, queries = locomo()
        half = len(base) // 2
        # Grown 2x: built on the first half of the turns, the second half inserted.
        none = np.zeros((0, base.shape[1]), dtype=np.float32)  # no held-out topics here
        sections.append(run_dataset("LoCoMo turns, MiniLM", base[:half], base[half:], none,
                                    queries, indexes, args.hnsw_max))  # fmt: skip
    for size in (int(s) for s in args.sizes.split(",") if s):
        data = Clustered(size)
        with status(f"generating {2 * size:,} clustered vectors"):
            base, extra = data.sample(size, seed=1), data.sample(size, seed=2)
            queries = data.sample(QUERIES, seed=3)
            held = Clustered(size, seed=HELD_OUT_SEED).sample(size // 10, seed=4)
        sections.append(
            run_dataset("Clustered", base, extra, held, queries, indexes, args.hnsw_max)
        )
        del base, extra
        gc.collect()
    body = "\n\n".join(sections)
    body += (
        f"\n\nLoad average (1 min) at start / end: {load:.1f} / {os.getloadavg()[0]:.1f} "
        "(the machine is shared; latencies are wall clock)."
    )
    print(body)
    if args.record:
        record(args.record, "Vector indexes side by side", body, section=SECTION, intro=INTRO)


if __name__ == "__main__":
    main()
