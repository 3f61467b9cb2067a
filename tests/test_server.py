"""The REST server in process (the real app over a real memos, through httpx): keys,
scopes, every route family, the error shape, pagination, jobs, metrics; on SQLite and
PostgreSQL."""

from __future__ import annotations

import hashlib
import logging
import shutil
import sqlite3
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from test_server_support import Served, add_standard_keys, served, shared_runtime

import memos
from memos.models import Permission
from memos.stores.keys import split_key
from memos.testing import FakeClock, HashEmbedder

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def server(
    home: Path, db_url: str | None, clock: FakeClock, embedder: HashEmbedder
) -> Iterator[Served]:
    with served(home, db_url, clock=clock, embedder=embedder) as found:
        yield add_standard_keys(found)


# -- keys ---------------------------------------------------------------------------------


def test_keys_store_only_a_hash_and_check_it(server: Served, clock: FakeClock) -> None:
    store = server.mos.kernel.store
    record, key = store.create_api_key("carol", Permission.READ, label="notebook")
    key_id, secret = split_key(key) or ("", "")
    assert key_id == record.id and len(secret) >= 40
    stored = {k.id: k for k in store.api_keys("carol")}
    assert list(stored) == [record.id] and stored[record.id].label == "notebook"
    with store.engine.connect() as conn:
        row = conn.exec_driver_sql(
            "select secret_hash from memos_api_keys where id = ?"
            if store.dialect == "sqlite"
            else "select secret_hash from memos_api_keys where id = %s",
            (record.id,),
        ).one()
    assert row[0] == hashlib.sha256(secret.encode()).hexdigest() and secret not in row[0]
    assert store.authenticate_api_key(key).user == "carol"
    assert store.api_keys("carol")[0].last_used_at is not None
    for wrong in (key[:-1] + ("A" if key[-1] != "A" else "B"), "memos_nope_nope", "", "x" * 500):
        with pytest.raises(memos.PermissionDeniedError, match="invalid API key"):
            store.authenticate_api_key(wrong)
    store.revoke_api_key(record.id)
    with pytest.raises(memos.PermissionDeniedError, match="revoked"):
        store.authenticate_api_key(key)
    with pytest.raises(memos.NotFoundError):
        store.revoke_api_key("no-such-id")


def test_expired_key_is_refused(server: Served, clock: FakeClock) -> None:
    store = server.mos.kernel.store
    _, key = store.create_api_key("bob", Permission.READ, expires_at=clock.now + timedelta(hours=1))
    assert server.call("GET", "/v1/cubes", headers={"X-API-Key": key}).status_code == 200
    clock.now += timedelta(hours=2)
    refused = server.call("GET", "/v1/cubes", headers={"X-API-Key": key})
    assert refused.status_code == 401 and "expired" in refused.json()["error"]["message"]


def test_a_key_revoked_elsewhere_is_refused_within_the_cache_time(server: Served) -> None:
    store = server.mos.kernel.store
    record, key = store.create_api_key("bob", Permission.READ)
    assert server.call("GET", "/v1/cubes", headers={"X-API-Key": key}).status_code == 200
    store.revoke_api_key(record.id)  # as `memos keys revoke` in another process does
    time.sleep(server.mos.settings.server_cache_s)
    refused = server.call("GET", "/v1/cubes", headers={"X-API-Key": key})
    assert refused.status_code == 401 and "revoked" in refused.json()["error"]["message"]


def test_without_the_cache_a_revoked_key_is_refused_at_once(
    home: Path, db_url: str | None, clock: FakeClock
) -> None:
    with served(home, db_url, clock=clock, server_cache_s=0) as found:
        store = found.mos.kernel.store
        record, key = store.create_api_key("bob", Permission.READ)
        assert found.call("GET", "/v1/cubes", headers={"X-API-Key": key}).status_code == 200
        store.revoke_api_key(record.id)
        assert found.call("GET", "/v1/cubes", headers={"X-API-Key": key}).status_code == 401
        # A remembered key still needs its secret: a near miss of a good key is refused.
        _, good = store.create_api_key("bob", Permission.READ)
        assert found.call("GET", "/v1/cubes", headers={"X-API-Key": good}).status_code == 200
        near = good[:-1] + ("A" if good[-1] != "A" else "B")
        assert found.call("GET", "/v1/cubes", headers={"X-API-Key": near}).status_code == 401


