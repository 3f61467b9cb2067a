"""MCP: an in-process session with the official client, the HTTP endpoint behind API keys,
and `memos mcp` over stdio as a real subprocess."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from test_server_support import MCP_HEADERS, served, tool_payload

import memos
from memos.models import Permission
from memos.server.auth import Principal
from memos.server.service import Service
from memos.server.tools import TOOL_NAMES, build_mcp
from memos.testing import HashEmbedder

TIMEOUT_S = 60


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _payload(result: Any) -> Any:
    assert not result.is_error, result.content
    return result.structured_content


@pytest.mark.anyio
async def test_in_process_session_lists_and_calls_every_tool(home: Path) -> None:
    with memos.open(home, user="alice", embedder=HashEmbedder(dim=64)) as mos:
        mos.create_cube("work")
        server = build_mcp(Service(mos), default=Principal("alice", Permission.ADMIN, "test"))
        with anyio.fail_after(TIMEOUT_S):
            async with Client(server) as client:
                tools = await client.list_tools()
                assert sorted(t.name for t in tools.tools) == sorted(TOOL_NAMES)
                for tool in tools.tools:  # no tool lets the caller say who it is
                    assert not {"user", "user_id", "actor"} & set(tool.input_schema["properties"])
                added = _payload(
                    await client.call_tool(
                        "add_memory",
                        {"cube": "work", "content": "Launch is on March 3", "tags": ["launch"]},
                    )
                )
                assert added["content"] == "Launch is on March 3" and added["tags"] == ["launch"]
                hits = _payload(
                    await client.call_tool("search_memories", {"query": "when is the launch"})
                )
                assert hits["hits"][0]["item"]["id"] == added["id"]
                assert "vector" in hits["hits"][0]["scores"]
                got = _payload(await client.call_tool("get_memory", {"id": added["id"]}))
                assert got == mos.cube("work").get(added["id"]).to_dict()
                updated = _payload(
                    await client.call_tool(
                        "update_memory", {"id": added["id"], "content": "Launch moved to March 10"}
                    )
                )
                assert updated["version"] == 2
                history = _payload(await client.call_tool("get_history", {"id": str(added["id"])}))
                assert [v["item"]["version"] for v in history["versions"]] == [1, 2]
                page = _payload(
                    await client.call_tool("list_memories", {"cube": "work", "limit": 5})
                )
                assert [i["id"] for i in page["items"]] == [added["id"]] and page[
                    "next_cursor"
                ] is None
                cubes = _payload(await client.call_tool("list_cubes", {}))
                assert [c["name"] for c in cubes["cubes"]] == ["work"]
                report = _payload(
                    await client.call_tool(
                        "ingest",
                        {
                            "cube": "work",
                            "source": "slack",
                            "records": [
                                {"speaker": "mira", "content": "I moved to Bergen!", "id": "m1"}
                            ],
                        },
                    )
                )
                assert len(report["added"]) == 1
                status = _payload(await client.call_tool("get_status", {}))
                assert (status["user"], status["scope"]) == ("alice", "admin")
                gone = _payload(
                    await client.call_tool("delete_memory", {"id": added["id"], "hard": True})
                )
                assert gone["status"] == "deleted"
                missing = await client.call_tool("get_memory", {"id": added["id"]})
                assert missing.is_error and "NotFoundError" in missing.content[0].text
                bad = await client.call_tool("add_memory", {"cube": "work", "content": ""})
                assert bad.is_error and "InvalidInputError" in bad.content[0].text


def test_http_endpoint_uses_the_callers_key(home: Path) -> None:
    with served(home) as server:
        server.key("alice", "alice", "admin")
        server.key("bob", "bob", "write")
        server.key("alice-read", "alice", "read")
        server.mos.create_cube("work").add("alice's plan", visibility="private")
        listed = server.http.post(
            "/mcp",
            headers={**server.headers("bob"), **MCP_HEADERS},
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
        )
        assert sorted(t["name"] for t in listed.json()["result"]["tools"]) == sorted(TOOL_NAMES)
        assert tool_payload(server.tool("bob", "get_status", {}))["user"] == "bob"
        assert tool_payload(server.tool("bob", "list_cubes", {})) == {"cubes": []}
        denied = server.tool("bob", "get_memory", {"id": 1})
        assert denied["isError"] and "alice's plan" not in str(denied)
        refused = server.tool("alice-read", "add_memory", {"cube": "work", "content": "x"})
        assert refused["isError"] and "PermissionDeniedError" in refused["content"][0]["text"]
        added = tool_payload(
            server.tool("alice", "add_memory", {"cube": "work", "content": "Launch on March 3"})
        )
        assert added["owner"] == "alice"
        found = tool_payload(
            server.tool("alice-read", "search_memories", {"query": "launch", "k": 1})
        )
        assert found["hits"][0]["item"]["id"] == added["id"]
        # No key, a bad key: the endpoint answers 401 before MCP sees the request.
        for headers in ({}, {"X-API-Key": "memos_bad_key"}):
            answer = server.http.post(
                "/mcp",
                headers={**headers, **MCP_HEADERS},
                json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
            )
            assert answer.status_code == 401
        # A Host header other than loopback is refused (DNS rebinding), key or not.
        rebound = server.http.post(
            "/mcp",
            headers={**server.headers("alice"), **MCP_HEADERS, "Host": "evil.example"},
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
        )
        assert rebound.status_code in (400, 403, 421)


@pytest.mark.anyio
async def test_stdio_session_with_memos_mcp(home: Path) -> None:
    with memos.open(home, user="alice", embedder="hash") as mos:
        mos.create_cube("work")
    params = StdioServerParameters(
        command=sys.executable,
        args=[
            "-m",
            "memos.cli.app",
            "--home",
            str(home),
            "--embedder",
            "hash",
            "--user",
            "alice",
            "mcp",
        ],
        cwd=str(Path(__file__).parent.parent),
    )
    with anyio.fail_after(TIMEOUT_S):
        async with Client(params) as client:
            names = {t.name for t in (await client.list_tools()).tools}
            assert names == set(TOOL_NAMES)
            added = _payload(
                await client.call_tool(
                    "add_memory", {"cube": "work", "content": "The cafeteria closes at 3pm"}
                )
            )
            hits = _payload(
                await client.call_tool("search_memories", {"query": "cafeteria", "cubes": ["work"]})
            )
            assert [h["item"]["id"] for h in hits["hits"]] == [added["id"]]
            assert _payload(await client.call_tool("get_status", {}))["user"] == "alice"
    with memos.open(home, user="alice", embedder="hash") as mos:  # it was really stored
        assert mos.cube("work").get(added["id"]).content == "The cafeteria closes at 3pm"
