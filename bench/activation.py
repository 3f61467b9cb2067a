"""Activation memory benchmark: time to first token with and without a KV cache of the
memory prefix, cache load times per tier, bytes per token, and what compression costs.

For memory prefixes of about 250, 1,000 and 2,000 tokens (synthetic facts rendered by the
default template) it times, with the default runtime model on this machine:

* TTFT recomputing the prefix (`generate(memories=...)`),
* TTFT with the cache from the RAM tier and from disk (tiers emptied first, so the file is
  read, checksummed and decoded: the OS page cache is not dropped),
* the tier load alone (disk: read + sha256 + decode; RAM: a hit plus the per-use clone),
* bytes per token, and whether the greedy tokens match the recomputed run.

Then, at about 1,000 tokens, compression: float16, bfloat16 and int8 (per-channel scales)
storage against the lossless cache: bytes saved and token agreement over several prompts.

    python bench/activation.py [--sizes 250,1000,2000] [--repeats 3] [--threads N]
        [--models-dir DIR] [--record docs/BENCHMARKS.md]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

import memos
from memos.testing import HashEmbedder

SECTION = "Activation memory (bench/activation.py)"
INTRO = """What it measures: a cube of synthetic facts; for memory prefixes of about 250, 1,000
and 2,000 tokens, the time to first token (TTFT) of greedy generation recomputing the prefix
versus continuing from its KV cache, the cache coming from the RAM tier or from disk (tiers
emptied first; the OS page cache is not dropped), the tier load alone, bytes per token, and
token identity with and without the cache. Then the effect of float16 / bfloat16 / int8
storage at about 1,000 tokens. Model: SmolLM2-135M-Instruct (float32) on the CPU. Target:
at 1,000 tokens, TTFT with a disk-loaded cache at least 10x faster than recomputing."""

NAMES = ["Mira", "Tomas", "Ilse", "Kofi", "Anouk", "Rafael", "Sunniva", "Dmitri", "Leila", "Bo"]
CITIES = ["Tromsø", "Porto", "Kyoto", "Valparaíso", "Tartu", "Hobart", "Ghent", "Oaxaca"]
THINGS = ["a teal kayak", "two cats", "a vintage camera", "an allotment garden", "a sourdough"
          " starter", "a 1974 Vespa", "a telescope", "a beehive"]  # fmt: skip
PROMPTS = [
    "Where does Mira live?",
    "What does Kofi own?",
    "Summarise what you know about Ilse.",
    "Who lives in Porto?",
    "What is Tomas's job?",
    "Which city did Anouk move to?",
    "What does Rafael own?",
    "Tell me one fact about Bo.",
]


def facts(count: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    made = []
    for i in range(count):
        name = rng.choice(NAMES)
        shape = i % 4
        if shape == 0:
            made.append(f"{name} lives in {rng.choice(CITIES)} since {rng.randint(1995, 2024)}.")
        elif shape == 1:
            made.append(f"{name} owns {rng.choice(THINGS)} bought in week {rng.randint(1, 52)}.")
        elif shape == 2:
            made.append(f"{name} works as a {rng.choice(['nurse', 'pilot', 'baker'])} in "
                        f"{rng.choice(CITIES)}.")  # fmt: skip
        else:
            made.append(f"{name} met {rng.choice(NAMES)} in {rng.choice(CITIES)} on day {i}.")
    return made


def prefix_tokens(cube: memos.MemCube, texts: list[str]) -> int:
    from memos.runtime.prompts import DEFAULT_TEMPLATE

    return len(cube.runtime.runtime.prompter.prefix_ids(texts, DEFAULT_TEMPLATE))


def items_for(cube: memos.MemCube, target: int, pool: list[str]) -> list[int]:
    """Add the first n facts of `pool` whose rendered prefix reaches `target` tokens."""
    low, high = 1, len(pool)
    while low < high:
        mid = (low + high) // 2
        if prefix_tokens(cube, pool[:mid]) >= target:
            high = mid
        else:
            low = mid + 1
    return [item.id for item in cube.add_many(pool[:low])]


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def bench_size(cube: memos.MemCube, target: int, repeats: int, pool: list[str]) -> dict[str, Any]:
    ids = items_for(cube, target, pool)
    started = time.perf_counter()
    kv = cube.build_activation(ids)
    build_s = time.perf_counter() - started
    parts = cube.runtime.parts
    tiers = parts.tiers
    runtime = parts.runtime
    digest = kv.artifact or ""
    prompt = PROMPTS[0]
    row: dict[str, Any] = {"target": target, "tokens": kv.attributes["prefix_tokens"]}
    cube.generate(prompt, memories=ids, max_new_tokens=2)  # warm-up: allocator, kernels
    cube.generate(prompt, activation=kv.id, max_new_tokens=2)
    recompute, ram, disk, load_disk, load_ram = [], [], [], [], []
    same = True
    for _ in range(repeats):
        ref = cube.generate(prompt, memories=ids, max_new_tokens=1)
        recompute.append(ref.ttft_s)
        tiers.clear()
        cold = cube.generate(prompt, activation=kv.id, max_new_tokens=1)
        disk.append(cold.ttft_s)
        warm = cube.generate(prompt, activation=kv.id, max_new_tokens=1)
        ram.append(warm.ttft_s)
        same = same and ref.tokens == cold.tokens == warm.tokens
        tiers.clear()
        from memos.activation.build import load

        item = cube.get(kv.id)
        t0 = time.perf_counter()
        loaded = load(cube, parts, item)
        load_disk.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        loaded = load(cube, parts, item)
        runtime._cache(loaded.layers)  # the clone every generation makes
        load_ram.append(time.perf_counter() - t0)
    long_ref = cube.generate(prompt, memories=ids, max_new_tokens=32)
    long_kv = cube.generate(prompt, activation=kv.id, max_new_tokens=32)
    row.update(
        build_s=build_s,
        recompute_ms=median_ms(recompute),
        disk_ms=median_ms(disk),
        ram_ms=median_ms(ram),
        load_disk_ms=median_ms(load_disk),
        load_ram_ms=median_ms(load_ram),
        bytes=kv.size_bytes,
        bytes_per_token=kv.size_bytes / kv.attributes["prefix_tokens"],
        identical=same and long_ref.tokens == long_kv.tokens,
        ids=ids,
        kv=kv.id,
        digest=digest,
    )
    return row


def agreement(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    length = max(len(a), len(b), 1)
    return sum(1 for x, y in zip(a, b, strict=False) if x == y) / length


def bench_compression(
    cube: memos.MemCube, row: dict[str, Any], new_tokens: int
) -> list[dict[str, Any]]:
    reference = {
        p: cube.generate(p, activation=row["kv"], max_new_tokens=new_tokens) for p in PROMPTS
    }
    results = []
    for storage in ("float16", "bfloat16", "int8"):
        item = cube.build_activation(row["ids"], storage=storage)
        outputs = {
            p: cube.generate(p, activation=item.id, max_new_tokens=new_tokens) for p in PROMPTS
        }
        cube.runtime.parts.tiers.clear()
        disk = cube.generate(PROMPTS[0], activation=item.id, max_new_tokens=1).ttft_s
        results.append(
            {
                "storage": storage,
                "bytes": item.size_bytes,
                "saved": 1 - item.size_bytes / row["bytes"],
                "agreement": statistics.fmean(
                    agreement(reference[p].tokens, outputs[p].tokens) for p in PROMPTS
                ),
                "identical": sum(reference[p].tokens == outputs[p].tokens for p in PROMPTS),
                "disk_ms": disk * 1000,
            }
        )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="250,1000,2000")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--threads", type=int, default=None, help="torch threads (default: torch's)"
    )
    parser.add_argument("--new-tokens", type=int, default=32, help="tokens compared per prompt")
    parser.add_argument("--models-dir", type=Path, default=None, help="converted model cache")
    parser.add_argument("--record", type=Path, help="append the tables to this Markdown file")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    sizes = [int(s) for s in args.sizes.split(",")]
    pool = facts(600)
    with tempfile.TemporaryDirectory() as home:
        settings = {} if args.models_dir is None else {"models_dir": args.models_dir}
        with memos.open(home, user="bench", embedder=HashEmbedder(dim=64), **settings) as mos:
            rows = []
            for size in sizes:
                cube = mos.create_cube(f"kv{size}")
                rows.append(bench_size(cube, size, args.repeats, pool))
                print(f"measured {rows[-1]['tokens']} tokens", flush=True)
            closest = min(rows, key=lambda r: abs(r["target"] - 1000))
            compression = bench_compression(
                mos.cube(f"kv{closest['target']}"), closest, args.new_tokens
            )
            model = mos.runtime_parts.runtime.identity.model
    lines = [
        f"Model {model}, torch threads {torch.get_num_threads()}, median of {args.repeats}.",
        "",
        "| prefix tokens | TTFT recompute (ms) | TTFT cache from disk (ms) | speed-up | "
        "TTFT cache from RAM (ms) | speed-up | load disk / RAM tier (ms) | bytes/token | "
        "cache size | same tokens |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['tokens']:,} | {r['recompute_ms']:,.0f} | {r['disk_ms']:,.0f} | "
            f"{r['recompute_ms'] / r['disk_ms']:.1f}x | {r['ram_ms']:,.0f} | "
            f"{r['recompute_ms'] / r['ram_ms']:.1f}x | {r['load_disk_ms']:,.1f} / "
            f"{r['load_ram_ms']:,.1f} | {r['bytes_per_token']:,.0f} | "
            f"{r['bytes'] / 2**20:,.1f} MiB | {'yes' if r['identical'] else 'NO'} |"
        )
    lines += [
        "",
        f"Compression at {closest['tokens']:,} tokens ({len(PROMPTS)} prompts x "
        f"{args.new_tokens} greedy tokens against the lossless cache):",
        "",
        "| storage | size | bytes saved | token agreement | identical outputs | "
        "TTFT from disk (ms) |",
        "|---|---:|---:|---:|---:|---:|",
        f"| native float32 | {closest['bytes'] / 2**20:,.1f} MiB | - | 100% | "
        f"{len(PROMPTS)}/{len(PROMPTS)} | {closest['disk_ms']:,.0f} |",
    ]
    for c in compression:
        lines.append(
            f"| {c['storage']} | {c['bytes'] / 2**20:,.1f} MiB | {c['saved']:.0%} | "
            f"{c['agreement']:.1%} | {c['identical']}/{len(PROMPTS)} | {c['disk_ms']:,.0f} |"
        )
    table = "\n".join(lines)
    print(table)
    if args.record:
        from common import record  # bench/common.py

        record(
            args.record,
            "Activation memory: TTFT, tiers, compression",
            table,
            section=SECTION,
            intro=INTRO,
        )


if __name__ == "__main__":
    main()