def test_a_remembered_key_still_needs_its_secret(server: Served) -> None:
    good = server.keys["bob"]
    assert server.call("GET", "/v1/cubes", headers={"X-API-Key": good}).status_code == 200
    near = good[:-1] + ("A" if good[-1] != "A" else "B")
    assert server.call("GET", "/v1/cubes", headers={"X-API-Key": near}).status_code == 401


def test_a_cube_dropped_and_made_again_is_the_new_one(server: Served) -> None:
    assert server.call("POST", "/v1/cubes", "alice", json={"name": "work"}).status_code == 201
    server.call("POST", "/v1/cubes/work/memories", "alice", json={"content": "old plan"})
    assert server.call("DELETE", "/v1/cubes/work", "alice").status_code == 200
    # Through this server: at once.
    assert server.call("GET", "/v1/cubes/work", "alice").status_code == 404
    assert server.call("POST", "/v1/cubes", "alice", json={"name": "work"}).status_code == 201
    added = server.call("POST", "/v1/cubes/work/memories", "alice", json={"content": "new plan"})
    assert added.status_code == 201, added.text
    found = server.call("POST", "/v1/search", "alice", json={"query": "plan", "cubes": ["work"]})
    assert [hit["item"]["content"] for hit in found.json()["hits"]] == ["new plan"]
    # By another process: within the cache time.
    server.mos.drop_cube("work")
    time.sleep(server.mos.settings.server_cache_s)
    assert server.call("GET", "/v1/cubes/work", "alice").status_code == 404


def test_no_key_or_a_bad_key_is_401(server: Served) -> None:
    for headers in (
        {},
        {"Authorization": "Bearer memos_x_y"},
        {"X-API-Key": "nonsense"},
        {"Authorization": "Basic abc"},
    ):
        answer = server.call("GET", "/v1/cubes", headers=headers)
        assert answer.status_code == 401, headers
        assert answer.json()["error"]["type"] == "AuthenticationError"
        assert answer.headers["www-authenticate"] == "Bearer"
    # Both header forms carry a key.
    assert server.call("GET", "/v1/cubes", headers={"X-API-Key": server.keys["bob"]}).is_success
    assert server.call("GET", "/v1/cubes", "bob").is_success
    # Health needs no key; everything under /v1 and /mcp does.
    assert server.call("GET", "/healthz").json()["status"] == "ok"
    assert server.call("POST", "/mcp", json={}).status_code == 401


def test_a_key_names_its_user_and_parameters_cannot(server: Served) -> None:
    created = server.call("POST", "/v1/cubes", "bob", json={"name": "bobs"})
    assert created.status_code == 201 and created.json()["owner"] == "bob"
    status = server.call("GET", "/v1/status", "bob").json()
    assert (status["user"], status["scope"], status["cubes"]) == ("bob", "write", ["bobs"])
    # A user field is not a thing the API takes.
    refused = server.call("POST", "/v1/cubes", "bob", json={"name": "x", "user": "alice"})
    assert (
        refused.status_code == 422 and "unknown field 'user'" in refused.json()["error"]["message"]
    )


