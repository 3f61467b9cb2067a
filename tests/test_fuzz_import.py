"""Fuzzing JSONL import: records of a valid export (a cube with notes, concepts, links,
versions, grants, forgotten and superseded items) with fields mutated, removed or added,
records dropped or duplicated, lines broken.

An import either refuses the file with a `MemosError` (naming the line) and creates
nothing, or creates a cube whose every item can be read, searched and exported again.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import memos
from memos.testing import FakeClock, HashEmbedder

ODD_JSON: list[Any] = [
    None, True, False, 0, 1, -1, 2**31, 2**63, 2**64, -(2**63) - 1, 10**40, 1.5, -0.0,
    float("nan"), float("inf"), 1e308, "", " ", "\u0000", "\ud800", "x" * 70_000, "²",
    "2024-13-45", "2024-01-01", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00",
    "Bad Type!", "fact", "private", "public", "deleted", "merged", "activated", "gpu",
    "activation", "parametric", "read", "admin", "superuser", "*", [], [1, 2], ["a"],
    ["a", "a"], [None], {}, {"a": 1}, {"uid": 5}, [{"id": "x"}], [{"uid": None}], [[1]],
]  # fmt: skip
NEW_KEYS = ["colour", "id", "cube_id", "record", "versions", "uid", "acl", "format_version"]


@dataclass
class Source:
    """The shared home, a valid export, and what to compare."""

    root: Path
    mos: memos.MemOS
    lines: list[dict[str, Any]]
    folder: Path

    def fingerprint(self) -> tuple[Any, ...]:
        with sqlite3.connect(f"file:{self.root / 'memos.db'}?mode=ro", uri=True) as conn:
            return tuple(
                conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                for table in ("memos_cubes", "memos_items", "memos_item_versions",
                              "memos_links", "memos_cube_acl", "memos_oplog")
            )  # fmt: skip


def _stock(mos: memos.MemOS) -> memos.MemCube:
    work = mos.create_cube("work", attributes={"team": "ops"})
    work.grant("bob", "read")
    work.grant("*", "read")
    launch = work.add(
        "The launch is on March 3", tags=["launch"], source="slack", source_ref="m-1",
        valid_from="2024-02-01", attributes={"channel": "#ops"}, importance=0.8,
    )  # fmt: skip
    moved = work.add("The launch moved to March 10", valid_from="2024-02-20")
    work.supersede(launch.id, by=moved.id)
    work.update(moved.id, "The launch moved to March 12", tags=["launch", "moved"])
    private = work.add("Alice's private note on the launch", visibility="private")
    work.link(moved.id, private.id, kind="supports", reason="both about the launch")
    gone = work.add("A memory that was forgotten")
    work.forget(gone.id, hard=True)
    soft = work.add("A memory that was soft-forgotten")
    work.forget(soft.id)
    twin = work.add("A duplicate of the launch date")
    work.merge(twin.id, into=moved.id)
    work.archive(work.add("An archived memory", ttl="30d").id)
    work.note("Launch preparations for the office move")
    work.abstract("Heuristic: retry - back off before retrying", task="flaky deploy")
    return work


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Source]:
    folder = tmp_path_factory.mktemp("fuzz-import")
    root = folder / "home"
    previous = Path.cwd()
    os.chdir(folder)  # nothing the import writes may land in the checkout
    with memos.open(root, user="alice", embedder=HashEmbedder(dim=64), clock=FakeClock()) as mos:
        export = folder / "valid.jsonl"
        _stock(mos).export_jsonl(export)
        lines = [json.loads(line) for line in export.read_text().splitlines()]
        try:
            yield Source(root, mos, lines, folder)
        finally:
            os.chdir(previous)


@st.composite
def mutated(draw: Any, lines: list[dict[str, Any]]) -> list[str]:
    """The export's lines with one to three mutations."""
    records = json.loads(json.dumps(lines))
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.integers(0, len(records) - 1))
        record = records[where]
        targets = [record]
        if isinstance(record, dict) and isinstance(record.get("versions"), list):
            targets += [v for v in record["versions"] if isinstance(v, dict)]
        if isinstance(record, dict) and isinstance(record.get("acl"), list):
            targets += [g for g in record["acl"] if isinstance(g, dict)]
        target = draw(st.sampled_from(targets))
        action = draw(st.sampled_from(["set", "set", "set", "delete", "add", "line"]))
        if action == "line":
            kind = draw(st.sampled_from(["drop", "duplicate", "swap", "scalar"]))
            if kind == "drop" and len(records) > 1:
                records.pop(where)
            elif kind == "duplicate":
                records.insert(where, json.loads(json.dumps(record)))
            elif kind == "swap" and len(records) > 1:
                other = draw(st.integers(0, len(records) - 1))
                records[where], records[other] = records[other], records[where]
            else:
                records[where] = draw(st.sampled_from(ODD_JSON))
            continue
        if not isinstance(target, dict):
            continue
        if action == "delete" and target:
            target.pop(draw(st.sampled_from(sorted(target))))
        elif action == "add":
            target[draw(st.sampled_from(NEW_KEYS))] = draw(st.sampled_from(ODD_JSON))
        elif target:
            key = draw(st.sampled_from(sorted(target)))
            target[key] = draw(st.one_of(st.sampled_from(ODD_JSON), st.text(max_size=12)))
    text = [json.dumps(r, ensure_ascii=draw(st.booleans())) for r in records]
    if draw(st.integers(0, 9)) == 0:
        spot = draw(st.integers(0, len(text) - 1))
        text[spot] = text[spot][: draw(st.integers(0, len(text[spot])))]  # a broken line
    return text


OUTCOMES: Counter[str] = Counter()


def _readable(cube: memos.MemCube, folder: Path) -> None:
    """Everything an accepted file created reads back (and exports again)."""
    for item in cube.items(limit=100_000):
        if item.status.value != "deleted":
            cube.get(item.id)
        cube.history(item.id)
        cube.links(item.id)
    cube.search("launch", k=20, statuses=None)
    cube.graph().to_json()
    cube.stats()
    cube.export_jsonl(folder / "again.jsonl")


@settings(
    max_examples=int(os.environ.get("FUZZ_N", "500")),
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_import_refuses_or_reads_back(source: Source, data: Any) -> None:
    lines = data.draw(mutated(source.lines))
    path = source.folder / "mutated.jsonl"
    path.write_bytes(("\n".join(lines) + "\n").encode("utf-8", "surrogatepass"))
    before = source.fingerprint()
    name = f"copy-{sum(OUTCOMES.values())}"
    try:
        cube = source.mos.import_jsonl(path, name=name)
    except memos.MemosError as error:
        OUTCOMES[type(error).__name__] += 1
        assert source.fingerprint() == before, f"refused ({error}) but wrote"
        assert name not in {c.name for c in source.mos.cubes()}
        return
    OUTCOMES["imported"] += 1
    _readable(cube, source.folder)
    source.mos.drop_cube(name)


def test_import_outcomes(source: Source) -> None:
    """How the fuzzed files ended (shown with `pytest -s`); the valid one imports."""
    print(f"\nfuzzed {sum(OUTCOMES.values())} import files: {dict(OUTCOMES)}")
    path = source.folder / "valid-again.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in source.lines) + "\n")
    _readable(source.mos.import_jsonl(path, name="valid-again"), source.folder)
