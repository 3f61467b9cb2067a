"""LoCoMo evidence recall with Zettelkasten notes: do constructed, linked notes find the
evidence turns of a question better than the plain turn store?

Every conversation is stored three ways, one memory per turn each time:

- turns: the bare turn store (text, speaker as author, session time, dia_id);
- turns + context + next: what `memos eval locomo` ingests (the previous turn as context,
  `next` links between consecutive turns of a session);
- notes: every turn added in order with `cube.note` (offline construction, linking and
  evolution, no LLM), then measured with graph expansion on and off, and again after
  adding the same `next` links.

Recall@k is the share of a question's evidence turns among the top k (categories 1-4).
"Linked evidence" is the share of multi-evidence questions with at least one pair of
their evidence turns joined directly by a note link: how often the links the agent made
are the hops a multi-hop question needs.

    python bench/notes.py [--conversations N] [--min-similarity 0.3] [--threads 1]
        [--record docs/BENCHMARKS.md]
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from common import record  # bench/common.py

import memos
from memos.agents.zettelkasten import NoteSettings
from memos.cube import MemCube
from memos.eval import locomo
from memos.progress import progress

KS = (1, 5, 10, 25)
NO_ACCESS = {"access": 0.0}  # access counts would carry over between systems


def bare_turns(mos: memos.MemOS, conversation: locomo.Conversation, name: str) -> MemCube:
    cube = mos.create_cube(name)
    cube.add_many(
        {"content": t.text, "type": "message", "author": t.speaker, "source": "locomo",
         "source_ref": t.dia_id, "valid_from": t.when}
        for t in conversation.turns
    )  # fmt: skip
    return cube


def notes(
    mos: memos.MemOS, conversation: locomo.Conversation, name: str, settings: NoteSettings
) -> tuple[MemCube, dict[str, float]]:
    cube = mos.create_cube(name)
    links = evolved = 0
    started = time.perf_counter()
    for turn in conversation.turns:
        made = cube.note(
            turn.text, agent=turn.speaker, settings=settings, source="locomo",
            source_ref=turn.dia_id, valid_from=turn.when,
        )  # fmt: skip
        links += len(made.links)
        evolved += len(made.evolved)
    spent = time.perf_counter() - started
    count = len(conversation.turns)
    return cube, {"ms_per_note": 1000 * spent / count, "links": links, "evolved": evolved,
                  "notes": count}  # fmt: skip


def add_next_links(cube: MemCube, conversation: locomo.Conversation) -> None:
    by_ref = {i.source_ref: i.id for i in cube.items(limit=10_000)}
    turns = conversation.turns
    cube.link_many(
        {"src": by_ref[a.dia_id], "dst": by_ref[b.dia_id], "kind": "next"}
        for a, b in itertools.pairwise(turns)
        if a.session == b.session
    )


def linked_evidence(cube: MemCube, conversation: locomo.Conversation) -> tuple[int, int]:
    """(multi-evidence questions with two evidence turns linked by a note link, all
    multi-evidence questions)."""
    refs = {i.id: i.source_ref for i in cube.items(limit=10_000)}
    pairs: set[frozenset[str | None]] = set()
    for node in refs:
        for link in cube.links(node):
            if link.kind != "next":
                pairs.add(frozenset((refs.get(link.src_id), refs.get(link.dst_id))))
    multi = [q for q in conversation.questions if len(q.evidence) > 1]
    joined = sum(
        any(frozenset((a, b)) in pairs for a in q.evidence for b in q.evidence if a < b)
        for q in multi
    )
    return joined, len(multi)


def runner(cube: MemCube, weights: dict[str, float]) -> Callable[[locomo.Question], list[str]]:
    def run(question: locomo.Question) -> list[str]:
        hits = cube.search(question.text, k=max(KS), weights={**NO_ACCESS, **weights})
        return [h.item.source_ref or "" for h in hits]

    return run


def ask_all(
    results: dict[str, locomo.SystemResult],
    name: str,
    run: Callable[[locomo.Question], list[str]],
    conversation: locomo.Conversation,
) -> None:
    result = results.setdefault(name, locomo.SystemResult(name))
    for question in conversation.questions:
        if question.evidence:
            started = time.perf_counter()
            ranked = run(question)
            result.latencies_ms.append(1000 * (time.perf_counter() - started))
            result.record(question, ranked, KS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=locomo.DEFAULT_DATA)
    parser.add_argument("--conversations", type=int, default=None)
    parser.add_argument("--min-similarity", type=float, default=NoteSettings().min_similarity)
    parser.add_argument("--embedder", default=None, help="minilm (default) or hash")
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    parser.add_argument("--record", type=Path)
    args = parser.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    data = locomo.load(args.data)[: args.conversations]
    settings = NoteSettings(min_similarity=args.min_similarity)
    results: dict[str, locomo.SystemResult] = {}
    stats: list[dict[str, float]] = []
    joined = multi = 0
    with (
        tempfile.TemporaryDirectory(prefix="memos-notes-") as home,
        memos.open(home, user="eval", embedder=args.embedder) as mos,
    ):
        for number, conversation in enumerate(progress(data, desc="conversations")):
            tag = f"{number}-{conversation.sample_id}"
            plain = bare_turns(mos, conversation, f"turns-{tag}")
            ask_all(results, "turns", runner(plain, {}), conversation)
            ingested = locomo.ingest(mos, conversation, f"ingested-{tag}")
            ask_all(results, "turns + context + next", runner(ingested, {}), conversation)
            noted, made = notes(mos, conversation, f"notes-{tag}", settings)
            stats.append(made)
            ask_all(results, "notes", runner(noted, {}), conversation)
            ask_all(results, "notes, graph off", runner(noted, {"graph": 0}), conversation)
            pair = linked_evidence(noted, conversation)
            joined, multi = joined + pair[0], multi + pair[1]
            add_next_links(noted, conversation)
            ask_all(results, "notes + next", runner(noted, {}), conversation)
            # Runs take a while; say how far it got even where no progress bar shows.
            print(f"conversation {number + 1}/{len(data)} done", file=sys.stderr, flush=True)
    report: dict[str, Any] = {
        "questions": sum(1 for c in data for q in c.questions if q.evidence),
        "skipped_without_evidence": sum(1 for c in data for q in c.questions if not q.evidence),
        "conversations": len(data),
        "turns": sum(len(c.turns) for c in data),
        "ks": list(KS),
        "systems": [r.summary() for r in results.values()],
    }
    notes_made = sum(s["notes"] for s in stats)
    summary = (
        f"Notes (offline, min_similarity {args.min_similarity}): "
        f"{statistics.fmean(s['ms_per_note'] for s in stats):.0f} ms per note, "
        f"{sum(s['links'] for s in stats) / notes_made:.2f} links and "
        f"{sum(s['evolved'] for s in stats) / notes_made:.2f} evolutions per note; "
        f"linked evidence {joined}/{multi} multi-evidence questions "
        f"({joined / max(multi, 1):.1%})."
    )
    table = locomo.markdown(report) + "\n\n" + summary
    print(table)
    if args.record:
        record(
            args.record,
            "LoCoMo evidence recall: Zettelkasten notes vs the turn store",
            table,
            section="Zettelkasten notes on LoCoMo (`bench/notes.py`)",
            intro="Evidence recall of offline notes and links against the turn store.",
        )


if __name__ == "__main__":
    main()