def test_scope_caps_what_a_key_may_do(server: Served) -> None:
    assert server.call("POST", "/v1/cubes", "alice", json={"name": "work"}).status_code == 201
    item = server.call("POST", "/v1/cubes/work/memories", "alice", json={"content": "x"}).json()
    # alice owns the cube (admin), but her read key reads only.
    assert server.call("GET", f"/v1/memories/{item['id']}", "alice-read").status_code == 200
    for method, path, body in (
        ("POST", "/v1/cubes/work/memories", {"content": "y"}),
        ("PATCH", f"/v1/memories/{item['id']}", {"content": "z"}),
        ("DELETE", f"/v1/memories/{item['id']}", None),
        ("POST", "/v1/cubes", {"name": "other"}),
        ("DELETE", "/v1/cubes/work", None),
    ):
        answer = server.call(method, path, "alice-read", json=body)
        assert answer.status_code == 403, (method, path)
        assert "read scope" in answer.json()["error"]["message"]
    # bob's write key cannot do what bob's grants do not allow, nor admin work.
    assert (
        server.call("POST", "/v1/cubes/work/memories", "bob", json={"content": "y"}).status_code
        == 403
    )
    assert server.call("DELETE", "/v1/cubes/work", "bob").status_code == 403
    assert server.call("GET", "/v1/cubes/work", "bob").status_code == 404  # not even its name
    assert server.mos.cube("work").stats()["items"] == 1


def test_grants_apply_as_in_the_sdk(server: Served) -> None:
    server.call("POST", "/v1/cubes", "alice", json={"name": "team"})
    secret = server.call(
        "POST",
        "/v1/cubes/team/memories",
        "alice",
        json={"content": "alice only", "visibility": "private"},
    ).json()
    shared = server.call(
        "POST", "/v1/cubes/team/memories", "alice", json={"content": "all of us"}
    ).json()
    granted = server.call(
        "POST", "/v1/cubes/team/grants", "alice", json={"user": "bob", "permission": "write"}
    )
    assert granted.status_code == 201 and granted.json()["permission"] == "write"
    listed = server.call("GET", "/v1/cubes/team/memories", "bob").json()["items"]
    assert [i["id"] for i in listed] == [shared["id"]]
    assert server.call("GET", f"/v1/memories/{secret['id']}", "bob").status_code in (403, 404)
    assert (
        server.call("POST", "/v1/cubes/team/memories", "bob", json={"content": "bob's"}).status_code
        == 201
    )
    hits = server.call("POST", "/v1/search", "bob", json={"query": "alice only us"}).json()["hits"]
    assert secret["id"] not in [h["item"]["id"] for h in hits]
    assert server.call("DELETE", "/v1/cubes/team/grants/bob", "alice").json() == {
        "revoked": "bob",
        "cube": "team",
    }
    assert server.call("GET", "/v1/cubes/team/memories", "bob").status_code == 403


def test_local_token_only_from_loopback(home: Path) -> None:
    from fastapi.testclient import TestClient

    with served(home, local_token="local-secret") as found:
        ok = found.call("GET", "/v1/status", headers={"Authorization": "Bearer local-secret"})
        assert (
            ok.status_code == 200 and ok.json()["user"] == "alice" and ok.json()["key"] == "local"
        )
        with TestClient(
            found.app, base_url="http://127.0.0.1", client=("10.1.2.3", 4000)
        ) as remote:
            refused = remote.get("/v1/status", headers={"Authorization": "Bearer local-secret"})
        assert refused.status_code == 401 and "this machine" in refused.json()["error"]["message"]


