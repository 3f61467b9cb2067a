"""MemReader benchmark: extraction quality and ingest throughput on a synthetic,
MEMTRACK-like stream (Slack, Linear and Git events of a small team, interleaved, with
state changes and their ends ("ENG-7 is no longer assigned to Dana"), chatter, hedges,
negations, reposts and events that arrive out of order).

Quality is measured against the generator's ground truth: every state change it wrote
(ticket status and assignee, PR merged / reverted, launch dates, where people live).

* extraction precision / recall: the offline extractor's keyed states per message against
  the true ones (a hedge, question or negation that yields a state counts against it);
* final state: the cube's current item per key after ingest holds the true last value;
* as_of: at random past times, `search(as_of=...)` on a key returns the value true then;
* redundancy: live facts, preferences and states whose text repeats another live one's
  (events with the same words on different days are different events).

Throughput is messages per second through `cube.ingest` (offline, with the hash embedder
to isolate the reader's cost, and with MiniLM), and with SmolLM2-135M through
`LocalClient` on a short prefix of the stream.

Long messages (`--long`): what one pasted message costs the offline reader (a run-on
sentence, a log, a JSON blob, a long email), in milliseconds per 1,000 characters against
the stream's ordinary messages in the same run: a ratio near 1 means the cost grows with
the text, not with its square.

    python bench/reader.py [--messages 1000] [--smollm2 16] [--long] [--record docs/BENCHMARKS.md]
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from common import record  # bench/common.py: scripts run as `python bench/reader.py`

import memos
from memos.agents.candidates import State
from memos.agents.events import utterances
from memos.agents.extract import extract
from memos.agents.reader import MemReader, ReaderSettings
from memos.agents.similarity import normalized
from memos.config import load_settings
from memos.testing import HashEmbedder, single_thread

TEAM = ["alice", "bob", "carol", "dan", "erin", "farah", "gus", "hana"]
CITIES = ["Lisbon", "Porto", "Oslo", "Bergen", "Berlin", "Madrid", "Dublin", "Vienna"]
FLOW = ["Todo", "In Progress", "In Review", "Blocked", "Done"]
EVENTS = ["launch", "beta release", "offsite", "design review", "migration"]
START = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)


@dataclass
class Stream:
    records: list[dict[str, Any]] = field(default_factory=list)
    # (message id, state key, value key, time) for every true state statement
    truth: list[tuple[str, str, str, datetime]] = field(default_factory=list)


def _day(moment: datetime) -> str:
    return f"{moment:%B} {moment.day}"


def generate(count: int, seed: int) -> Stream:
    """A team's interleaved feed with its ground truth (see the module doc)."""
    rng = random.Random(seed)
    out = Stream()
    now = START
    tickets: dict[str, int] = {}
    cities = {p: rng.choice(CITIES) for p in TEAM}
    prs: list[int] = []
    slack: list[dict[str, Any]] = []
    said: dict[str, list[tuple[str, str, str, bool]]] = {}  # ref -> its states, for reposts
    assignees: dict[str, str] = {}

    def emit(platform: str, actor: str, text: str, **extra: Any) -> str:
        ref = f"{platform}-{len(out.records)}"
        out.records.append({"platform": platform, "actor": actor, "id": ref,
                            "timestamp": now.isoformat(), "text": text, **extra})  # fmt: skip
        if platform == "slack":
            slack.append(out.records[-1])
        return ref

    def truth(ref: str, subject: str, attribute: str, value: str, ended: bool = False) -> None:
        state = State(subject, attribute, value, said_at=now, ended=ended)
        out.truth.append((ref, state.key, state.value_key, now))
        said.setdefault(ref, []).append((subject, attribute, value, ended))

    while len(out.records) < count:
        now += timedelta(minutes=rng.randint(5, 240))
        actor = rng.choice(TEAM)
        roll = rng.random()
        if roll < 0.30:  # a ticket moves along its flow
            ticket = f"ENG-{rng.randint(1, 40)}"
            step = tickets.get(ticket, -1)
            if step + 1 >= len(FLOW):
                continue
            old, new = (FLOW[step] if step >= 0 else None), FLOW[step + 1]
            tickets[ticket] = step + 1
            form = rng.randrange(4) if old else 4
            if form == 0:
                ref = emit("linear", actor, "Status changed", issue=ticket, field="status",
                           **{"from": old, "to": new})  # fmt: skip
            elif form == 1:
                ref = emit("linear", actor, f"Moved {ticket} from {old} to {new}", issue=ticket)
            elif form == 2:
                ref = emit("linear", actor, f"Status: {old} -> {new}", issue=ticket)
            elif form == 3:
                ref = emit("slack", actor, f"{ticket} is now {new.lower()}.", channel="#eng")
            else:
                ref = emit("linear", actor, f"Created {ticket}. Status: {new}", issue=ticket)
            truth(ref, ticket, "status", new)
        elif roll < 0.38:  # assignment, and sometimes its end
            ticket, person = f"ENG-{rng.randint(1, 40)}", rng.choice(TEAM)
            if ticket in assignees and rng.random() < 0.25:
                gone = assignees.pop(ticket)
                ref = emit("slack", actor, f"{ticket} is no longer assigned to {gone.title()}.",
                           channel="#eng")  # fmt: skip
                truth(ref, ticket, "assignee", gone.title(), ended=True)
                continue
            assignees[ticket] = person
            if rng.random() < 0.5:
                ref = emit("linear", actor, f"Assigned {ticket} to @{person}", issue=ticket)
            else:
                actor = person
                ref = emit("slack", actor, f"I'll take {ticket}.", channel="#eng")
            truth(ref, ticket, "assignee", person)
        elif roll < 0.46:  # a date slips
            event = rng.choice(EVENTS)
            when = now + timedelta(days=rng.randint(5, 40))
            text = rng.choice([f"Heads up: the {event} slipped to {_day(when)}.",
                               f"The {event} is on {_day(when)}.",
                               f"We pushed the {event} to {_day(when)}."])  # fmt: skip
            ref = emit("slack", actor, text, channel="#eng")
            truth(ref, event, "date", _day(when))
        elif roll < 0.52:  # someone moves
            person = rng.choice(TEAM)
            city = rng.choice([c for c in CITIES if c != cities[person]])
            cities[person] = city
            if rng.random() < 0.5:
                ref = emit("slack", person, f"I moved to {city} last week!", channel="#random")
            else:
                ref = emit("slack", actor, f"{person.title()} now lives in {city}.")
            truth(ref, person.title(), "location", city)
        elif roll < 0.58:  # pull requests merge and are sometimes reverted
            if prs and rng.random() < 0.3:
                number = prs.pop(rng.randrange(len(prs)))
                ref = emit("git", actor, f'Revert "Merge pull request #{number} from '
                           f'{actor}/fix-{number}"')  # fmt: skip
                truth(ref, f"PR #{number}", "status", "reverted")
            else:
                number = 100 + len(out.records)
                prs.append(number)
                ref = emit("git", actor, f"Merge pull request #{number} from {actor}/fix-"
                           f"{number}\n\nFix flaky retry in the sync worker")  # fmt: skip
                truth(ref, f"PR #{number}", "status", "merged")
        elif roll < 0.66 and slack:  # a repost of an earlier message
            old = rng.choice(slack)
            ref = emit("slack", old["actor"], old["text"], channel="#eng")
            # ("January 21" said again in April means next year's.)
            for subject, attribute, value, ended in said.get(old["id"], []):
                truth(ref, subject, attribute, value, ended)
        else:  # chatter, questions, hedges, negations, plain facts: no state
            ticket, event = f"ENG-{rng.randint(1, 40)}", rng.choice(EVENTS)
            emit("slack", actor, rng.choice([
                "lgtm", "thanks!", f"Can someone look at {ticket}?",
                f"We might move the {event} to {_day(now + timedelta(days=9))}.",
                f"{ticket} is not done yet.", "Standup notes are in the doc.",
                f"The staging cluster runs in {rng.choice(CITIES)}.",
                f"The {event} checklist has {rng.randint(5, 30)} items.",
            ]), channel="#eng")  # fmt: skip
    # 5% of messages reach memos after the next one (out of order, times unchanged).
    for index in range(len(out.records) - 1):
        if rng.random() < 0.05:
            out.records[index], out.records[index + 1] = out.records[index + 1], out.records[index]
    return out


