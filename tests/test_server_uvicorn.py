"""`memos serve` as a real process on a loopback port (uvicorn): the client, MCP over
streamable HTTP with a key, `serve.json`, and the CLI reusing the server. Every wait is
bounded and the server is always stopped."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import anyio
import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from typer.testing import CliRunner

import memos
from memos.cli.app import app as cli
from memos.models import Permission
from memos.server.local import SERVE_FILE, read_serve_file
from memos.server.tools import TOOL_NAMES

START_TIMEOUT_S = 60
STOP_TIMEOUT_S = 15
CHECKOUT = Path(__file__).parent.parent


@dataclass
class Live:
    home: Path
    url: str
    process: subprocess.Popen[bytes]
    key: str
    log: Path


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_TIMEOUT_S)


def _start(home: Path, log: Path, *extra: str) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "memos.cli.app",
        "--home",
        str(home),
        "--embedder",
        "hash",
        "--user",
        "alice",
        "serve",
        "--port",
        "0",
        *extra,
    ]
    env = {k: v for k, v in os.environ.items() if k != "MEMOS_NO_SERVER"}
    with log.open("wb") as out:
        return subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, cwd=CHECKOUT, env=env
        )


def _wait_for_serve_file(home: Path, process: subprocess.Popen[bytes], log: Path) -> str:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        found = read_serve_file(home)
        if found is not None and found.pid == process.pid:
            return found.url
        if process.poll() is not None:
            raise AssertionError(f"memos serve exited early:\n{log.read_text()}")
        time.sleep(0.1)
    raise AssertionError(f"memos serve did not start in {START_TIMEOUT_S}s:\n{log.read_text()}")


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    home = tmp_path_factory.mktemp("served") / "home"
    with memos.open(home, user="alice", embedder="hash") as mos:
        mos.create_cube("work")
        _, key = mos.kernel.store.create_api_key("alice", Permission.WRITE)
    log = home.parent / "serve.log"
    process = _start(home, log)
    try:
        url = _wait_for_serve_file(home, process, log)
        yield Live(home=home, url=url, process=process, key=key, log=log)
    finally:
        _stop(process)


def test_serves_on_loopback_with_a_private_serve_file(live: Live) -> None:
    assert live.url.startswith("http://127.0.0.1:")
    assert httpx.get(f"{live.url}/healthz", timeout=5).json()["status"] == "ok"
    assert httpx.get(f"{live.url}/v1/cubes", timeout=5).status_code == 401
    serve_file = live.home / SERVE_FILE
    assert stat.S_IMODE(serve_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(live.home.stat().st_mode) == 0o700
    recorded = json.loads(serve_file.read_text())
    assert (
        recorded["user"] == "alice"
        and recorded["embedder"] == "hash"
        and recorded["database"] is None
    )
    # The local token is the serving user's, from this machine.
    status = httpx.get(
        f"{live.url}/v1/status", headers={"Authorization": f"Bearer {recorded['token']}"}, timeout=5
    ).json()
    assert (status["user"], status["key"]) == ("alice", "local")


def test_client_over_the_network(live: Live) -> None:
    with memos.connect(live.url, api_key=live.key) as client:
        cube = client.cube("work")
        item = cube.add("Launch is on March 3", tags=["launch"])
        assert cube.search("when is the launch", k=1)[0].item == cube.get(item.id)
        assert [v.version for v in cube.history(item.id)] == [1]
        with pytest.raises(memos.PermissionDeniedError):  # a write key cannot drop
            client.drop_cube("work")


@pytest.mark.anyio
async def test_mcp_over_streamable_http_with_a_key(live: Live) -> None:
    headers = {"Authorization": f"Bearer {live.key}"}
    with anyio.fail_after(START_TIMEOUT_S):
        async with (
            httpx2.AsyncClient(headers=headers, timeout=30) as http,
            Client(streamable_http_client(f"{live.url}/mcp", http_client=http)) as client,
        ):
            assert {t.name for t in (await client.list_tools()).tools} == set(TOOL_NAMES)
            added = await client.call_tool(
                "add_memory", {"cube": "work", "content": "MCP was here"}
            )
            assert not added.is_error
            found = await client.call_tool("search_memories", {"query": "MCP here", "k": 1})
            assert found.structured_content["hits"][0]["item"]["content"] == "MCP was here"
            status = await client.call_tool("get_status", {})
            assert status.structured_content["scope"] == "write"


def _metric(live: Live, route: str, method: str = "POST") -> int:
    text = httpx.get(f"{live.url}/metrics", headers={"X-API-Key": live.key}, timeout=5).text
    total = 0
    for line in text.splitlines():
        if (
            line.startswith("memos_http_requests_total{")
            and f'route="{route}"' in line
            and f'method="{method}"' in line
        ):
            total += int(line.rsplit(" ", 1)[1])
    return total


def test_cli_reuses_the_server_with_the_same_results(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MEMOS_NO_SERVER", raising=False)
    runner = CliRunner()
    base = ["--home", str(live.home), "--embedder", "hash", "--user", "alice", "--json"]
    adds = _metric(live, "/v1/cubes/{cube}/memories")
    served = runner.invoke(cli, [*base, "add", "The cafeteria closes at 3pm", "-c", "work"])
    assert served.exit_code == 0, served.output
    assert _metric(live, "/v1/cubes/{cube}/memories") == adds + 1  # it went through the server
    embedded = runner.invoke(
        cli, [*base, "add", "The cafeteria opens at 8am", "-c", "work", "--no-server"]
    )
    assert embedded.exit_code == 0 and _metric(live, "/v1/cubes/{cube}/memories") == adds + 1
    assert set(json.loads(served.stdout)) == set(json.loads(embedded.stdout))

    searches = _metric(live, "/v1/search")
    # Access counts are batched per process: the server's own searches (earlier tests')
    # weigh in its access prior before they are written, and not yet in this process's.
    query = [*base, "search", "when does the cafeteria close", "-c", "work", "-k", "3",
             "--explain", "--weight", "access=0"]  # fmt: skip
    via_server = json.loads(runner.invoke(cli, query).stdout)
    assert _metric(live, "/v1/search") == searches + 1
    monkeypatch.setenv("MEMOS_NO_SERVER", "1")
    in_process = json.loads(runner.invoke(cli, query).stdout)
    assert _metric(live, "/v1/search") == searches + 1
    assert [h["item"] for h in via_server] == [h["item"] for h in in_process]
    for mine, theirs in zip(via_server, in_process, strict=True):
        assert mine["scores"].keys() == theirs["scores"].keys()
        for name, value in mine["scores"].items():  # recency moves with the wall clock
            assert value == pytest.approx(theirs["scores"][name], rel=1e-6, abs=1e-9), name
    # Another user or another embedder is not the server's: the CLI runs in process.
    monkeypatch.delenv("MEMOS_NO_SERVER")
    other = runner.invoke(
        cli,
        [
            "--home",
            str(live.home),
            "--embedder",
            "hash",
            "--user",
            "bob",
            "search",
            "cafeteria",
            "-c",
            "work",
        ],
    )
    assert other.exit_code == 4 and _metric(live, "/v1/search") == searches + 1
    # Errors read the same either way.
    missing = runner.invoke(cli, [*base, "add", "x", "-c", "nope"])
    assert missing.exit_code == 3 and "no cube named 'nope'" in missing.stderr


def test_stopping_removes_the_serve_file_and_the_cli_falls_back(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with memos.open(home, user="alice", embedder="hash") as mos:
        mos.create_cube("work")
    log = tmp_path / "serve.log"
    process = _start(home, log)
    try:
        _wait_for_serve_file(home, process, log)
    finally:
        _stop(process)
    assert process.returncode in (0, 130), log.read_text()  # 130: stopped by SIGINT
    assert not (home / SERVE_FILE).exists()
    # A stale file (a dead process) is ignored.
    (home / SERVE_FILE).write_text(
        json.dumps(
            {
                "url": "http://127.0.0.1:9",
                "pid": process.pid,
                "token": "t",
                "user": "alice",
                "embedder": "hash",
                "database": None,
                "started_at": "2026-01-01T00:00:00+00:00",
            }
        )
    )
    result = CliRunner().invoke(
        cli,
        [
            "--home",
            str(home),
            "--embedder",
            "hash",
            "--user",
            "alice",
            "add",
            "still works",
            "-c",
            "work",
        ],
    )
    assert result.exit_code == 0, result.output


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def test_scheduler_flag_without_a_scheduler(tmp_path: Path) -> None:
    home = tmp_path / "home"
    log = tmp_path / "serve.log"
    process = _start(home, log, "--scheduler")
    try:
        url = _wait_for_serve_file(home, process, log)
        assert httpx.get(f"{url}/healthz", timeout=5).is_success
    finally:
        _stop(process)
    has_scheduler = "scheduler" in __import__("inspect").signature(memos.open).parameters
    assert has_scheduler or "no scheduler yet" in log.read_text()
