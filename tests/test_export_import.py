"""Export to JSONL and import back: everything round-trips, versions included."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import memos
from memos.testing import FakeClock, HashEmbedder


def _comparable(item: memos.MemoryItem, ids: dict[int, str]) -> dict[str, object]:
    data = item.to_dict()
    for key in ("id", "cube_id"):
        data.pop(key)
    for key in ("supersedes", "superseded_by", "merged_into"):
        data[key] = ids.get(data[key]) if data[key] is not None else None  # type: ignore[arg-type]
    return data


def test_round_trip(mos: memos.MemOS, clock: FakeClock, tmp_path: Path) -> None:
    cube = mos.create_cube("work")
    launch = cube.add(
        "Launch is on March 3",
        source="slack",
        source_ref="m1",
        tags=["launch"],
        attributes={"priority": 1},
        valid_from="2025-01-01",
    )
    clock.advance(hours=1)
    cube.update(launch.id, "Launch moved to March 10")
    note = cube.add("Remember to book the venue", type="note", ttl="30d", visibility="private")
    old = cube.add("duplicate of the venue note")
    cube.merge(old.id, into=note.id)
    gone = cube.add("a secret to purge")
    cube.forget(gone.id, hard=True)
    cube.freeze(note.id)
    cube.link(launch.id, note.id, kind="supports", reason="venue for launch")
    cube.grant("bob", "read")
    cube.search("launch")
    mos.flush()

    path = tmp_path / "work.jsonl"
    assert cube.export_jsonl(path) == 4
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["record"] for r in records] == ["cube", "item", "item", "item", "item", "link"]

    copy = mos.import_jsonl(path, name="work-copy")
    source_ids = {i.id: i.uid for i in cube.items(limit=100)}
    copy_ids = {i.id: i.uid for i in copy.items(limit=100)}
    original = {i.uid: _comparable(i, source_ids) for i in cube.items(limit=100)}
    imported = {i.uid: _comparable(i, copy_ids) for i in copy.items(limit=100)}
    assert imported == original
    for item in cube.items(limit=100):
        twin = copy.get(item.uid) if item.status.value != "deleted" else None
        theirs = copy.history(twin.id if twin else copy._id(item.uid))
        mine = cube.history(item.id)
        assert [
            (_comparable(v.item, source_ids), v.recorded_at, v.operation, v.actor) for v in mine
        ] == [(_comparable(v.item, copy_ids), v.recorded_at, v.operation, v.actor) for v in theirs]
    [edge] = copy.links(copy.get(launch.uid).id)
    assert (edge.kind, edge.reason) == ("supports", "venue for launch")
    assert {g.user for g in copy.grants()} == {"bob"}
    # Imported text is searchable again (vectors are rebuilt with this embedder).
    assert copy.search("when is the launch", k=1)[0].item.uid == launch.uid
    assert copy.get(launch.uid, as_of="2025-01-01T00:30:00Z").content == "Launch is on March 3"
    with pytest.raises(memos.ConflictError):
        mos.import_jsonl(path, name="work-copy")


def test_round_trip_across_databases(
    mos: memos.MemOS, tmp_path: Path, embedder: HashEmbedder, clock: FakeClock
) -> None:
    cube = mos.create_cube("work")
    cube.add_many([f"memory {n}" for n in range(25)])
    path = tmp_path / "work.jsonl"
    cube.export_jsonl(path)
    with memos.open(tmp_path / "other", embedder=embedder, user="zed", clock=clock) as other:
        copy = other.import_jsonl(path)
        assert copy.name == "work" and copy.info.owner == "zed"
        assert len(copy.items(limit=100)) == 25
        again = tmp_path / "again.jsonl"
        copy.export_jsonl(again)
    strip = ("exported_at", "exported_by", "owner", "created_at")
    first = [json.loads(x) for x in path.read_text().splitlines()]
    second = [json.loads(x) for x in again.read_text().splitlines()]
    assert {k: v for k, v in first[0].items() if k not in strip} == {
        k: v for k, v in second[0].items() if k not in strip
    }
    assert first[1:] == second[1:]
