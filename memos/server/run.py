"""Running the server: REST + MCP over HTTP with uvicorn, or MCP over stdio."""

from __future__ import annotations

import logging
import os
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import uvicorn

from memos.models import Permission
from memos.mos import MemOS
from memos.server.app import create_app
from memos.server.auth import Principal, is_loopback
from memos.server.local import (
    ServeInfo,
    new_token,
    remove_serve_file,
    started_now,
    write_serve_file,
)
from memos.server.service import Service
from memos.server.tools import build_mcp

log = logging.getLogger("memos.server")


class _Server(uvicorn.Server):
    """uvicorn's server, telling us the port it bound once it listens."""

    def __init__(self, config: uvicorn.Config, on_started: Callable[[int], None]) -> None:
        super().__init__(config)
        self._on_started = on_started

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started and self.servers:
            bound = self.servers[0].sockets[0].getsockname()
            self._on_started(int(bound[1]))


def url_of(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return f"http://{shown}:{port}"


def serve(
    mos: MemOS,
    *,
    host: str = "127.0.0.1",
    port: int = 8765,
    embedder: str,
    database: str | None,
    log_level: str = "warning",
    announce: Callable[[str], Any] = print,
) -> None:
    """Serve `mos` until interrupted. While it runs, `<home>/serve.json` names it (see
    `memos.server.local`); it is removed on the way out."""
    token = new_token()
    app = create_app(mos, local_token=token, host=host)
    home: Path = mos.home
    pid = os.getpid()

    def started(bound_port: int) -> None:
        url = url_of(host, bound_port)
        info = ServeInfo(
            url=url,
            pid=pid,
            token=token,
            user=mos.user,
            embedder=embedder,
            database=database,
            started_at=started_now(),
        )
        write_serve_file(home, info)
        announce(f"memos: serving {url} (REST {url}/v1, MCP {url}/mcp) as {mos.user}")
        if not is_loopback(host):
            announce(
                f"memos: listening on {host}, beyond this machine: plain HTTP, "
                "every call needs an API key"
            )

    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        access_log=False,
        lifespan="on",
        server_header=False,
    )
    server = _Server(config, started)
    try:
        server.run()
    finally:
        remove_serve_file(home, pid)
    if not server.started:
        raise SystemExit(1)


def serve_stdio(mos: MemOS) -> None:
    """MCP over stdin/stdout, acting as the local user (as the CLI does)."""
    service = Service(mos)
    principal = Principal(user=mos.user, scope=Permission.ADMIN, key_id="stdio")
    server = build_mcp(service, default=principal)
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    try:
        anyio.run(server.run_stdio_async)
    finally:
        service.jobs.shutdown()
