"""Tenant isolation, as a property: for any key (user x scope), any cube and any REST
route or MCP tool, a call succeeds exactly when the user's grant and the key's scope both
allow it; otherwise it is refused (403/404 or a tool error) having written nothing and
revealed nothing. Private items never reach a user who is not their owner or an admin.
Bounded (hypothesis, a fixed number of examples), on SQLite and PostgreSQL."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_server_support import Served, served

from memos.models import Permission
from memos.testing import FakeClock, HashEmbedder

READ, WRITE, ADMIN = Permission.READ, Permission.WRITE, Permission.ADMIN

# key name -> (user, scope)
KEYS = {
    "alice-admin": ("alice", ADMIN),
    "alice-read": ("alice", READ),
    "bob-write": ("bob", WRITE),
    "bob-read": ("bob", READ),
    "carol-admin": ("carol", ADMIN),
    "dave-write": ("dave", WRITE),
}
OWNERS = {"a-private": "alice", "a-team": "alice", "b-own": "bob"}
# cube -> user -> grant (owners are admins)
GRANTS: dict[str, dict[str, Permission]] = {
    "a-private": {"alice": ADMIN},
    "a-team": {"alice": ADMIN, "bob": READ, "carol": WRITE, "dave": ADMIN},
    "b-own": {"bob": ADMIN},
}


@dataclass
class Target:
    cube: str
    item: int
    other: int
    token: str  # a word only the target item holds
    private_token: str  # a word only the owner's private item holds


@dataclass
class Outcome:
    ok: bool
    refused: bool
    text: str


def rest(response: Any) -> Outcome:
    return Outcome(
        ok=response.is_success, refused=response.status_code in (403, 404), text=response.text
    )


def tool(result: dict[str, Any]) -> Outcome:
    text = str(result)
    error = bool(result.get("isError"))
    refused = error and ("PermissionDeniedError" in text or "NotFoundError" in text)
    return Outcome(ok=not error, refused=refused, text=text)


Op = Callable[[Served, str, Target], Outcome]

# name -> (needed permission, the call); None: allowed to every key (a listing).
OPS: dict[str, tuple[Permission | None, Op]] = {
    "list": (READ, lambda s, k, t: rest(s.call("GET", f"/v1/cubes/{t.cube}/memories", k))),
    "get": (READ, lambda s, k, t: rest(s.call("GET", f"/v1/memories/{t.item}", k))),
    "get-in-cube": (
        READ,
        lambda s, k, t: rest(s.call("GET", f"/v1/memories/{t.item}", k, params={"cube": t.cube})),
    ),
    "history": (READ, lambda s, k, t: rest(s.call("GET", f"/v1/memories/{t.item}/history", k))),
    "links": (READ, lambda s, k, t: rest(s.call("GET", f"/v1/memories/{t.item}/links", k))),
    "search": (
        READ,
        lambda s, k, t: rest(
            s.call("POST", "/v1/search", k, json={"query": t.token, "cubes": [t.cube]})
        ),
    ),
    "cube": (READ, lambda s, k, t: rest(s.call("GET", f"/v1/cubes/{t.cube}", k))),
    "stats": (READ, lambda s, k, t: rest(s.call("GET", f"/v1/cubes/{t.cube}/stats", k))),
    "grants": (READ, lambda s, k, t: rest(s.call("GET", f"/v1/cubes/{t.cube}/grants", k))),
    "concepts": (READ, lambda s, k, t: rest(s.call("GET", f"/v1/cubes/{t.cube}/concepts", k))),
    "add": (
        WRITE,
        lambda s, k, t: rest(
            s.call("POST", f"/v1/cubes/{t.cube}/memories", k, json={"content": "a new memory"})
        ),
    ),
    "add-batch": (
        WRITE,
        lambda s, k, t: rest(
            s.call("POST", f"/v1/cubes/{t.cube}/memories", k, json=["one", {"content": "two"}])
        ),
    ),
    "update": (
        WRITE,
        lambda s, k, t: rest(
            s.call("PATCH", f"/v1/memories/{t.item}", k, json={"content": "changed"})
        ),
    ),
    "forget": (WRITE, lambda s, k, t: rest(s.call("DELETE", f"/v1/memories/{t.item}", k))),
    "archive": (
        WRITE,
        lambda s, k, t: rest(
            s.call("POST", f"/v1/memories/{t.item}/status", k, json={"status": "archived"})
        ),
    ),
    "link": (
        WRITE,
        lambda s, k, t: rest(
            s.call("POST", f"/v1/cubes/{t.cube}/links", k, json={"src": t.item, "dst": t.other})
        ),
    ),
    "ingest": (
        WRITE,
        lambda s, k, t: rest(
            s.call(
                "POST",
                f"/v1/cubes/{t.cube}/ingest",
                k,
                json={
                    "records": [
                        {
                            "speaker": "zed",
                            "content": "I moved to Oslo!",
                            "id": secrets.token_hex(4),
                        }
                    ]
                },
            )
        ),
    ),
    "note": (
        WRITE,
        lambda s, k, t: rest(
            s.call("POST", f"/v1/cubes/{t.cube}/notes", k, json={"content": f"a note on {t.token}"})
        ),
    ),
    "concept": (
        WRITE,
        lambda s, k, t: rest(
            s.call(
                "POST",
                f"/v1/cubes/{t.cube}/concepts",
                k,
                json={"name": "retry", "kind": "routine", "description": "back off"},
            )
        ),
    ),
    "grant": (
        ADMIN,
        lambda s, k, t: rest(
            s.call(
                "POST", f"/v1/cubes/{t.cube}/grants", k, json={"user": "erin", "permission": "read"}
            )
        ),
    ),
    "search-all": (
        None,
        lambda s, k, t: rest(s.call("POST", "/v1/search", k, json={"query": t.token})),
    ),
    "cubes": (None, lambda s, k, t: rest(s.call("GET", "/v1/cubes", k))),
    # MCP tools over HTTP, with the same key.
    "mcp-add": (
        WRITE,
        lambda s, k, t: tool(s.tool(k, "add_memory", {"cube": t.cube, "content": "x"})),
    ),
    "mcp-search": (
        READ,
        lambda s, k, t: tool(s.tool(k, "search_memories", {"query": t.token, "cubes": [t.cube]})),
    ),
    "mcp-get": (READ, lambda s, k, t: tool(s.tool(k, "get_memory", {"id": t.item}))),
    "mcp-list": (READ, lambda s, k, t: tool(s.tool(k, "list_memories", {"cube": t.cube}))),
    "mcp-update": (
        WRITE,
        lambda s, k, t: tool(s.tool(k, "update_memory", {"id": t.item, "content": "y"})),
    ),
    "mcp-delete": (WRITE, lambda s, k, t: tool(s.tool(k, "delete_memory", {"id": t.item}))),
    "mcp-history": (READ, lambda s, k, t: tool(s.tool(k, "get_history", {"id": t.item}))),
    "mcp-ingest": (
        WRITE,
        lambda s, k, t: tool(
            s.tool(
                k,
                "ingest",
                {
                    "cube": t.cube,
                    "records": [
                        {
                            "speaker": "zed",
                            "content": "I moved to Rome!",
                            "id": secrets.token_hex(4),
                        }
                    ],
                },
            )
        ),
    ),
    "mcp-cubes": (None, lambda s, k, t: tool(s.tool(k, "list_cubes", {}))),
    "mcp-status": (None, lambda s, k, t: tool(s.tool(k, "get_status", {}))),
}


def allowed(key: str, cube: str, needed: Permission | None) -> bool:
    user, scope = KEYS[key]
    if needed is None:
        return True
    grant = GRANTS[cube].get(user)
    return grant is not None and grant.allows(needed) and scope.allows(needed)


def may_read(key: str, cube: str) -> bool:
    return GRANTS[cube].get(KEYS[key][0]) is not None


def sees_private(key: str, cube: str) -> bool:
    return GRANTS[cube].get(KEYS[key][0]) is ADMIN


@pytest.fixture
def world(home: Path, db_url: str | None) -> Iterator[Served]:
    with served(home, db_url, clock=FakeClock(), embedder=HashEmbedder(dim=64)) as server:
        for name, (user, scope) in KEYS.items():
            server.key(name, user, scope)
        for cube, owner in OWNERS.items():
            made = server.mos.as_user(owner).create_cube(cube)
            for user, grant in GRANTS[cube].items():
                if user != owner:
                    made.grant(user, grant)
        yield server


def _log_heads(server: Served) -> dict[str, int]:
    heads = {}
    for cube, owner in OWNERS.items():
        ops = server.mos.as_user(owner).cube(cube).operations(after=0, limit=100_000)
        heads[cube] = ops[-1].seq if ops else 0
    return heads


def _target(server: Served, cube: str) -> Target:
    owned = server.mos.as_user(OWNERS[cube]).cube(cube)
    token, private_token = f"zq{secrets.token_hex(6)}", f"zp{secrets.token_hex(6)}"
    item = owned.add(f"the code word is {token}")
    other = owned.add("another shared memory")
    owned.add(f"private code word {private_token} {token}", visibility="private")
    return Target(cube=cube, item=item.id, other=other.id, token=token, private_token=private_token)


EXAMPLES = 120


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    key=st.sampled_from(sorted(KEYS)),
    cube=st.sampled_from(sorted(OWNERS)),
    op=st.sampled_from(sorted(OPS)),
)
def test_no_reads_or_writes_across_grants(world: Served, key: str, cube: str, op: str) -> None:
    target = _target(world, cube)
    before = _log_heads(world)
    needed, call = OPS[op]
    outcome = call(world, key, target)
    after = _log_heads(world)
    if allowed(key, cube, needed):
        assert outcome.ok, (key, cube, op, outcome.text[:300])
    else:
        assert outcome.refused, (key, cube, op, outcome.text[:300])
        assert after == before, (key, cube, op)  # nothing written anywhere
    # Writes never reach another cube.
    assert {c: s for c, s in after.items() if c != cube} == {
        c: s for c, s in before.items() if c != cube
    }
    if not may_read(key, cube):
        assert target.token not in outcome.text, (key, cube, op)
    if not sees_private(key, cube):
        assert target.private_token not in outcome.text, (key, cube, op)


def test_every_tool_is_in_the_property() -> None:
    """A new MCP tool must join the property above (by name, in an `s.tool(...)` case)."""
    import inspect

    from memos.server.tools import TOOL_NAMES

    source = inspect.getsource(inspect.getmodule(test_every_tool_is_in_the_property))  # type: ignore[arg-type]
    assert all(f'"{name}"' in source.split("OPS: dict")[1] for name in TOOL_NAMES)
