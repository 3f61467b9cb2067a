"""Tenant isolation: over random users, grants, items, notes and links, no read path shows a
user an item they may not read, in any form (its id, its text, the reason of a link to
it), and a cube without a grant is unreadable.

Who may read an item (the oracle): the cube's owner and admins, everything; a user with a
read or write grant, every item that is not private to someone else; anyone, a public item
fetched by id.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import memos
from memos.agents.graph import MemoryGraph
from memos.agents.zettelkasten import NoteSettings, evolutions
from memos.cli.app import app
from memos.testing import FakeClock, HashEmbedder, single_thread, tiny_runtime

USERS = ("alice", "bob", "carol")
CUBES = {"team": "alice", "lab": "bob"}  # cube -> owner
PERMISSIONS = (None, "read", "write", "admin")
VISIBILITIES = ("private", "shared", "public")
TOKEN = re.compile(r"\b(tok\d{3}x|why\d{3}q)\b")
# Low enough that notes link to and copy from their neighbours under HashEmbedder.
NOTES = NoteSettings(min_similarity=0.0, candidates=5)


@dataclass
class World:
    """What was written: who may do what, and every item and link with its secret token."""

    grants: dict[str, dict[str, str | None]]
    items: dict[int, tuple[str, str, str, str]] = field(default_factory=dict)  # id -> cube,
    # owner, visibility, token
    links: dict[str, tuple[int, int]] = field(default_factory=dict)  # reason token -> ends

    def permission(self, user: str, cube: str) -> str | None:
        return "admin" if CUBES[cube] == user else self.grants[cube].get(user)

    def may_read(self, user: str, item_id: int) -> bool:
        cube, owner, visibility, _ = self.items[item_id]
        granted = self.permission(user, cube)
        if granted == "admin" or visibility == "public":
            return True
        return granted is not None and (visibility != "private" or owner == user)

    def hidden_tokens(self, user: str) -> set[str]:
        tokens = {token for i, (*_, token) in self.items.items() if not self.may_read(user, i)}
        tokens |= {
            token
            for token, (a, b) in self.links.items()
            if not (self.may_read(user, a) and self.may_read(user, b))
        }
        return tokens


def _grants() -> st.SearchStrategy[dict[str, dict[str, str | None]]]:
    return st.fixed_dictionaries(
        {
            cube: st.fixed_dictionaries(
                {u: st.sampled_from(PERMISSIONS) for u in USERS if u != owner}
            )
            for cube, owner in CUBES.items()
        }
    )


ITEMS = st.lists(
    st.tuples(
        st.sampled_from(tuple(CUBES)),
        st.sampled_from(USERS),
        st.sampled_from(VISIBILITIES),
        st.booleans(),  # written as a Zettelkasten note
    ),
    min_size=2,
    max_size=9,
)
LINKS = st.lists(
    st.tuples(st.integers(0, 8), st.integers(0, 8), st.sampled_from(USERS)), max_size=6
)


def _build(mos: memos.MemOS, grants: Any, items: Any, links: Any) -> World:
    world = World(grants)
    for cube, owner in CUBES.items():
        made = mos.as_user(owner).create_cube(cube)
        for user, permission in grants[cube].items():
            if permission is not None:
                made.grant(user, permission)
    written: list[int] = []
    for number, (cube, writer, visibility, as_note) in enumerate(items):
        if world.permission(writer, cube) not in ("write", "admin"):
            continue
        token = f"tok{number:03d}x"
        text = f"Roadmap review {token} covers the shared roadmap and the launch plan"
        handle = mos.as_user(writer).cube(cube)
        if as_note:
            item = handle.note(text, visibility=visibility, settings=NOTES).note
        else:
            item = handle.add(text, visibility=visibility, keywords=[token])
        world.items[item.id] = (cube, writer, visibility, token)
        written.append(item.id)
    for number, (a, b, linker) in enumerate(links):
        if not written:
            break
        src, dst = written[a % len(written)], written[b % len(written)]
        cube = world.items[src][0]
        if src == dst or world.items[dst][0] != cube:
            continue
        if world.permission(linker, cube) not in ("write", "admin"):
            continue
        reason = f"why{number:03d}q"
        handle = mos.as_user(linker).cube(cube)
        if world.may_read(linker, src) and world.may_read(linker, dst):
            handle.link(src, dst, reason=reason)
            world.links[reason] = (src, dst)
        else:
            # Linking to an item one may not read must fail as if it did not exist.
            with pytest.raises(memos.NotFoundError):
                handle.link(src, dst, reason=reason)
    return world


def _ids_in(value: Any) -> Iterator[int]:
    """Item ids named by the structured results of read paths (link, version and topic
    numbers are not item ids and are left out)."""
    if isinstance(value, dict):
        keys = set(value)
        if "id" in keys and ({"uid", "label", "description"} & keys) and "items" not in keys:
            yield value["id"]  # an item, a graph node or neighbour, a concept (not a topic)
        if {"source", "target", "kind"} <= keys:
            yield from (value["source"], value["target"])  # a graph edge
        for key in ("src_id", "dst_id", "item_id", "via"):
            if isinstance(value.get(key), int):
                yield value[key]
        for key, inner in value.items():
            if key in ("candidates", "items") and isinstance(inner, list):
                yield from (i for i in inner if isinstance(i, int))
            elif key == "copied_from" and isinstance(inner, dict):
                for ids in inner.values():
                    yield from ids
            else:
                yield from _ids_in(inner)
    elif isinstance(value, list | tuple):
        for inner in value:
            yield from _ids_in(inner)


def _dump(value: Any) -> Any:
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if isinstance(value, list | tuple):
        return [_dump(v) for v in value]
    return value


def _read_everything(handle: memos.MemCube, ids: list[int], folder: Path) -> list[Any]:
    """Every read path of one cube as one user; refusals are fine, results are kept."""
    seen: list[Any] = []

    def keep(call: Callable[..., Any], *args: Any, **options: Any) -> None:
        with contextlib.suppress(memos.PermissionDeniedError, memos.NotFoundError):
            seen.append(_dump(call(*args, **options)))

    keep(lambda: handle.search("roadmap review launch plan", k=100, statuses=None))
    keep(lambda: handle.items(limit=1000))
    keep(lambda: handle.graph().to_json())
    keep(lambda: handle.graph().topics(min_size=1))
    keep(lambda: handle.concepts())
    keep(lambda: handle.concepts_for("roadmap review"))
    keep(lambda: handle.grants())
    try:
        graph: MemoryGraph | None = handle.graph()
    except memos.PermissionDeniedError:
        graph = None
    for item_id in ids:
        keep(handle.get, item_id)
        keep(handle.history, item_id)
        keep(handle.links, item_id)
        keep(evolutions, handle, item_id)
        if graph is not None:
            keep(graph.neighbours, item_id, depth=3)
    export = folder / f"{handle.name}-{handle.user}.jsonl"
    try:
        handle.export_jsonl(export)
    except memos.PermissionDeniedError:
        pass
    else:
        records = [json.loads(line) for line in export.read_text().splitlines()]
        uids = {r["uid"]: r for r in records if r.get("record") == "item"}
        seen.append([{"item_uid": uid} for uid in uids])
        seen.append(records)
    return seen


def _check(world: World, mos: memos.MemOS, folder: Path) -> None:
    uid_of = {}
    for item_id, (cube, owner, *_rest) in world.items.items():
        uid_of[mos.as_user(owner).cube(cube).get(item_id).uid] = item_id
    ids = sorted(world.items)
    for viewer in USERS:
        viewing = mos.as_user(viewer)
        listed = {c.name for c in viewing.cubes()}
        assert listed == {c for c in CUBES if world.permission(viewer, c) is not None}
        for cube in CUBES:
            seen = _read_everything(viewing.cube(cube), ids, folder)
            text = json.dumps(seen, default=str)
            leaked_tokens = set(TOKEN.findall(text)) & world.hidden_tokens(viewer)
            assert not leaked_tokens, (viewer, cube, leaked_tokens)
            named = set(_ids_in(json.loads(text))) & set(ids)
            named |= {uid_of[u] for u in re.findall(r"[0-9a-f]{32}", text) if u in uid_of}
            leaked_ids = {i for i in named if not world.may_read(viewer, i)}
            where = [v for v in seen if leaked_ids & set(_ids_in(json.loads(text)))]
            assert not leaked_ids, (viewer, cube, leaked_ids, where[:1])
            if world.permission(viewer, cube) is None:
                with pytest.raises(memos.PermissionDeniedError):
                    viewing.cube(cube).search("roadmap")
                with pytest.raises(memos.PermissionDeniedError):
                    viewing.cube(cube).items()


@settings(
    max_examples=int(os.environ.get("FUZZ_ISOLATION_N", "12")),
    deadline=None,
    # Bounded in CI: a failing world is reported as found, not shrunk for minutes.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(grants=_grants(), items=ITEMS, links=LINKS)
def test_no_read_path_leaks_across_users(grants: Any, items: Any, links: Any) -> None:
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder) / "home"
        with memos.open(home, embedder=HashEmbedder(dim=64), clock=FakeClock()) as mos:
            world = _build(mos, grants, items, links)
            _check(world, mos, Path(folder))


@pytest.fixture
def mos(home: Path, db_url: str | None, clock: FakeClock) -> Iterator[memos.MemOS]:
    """As the CLI opens it (`--embedder hash`), so both can read the same cubes."""
    with memos.open(home, url=db_url, user="alice", embedder="hash", clock=clock) as opened:
        yield opened


@pytest.fixture
def shared_cube(mos: memos.MemOS) -> tuple[memos.MemCube, memos.MemoryItem, memos.MemoryItem]:
    team = mos.create_cube("team")
    team.grant("bob", "read")
    shared = team.add("The roadmap review is on Friday")
    private = team.add("Alice's private salary zorblax note", visibility="private")
    team.link(shared.id, private.id, reason="secret reason quxley")
    team.link(private.id, shared.id, reason="another secret vexmor")
    return team, shared, private


def test_note_links_hide_private_ends(
    shared_cube: tuple[memos.MemCube, memos.MemoryItem, memos.MemoryItem],
    mos: memos.MemOS,
    home: Path,
    db_url: str | None,
) -> None:
    """The reported leak: `memos --user bob note links ID` showed alice's private item's
    id and the link's reason."""
    team, shared, private = shared_cube
    assert {(link.src_id, link.dst_id) for link in team.links(shared.id)} == {
        (shared.id, private.id),
        (private.id, shared.id),
    }
    bob = mos.as_user("bob").cube("team")
    assert bob.links(shared.id) == []
    assert bob.graph().to_json()["edges"] == []
    runner = CliRunner()
    base = ["--home", str(home), "--embedder", "hash", "--user", "bob"]
    if db_url is not None:
        base += ["--url", db_url]
    mos.flush()
    for args in (["note", "links", str(shared.id)], ["note", "show", str(shared.id)],
                 ["graph", "neighbors", str(shared.id)], ["export", str(home.parent / "b.jsonl"),
                 "-c", "team"]):  # fmt: skip
        result = runner.invoke(app, [*base, "--json", *args])
        assert result.exit_code == 0, result.output
        assert "quxley" not in result.output and "vexmor" not in result.output, args
        assert f'"id": {private.id}' not in result.output
    assert "zorblax" not in (home.parent / "b.jsonl").read_text()


