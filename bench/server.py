"""Server benchmark: N concurrent clients doing a mix of add and search against a real
`memos serve` on loopback, next to the embedded SDK doing the same in the same run, on
SQLite and PostgreSQL.

    python bench/server.py [--clients 1,8,32] [--ops 400] [--backends sqlite,postgresql]
                           [--preload 2000] [--embedder hash] [--time-limit 60]
                           [--pg-url postgresql+psycopg://postgres@127.0.0.1:5432/test]
                           [--record docs/BENCHMARKS.md]

Each (database, clients) pair runs twice on the same database: embedded (threads sharing
one `memos.open()` in this process) and served (each thread with its own
`memos.connect()` to a `memos serve` subprocess bound to 127.0.0.1), each in its own cube
preloaded with the same items. A client does `--ops / clients` operations (at least 20),
half adds and half searches in a seeded order, and stops at `--time-limit` seconds per
phase whatever is left. Overhead is served minus embedded latency at the same
concurrency; at one client it is the cost of HTTP, JSON and the key check per call. The
default embedder is the hash embedder, so the numbers are memos' own cost and the
server's, not the embedding model's.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common import machine, record  # bench/common.py: scripts run as `python bench/server.py`

import memos
from memos.models import Permission
from memos.server.local import read_serve_file

START_TIMEOUT_S = 90
WORDS = [
    *("launch", "budget", "review", "deploy", "incident", "customer", "invoice", "roadmap"),
    *("design", "sprint", "hiring", "meeting", "release", "outage", "vendor", "contract"),
    *("office", "move", "payroll", "backlog", "migration", "audit", "dashboard", "alert"),
    *("latency", "database", "cache", "queue", "retry", "timeout", "index", "search"),
]
PEOPLE = ["mira", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"]


def sentence(rng: random.Random) -> str:
    who, what, other = rng.choice(PEOPLE), rng.choice(WORDS), rng.choice(WORDS)
    return f"{who.title()} said the {what} {other} is due on day {rng.randint(1, 365)}."


def query(rng: random.Random) -> str:
    return f"when is the {rng.choice(WORDS)} {rng.choice(WORDS)} due"


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


@contextlib.contextmanager
def server(home: Path, url: str | None, embedder: str) -> Iterator[tuple[str, int]]:
    """A `memos serve` subprocess on a free loopback port (its URL and pid); stopped on the
    way out."""
    command = [sys.executable, "-m", "memos.cli.app", "--home", str(home), "--embedder",
               embedder, "--user", "bench"]  # fmt: skip
    if url is not None:
        command += ["--url", url]
    command += ["serve", "--host", "127.0.0.1", "--port", "0"]
    env = {k: v for k, v in os.environ.items() if k != "MEMOS_NO_SERVER"}
    log = home / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            found = read_serve_file(home)
            if found is not None and found.pid == process.pid:
                break
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"memos serve did not start:\n{log.read_text()}")
            time.sleep(0.1)
        yield found.url, process.pid
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(20)


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Phase:
    adds: list[float] = field(default_factory=list)
    searches: list[float] = field(default_factory=list)
    errors: int = 0
    wall_s: float = 0.0
    cpu_s: float = 0.0
    kinds: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def ops(self) -> int:
        return len(self.adds) + len(self.searches)


def run_phase(
    cubes: list[Any], ops_each: int, time_limit_s: float, *, seed: int, cpu: Any = time.process_time
) -> Phase:
    """Each thread works on its own cube handle: a mix of add and search. `cpu()` reads
    the CPU seconds of every process doing the work."""
    phase = Phase()
    deadline = time.monotonic() + time_limit_s
    barrier = threading.Barrier(len(cubes))

    def client(position: int, cube: Any) -> None:
        rng = random.Random(seed * 1000 + position)
        adds: list[float] = []
        searches: list[float] = []
        errors = 0
        barrier.wait()
        for _ in range(ops_each):
            if time.monotonic() > deadline:
                break
            is_add = rng.random() < 0.5
            text = sentence(rng) if is_add else query(rng)
            started = time.perf_counter()
            try:
                if is_add:
                    cube.add(text, source="bench")
                else:
                    cube.search(text, k=10)
            except Exception as exc:  # counted and named in the table, never silent
                errors += 1
                with phase.lock:
                    phase.kinds.add(type(exc).__name__)
                continue
            (adds if is_add else searches).append(time.perf_counter() - started)
        with phase.lock:
            phase.adds += adds
            phase.searches += searches
            phase.errors += errors

    threads = [threading.Thread(target=client, args=(i, c)) for i, c in enumerate(cubes)]
    cpu_before = cpu()
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    phase.wall_s = time.perf_counter() - started
    phase.cpu_s = cpu() - cpu_before
    return phase


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def median_ms(values: list[float]) -> float:
    return 1000 * statistics.median(values) if values else float("nan")


def paired(embedded: Any, served: Any, pairs: int, *, seed: int, pid: int) -> dict[str, Any]:
    """One client, the same operation embedded and served back to back (in a random
    order), so that the machine's load weighs on both alike: the median difference per
    pair is the overhead of a call."""
    rng = random.Random(seed)
    found: dict[str, Any] = {"add": [], "search": [], "embedded": [], "served": []}
    cpu = {"embedded": 0.0, "served": 0.0}
    probes = {"embedded": time.process_time,
              "served": lambda: time.process_time() + process_cpu_s(pid)}  # fmt: skip
    for number in range(pairs):
        kind = "add" if number % 2 == 0 else "search"
        text = sentence(rng) if kind == "add" else query(rng)
        times: dict[str, float] = {}
        for side in sorted(
            (("embedded", embedded), ("served", served)), key=lambda _: rng.random()
        ):
            cpu_before = probes[side[0]]()
            started = time.perf_counter()
            if kind == "add":
                side[1].add(text, source="bench")
            else:
                side[1].search(text, k=10)
            times[side[0]] = time.perf_counter() - started
            cpu[side[0]] += probes[side[0]]() - cpu_before
        found[kind].append(times["served"] - times["embedded"])
        found["embedded"].append(times["embedded"])
        found["served"].append(times["served"])
    found["cpu_ms"] = {side: 1000 * total / pairs for side, total in cpu.items()}
    return found


def bench_backend(
    backend: str, url: str | None, args: argparse.Namespace
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="memos-bench-server-") as folder:
        home = Path(folder) / "home"
        rng = random.Random(7)
        preload = [sentence(rng) for _ in range(args.preload)]
        with memos.open(home, url=url, user="bench", embedder=args.embedder) as mos:
            key = mos.kernel.store.create_api_key("bench", Permission.WRITE)[1]
            for clients in ["paired", *args.clients]:
                for mode in ("embedded", "served"):
                    cube = mos.create_cube(f"{mode}-{clients}")
                    for start in range(0, len(preload), 500):
                        cube.add_many(preload[start : start + 500])
            mos.flush()
        with (
            server(home, url, args.embedder) as (served_url, pid),
            memos.open(home, url=url, user="bench", embedder=args.embedder) as mos,
        ):
            with memos.connect(served_url, api_key=key) as connection:
                pairs = paired(mos.cube("embedded-paired"), connection.cube("served-paired"),
                               args.pairs, seed=1, pid=pid)  # fmt: skip
            for clients in args.clients:
                ops_each = max(20, args.ops // clients)
                shared = mos.cube(f"embedded-{clients}")
                embedded = run_phase([shared] * clients, ops_each, args.time_limit,
                                     seed=clients)  # fmt: skip
                connections = [memos.connect(served_url, api_key=key) for _ in range(clients)]
                try:
                    remote = [c.cube(f"served-{clients}") for c in connections]
                    served = run_phase(
                        remote,
                        ops_each,
                        args.time_limit,
                        seed=clients,
                        cpu=lambda: time.process_time() + process_cpu_s(pid),
                    )
                finally:
                    for connection in connections:
                        connection.close()
                for mode, phase in (("embedded", embedded), ("served", served)):
                    rows.append({
                        "backend": backend, "clients": clients, "mode": mode, "ops": phase.ops,
                        "errors": phase.errors, "error_kinds": ", ".join(sorted(phase.kinds)),
                        "ops_per_s": phase.ops / phase.wall_s,
                        "add_p50": median_ms(phase.adds), "add_p95": percentile(phase.adds, 0.95),
                        "search_p50": median_ms(phase.searches),
                        "search_p95": percentile(phase.searches, 0.95),
                        "all_p50": median_ms(phase.adds + phase.searches),
                        "all_p95": percentile(phase.adds + phase.searches, 0.95),
                        "cpu_ms": 1000 * phase.cpu_s / max(phase.ops, 1),
                    })  # fmt: skip
                print(f"{backend} x{clients}: done", file=sys.stderr, flush=True)
    return rows, pairs


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| database | clients | mode | ops | ops/s | add p50 / p95 (ms) | search p50 / p95 (ms) "
        "| all p50 / p95 (ms) | overhead p50: add / search / all (ms) | CPU ms/op "
        "| CPU overhead ms/op |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    embedded = {(r["backend"], r["clients"]): r for r in rows if r["mode"] == "embedded"}
    for row in rows:
        overhead, cpu_overhead = "-", "-"
        base = embedded.get((row["backend"], row["clients"]))
        if row["mode"] == "served" and base is not None:
            cpu_overhead = f"{row['cpu_ms'] - base['cpu_ms']:+.2f}"
            overhead = " / ".join(f"{row[k] - base[k]:+.2f}" for k in ("add_p50", "search_p50",
                                                                       "all_p50"))  # fmt: skip
        errors = f" ({row['errors']} failed: {row['error_kinds']})" if row["errors"] else ""
        lines.append(
            f"| {row['backend']} | {row['clients']} | {row['mode']} | {row['ops']}{errors} | "
            f"{row['ops_per_s']:,.0f} | {row['add_p50']:.2f} / {row['add_p95']:.2f} | "
            f"{row['search_p50']:.2f} / {row['search_p95']:.2f} | "
            f"{row['all_p50']:.2f} / {row['all_p95']:.2f} | {overhead} | {row['cpu_ms']:.2f} | "
            f"{cpu_overhead} |"
        )
    return "\n".join(lines)


def paired_table(results: dict[str, dict[str, Any]]) -> str:
    lines = [
        "| database | pairs | embedded p50 (ms) | served p50 (ms) | overhead p50: add / search "
        "(ms) | overhead p95: add / search (ms) | CPU ms/call: embedded / served | CPU overhead "
        "ms/call |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for backend, found in results.items():
        lines.append(
            f"| {backend} | {len(found['embedded'])} | {median_ms(found['embedded']):.2f} | "
            f"{median_ms(found['served']):.2f} | {median_ms(found['add']):+.2f} / "
            f"{median_ms(found['search']):+.2f} | {percentile(found['add'], 0.95):+.2f} / "
            f"{percentile(found['search'], 0.95):+.2f} | {found['cpu_ms']['embedded']:.2f} / "
            f"{found['cpu_ms']['served']:.2f} | "
            f"{found['cpu_ms']['served'] - found['cpu_ms']['embedded']:+.2f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--clients", default="1,8,32", help="concurrent clients, comma-separated")
    parser.add_argument("--ops", type=int, default=400, help="operations per phase (split)")
    parser.add_argument("--preload", type=int, default=2000, help="items in each cube first")
    parser.add_argument("--embedder", default="hash")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds per phase")
    parser.add_argument("--pairs", type=int, default=300, help="paired calls at one client")
    parser.add_argument("--omp-threads", default="1", help="OMP_NUM_THREADS of both sides")
    parser.add_argument("--record", type=Path, help="append the table to this Markdown file")
    args = parser.parse_args()
    args.clients = [int(c) for c in args.clients.split(",") if c.strip()]
    # OpenMP reads its thread count when faiss first loads (at the first memos.open here,
    # at start in the server): a server runs requests side by side, one kernel thread each.
    os.environ["OMP_NUM_THREADS"] = args.omp_threads

    load = os.getloadavg()[0]
    rows: list[dict[str, Any]] = []
    pairs: dict[str, dict[str, Any]] = {}
    for backend in (b.strip() for b in args.backends.split(",") if b.strip()):
        try:
            with database(backend, args.pg_url) as url:
                found, pairs[backend] = bench_backend(backend, url, args)
                rows += found
        except Exception as exc:  # a missing PostgreSQL skips its rows, said in the output
            if backend == "sqlite":
                raise
            print(f"{backend}: skipped ({str(exc).splitlines()[0]})", file=sys.stderr)
    text = (
        f"One client, each call made embedded and served back to back (order random):\n\n"
        f"{paired_table(pairs)}\n\nConcurrent clients, each mode on its own "
        f"(overhead: served minus embedded at the same concurrency; CPU: both processes):"
        f"\n\n{table(rows)}\n\nEmbedder: {args.embedder}; {args.preload} items per cube before "
        f"the run; a client's operations: {args.ops} split over the clients (at least 20 "
        f"each), half add and half search (k=10); OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']} "
        f"on both sides. Load average (1 min) at start / end: "
        f"{load:.1f} / {os.getloadavg()[0]:.1f}."
    )
    print(f"Machine: {machine()}\n\n{text}")
    if args.record is not None:
        record(args.record, "Server: served vs embedded, concurrent clients", text,
               section="Server (`bench/server.py`)",
               intro="REST over loopback against the embedded SDK in the same run.")  # fmt: skip


if __name__ == "__main__":
    main()
