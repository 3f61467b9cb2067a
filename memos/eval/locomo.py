"""LoCoMo evidence recall: can memos find the turns that answer each question?

Latency per query includes embedding the query (for every system that uses vectors).

Each conversation goes into its own cube through the public SDK and nothing else: one
`cube.add_conversation` call per session (the turns with their speakers and `dia_id`s, the
image caption appended to a turn's text where there is one, `at` = the session's date), so
the structure the benchmark profits from (context, `next` links, authors, times,
importance) is memos' default, not this script's. Every question of categories 1-4 is then
asked; recall@k is the share of its evidence turns among the top k, averaged over questions
that have evidence. The same run measures plain BM25 and plain vector search over the same
turn texts, and (optionally) memos with single stages switched off. `ingest_plain` is the
baseline a user gets from `cube.add` per turn.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import sqlite3
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from memos.cube import MemCube
from memos.errors import InvalidInputError, NotFoundError
from memos.mos import MemOS
from memos.progress import progress
from memos.text import query_terms

CATEGORIES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop"}
# The benchmark sits beside the checkout (../shared/data), never inside it;
# MEMOS_LOCOMO_DATA points elsewhere.
DEFAULT_DATA = Path(
    os.environ.get("MEMOS_LOCOMO_DATA")
    or Path(__file__).resolve().parents[2].parent / "shared" / "data" / "locomo10.json"
)
_DIA = re.compile(r"D:?(\d+):(\d+)")
# Stage switches for the ablation; the access prior is off in every memos run because
# access counts would carry over from one pass to the next.
ABLATIONS: dict[str, dict[str, float]] = {
    "memos": {},
    "memos: vector only": {"lexical": 0, "author": 0, "graph": 0},
    "memos: lexical only": {"vector": 0, "author": 0, "graph": 0},
    "memos: fusion": {"author": 0, "graph": 0},
    "memos: fusion + author": {"graph": 0},
    "memos: fusion + graph": {"author": 0},
}


@dataclass(frozen=True, slots=True)
class Turn:
    dia_id: str
    speaker: str
    text: str
    session: int
    when: datetime


@dataclass(frozen=True, slots=True)
class Question:
    text: str
    evidence: tuple[str, ...]
    category: int


@dataclass(frozen=True, slots=True)
class Conversation:
    sample_id: str
    turns: tuple[Turn, ...]
    questions: tuple[Question, ...]


def normalise_evidence(raw: Iterable[object]) -> tuple[str, ...]:
    """Evidence ids as `D<session>:<turn>`; repairs the malformed ids in the release
    ('D8:6; D9:17', 'D:11:26', 'D30:05', space-joined lists) and drops 'D'."""
    out: list[str] = []
    for entry in raw:
        for part in re.split(r"[;,\s]+", str(entry).strip()):
            match = _DIA.fullmatch(part)
            if match:
                normal = f"D{int(match.group(1))}:{int(match.group(2))}"
                if normal not in out:
                    out.append(normal)
    return tuple(out)


def parse_session_time(text: str) -> datetime:
    """'1:56 pm on 8 May, 2023' -> aware UTC datetime (LoCoMo gives no zone).

    Raises:
        InvalidInputError: the text is not in LoCoMo's format.
    """
    try:
        return datetime.strptime(text.strip(), "%I:%M %p on %d %B, %Y").replace(tzinfo=UTC)
    except ValueError:
        raise InvalidInputError(f"unrecognised LoCoMo session time {text!r}") from None


def load(path: Path) -> list[Conversation]:
    """Parse locomo10.json.

    Raises:
        NotFoundError: no file at `path`.
        InvalidInputError: the file is not LoCoMo's JSON.
    """
    if not path.is_file():
        raise NotFoundError(
            f"no LoCoMo data at {path}; pass --data PATH to locomo10.json "
            "(the public release of snap-research/locomo)"
        )
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return [_conversation(entry) for entry in raw]
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidInputError(f"{path} is not LoCoMo data: {exc}") from None


def _conversation(entry: dict[str, Any]) -> Conversation:
    body = entry["conversation"]
    turns: list[Turn] = []
    session = 1
    while f"session_{session}" in body:
        when = parse_session_time(body[f"session_{session}_date_time"])
        for turn in body[f"session_{session}"]:
            text = turn["text"]
            if turn.get("blip_caption"):
                text = f"{text} [image: {turn['blip_caption']}]"
            turns.append(Turn(turn["dia_id"], turn["speaker"], text, session, when))
        session += 1
    questions = tuple(
        Question(str(q["question"]), normalise_evidence(q.get("evidence", [])), int(q["category"]))
        for q in entry["qa"]
        if int(q["category"]) in CATEGORIES
    )
    return Conversation(str(entry.get("sample_id", len(turns))), tuple(turns), questions)


def ingest(mos: MemOS, conversation: Conversation, name: str) -> MemCube:
    """One cube per conversation, one `cube.add_conversation` call per session: exactly
    what a user of the SDK does with a chat log (see `memos.agents.conversation`)."""
    cube = mos.create_cube(name)
    for session, turns in itertools.groupby(conversation.turns, key=lambda t: t.session):
        held = list(turns)
        cube.add_conversation(
            [{"speaker": t.speaker, "text": t.text, "id": t.dia_id} for t in held],
            session=f"session_{session}",
            at=held[0].when,
            source="locomo",
        )
    return cube


def ingest_plain(mos: MemOS, conversation: Conversation, name: str) -> MemCube:
    """The baseline: `cube.add` per turn with the speaker as author and the session time
    as `valid_from` (and the `dia_id`, for scoring), nothing else."""
    cube = mos.create_cube(name)
    for turn in conversation.turns:
        cube.add(turn.text, author=turn.speaker, valid_from=turn.when, source_ref=turn.dia_id)
    return cube


Ranker = Callable[[Question], list[str]]


@dataclass
class SystemResult:
    """Recall and latency of one retrieval system over every question."""

    name: str
    recalls: dict[int, list[tuple[int, float]]] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)

    def record(self, question: Question, ranked: Sequence[str], ks: Sequence[int]) -> None:
        wanted = set(question.evidence)
        for k in ks:
            found = len(wanted & set(ranked[:k])) / len(wanted)
            self.recalls.setdefault(k, []).append((question.category, found))

    def summary(self) -> dict[str, Any]:
        overall = {
            f"@{k}": statistics.fmean(v for _, v in rows) for k, rows in self.recalls.items()
        }
        by_category = {
            CATEGORIES[c]: {
                f"@{k}": statistics.fmean(v for cat, v in rows if cat == c)
                for k, rows in self.recalls.items()
            }
            for c in CATEGORIES
            if any(cat == c for cat, _ in next(iter(self.recalls.values()), []))
        }
        ordered = sorted(self.latencies_ms)
        return {
            "system": self.name,
            "recall": overall,
            "by_category": by_category,
            "latency_ms": {
                "p50": statistics.median(ordered),
                "p95": ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))],
            },
        }


class PlainBm25:
    """Baseline: BM25 (SQLite FTS5, porter) over the bare turn texts."""

    def __init__(self, conversation: Conversation) -> None:
        self.ids = [t.dia_id for t in conversation.turns]
        self.db = sqlite3.connect(":memory:")
        self.db.execute("CREATE VIRTUAL TABLE f USING fts5(body, tokenize='porter unicode61')")
        self.db.executemany(
            "INSERT INTO f (rowid, body) VALUES (?, ?)",
            [(i, t.text) for i, t in enumerate(conversation.turns)],
        )

    def __call__(self, question: Question, k: int) -> list[str]:
        terms = query_terms(question.text)
        if not terms:
            return []
        rows = self.db.execute(
            "SELECT rowid FROM f WHERE f MATCH ? ORDER BY bm25(f) LIMIT ?",
            (" OR ".join(f'"{t}"' for t in terms), k),
        )
        return [self.ids[r[0]] for r in rows]


class PlainVector:
    """Baseline: exact cosine over embeddings of the bare turn texts."""

    def __init__(self, mos: MemOS, conversation: Conversation) -> None:
        self.ids = [t.dia_id for t in conversation.turns]
        self.embedder = mos.embedder
        self.matrix = mos.embedder.embed_documents([t.text for t in conversation.turns])

    def __call__(self, question: Question, k: int) -> list[str]:
        scores = self.matrix @ self.embedder.embed_queries([question.text])[0]
        return [self.ids[i] for i in np.argsort(-scores, kind="stable")[:k]]


def evaluate(
    mos: MemOS,
    conversations: Sequence[Conversation],
    *,
    ks: Sequence[int] = (1, 5, 10, 25),
    ablation: bool = False,
    baselines: bool = True,
) -> dict[str, Any]:
    """Ingest, ask, and score; returns a JSON-ready report."""
    depth = max(ks)
    systems = ABLATIONS if ablation else {"memos": ABLATIONS["memos"]}
    results = {name: SystemResult(name) for name in systems}
    if baselines:
        results.update({n: SystemResult(n) for n in ("plain BM25", "plain vector")})
    asked = skipped = 0
    ingest_s = 0.0
    for number, conversation in enumerate(
        progress(conversations, desc="LoCoMo conversations", total=len(conversations))
    ):
        started = time.perf_counter()
        cube = ingest(mos, conversation, f"locomo-{number}-{conversation.sample_id}")
        ingest_s += time.perf_counter() - started
        runners: dict[str, Callable[[Question, int], list[str]]] = {
            name: _memos_runner(cube, {**weights, "access": 0}) for name, weights in systems.items()
        }
        if baselines:
            runners["plain BM25"] = PlainBm25(conversation)
            runners["plain vector"] = PlainVector(mos, conversation)
        for question in conversation.questions:
            if not question.evidence:
                skipped += 1
                continue
            asked += 1
            # Embed once up front (the embedder caches queries) and charge the cost to
            # every system that uses it, so no system profits from another's cache.
            started = time.perf_counter()
            mos.embedder.embed_queries([question.text])
            embed_ms = 1000 * (time.perf_counter() - started)
            for name, run in runners.items():
                started = time.perf_counter()
                ranked = run(question, depth)
                spent = 1000 * (time.perf_counter() - started)
                if name != "plain BM25":
                    spent += embed_ms
                results[name].latencies_ms.append(spent)
                results[name].record(question, ranked, ks)
    return {
        "questions": asked,
        "skipped_without_evidence": skipped,
        "conversations": len(conversations),
        "turns": sum(len(c.turns) for c in conversations),
        "ingest_s": ingest_s,
        "ks": list(ks),
        "systems": [r.summary() for r in results.values()],
    }


def _memos_runner(cube: MemCube, weights: dict[str, float]) -> Callable[[Question, int], list[str]]:
    def run(question: Question, k: int) -> list[str]:
        hits = cube.search(question.text, k=k, weights=weights)
        return [h.item.source_ref or "" for h in hits]

    return run


def markdown(report: dict[str, Any]) -> str:
    """The report as Markdown tables: overall recall, per category @10, latency."""
    ks = report["ks"]
    lines = [
        f"{report['questions']} questions (categories 1-4) over {report['turns']} turns in "
        f"{report['conversations']} conversations; {report['skipped_without_evidence']} "
        "without evidence skipped.",
        "",
        "| system | " + " | ".join(f"R@{k}" for k in ks) + " | "
        + " | ".join(f"{name} R@10" for name in CATEGORIES.values())
        + " | p50 ms | p95 ms |",
        "|---|" + "---:|" * (len(ks) + len(CATEGORIES) + 2),
    ]  # fmt: skip
    for system in report["systems"]:
        recall = " | ".join(f"{system['recall'][f'@{k}']:.3f}" for k in ks)
        by_cat = " | ".join(
            f"{system['by_category'][name]['@10']:.3f}"
            if "@10" in system["by_category"].get(name, {})
            else "-"
            for name in CATEGORIES.values()
        )
        latency = system["latency_ms"]
        lines.append(
            f"| {system['system']} | {recall} | {by_cat} | {latency['p50']:.1f} | "
            f"{latency['p95']:.1f} |"
        )
    return "\n".join(lines)