def test_linking_or_unlinking_a_hidden_item_is_refused(
    shared_cube: tuple[memos.MemCube, memos.MemoryItem, memos.MemoryItem], mos: memos.MemOS
) -> None:
    """As if it did not exist: the message is the one for a missing item, and linking the
    same edge again does not hand back the owner's reason."""
    team, shared, private = shared_cube
    team.grant("bob", "write")
    bob = mos.as_user("bob").cube("team")
    with pytest.raises(memos.NotFoundError, match="no live item") as hidden:
        bob.link(shared.id, private.id)
    with pytest.raises(memos.NotFoundError, match="no live item") as missing:
        bob.link(shared.id, 999_999)
    assert str(hidden.value).replace(str(private.id), "N") == str(missing.value).replace(
        "999999", "N"
    )
    [link, _] = sorted(team.links(shared.id), key=lambda found: found.id)
    with pytest.raises(memos.NotFoundError):
        bob.unlink(link.id)
    assert len(team.links(shared.id)) == 2


def test_a_cube_without_a_grant_is_unreadable(
    shared_cube: tuple[memos.MemCube, memos.MemoryItem, memos.MemoryItem], mos: memos.MemOS
) -> None:
    team, shared, private = shared_cube
    carol = mos.as_user("carol")
    assert carol.cubes() == []
    theirs = carol.cube("team")
    for call in (
        lambda: theirs.search("roadmap"),
        lambda: theirs.items(),
        lambda: theirs.get(shared.id),
        lambda: theirs.history(shared.id),
        lambda: theirs.links(shared.id),
        lambda: theirs.graph(),
        lambda: theirs.concepts(),
        lambda: theirs.stats(),
        lambda: theirs.operations(),
        lambda: theirs.grants(),
        lambda: theirs.export_jsonl(Path(tempfile.gettempdir()) / "never.jsonl"),
    ):
        with pytest.raises(memos.PermissionDeniedError):
            call()
    team.update(private.id, visibility="public")
    assert theirs.get(private.id).visibility.value == "public"  # public: readable by id