def test_keys_survive_migration_from_an_old_schema(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(FIXTURES / "schema_v2.sqlite", home / "memos.db")
    with memos.open(home, user="alice", embedder=HashEmbedder(dim=64)) as mos:
        _, key = mos.kernel.store.create_api_key("alice", Permission.READ)
        assert mos.kernel.store.authenticate_api_key(key).user == "alice"
    with sqlite3.connect(home / "memos.db") as conn:
        assert conn.execute("select count(*) from memos_api_keys").fetchone() == (1,)


# -- routes -------------------------------------------------------------------------------


def test_memories_round_trip(server: Served) -> None:
    assert server.call("POST", "/v1/cubes", "alice", json={"name": "work"}).status_code == 201
    one = server.call(
        "POST",
        "/v1/cubes/work/memories",
        "alice",
        json={
            "content": "Launch is on March 3",
            "tags": ["launch"],
            "source": "slack",
            "ttl": "7d",
        },
    )
    assert one.status_code == 201
    item = one.json()
    local = server.mos.cube("work").get(item["id"])
    assert item == local.to_dict()
    batch = server.call(
        "POST",
        "/v1/cubes/work/memories",
        "alice",
        json=["plain text", {"content": "an event", "type": "event"}],
    )
    assert batch.status_code == 201 and [i["type"] for i in batch.json()["items"]] == [
        "fact",
        "event",
    ]
    bad_batch = server.call(
        "POST", "/v1/cubes/work/memories", "alice", json=["ok", {"content": ""}]
    )
    assert bad_batch.status_code == 422 and "record 1" in bad_batch.json()["error"]["message"]
    assert server.mos.cube("work").stats()["items"] == 3  # nothing of the bad batch

    path = f"/v1/memories/{item['id']}"
    updated = server.call("PATCH", path, "alice", json={"content": "Launch moved to March 10"})
    assert updated.json()["version"] == 2
    by_uid = server.call("GET", f"/v1/memories/{item['uid']}", "alice").json()
    assert by_uid["content"] == "Launch moved to March 10"
    then = server.call("GET", path, "alice", params={"as_of": item["valid_from"]}).json()
    assert then["content"] == "Launch is on March 3"
    versions = server.call("GET", f"{path}/history", "alice").json()["versions"]
    assert [v["item"]["content"] for v in versions] == [
        "Launch is on March 3",
        "Launch moved to March 10",
    ]
    frozen = server.call("POST", f"{path}/status", "alice", json={"status": "frozen"})
    assert frozen.json()["status"] == "frozen"
    refused = server.call("PATCH", path, "alice", json={"content": "x"})
    assert refused.status_code == 409 and refused.json()["error"]["type"] == "ConflictError"
    assert server.call(
        "PATCH", path, "alice", json={"content": "x"}, params={"force": "true"}
    ).is_success
    reverted = server.call("POST", f"{path}/revert", "alice", json={"version": 1})
    assert reverted.json()["content"] == "Launch is on March 3"

    other = batch.json()["items"][0]["id"]
    link = server.call(
        "POST",
        "/v1/cubes/work/links",
        "alice",
        json={"src": item["id"], "dst": other, "kind": "supports", "reason": "r"},
    )
    assert link.status_code == 201 and link.json()["kind"] == "supports"
    assert [
        edge["id"] for edge in server.call("GET", f"{path}/links", "alice").json()["links"]
    ] == [link.json()["id"]]
    assert server.call("DELETE", f"/v1/cubes/work/links/{link.json()['id']}", "alice").is_success
    assert server.call("GET", f"{path}/links", "alice").json()["links"] == []

    gone = server.call("DELETE", path, "alice", params={"hard": "true"})
    assert gone.json()["status"] == "deleted" and gone.json()["content"] is None
    assert server.call("GET", path, "alice").status_code == 404
    stats = server.call("GET", "/v1/cubes/work/stats", "alice").json()
    assert stats["by_status"]["deleted"] == 1


def test_search_returns_scores_by_signal(server: Served) -> None:
    server.call("POST", "/v1/cubes", "alice", json={"name": "work"})
    server.call("POST", "/v1/cubes", "alice", json={"name": "home"})
    server.call(
        "POST",
        "/v1/cubes/work/memories",
        "alice",
        json=[
            {"content": "Launch is on March 3", "tags": ["launch"]},
            "The cafeteria closes at 3pm",
        ],
    )
    server.call(
        "POST", "/v1/cubes/home/memories", "alice", json={"content": "Water the launch plants"}
    )
    hits = server.call(
        "POST", "/v1/search", "alice", json={"query": "when is the launch", "k": 5}
    ).json()["hits"]
    assert {h["item"]["cube_id"] for h in hits} == {1, 2}
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)
    assert {"vector", "lexical", "final"} <= set(hits[0]["scores"])
    # One cube: exactly the embedded SDK's answer.
    one = server.call(
        "POST",
        "/v1/search",
        "alice",
        json={
            "query": "launch",
            "cubes": ["work"],
            "k": 2,
            "filters": {"tags": ["launch"]},
            "weights": {"graph": 0},
        },
    ).json()["hits"]
    expected = server.mos.cube("work").search("launch", k=2, tags=["launch"], weights={"graph": 0})
    assert [h["item"]["id"] for h in one] == [h.item.id for h in expected]
    assert [h["scores"]["fused"] for h in one] == [h.scores["fused"] for h in expected]
    for body in (
        {"query": ""},
        {"query": "x", "k": 0},
        {"query": "x", "k": "5"},
        {"query": "x", "filters": {"statuses": ["nope"]}},
        {"query": "x", "as_of": "yesterday"},
        {"query": "x", "weights": {"nope": 1}},
    ):
        answer = server.call("POST", "/v1/search", "alice", json=body)
        assert answer.status_code == 422, body
        assert answer.json()["error"]["type"] == "InvalidInputError"