def extraction_quality(stream: Stream) -> tuple[float, float]:
    wanted = {(ref, key, value) for ref, key, value, _ in stream.truth}
    found = set()
    for said in utterances(stream.records):
        for candidate in extract(said)[0]:
            if candidate.state is not None:
                found.add((said.ref, candidate.state.key, candidate.state.value_key))
    hits = len(found & wanted)
    return hits / max(len(found), 1), hits / max(len(wanted), 1)


def cube_quality(cube: memos.MemCube, stream: Stream, rng: random.Random) -> dict[str, float]:
    history: dict[str, list[tuple[datetime, str]]] = {}
    for _, key, value, moment in stream.truth:
        history.setdefault(key, []).append((moment, value))
    right = 0
    for key, changes in history.items():
        last = max(changes)[1]
        right += _value_at(cube, key, None) == last
    checked = correct = 0
    for key, changes in rng.sample(sorted(history.items()), min(60, len(history))):
        changes.sort()
        moment = changes[0][0] + (changes[-1][0] - changes[0][0]) * rng.random()
        expected = [v for t, v in changes if t <= moment][-1]
        checked += 1
        correct += _value_at(cube, key, moment) == expected
    live = _all(cube)
    # Events with the same words on different days are different events; facts are not.
    texts = Counter(normalized(i.content or "") for i in live if i.type != "event")
    return {
        "final": right / len(history),
        "as_of": correct / max(checked, 1),
        "repeats": sum(c - 1 for c in texts.values()),
        "live": len(live),
        "keys": len(history),
    }