def test_operations_hide_private_items(
    shared_cube: tuple[memos.MemCube, memos.MemoryItem, memos.MemoryItem], mos: memos.MemOS
) -> None:
    _team, _shared, private = shared_cube
    entries = mos.as_user("bob").cube("team").operations()
    assert entries
    named = {e.item_id for e in entries} | {
        v for e in entries for k, v in e.payload.items() if k in ("dst", "source")
    }
    assert private.id not in named


def test_derived_memory_of_private_items_stays_private(tmp_path: Path) -> None:
    """KV caches and adapters built from a private item are private too: another user can
    neither read them nor generate with them, nor name the private item as memories."""
    with (
        single_thread(),
        memos.open(
            tmp_path / "home", user="alice", embedder=HashEmbedder(dim=64),
            runtime=tiny_runtime(),
        ) as mos,
    ):  # fmt: skip
        team = mos.create_cube("team")
        team.grant("bob", "write")
        private = team.add("Alice's private zorblax plan", visibility="private")
        shared = team.add("The shared roadmap")
        kv = team.build_activation([private.id])
        lora = team.distill([private.id], steps=2, seed=0)
        assert kv.visibility.value == lora.visibility.value == "private"
        bob = mos.as_user("bob").cube("team")
        for derived in (kv, lora):
            with pytest.raises((memos.PermissionDeniedError, memos.NotFoundError)):
                bob.get(derived.id)
        assert {i.id for i in bob.items(limit=1000)} == {shared.id}
        refused = (memos.PermissionDeniedError, memos.NotFoundError)
        with pytest.raises(refused):
            bob.generate("What is the plan?", activation=kv.id, max_new_tokens=2)
        with pytest.raises(refused):
            bob.generate("What is the plan?", adapters=[lora.id], max_new_tokens=2)
        with pytest.raises(refused):
            bob.generate("What is the plan?", memories=[private.id], max_new_tokens=2)
        with pytest.raises(refused):
            bob.build_activation([private.id])
        with pytest.raises(refused):
            bob.rebuild(kv.id)
        assert bob.generate("Roadmap?", memories=[shared.id], max_new_tokens=2).text is not None
