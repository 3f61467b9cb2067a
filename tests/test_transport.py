"""The sync client's transport: kept-alive standard-library connections against a real
loopback HTTP server (query strings, JSON bodies, a path prefix, a connection the server
dropped while idle, an unreachable server), and httpx where a proxy applies."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from memos.errors import BackendError, InvalidInputError
from memos.transport import HttpxTransport, KeptAlive, open_transport, query_string


class _Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as uvicorn
    seen: list[dict[str, Any]]
    drop_after_answer = False

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        record = {
            "method": self.command,
            "path": self.path,
            "body": json.loads(raw) if raw else None,
            "type": self.headers.get("Content-Type"),
            "key": self.headers.get("Authorization"),
            "peer": self.client_address[1],
        }
        self.seen.append(record)
        status = 404 if self.path.startswith("/base/missing") else 200
        out = json.dumps(record).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)
        if type(self).drop_after_answer:
            # Closed without saying so, as a server timing out an idle connection does.
            self.close_connection = True

    def do_GET(self) -> None:  # the name http.server calls
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture
def echo() -> Iterator[tuple[str, type[_Echo]]]:
    handler = type("Echo", (_Echo,), {"seen": [], "drop_after_answer": False})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/base", handler
    finally:
        server.shutdown()
        server.server_close()


def test_requests_carry_path_prefix_query_json_and_headers(
    echo: tuple[str, type[_Echo]],
) -> None:
    url, _ = echo
    wire = KeptAlive(url, timeout=5)
    try:
        got = wire.request(
            "POST",
            "/v1/search",
            body={"query": "café", "k": 3},
            params={"cube": "work", "kind": ["a", "b"], "hard": True},
            headers={"Authorization": "Bearer k"},
        ).json()
        assert got["path"] == "/base/v1/search?cube=work&kind=a&kind=b&hard=true"
        assert got["body"] == {"query": "café", "k": 3}
        assert (got["type"], got["key"]) == ("application/json", "Bearer k")
        again = wire.request("GET", "/v1/cubes", headers={}).json()
        assert again["peer"] == got["peer"]  # the same kept-alive connection
        assert again["body"] is None and again["type"] is None
        missing = wire.request("GET", "/missing", headers={})
        assert missing.status == 404 and missing.json()["path"] == "/base/missing"
    finally:
        wire.close()


def test_a_connection_dropped_while_idle_is_replaced_and_the_call_sent_once(
    echo: tuple[str, type[_Echo]],
) -> None:
    url, handler = echo
    handler.drop_after_answer = True
    wire = KeptAlive(url, timeout=5)
    try:
        for position in range(4):
            answer = wire.request("POST", "/v1/add", body={"n": position}, headers={})
            assert answer.status == 200 and answer.json()["body"] == {"n": position}
        assert [seen["body"] for seen in handler.seen] == [{"n": n} for n in range(4)]
    finally:
        wire.close()


def test_threads_share_the_connections(echo: tuple[str, type[_Echo]]) -> None:
    url, handler = echo
    wire = KeptAlive(url, timeout=5)
    failures: list[BaseException] = []

    def work(who: int) -> None:
        try:
            for n in range(20):
                body = {"who": who, "n": n}
                assert wire.request("POST", "/x", body=body, headers={}).json()["body"] == body
        except BaseException as exc:  # reported below
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(who,)) for who in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    wire.close()
    assert not failures and len(handler.seen) == 120
    assert len({seen["peer"] for seen in handler.seen}) <= 6  # connections were reused


def test_an_unreachable_server_is_a_backend_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens here once closed
    wire = KeptAlive(f"http://127.0.0.1:{port}", timeout=5)
    with pytest.raises(BackendError, match=f"cannot reach the memos server at .*:{port}"):
        wire.request("GET", "/healthz", headers={})


def test_a_body_json_cannot_carry_is_invalid_input(echo: tuple[str, type[_Echo]]) -> None:
    wire = KeptAlive(echo[0], timeout=5)
    for bad in ({"score": float("nan")}, {"when": object()}):
        with pytest.raises(InvalidInputError, match="cannot be sent as JSON"):
            wire.request("POST", "/x", body=bad, headers={})
    assert echo[1].seen == []


def test_a_proxied_server_goes_through_httpx(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("http_proxy", "http://proxy.invalid:3128")
    monkeypatch.setenv("no_proxy", "localhost")
    proxied = open_transport("http://memory.example:8765", timeout=5)
    direct = open_transport("http://localhost:8765", timeout=5)
    try:
        assert isinstance(proxied, HttpxTransport) and isinstance(direct, KeptAlive)
    finally:
        proxied.close()
        direct.close()


def test_query_strings_as_httpx_writes_them() -> None:
    assert query_string(None) == "" and query_string({}) == ""
    assert query_string({"a": False, "b": ["x y", 2], "c": "é"}) == "?a=false&b=x+y&b=2&c=%C3%A9"