def _value_at(cube: memos.MemCube, key: str, moment: datetime | None) -> str | None:
    subject, attribute = key.split("/")
    hits = cube.search(f"{subject} {attribute}", k=20, tags=[subject, attribute], as_of=moment)
    values = [h.item.attributes.get("value_key") for h in hits
              if h.item.attributes.get("state_key") == key]  # fmt: skip
    return str(values[0]) if len(values) == 1 else None


def _all(cube: memos.MemCube) -> list[memos.MemoryItem]:
    found, offset = [], 0
    while batch := cube.items(status=["activated"], limit=1000, offset=offset):
        found += [i for i in batch if i.superseded_by is None]
        offset += len(batch)
    return found


def ingest_run(home: Path, embedder: Any, **options: Any) -> tuple[memos.MemOS, memos.MemCube]:
    mos = memos.open(home, user="bench", embedder=embedder, **options)
    return mos, mos.create_cube("team")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--smollm2", type=int, default=16, help="messages for the model run")
    parser.add_argument("--models-dir", type=Path, default=None)
    parser.add_argument("--record", type=Path, default=None)
    parser.add_argument("--long", action="store_true", help="time long messages only")
    args = parser.parse_args()
    stream = generate(args.messages, args.seed)
    if args.long:
        body = "\n".join(long_run(stream))
        print(body)
        if args.record:
            title = "MemReader: long messages"
            record(args.record, title, body, section="MemReader (`bench/reader.py`)")
        return
    precision, recall = extraction_quality(stream)
    rows = []
    for name in ("hash", "minilm"):
        with tempfile.TemporaryDirectory() as home, single_thread():
            embedder = HashEmbedder(dim=384) if name == "hash" else name
            mos, cube = ingest_run(Path(home), embedder)
            started = time.perf_counter()
            report = cube.ingest(stream.records)
            seconds = time.perf_counter() - started
            quality = cube_quality(cube, stream, random.Random(args.seed))
            rows.append((name, report, seconds, quality))
            mos.close()
    lines = [
        f"Stream: {len(stream.records)} messages (seed {args.seed}), {len(stream.truth)} true "
        f"state statements over {rows[0][3]['keys']:.0f} keys.",
        "",
        f"Offline extractor, keyed states per message: precision {precision:.3f}, recall "
        f"{recall:.3f}.",
        "",
        "| reader | embedder | messages/s | added | updated | superseded | skipped | final state "
        "right | as_of right | repeated live facts |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, report, seconds, quality in rows:
        lines.append(
            f"| offline | {name} | {len(stream.records) / seconds:,.0f} | {len(report.added)} | "
            f"{len(report.updated)} | {len(report.superseded)} | {len(report.skipped)} | "
            f"{quality['final']:.3f} | {quality['as_of']:.3f} | {quality['repeats']:.0f} |"
        )
    if args.smollm2:
        lines += smollm2_run(stream, args.smollm2, args.models_dir)
    body = "\n".join(lines)
    print(body)
    if args.record:
        title = "MemReader: extraction, reconciliation, throughput"
        record(args.record, title, body, section="MemReader (`bench/reader.py`)")


def long_messages(seed: int) -> dict[str, str]:
    """Pasted messages of the shapes users send: no sentence ends for thousands of
    characters, or hundreds of sentences in one message."""
    rng = random.Random(seed)
    words = [
        "the", "team", "said", "that", "budget", "owner", "release", "we", "moved", "rollout",
        "date", "to", "for", "from", "is", "was", "status", "vendor", "contract", "price",
        "seats", "after", "before", "next", "week", "Monday",
    ]  # fmt: skip

    def run_on(count: int) -> str:
        picks = [rng.choice(words) for _ in range(count)]
        return " ".join(p if rng.random() > 0.05 else str(rng.randint(1, 9999)) for p in picks)

    return {
        "run-on sentence, 2,000 chars": run_on(330),
        "numbers, 2,000 chars": " ".join(str(i) for i in range(500))[:2000],
        "arrow chain, 1,900 chars": " -> ".join(run_on(230).split()),
        "run-on sentence, 18,000 chars": run_on(3300),
        "log, 500 lines": "\n".join(
            f"2026-03-01T10:{i % 60:02d}:00Z INFO worker-{i % 7} moved job {i} from queue a "
            f"to queue b status=ok latency={i * 3}ms"
            for i in range(500)
        ),
        "JSON blob, 34,000 chars": json.dumps(
            {
                f"key{i}": {"status": "open", "owner": f"user{i}", "price": i * 1.5}
                for i in range(450)
            }
        ),
        "email, 150 sentences": " ".join(
            f"The budget for project {i} was raised to ${i * 100} on March {i % 28 + 1}. Alice "
            "said the status is green, and Bob will own it."
            for i in range(150)
        ),
    }


def long_run(stream: Stream) -> list[str]:
    """ms per 1,000 characters of each long message through `cube.ingest` (hash embedder)
    against the ordinary messages of the stream."""
    with tempfile.TemporaryDirectory() as home, single_thread():
        mos, cube = ingest_run(Path(home), HashEmbedder(dim=384))
        chars = sum(len(str(r.get("text", ""))) for r in stream.records)
        started = time.perf_counter()
        cube.ingest(stream.records)
        base = (time.perf_counter() - started) * 1000 / (chars / 1000)
        rows = []
        for name, text in long_messages(0).items():
            started = time.perf_counter()
            record = {"text": text, "author": "ann", "timestamp": "2026-03-01T10:00:00Z"}
            report = cube.ingest([record])
            per = (time.perf_counter() - started) * 1000 / (len(text) / 1000)
            prose = sum(1 for entry in report.skipped if "not prose" in entry.reason)
            rows.append(f"| {name} | {len(text):,} | {prose} | {per:,.1f} | {per / base:.2f}x |")
        mos.close()
    return [
        f"Ordinary messages: the stream's {len(stream.records)} messages, {chars:,} characters, "
        f"{base:.1f} ms per 1,000 characters through `cube.ingest` (hash embedder, 1 thread).",
        "",
        "| message | characters | sentences skipped as not prose (over 2,000 characters) | ms "
        "per 1,000 characters | vs ordinary messages |",
        "|---|---:|---:|---:|---:|",
        *rows,
    ]


def smollm2_run(stream: Stream, count: int, models_dir: Path | None) -> list[str]:
    from memos.agents.llm import LocalClient
    from memos.runtime.model import Runtime

    with tempfile.TemporaryDirectory() as home, single_thread():
        models = models_dir or Path(home) / "models"
        runtime = Runtime.from_settings(load_settings(models_dir=models), models)
        runtime.model  # convert and load before timing  # noqa: B018
        mos, cube = ingest_run(Path(home) / "h", HashEmbedder(dim=384), runtime=runtime)
        reader = MemReader(LocalClient(runtime), settings=ReaderSettings(batch_size=4))
        started = time.perf_counter()
        report = cube.ingest(stream.records[:count], reader=reader)
        seconds = time.perf_counter() - started
        mos.close()
    return [
        "",
        f"SmolLM2-135M-Instruct through LocalClient (1 thread), first {count} messages, "
        f"batches of 4: {count / seconds:.2f} messages/s, {report.usage.calls} LLM calls, "
        f"{report.tokens_per_message:.0f} tokens/message, {len(report.fallbacks)} fallback "
        f"note(s) to the offline extractor, {len(report.added)} added "
        f"({sum(1 for e in report.skipped if 'grounded' in e.reason)} model memories dropped "
        "as ungrounded).",
    ]


if __name__ == "__main__":
    main()
