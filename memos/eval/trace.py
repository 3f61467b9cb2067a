"""Replaying a trace of agent operations against memos, for the scheduler.

A trace is JSONL, one operation per line:

    {"cube": "work", "generate": "Where does Mira live?", "k": 5, "max_new_tokens": 8}
    {"cube": "work", "search": "Mira", "k": 5}
    {"cube": "work", "add": "Mira moved to Oslo."}
    {"cube": "work", "update": 12, "content": "Mira lives in Oslo."}
    {"cube": "work", "forget": 12, "hard": true}
    {"tick": true}

`replay` runs it through the public SDK, lets the scheduler take a pass every
`tick_every` operations, and reports what happened: generations, cache hits, time to first
token, and every generation that used a cache whose sources had changed (there must be
none).
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from memos.errors import InvalidInputError, NotFoundError
from memos.models import Record
from memos.mos import MemOS

OPERATIONS = ("generate", "search", "add", "update", "forget", "tick")


@dataclass(frozen=True, slots=True)
class TraceReport(Record):
    """What a replay did and measured."""

    operations: int
    generations: int
    cache_hits: int
    ttft_p50_ms: float
    ttft_warm_p50_ms: float
    stale_served: int
    ticks: int
    status: dict[str, Any] = field(default_factory=dict)


def read_trace(path: Path) -> Iterator[dict[str, Any]]:
    """The operations of a JSONL trace file, each checked.

    Raises:
        InvalidInputError: a line is not JSON or names no known operation.
        NotFoundError: no such file.
    """
    if not path.is_file():
        raise NotFoundError(f"no trace file at {path}")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise InvalidInputError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise InvalidInputError(f"cannot read {path}: {exc.strerror}") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InvalidInputError(f"{path}:{number}: not JSON ({exc.msg})") from None
        if not isinstance(record, dict) or not any(op in record for op in OPERATIONS):
            raise InvalidInputError(
                f"{path}:{number}: an operation is one of {', '.join(OPERATIONS)}"
            )
        yield record


def replay(
    mos: MemOS, operations: Iterable[Mapping[str, Any]], *, tick_every: int = 10
) -> TraceReport:
    """Run a trace through the SDK (see the module docstring).

    Raises:
        InvalidInputError: a malformed operation (the ones before it have run).
        NotFoundError: a cube or item it names does not exist.
    """
    if tick_every < 0:
        raise InvalidInputError("tick_every must be 0 (never) or more")
    ttft: list[float] = []
    warm: list[float] = []
    counts = {"operations": 0, "generations": 0, "hits": 0, "stale": 0, "ticks": 0}
    for operation in operations:
        counts["operations"] += 1
        if operation.get("tick"):
            mos.scheduler.tick()
            counts["ticks"] += 1
            continue
        cube = mos.cube(str(operation.get("cube")))
        k = int(operation.get("k", 5))
        if "generate" in operation:
            tokens = int(operation.get("max_new_tokens", 8))
            made = cube.generate(str(operation["generate"]), retrieve=k, max_new_tokens=tokens)
            counts["generations"] += 1
            ttft.append(made.ttft_s)
            if made.activation_id is not None:
                counts["hits"] += 1
                warm.append(made.ttft_s)
                cache = cube.get(made.activation_id)
                if cache.stale or any(
                    cube.get(int(d["id"])).version != int(d["version"]) for d in cache.derived_from
                ):
                    counts["stale"] += 1
        elif "search" in operation:
            cube.search(str(operation["search"]), k=k)
        elif "add" in operation:
            cube.add(str(operation["add"]))
        elif "update" in operation:
            cube.update(operation["update"], operation.get("content"))
        elif "forget" in operation:
            cube.forget(operation["forget"], hard=bool(operation.get("hard", False)))
        if tick_every and counts["operations"] % tick_every == 0:
            mos.scheduler.tick()
            counts["ticks"] += 1
    return TraceReport(
        operations=counts["operations"],
        generations=counts["generations"],
        cache_hits=counts["hits"],
        ttft_p50_ms=round(1000 * statistics.median(ttft), 2) if ttft else 0.0,
        ttft_warm_p50_ms=round(1000 * statistics.median(warm), 2) if warm else 0.0,
        stale_served=counts["stale"],
        ticks=counts["ticks"],
        status=mos.scheduler.status().to_dict(),
    )
