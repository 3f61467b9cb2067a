"""`memos.connect` against the real app in process: the same script run embedded and
served gives equal records (items, hits and their scores, versions, links) and raises
the same error types; the async client too. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from test_server_support import BASE_URL, served, shared_runtime

import memos
from memos.client import AsyncClient, Client, decode
from memos.models import CubeInfo, Hit, Link, MemoryItem, Record, Version
from memos.testing import FakeClock, HashEmbedder

LOCAL = "local-token"


def script(mos: Any) -> list[Any]:
    """Everything a caller might do, with what came back (errors by type and text)."""
    out: list[Any] = []

    def record(step: Callable[[], Any]) -> None:
        try:
            out.append(step())
        except memos.MemosError as exc:
            out.append((type(exc).__name__, str(exc)))

    work = mos.create_cube("work")
    out.append(work.info)
    a = work.add(
        "Launch is on March 3",
        type="fact",
        source="slack",
        source_ref="msg-17",
        tags=["launch"],
        valid_from="2025-02-01",
        attributes={"k": [1, 2]},
    )
    b = work.add("The cafeteria closes at 3pm", ttl="7d", importance=0.9)
    out += [a, b]
    out.append(
        work.add_many(["Mira lives in Bergen", {"content": "Standup at 9", "type": "event"}])
    )
    out.append(work.add_many([]))
    out.append(work.update(a.id, "Launch moved to March 10", tags=["launch", "moved"]))
    out.append(work.get(a.id))
    out.append(work.get(a.uid, as_of="2025-02-15"))
    out.append(work.history(a.id))
    out.append(work.link(a.id, b.id, kind="supports", reason="same week"))
    out.append(work.links(a.id))
    out.append(work.search("when is the launch", k=3))
    out.append(
        work.search("launch", k=2, tags=["launch"], weights={"graph": 0}, statuses="activated")
    )
    out.append(work.search("cafeteria", k=5, as_of="2025-02-15"))
    out.append(work.items(limit=2))
    out.append(work.items(limit=2, offset=1))
    out.append(work.freeze(b.id))
    record(lambda: work.update(b.id, "no"))
    record(lambda: work.set_status(b.id, "merged"))
    out.append(work.update(b.id, "The cafeteria closes at 4pm", force=True))
    out.append(work.revert(a.id, 1))
    out.append(work.forget(a.id))
    record(lambda: work.get(a.id))
    record(lambda: work.get(999))
    record(lambda: work.add(""))
    record(lambda: work.search("x", k=0))
    record(lambda: mos.cube("missing"))
    record(lambda: mos.create_cube("work"))
    record(lambda: work.grant("bob", "owner"))
    out.append(work.grant("bob", "read"))
    out.append(work.grants())
    stats = work.stats()
    out.append({k: v for k, v in stats.items() if k != "indexed_vectors"})
    out.append(mos.cubes())
    return out


@pytest.fixture
def twin_clocks() -> tuple[FakeClock, FakeClock]:
    return FakeClock(), FakeClock()


def test_served_and_embedded_give_the_same_results(
    tmp_path: Path, db_url: str | None, twin_clocks: tuple[FakeClock, FakeClock]
) -> None:
    embedder = HashEmbedder(dim=64)
    with memos.open(
        tmp_path / "embedded", url=None, user="alice", embedder=embedder, clock=twin_clocks[0]
    ) as mos:
        embedded = script(mos)
    with served(
        tmp_path / "served", db_url, clock=twin_clocks[1], embedder=embedder, local_token=LOCAL
    ) as server:
        client = memos.connect(BASE_URL, api_key=LOCAL, http=server.http)
        remote = script(client)
        assert client.user == "alice"
    assert len(remote) == len(embedded)
    for position, (mine, theirs) in enumerate(zip(remote, embedded, strict=True)):
        assert _shape(mine) == _shape(theirs), f"step {position}"
        assert _plain(mine) == _plain(theirs), f"step {position}"


def _shape(value: Any) -> Any:
    """The record types of a result (a served call returns the same classes)."""
    if isinstance(value, list | tuple):
        return [type(value).__name__, *(_shape(v) for v in value)]
    return type(value).__name__


def _plain(value: Any) -> Any:
    """A result as JSON without uids, which are random per database."""
    if isinstance(value, Record):
        value = value.to_dict()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if k != "uid"}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def test_records_decode_from_their_json(server_memos: memos.MemOS) -> None:
    cube = server_memos.create_cube("work")
    item = cube.add("x", tags=["t"], attributes={"a": {"b": 1}}, valid_to="2030-01-01")
    other = cube.add("y")
    link = cube.link(item.id, other.id)
    hit = cube.search("x", k=1)[0]
    for record, kind in (
        (item, MemoryItem),
        (cube.history(item.id)[0], Version),
        (link, Link),
        (hit, Hit),
        (cube.info, CubeInfo),
    ):
        assert decode(kind, record.to_dict()) == record
    with pytest.raises(memos.BackendError, match="cannot read"):
        decode(MemoryItem, {"id": "not a record"})


@pytest.fixture
def server_memos(home: Path, db_url: str | None, clock: FakeClock) -> Iterator[memos.MemOS]:
    with memos.open(
        home, url=db_url, user="alice", embedder=HashEmbedder(dim=64), clock=clock
    ) as mos:
        yield mos


def test_errors_keep_their_type(home: Path) -> None:
    with served(home) as server:
        server.key("bob", "bob", "write")
        server.key("alice", "alice", "admin")
        alice = memos.connect(BASE_URL, api_key=server.keys["alice"], http=server.http)
        alice.create_cube("work").add("secret", visibility="private")
        bob = Client(BASE_URL, api_key=server.keys["bob"], http=server.http)
        with pytest.raises(memos.NotFoundError):
            bob.cube("work")
        with pytest.raises(memos.PermissionDeniedError):
            bob.drop_cube("work")
        with pytest.raises(memos.InvalidInputError):
            bob.create_cube("bad name")
        alice.cube("work").freeze(1)
        with pytest.raises(memos.ConflictError):
            alice.cube("work").update(1, "changed")
        with pytest.raises(memos.InvalidTransitionError):
            alice.cube("work").set_status(1, "generated")
        nobody = Client(BASE_URL, api_key="memos_bad_key", http=server.http)
        with pytest.raises(memos.PermissionDeniedError, match="invalid API key"):
            nobody.cubes()
    # Nothing listening: a BackendError that names the URL, not an httpx exception.
    with pytest.raises(memos.BackendError, match="cannot reach"):
        memos.connect("http://127.0.0.1:9", api_key="k", timeout=2).cubes()


def test_long_work_waits_for_its_job(home: Path) -> None:
    with served(home, runtime=shared_runtime(), local_token=LOCAL) as server:
        client = memos.connect(BASE_URL, api_key=LOCAL, http=server.http)
        cube = client.create_cube("work")
        ids = [cube.add("Mira lives in Tromsø.").id, cube.add("Pickle is a dog.").id]
        kv = cube.build_activation(ids)
        assert kv.kind.value == "activation" and kv == server.mos.cube("work").get(kv.id)
        out = cube.generate("Where?", activation=kv.id, max_new_tokens=3)
        assert out.tokens == cube.generate("Where?", memories=ids, max_new_tokens=3).tokens
        with pytest.raises(memos.NotFoundError):
            cube.build_activation([12345])


@pytest.mark.anyio
async def test_async_client(home: Path, db_url: str | None) -> None:
    with served(home, db_url, local_token=LOCAL) as server:
        app = server.app
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 4000))
        async with (
            httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http,
            memos.connect_async(BASE_URL, api_key=LOCAL, http=http) as client,
        ):
            assert isinstance(client, AsyncClient)
            cube = await client.create_cube("work")
            item = await cube.add("Launch is on March 3", tags=["launch"])
            await cube.add_many(["The cafeteria closes at 3pm"])
            assert (await cube.get(item.id)) == server.mos.cube("work").get(item.id)
            hits = await cube.search("launch", k=1)
            assert hits[0].item.id == item.id
            updated = await cube.update(item.id, "Launch moved")
            assert [v.content for v in await cube.history(item.id)] == [
                "Launch is on March 3",
                updated.content,
            ]
            assert len(await cube.items(limit=10)) == 2
            assert (await cube.stats())["items"] == 2
            assert [c.name for c in await client.cubes()] == ["work"]
            with pytest.raises(memos.NotFoundError):
                await client.cube("missing")
            await cube.forget(item.id)
            with pytest.raises(memos.NotFoundError):
                await cube.get(item.id)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
