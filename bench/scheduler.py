"""Scheduler benchmark: time to first token with prefix caching vs without, byte hit rate
of the cost-aware eviction policy vs LRU, bytes written per hit, and decision time.

The trace is agent sessions with repeated topics, replayed through the public SDK
(`cube.generate(prompt, retrieve=k)`):

* LoCoMo: each conversation is stored with `cube.add_conversation` (one call per session);
  a session asks `--questions` of its questions, each `--repeats` times, interleaved (an
  agent coming back to the same topics), seeded;
* MEMTRACK-style: a generated timeline's events are stored, and its questions are asked in
  their sequential order at each checkpoint, as the harness asks them.

The same trace runs twice on the same data in one process: with the scheduler (a pass
every `--tick-every` generations) and without (no pass, so every prefix is recomputed).
Tokens must be identical between the two runs; TTFT p50 is reported over all generations,
over the warm half (the second half of each run), over the third and later asks of each
question (warm by the trace: the prefix was reused and a pass could cache it), and over
the generations served from a cache (against the same asks recomputed). `--first` and
`--seed` pick another trace (a held-out one: `--first 2 --seed 1`). The cache accesses of
the scheduled run (builds and hits, with each cache's bytes and prefill time) are then
replayed through the RAM tier (`memos.activation.tiers.TierCache`) under LRU and under the
cost-aware policy at the same budgets, for byte hit rates. Runs on the CPU; the GPU tier is
not exercised unless a CUDA device is present (it is reported).

    python bench/scheduler.py [--conversations 2] [--first 0] [--seed 0] [--questions 10]
        [--repeats 3] [--k 8] [--tick-every 4] [--memtrack 1] [--record docs/BENCHMARKS.md]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common import record

import memos
from memos.activation.tiers import TierCache
from memos.eval import locomo
from memos.eval.memtrack import generate as generate_timelines
from memos.models import Tier
from memos.stores.artifacts import FileArtifactStore

SECTION = "Scheduler (`bench/scheduler.py`)"


@dataclass
class Ask:
    cube: str
    question: str


@dataclass
class Access:
    kind: str  # "build" or "hit"
    digest: str
    size: int
    cost_s: float


def locomo_sessions(
    mos: memos.MemOS, count: int, questions: int, repeats: int, seed: int, first: int = 0
) -> list[Ask]:
    data = locomo.load(locomo.DEFAULT_DATA)[first : first + count]
    rng = random.Random(seed)
    asks: list[Ask] = []
    for conversation in data:
        cube = mos.create_cube(f"locomo-{conversation.sample_id}")
        sessions: dict[int, list[locomo.Turn]] = {}
        for turn in conversation.turns:
            sessions.setdefault(turn.session, []).append(turn)
        for number, turns in sorted(sessions.items()):
            cube.add_conversation(
                [{"speaker": t.speaker, "text": t.text, "id": t.dia_id} for t in turns],
                session=f"session {number}",
                at=turns[0].when,
                source="locomo",
            )
        chosen = rng.sample(
            list(conversation.questions), min(questions, len(conversation.questions))
        )
        order = [q for q in chosen for _ in range(repeats)]
        rng.shuffle(order)
        asks += [Ask(cube.name, q.text) for q in order]
    return asks


def memtrack_sessions(mos: memos.MemOS, count: int, seed: int) -> list[Ask]:
    asks: list[Ask] = []
    if count < 1:
        return asks
    for instance in generate_timelines(count, seed):
        cube = mos.create_cube(f"memtrack-{instance.id}")
        cube.add_many(
            {
                "content": f"{e.actor}: {e.text}",
                "author": e.actor,
                "source": e.platform,
                "source_ref": e.id,
                "valid_from": e.timestamp,
            }
            for e in instance.events
        )
        asks += [Ask(cube.name, q.question) for q in instance.questions]
    return asks


def run(
    mos: memos.MemOS, asks: list[Ask], *, k: int, tick_every: int, tokens: int
) -> tuple[list[Any], list[Access]]:
    """Generate for every ask; with `tick_every`, a scheduler pass every so many."""
    generations = []
    accesses: list[Access] = []
    for number, ask in enumerate(asks, start=1):
        cube = mos.cube(ask.cube)
        made = cube.generate(ask.question, retrieve=k, max_new_tokens=tokens)
        generations.append(made)
        if made.activation_id is not None:
            cache = cube.get(made.activation_id)
            accesses.append(
                Access(
                    "hit",
                    cache.artifact or "",
                    cache.size_bytes,
                    float(cache.attributes.get("prefill_s", 0.0)),
                )
            )
        if tick_every and number % tick_every == 0:
            for decision in mos.scheduler.tick().decisions:
                if decision.action == "build":
                    built = cube_of(mos, decision).get(int(decision.details["item"]))
                    accesses.append(
                        Access(
                            "build",
                            built.artifact or "",
                            built.size_bytes,
                            float(built.attributes.get("prefill_s", 0.0)),
                        )
                    )
    return generations, accesses


def cube_of(mos: memos.MemOS, decision: Any) -> memos.MemCube:
    return next(mos.cube(c.name) for c in mos.cubes() if c.id == decision.cube_id)


class _Sized:
    """Stands in for a KV cache in the tier simulation: only its size matters there."""

    def __init__(self, size: int) -> None:
        self.nbytes = size

    def to(self, _device: object) -> _Sized:
        return self


def byte_hit_rate(accesses: list[Access], budget: int, policy: str, root: Path) -> float:
    """Replay builds (the new cache enters RAM) and hits (served from RAM, else read from
    disk and offered to RAM) through a real `TierCache` with this policy and RAM budget."""
    tiers = TierCache(FileArtifactStore(root), ram_bytes=budget, disk_bytes=1 << 40, policy=policy)
    hit = total = 0
    for access in accesses:
        entry: Any = _Sized(access.size)
        if access.kind == "hit":
            total += access.size
            if tiers.where(access.digest) is Tier.CPU:
                hit += access.size
                tiers.get(access.digest, lambda _data, e=entry: e, cost_s=access.cost_s)
                continue
        tiers.put(access.digest, entry, cost_s=access.cost_s)
    return hit / total if total else 0.0


def p50(values: list[float]) -> float:
    return 1000 * statistics.median(values) if values else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=2)
    parser.add_argument(
        "--first", type=int, default=0, help="index of the first LoCoMo conversation used"
    )
    parser.add_argument("--questions", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--memtrack", type=int, default=1, help="MEMTRACK-style timelines")
    parser.add_argument("--k", type=int, default=8)
    parser.add_argument("--tick-every", type=int, default=4)
    parser.add_argument("--tokens", type=int, default=1, help="new tokens per generation")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--record", type=Path)
    args = parser.parse_args()

    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="memos-bench-scheduler-") as scratch:
        for label, tick in (("scheduler", args.tick_every), ("recompute", 0)):
            home = Path(scratch) / label
            with memos.open(home, user="bench") as mos:
                asks = locomo_sessions(
                    mos, args.conversations, args.questions, args.repeats, args.seed, args.first
                )
                asks += memtrack_sessions(mos, args.memtrack, args.seed)
                mos.scheduler.tick()  # nothing to cache yet; warms the model's code paths
                started = time.perf_counter()
                generations, accesses = run(
                    mos, asks, k=args.k, tick_every=tick, tokens=args.tokens
                )
                status = mos.scheduler.status()
                results[label] = {
                    "asks": len(asks),
                    "asks_list": asks,
                    "seconds": time.perf_counter() - started,
                    "generations": generations,
                    "accesses": accesses,
                    "status": status,
                    "accelerator": mos.runtime_parts.tiers.accelerator,
                }
        scheduled, plain = results["scheduler"], results["recompute"]
        same = all(
            a.tokens == b.tokens
            for a, b in zip(scheduled["generations"], plain["generations"], strict=True)
        )
        ttft = {label: [g.ttft_s for g in results[label]["generations"]] for label in results}
        overall = (ttft["scheduler"], ttft["recompute"])
        warm = tuple(values[len(values) // 2 :] for values in overall)
        # "Once warm", by the trace alone: the third and later asks of a question, when
        # the scheduler has seen it reused and had a pass to cache it (whether or not it
        # did), at the same positions in both runs.
        seen: dict[tuple[str, str], int] = {}
        later = []
        for position, ask in enumerate(scheduled["asks_list"]):
            seen[(ask.cube, ask.question)] = seen.get((ask.cube, ask.question), 0) + 1
            if seen[(ask.cube, ask.question)] >= 3:
                later.append(position)
        repeated = tuple([values[i] for i in later] for values in overall)
        served = [i for i, g in enumerate(scheduled["generations"]) if g.activation_id is not None]
        from_cache = tuple([values[i] for i in served] for values in overall)
        hits = sum(1 for g in scheduled["generations"] if g.activation_id is not None)
        accesses = scheduled["accesses"]
        built = sum(a.size for a in accesses if a.kind == "build")
        total = max(built, 1)
        rates = []
        for share in (0.1, 0.25, 0.5):
            budget = max(int(total * share), 1)
            lru = byte_hit_rate(accesses, budget, "lru", Path(scratch) / "sim")
            cost = byte_hit_rate(accesses, budget, "cost", Path(scratch) / "sim")
            rates.append((share, budget, lru, cost))
    status = scheduled["status"]
    lines = [
        f"Trace: {args.conversations} LoCoMo conversations (from #{args.first}) x "
        f"{args.questions} questions x "
        f"{args.repeats} repeats + {args.memtrack} MEMTRACK-style timeline(s): "
        f"{scheduled['asks']} generations, k={args.k}, {args.tokens} new token(s) each, a "
        f"pass every {args.tick_every}. Model: the default runtime (SmolLM2-135M-Instruct, "
        f"float32) on {'CUDA' if scheduled['accelerator'] else 'the CPU'}; GPU tier "
        f"{'exercised' if scheduled['accelerator'] else 'not exercised (no GPU on this machine)'}.",
        "",
        "| | with scheduler | recompute | ratio |",
        "|---|---:|---:|---:|",
        f"| TTFT p50, all (ms) | {p50(overall[0]):.1f} | {p50(overall[1]):.1f} | "
        f"{p50(overall[1]) / max(p50(overall[0]), 1e-9):.2f}x |",
        f"| TTFT p50, warm half (ms) | {p50(warm[0]):.1f} | {p50(warm[1]):.1f} | "
        f"{p50(warm[1]) / max(p50(warm[0]), 1e-9):.2f}x |",
        f"| TTFT p50, 3rd and later asks of a question (ms) | {p50(repeated[0]):.1f} | "
        f"{p50(repeated[1]):.1f} | {p50(repeated[1]) / max(p50(repeated[0]), 1e-9):.2f}x |",
        f"| TTFT p50, the generations served from a cache (ms; recompute: the same asks) | "
        f"{p50(from_cache[0]):.1f} | {p50(from_cache[1]):.1f} | "
        f"{p50(from_cache[1]) / max(p50(from_cache[0]), 1e-9):.2f}x |",
        f"| generations served from a prefix cache | {hits} of {scheduled['asks']} | 0 | |",
        f"| identical tokens in both runs | {'yes' if same else 'NO'} | | |",
        f"| caches built / KV bytes written | {status.promotions} / {built:,} | 0 | |",
        f"| KV bytes written per hit | {built / max(hits, 1):,.0f} | | |",
        f"| scheduler decision time p99 (ms) | {status.decision_p99_ms:.2f} | | |",
        "",
        "Byte hit rate of the RAM tier on the scheduled run's cache accesses (builds enter RAM; "
        "a hit not in RAM is read from disk):",
        "",
        "| RAM budget (share of cache bytes) | LRU | cost-aware | difference (points) |",
        "|---:|---:|---:|---:|",
    ]
    for share, budget, lru, cost in rates:
        lines.append(
            f"| {share:.0%} ({budget:,} B) | {lru:.3f} | {cost:.3f} | {100 * (cost - lru):+.1f} |"
        )
    table = "\n".join(lines)
    print(table)
    if args.record:
        record(args.record, "Scheduler: prefix caching and eviction", table, section=SECTION)


if __name__ == "__main__":
    main()
