"""MemReader on list-shaped messages (meeting notes, checklists, standups, offer
summaries): the keyed states of each message against the facts a careful reader wrote
down, dev and held-out side by side (issue #12).

A case file is a JSON list of {"message": text, "facts": [{"subject", "subject_aliases",
"attribute", "attribute_aliases", "value", "value_aliases"}]}. Each message goes into a
cube of its own through `cube.ingest` (the offline reader), and its keyed states
(`memos.eval.truth.read_states`) are matched after the MEMTRACK normalisation:

* facts: a fact is found when one state's value is its value (or an alias), and its
  subject and attribute, or a name the reader stored for them, are the fact's (or an
  alias); "subject + value" leaves the attribute out;
* precision: the share of keyed states that are one of the message's facts.

`bench/lists/dev.json` was read while the reader's list rules were written;
`bench/lists/heldout/` was written by helpers who read no code, and is frozen
(`MANIFEST.sha256`; never read for failures, scored as totals).

    python bench/lists.py [--dev bench/lists/dev.json] [--heldout bench/lists/heldout]
                          [--record docs/BENCHMARKS.md]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common import record

import memos
from memos.eval.memtrack.metrics import normalise
from memos.eval.truth import Extraction, read_states
from memos.testing import HashEmbedder

ROOT = Path(__file__).resolve().parent.parent
SECTION = "MEMTRACK (`bench/memtrack.py`)"
TITLE = "MemReader on list-shaped messages, dev and held-out (`bench/lists.py`)"


@dataclass
class Tally:
    messages: int = 0
    facts: int = 0
    found: int = 0
    subject_value: int = 0
    keyed: int = 0
    keyed_facts: int = 0

    def add(self, other: Tally) -> None:
        for name in vars(self):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def _names(fact: dict[str, Any], key: str) -> set[str]:
    return {normalise(n) for n in [fact[key], *fact.get(f"{key}_aliases", [])]}


def _matches(state: Extraction, fact: dict[str, Any]) -> tuple[bool, bool]:
    """(subject, attribute and value match; subject and value match)."""
    subjects, attributes = _names(fact, "subject"), _names(fact, "attribute")
    value = normalise(state.value) in _names(fact, "value")
    subject = any(normalise(n) in subjects for n in (state.subject, *state.names))
    attribute = any(normalise(n) in attributes for n in (state.attribute, *state.attribute_names))
    return value and subject and attribute, value and subject


def score(path: Path) -> Tally:
    try:
        cases = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise SystemExit(f"{path}: cannot read a case file ({error})") from None
    if not isinstance(cases, list) or not all("message" in c and "facts" in c for c in cases):
        raise SystemExit(f"{path}: expected a JSON list of {{message, facts}} objects")
    tally = Tally()
    with (
        tempfile.TemporaryDirectory(prefix="memos-lists-") as home,
        memos.open(home, embedder=HashEmbedder(), user="eval") as mos,
    ):
        for index, case in enumerate(cases):
            cube = mos.create_cube(f"list-{index}")
            turn = {"role": "user", "name": "dana", "content": case["message"]}
            cube.ingest([{**turn, "created_at": "2026-11-02T10:00:00Z"}])
            states = read_states(cube)
            tally.messages += 1
            tally.keyed += len(states)
            tally.keyed_facts += sum(any(_matches(s, f)[0] for f in case["facts"]) for s in states)
            for fact in case["facts"]:
                found = [_matches(s, fact) for s in states]
                tally.facts += 1
                tally.found += any(full for full, _ in found)
                tally.subject_value += any(loose for _, loose in found)
    return tally


def _share(part: int, whole: int) -> str:
    return f"{part / whole:.3f} ({part}/{whole})" if whole else "-"


def table(columns: list[tuple[str, Tally]]) -> str:
    rows = [
        ("messages", lambda t: str(t.messages)),
        ("facts found (subject, attribute, value)", lambda t: _share(t.found, t.facts)),
        ("subject and value found", lambda t: _share(t.subject_value, t.facts)),
        ("precision (keyed states that are a fact)", lambda t: _share(t.keyed_facts, t.keyed)),
    ]
    lines = [
        "| | " + " | ".join(name for name, _ in columns) + " |",
        "|---|" + "---:|" * len(columns),
    ]
    for label, cell in rows:
        lines.append(f"| {label} | " + " | ".join(cell(t) for _, t in columns) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dev", type=Path, default=ROOT / "bench" / "lists" / "dev.json")
    parser.add_argument("--heldout", type=Path, default=ROOT / "bench" / "lists" / "heldout")
    parser.add_argument("--record", type=Path)
    args = parser.parse_args()
    columns = [("dev", score(args.dev))]
    total = Tally()
    for path in sorted(args.heldout.glob("*.json")):
        tally = score(path)
        columns.append((f"held-out {path.stem}", tally))
        total.add(tally)
    if len(columns) > 2:
        columns.append(("held-out, all", total))
    body = table(columns)
    print(body)
    if args.record:
        record(args.record, TITLE, body, section=SECTION)


if __name__ == "__main__":
    main()
