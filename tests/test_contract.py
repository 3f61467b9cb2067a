"""The store contract: the same behaviour on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

import memos
from memos.models import Status, Visibility
from memos.testing import FakeClock, HashEmbedder


def test_add_get_search(cube: memos.MemCube) -> None:
    launch = cube.add(
        "Launch is on March 3",
        type="fact",
        source="slack",
        source_ref="msg-17",
        tags=["launch"],
        attributes={"channel": "#release"},
    )
    cube.add("The office plant needs water on Fridays")
    cube.add("Alice prefers tea over coffee", type="preference")
    got = cube.get(launch.id)
    assert got == launch
    assert (got.source, got.source_ref, got.tags) == ("slack", "msg-17", ("launch",))
    assert got.attributes == {"channel": "#release"}
    assert got.owner == "alice" and got.version == 1 and got.status is Status.ACTIVATED
    assert cube.get(launch.uid).id == launch.id
    hits = cube.search("when is the launch", k=2)
    assert hits[0].item.id == launch.id
    assert hits[0].score > hits[1].score
    assert hits[0].scores["final"] == pytest.approx(hits[0].score)
    assert {"vector", "lexical", "fused", "prior"} <= hits[0].scores.keys()
    only_prefs = cube.search("tea", k=5, types=["preference"])
    assert [h.item.type for h in only_prefs] == ["preference"]


def test_add_many_is_atomic(cube: memos.MemCube) -> None:
    items = cube.add_many(["one fact", {"content": "two facts", "tags": ["x"]}])
    assert [i.content for i in items] == ["one fact", "two facts"]
    with pytest.raises(memos.InvalidInputError, match="record 1"):
        cube.add_many(["fine", "   ", "also fine"])
    assert cube.stats()["items"] == 2


def test_update_keeps_versions_and_as_of(cube: memos.MemCube, clock: FakeClock) -> None:
    item = cube.add("Launch is on March 3")
    first_time = clock.now
    clock.advance(days=1)
    updated = cube.update(item.id, "Launch moved to March 10", tags=["launch"])
    assert (updated.id, updated.version, updated.uid) == (item.id, 2, item.uid)
    history = cube.history(item.id)
    assert [v.content for v in history] == ["Launch is on March 3", "Launch moved to March 10"]
    assert [v.operation for v in history] == ["add", "update"]
    assert cube.get(item.id, as_of=first_time).content == "Launch is on March 3"
    assert cube.get(item.id).content == "Launch moved to March 10"
    assert cube.get(item.id, as_of=clock.now).content == "Launch moved to March 10"
    assert cube.get(item.id, known_at=first_time).version == 1
    with pytest.raises(memos.NotFoundError, match="not valid"):
        cube.get(item.id, as_of=item.created_at - timedelta(days=1))
    # Search sees the new text only.
    assert cube.search("March 10", k=1)[0].item.version == 2


def test_bitemporal_backdated_event(cube: memos.MemCube, clock: FakeClock) -> None:
    event = cube.add("Bob joined the team", type="event", valid_from="2024-05-01")
    assert event.valid_from.year == 2024
    assert cube.get(event.id, as_of="2024-06-01").content == "Bob joined the team"
    with pytest.raises(memos.NotFoundError):
        cube.get(event.id, as_of="2024-04-01")
    # What memos knew before it was told: nothing.
    with pytest.raises(memos.NotFoundError, match="not yet recorded"):
        cube.get(event.id, known_at="2024-06-01")
    # A correction of the past, recorded later, wins for that time.
    clock.advance(days=1)
    cube.update(event.id, "Bob joined the platform team", valid_from="2024-05-01")
    assert cube.get(event.id, as_of="2024-06-01").content == "Bob joined the platform team"
    before_fix = event.updated_at
    assert cube.get(event.id, as_of="2024-06-01", known_at=before_fix).content == (
        "Bob joined the team"
    )


def test_revert(cube: memos.MemCube) -> None:
    item = cube.add("v1 text")
    cube.update(item.id, "v2 text")
    reverted = cube.revert(item.id, 1)
    assert (reverted.version, reverted.content) == (3, "v1 text")
    assert [v.operation for v in cube.history(item.id)] == ["add", "update", "revert"]
    with pytest.raises(memos.NotFoundError):
        cube.revert(item.id, 9)


def test_ttl_expiry(cube: memos.MemCube, clock: FakeClock) -> None:
    short = cube.add("temporary parking code 4411", ttl="1h")
    cube.add("permanent parking rules")
    assert short.expires_at == short.created_at + timedelta(hours=1)
    assert any(h.item.id == short.id for h in cube.search("parking code"))
    clock.advance(hours=2)
    assert all(h.item.id != short.id for h in cube.search("parking code"))
    expired = cube.get(short.id)
    assert expired.status is Status.EXPIRED
    assert cube.history(short.id)[-1].operation == "expire"
    with pytest.raises(memos.InvalidInputError):
        cube.add("bad", ttl="-5")


def test_forget_soft_and_hard(cube: memos.MemCube, mos: memos.MemOS) -> None:
    secret = cube.add("my bank PIN is 9931", tags=["secret"])
    cube.update(secret.id, "my bank PIN is 9932")
    other = cube.add("the weather is mild")
    cube.link(secret.id, other.id)
    soft = cube.add("an old address")
    cube.forget(soft.id)
    with pytest.raises(memos.NotFoundError, match="forgotten"):
        cube.get(soft.id)
    assert cube.history(soft.id)[0].content == "an old address"  # audit trail survives
    cube.forget(secret.id, hard=True)
    with pytest.raises(memos.NotFoundError):
        cube.get(secret.id)
    assert all(v.content is None for v in cube.history(secret.id))
    assert all(not v.item.tags for v in cube.history(secret.id))
    assert cube.links(other.id) == []
    assert all(h.item.id != secret.id for h in cube.search("bank PIN", k=10))
    # A soft-forgotten item can still be purged later.
    cube.forget(soft.id, hard=True)
    assert cube.history(soft.id)[0].content is None
    for op in cube.operations():
        assert "9931" not in str(op.payload)


def test_links(cube: memos.MemCube) -> None:
    a = cube.add("alpha fact")
    b = cube.add("beta fact")
    edge = cube.link(a.id, b.id, kind="supports", reason="same topic")
    assert (edge.src_id, edge.dst_id, edge.kind, edge.reason) == (
        a.id,
        b.id,
        "supports",
        "same topic",
    )
    assert cube.link(a.id, b.id, kind="supports") == edge  # idempotent
    assert [link.id for link in cube.links(b.id)] == [edge.id]
    with pytest.raises(memos.InvalidInputError):
        cube.link(a.id, a.id)
    with pytest.raises(memos.NotFoundError):
        cube.link(a.id, 987654)
    cube.unlink(edge.id)
    assert cube.links(a.id) == []


def test_operation_log_is_monotonic(cube: memos.MemCube) -> None:
    item = cube.add("first")
    cube.update(item.id, "second")
    cube.archive(item.id)
    ops = cube.operations()
    seqs = [op.seq for op in ops]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert [op.operation for op in ops if op.item_id == item.id] == [
        "add",
        "update",
        "status:archived",
    ]
    versions = cube.history(item.id)
    assert [v.op_seq for v in versions] == [op.seq for op in ops if op.item_id == item.id]


def test_cubes_are_isolated(mos: memos.MemOS) -> None:
    work = mos.create_cube("work")
    home = mos.create_cube("home")
    item = work.add("work secret")
    home.add("home note")
    assert [c.name for c in mos.cubes()] == ["home", "work"]
    with pytest.raises(memos.NotFoundError):
        home.get(item.id)
    assert all(h.item.cube_id == home.id for h in home.search("secret"))
    with pytest.raises(memos.ConflictError):
        mos.create_cube("work")
    with pytest.raises(memos.NotFoundError):
        mos.cube("nope")
    mos.drop_cube("home")
    assert [c.name for c in mos.cubes()] == ["work"]


def test_access_control(mos: memos.MemOS) -> None:
    cube = mos.create_cube("team")
    shared = cube.add("team roadmap")
    private = cube.add("alice's private note", visibility="private")
    public = cube.add("public announcement", visibility="public")
    bob = mos.as_user("bob").cube("team")
    denied = (
        lambda: bob.get(shared.id),
        lambda: bob.search("roadmap"),
        lambda: bob.history(shared.id),
        lambda: bob.export_jsonl(Path("/tmp/never-written.jsonl")),
        lambda: bob.add("bob was here"),
        lambda: bob.links(shared.id),
        lambda: bob.items(),
        lambda: bob.grant("carol", "admin"),
    )
    for attempt in denied:
        with pytest.raises(memos.PermissionDeniedError):
            attempt()
    assert not Path("/tmp/never-written.jsonl").exists()
    assert bob.get(public.id).content == "public announcement"  # public: readable by id
    assert [c.name for c in mos.as_user("bob").cubes()] == []
    cube.grant("bob", "read")
    assert bob.get(shared.id).content == "team roadmap"
    assert {h.item.id for h in bob.search("note roadmap announcement", k=10)} == {
        shared.id,
        public.id,
    }
    with pytest.raises(memos.PermissionDeniedError, match="private"):
        bob.get(private.id)
    with pytest.raises(memos.PermissionDeniedError):
        bob.update(shared.id, "bob's edit")
    cube.grant("bob", "write")
    assert bob.update(shared.id, "bob's edit").content == "bob's edit"
    with pytest.raises(memos.PermissionDeniedError):
        bob.update(private.id, "nope")
    cube.revoke("bob")
    with pytest.raises(memos.PermissionDeniedError):
        bob.get(shared.id)
    cube.grant("*", "read")
    assert mos.as_user("carol").cube("team").get(shared.id).version == 2


def test_embedder_mismatch(home: Path, db_url: str | None, clock: FakeClock) -> None:
    with memos.open(home, url=db_url, embedder=HashEmbedder(dim=64), clock=clock) as first:
        first.create_cube("work").add("hello")
    with (
        memos.open(home, url=db_url, embedder=HashEmbedder(dim=32), clock=clock) as second,
        pytest.raises(memos.IndexMismatchError, match="64-d"),
    ):
        second.cube("work")
    # Nothing was damaged: the right embedder still reads it.
    with memos.open(home, url=db_url, embedder=HashEmbedder(dim=64), clock=clock) as third:
        assert third.cube("work").search("hello")[0].item.content == "hello"


def test_reopen_persists_everything(
    home: Path, db_url: str | None, clock: FakeClock, embedder: HashEmbedder
) -> None:
    with memos.open(home, url=db_url, user="alice", embedder=embedder, clock=clock) as mos:
        cube = mos.create_cube("work")
        ids = [cube.add(f"note number {n} about topic {n % 3}").id for n in range(30)]
        cube.update(ids[0], "rewritten first note")
        cube.forget(ids[1])
        cube.search("note number 5")  # access counts are batched, then flushed on close
    with memos.open(home, url=db_url, user="alice", embedder=embedder, clock=clock) as mos:
        cube = mos.cube("work")
        assert cube.get(ids[0]).content == "rewritten first note"
        assert cube.stats()["indexed_vectors"] == 29
        assert cube.search("rewritten first", k=1)[0].item.id == ids[0]
        assert sum(i.access_count for i in cube.items(limit=100)) > 0


def test_usage_is_recorded_in_batches(cube: memos.MemCube, mos: memos.MemOS) -> None:
    item = cube.add("frequently needed fact")
    for _ in range(3):
        cube.search("frequently needed")
    mos.flush()
    got = cube.get(item.id)
    assert got.access_count == 3 and got.last_accessed_at is not None
    assert got.version == 1  # reads do not create versions


def test_visibility_values(cube: memos.MemCube) -> None:
    item = cube.add("x", visibility=Visibility.PRIVATE)
    assert item.visibility is Visibility.PRIVATE
    with pytest.raises(memos.InvalidInputError, match="visibility"):
        cube.add("y", visibility="secret")


def test_two_processes_share_one_database(
    tmp_path: Path, db_url: str | None, clock: FakeClock, embedder: HashEmbedder
) -> None:
    """Each opened memos keeps its own index; writes by one show up in the other's search."""
    home_a, home_b = tmp_path / "a", tmp_path / "b"
    if db_url is None:  # SQLite: both open the same database file
        db_url = f"sqlite:///{tmp_path / 'shared.db'}"
    with (
        memos.open(home_a, url=db_url, user="alice", embedder=embedder, clock=clock) as a,
        memos.open(home_b, url=db_url, user="alice", embedder=embedder, clock=clock) as b,
    ):
        writer = a.create_cube("shared")
        reader = b.cube("shared")
        assert reader.search("anything") == []
        first = writer.add("the coffee machine is on floor two")
        assert reader.search("coffee machine", k=1)[0].item.id == first.id
        writer.update(first.id, "the coffee machine moved to floor three")
        assert reader.search("coffee machine", k=1)[0].item.content.endswith("floor three")
        writer.forget(first.id)
        second = writer.add("tea is in the kitchen")
        assert [h.item.id for h in reader.search("coffee machine tea", k=5)] == [second.id]
        assert len(b.kernel.index_of(reader.info)) == 1
