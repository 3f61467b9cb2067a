"""Helpers shared by the server, client and MCP tests (no tests of its own).

A served memos is the real app over a real `memos.open()` (hash embedder, fake clock),
reached in process through httpx (`TestClient` for sync, `ASGITransport` for async).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

import memos
from memos.models import Permission
from memos.server.app import create_app
from memos.testing import FakeClock, HashEmbedder

BASE_URL = "http://127.0.0.1"
LOOPBACK_CLIENT = ("127.0.0.1", 50000)
MCP_HEADERS = {
    "Accept": "application/json, text/event-stream",
    "MCP-Protocol-Version": "2025-06-18",
}


@dataclass
class Served:
    """A memos behind the app: `mos` (the embedded root), `http` (a client of the app),
    and keys by name."""

    mos: memos.MemOS
    app: FastAPI
    http: TestClient
    keys: dict[str, str]

    def headers(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[who]}"}

    def key(self, name: str, user: str, scope: Permission | str) -> str:
        self.keys[name] = self.mos.kernel.store.create_api_key(user, Permission(scope))[1]
        return self.keys[name]

    def call(self, method: str, path: str, who: str | None = None, **kwargs: Any) -> Any:
        headers = {**(self.headers(who) if who else {}), **kwargs.pop("headers", {})}
        return self.http.request(method, path, headers=headers, **kwargs)

    def tool(self, who: str, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        """Call an MCP tool over HTTP with `who`'s key: the JSON-RPC result."""
        response = self.http.post(
            "/mcp",
            headers={**self.headers(who), **MCP_HEADERS},
            json={
                "jsonrpc": "2.0",
                "id": 1,
                "method": "tools/call",
                "params": {"name": name, "arguments": arguments},
            },
        )
        assert response.status_code == 200, response.text
        return dict(response.json()["result"])


@functools.cache
def shared_runtime() -> Any:
    """One tiny random transformer for every test that needs a runtime (it takes seconds
    to build)."""
    from memos.testing import tiny_runtime

    return tiny_runtime()


def tool_payload(result: dict[str, Any]) -> Any:
    """A successful tool result's JSON (structured content, else its text)."""
    assert not result.get("isError"), result
    if result.get("structuredContent") is not None:
        return result["structuredContent"]
    return json.loads(result["content"][0]["text"])


@contextmanager
def served(
    home: Path,
    db_url: str | None = None,
    *,
    clock: FakeClock | None = None,
    embedder: HashEmbedder | None = None,
    user: str = "alice",
    local_token: str | None = None,
    **options: Any,
) -> Iterator[Served]:
    with memos.open(
        home,
        url=db_url,
        user=user,
        embedder=embedder or HashEmbedder(dim=64),
        clock=clock or FakeClock(),
        **options,
    ) as mos:
        app = create_app(mos, local_token=local_token)
        with TestClient(app, base_url=BASE_URL, client=LOOPBACK_CLIENT) as http:
            yield Served(mos=mos, app=app, http=http, keys={})


def add_standard_keys(found: Served) -> Served:
    """alice (admin key), bob (write key), alice-read (a read key of alice)."""
    found.key("alice", "alice", "admin")
    found.key("bob", "bob", "write")
    found.key("alice-read", "alice", "read")
    return found