def test_items_page_with_a_cursor(server: Served) -> None:
    server.call("POST", "/v1/cubes", "alice", json={"name": "work"})
    server.call("POST", "/v1/cubes/work/memories", "alice", json=[f"memory {n}" for n in range(7)])
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = server.call("GET", "/v1/cubes/work/memories", "alice", params=params).json()
        seen += [i["id"] for i in page["items"]]
        pages += 1
        if pages == 1:  # new items arrive between pages: never repeated, never skipping
            server.call("POST", "/v1/cubes/work/memories", "alice", json=["late 1", "late 2"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(range(7, 0, -1)) and pages == 3
    bad = server.call("GET", "/v1/cubes/work/memories", "alice", params={"cursor": "garbage!"})
    assert bad.status_code == 422
    assert (
        server.call("GET", "/v1/cubes/work/memories", "alice", params={"limit": 0}).status_code
        == 422
    )
    typed = server.call("GET", "/v1/cubes/work/memories", "alice", params={"type": "event"}).json()
    assert typed == {"items": [], "next_cursor": None}


def test_cubes_routes(server: Served) -> None:
    assert server.call(
        "POST", "/v1/cubes", "alice", json={"name": "work", "attributes": {"team": "x"}}
    ).is_success
    taken = server.call("POST", "/v1/cubes", "bob", json={"name": "work"})
    assert taken.status_code == 409 and taken.json()["error"]["type"] == "ConflictError"
    bad = server.call("POST", "/v1/cubes", "alice", json={"name": "no spaces"})
    assert bad.status_code == 422
    assert [c["name"] for c in server.call("GET", "/v1/cubes", "alice").json()["cubes"]] == ["work"]
    assert server.call("GET", "/v1/cubes", "bob").json() == {"cubes": []}
    assert server.call("GET", "/v1/cubes/work", "alice").json()["attributes"] == {"team": "x"}
    assert server.call("GET", "/v1/cubes/missing", "alice").status_code == 404
    assert [
        g["user"] for g in server.call("GET", "/v1/cubes/work/grants", "alice").json()["grants"]
    ] == []
    assert server.call("DELETE", "/v1/cubes/work", "alice").json() == {"dropped": "work"}
    assert server.call("GET", "/v1/cubes", "alice").json() == {"cubes": []}


def test_agents_routes(server: Served) -> None:
    server.call("POST", "/v1/cubes", "alice", json={"name": "work"})
    report = server.call(
        "POST",
        "/v1/cubes/work/ingest",
        "alice",
        json={
            "records": [
                {
                    "speaker": "mira",
                    "content": "I moved to Bergen!",
                    "timestamp": "2025-03-04T09:00:00Z",
                    "id": "m1",
                }
            ],
            "source": "slack",
        },
    ).json()
    assert report["extractor"] == "offline" and len(report["added"]) == 1
    bad = server.call("POST", "/v1/cubes/work/ingest", "alice", json={"records": [{"nothing": 1}]})
    assert bad.status_code == 422
    note = server.call(
        "POST",
        "/v1/cubes/work/notes",
        "alice",
        json={"content": "We raised the DB pool of payments to 50.", "agent": "ops"},
    )
    assert note.status_code == 201 and note.json()["note"]["type"] == "note"
    concept = server.call(
        "POST",
        "/v1/cubes/work/concepts",
        "alice",
        json={
            "name": "flood fill",
            "kind": "routine",
            "description": "fill regions",
            "cues": ["enclosed region"],
        },
    )
    assert concept.json()["action"] == "created"
    found = server.call(
        "POST",
        "/v1/cubes/work/concepts/search",
        "alice",
        json={"problem": "colour the enclosed region", "k": 1},
    ).json()["concepts"]
    assert [c["name"] for c in found] == ["flood fill"]
    used = server.call(
        "POST",
        "/v1/cubes/work/concepts/use",
        "alice",
        json={"concepts": [found[0]["id"]], "success": True},
    ).json()["concepts"]
    assert used[0]["uses"] == 1
    listed = server.call("GET", "/v1/cubes/work/concepts", "alice").json()["concepts"]
    assert [c["name"] for c in listed] == ["flood fill"]
    abstraction = server.call(
        "POST",
        "/v1/cubes/work/abstract",
        "alice",
        json={"trace": ["Routine: retry - back off and retry"], "outcome": "success"},
    )
    assert abstraction.status_code == 201 and abstraction.json()["trace"]["type"] == "trace"


def test_jobs_build_a_kv_cache_and_generate(home: Path) -> None:
    with served(home, runtime=shared_runtime()) as found:
        key = found.key("alice", "alice", "admin")
        del key
        found.call("POST", "/v1/cubes", "alice", json={"name": "work"})
        ids = [
            i["id"]
            for i in found.call(
                "POST",
                "/v1/cubes/work/memories",
                "alice",
                json=["Mira lives in Tromsø.", "Pickle is a dog."],
            ).json()["items"]
        ]
        submitted = found.call("POST", "/v1/cubes/work/activations", "alice", json={"items": ids})
        assert submitted.status_code == 202
        job = submitted.json()
        deadline = time.monotonic() + 60
        while job["status"] in ("queued", "running") and time.monotonic() < deadline:
            time.sleep(0.05)
            job = found.call("GET", f"/v1/jobs/{job['id']}", "alice").json()
        assert job["status"] == "done", job
        kv = job["result"]
        assert kv["kind"] == "activation"
        found.key("bob", "bob", "admin")
        assert found.call("GET", f"/v1/jobs/{job['id']}", "bob").status_code == 404
        out = found.call(
            "POST",
            "/v1/generate",
            "alice",
            json={"cube": "work", "prompt": "Where?", "activation": kv["id"], "max_new_tokens": 4},
        ).json()
        ref = found.call(
            "POST",
            "/v1/generate",
            "alice",
            json={"cube": "work", "prompt": "Where?", "memories": ids, "max_new_tokens": 4},
        ).json()
        assert out["tokens"] == ref["tokens"] and out["cached_tokens"] > 0
        failing = found.call(
            "POST", "/v1/cubes/work/activations", "alice", json={"items": [999]}
        ).json()
        while failing["status"] in ("queued", "running"):
            time.sleep(0.05)
            failing = found.call("GET", f"/v1/jobs/{failing['id']}", "alice").json()
        assert failing["status"] == "failed" and failing["error"]["type"] == "NotFoundError"
        bad_plan = found.call(
            "POST", "/v1/cubes/work/adapters", "alice", json={"items": ids, "rank": 0}
        )
        assert bad_plan.status_code == 422


# -- errors and the surface ----------------------------------------------------------------


def test_errors_have_one_shape_and_no_traces(
    server: Served, caplog: pytest.LogCaptureFixture
) -> None:
    server.call("POST", "/v1/cubes", "alice", json={"name": "work"})
    cases = [
        ("POST", "/v1/cubes", {"content": b"{not json"}, 400),
        ("POST", "/v1/cubes", {"content": b""}, 400),
        ("POST", "/v1/cubes", {"json": ["a list"]}, 422),
        ("GET", "/v1/memories/9999", {}, 404),
        ("GET", "/v1/memories/not a ref!", {}, 422),
        ("GET", "/v1/cubes/work/memories", {"params": {"limit": "many"}}, 422),
        ("GET", "/v1/nowhere", {}, 404),
        ("PUT", "/v1/cubes", {}, 405),
        ("POST", "/v1/memories/1/status", {"json": {"status": "merged"}}, 404),
    ]
    for method, path, kwargs, status in cases:
        answer = server.call(method, path, "alice", **kwargs)
        assert answer.status_code == status, (method, path, answer.text)
        error = answer.json()["error"]
        assert set(error) == {"type", "message"} and "Traceback" not in answer.text

    # An unexpected failure is a generic 500; the details go to the log only.
    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("secret internals /etc/passwd")

    server.app.state.memos.service.cubes = broken
    with caplog.at_level(logging.ERROR, logger="memos.server"):
        from fastapi.testclient import TestClient

        with TestClient(
            server.app, base_url="http://127.0.0.1", raise_server_exceptions=False
        ) as http:
            answer = http.get("/v1/cubes", headers=server.headers("alice"))
    assert answer.status_code == 500
    assert answer.json()["error"]["type"] == "InternalError"
    assert "secret internals" not in answer.text and "secret internals" in caplog.text


def test_metrics_and_openapi(server: Served) -> None:
    server.call("POST", "/v1/cubes", "alice", json={"name": "work"})
    server.call("POST", "/v1/cubes/work/memories", "alice", json=["a", "b"])
    server.call("GET", "/v1/memories/999", "alice")
    assert server.call("GET", "/metrics").status_code == 401
    text = server.call("GET", "/metrics", "alice").text
    assert (
        'memos_http_requests_total{method="POST",route="/v1/cubes/{cube}/memories",status="201"} 1'
        in text
    )
    assert (
        'memos_http_requests_total{method="GET",route="/v1/memories/{ref}",status="404"} 1' in text
    )
    assert 'memos_http_request_duration_seconds_bucket{route="/v1/cubes",le="+Inf"} 1' in text
    assert "memos_cubes 1" in text and 'memos_items{cube="work",status="activated"} 2' in text
    schema = server.call("GET", "/openapi.json").json()
    paths = schema["paths"]
    for path in (
        "/v1/cubes",
        "/v1/cubes/{cube}/memories",
        "/v1/memories/{ref}",
        "/v1/search",
        "/v1/memories/{ref}/history",
        "/v1/cubes/{cube}/ingest",
        "/v1/jobs/{job_id}",
        "/v1/generate",
        "/v1/cubes/{cube}/activations",
        "/v1/cubes/{cube}/adapters",
    ):
        assert path in paths, path
    body = paths["/v1/cubes/{cube}/memories"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"]["oneOf"][0] == {"$ref": "#/components/schemas/AddRequest"}
    assert (
        "AddRequest" in schema["components"]["schemas"]
        and "Visibility" in schema["components"]["schemas"]
    )
    if hasattr(server.mos, "scheduler"):
        scheduler = server.call("GET", "/v1/scheduler", "alice-read").json()
        assert scheduler["status"]["running"] is False and isinstance(scheduler["decisions"], list)
        assert server.call("GET", "/v1/scheduler").status_code == 401


def test_recent_answers_expire_are_capped_and_can_be_forgotten() -> None:
    from memos.server.recent import Recent

    now = [0.0]
    recent: Recent[str, int] = Recent(1.0, max_entries=3, clock=lambda: now[0])
    recent.put("a", 1)
    now[0] = 0.99
    assert recent.get("a") == 1
    now[0] = 1.0
    assert recent.get("a") is None  # stored at 0.0: gone at the ttl
    for position, key in enumerate("bcde"):
        recent.put(key, position)
    assert [recent.get(k) for k in "bcde"] == [None, 1, 2, 3]  # the oldest went first
    recent.forget(lambda key: key in "cd")
    assert [recent.get(k) for k in "cde"] == [None, None, 3]
    never: Recent[str, int] = Recent(0.0)
    never.put("a", 1)
    assert never.get("a") is None
