"""The ASGI app of `memos serve`: REST under `/v1`, MCP at `/mcp`, `/healthz`, `/metrics`."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from memos import __version__
from memos.errors import MemosError
from memos.mos import MemOS
from memos.server.auth import Authenticator, is_loopback
from memos.server.bodies import schema_components
from memos.server.errors import TYPE_OF_STATUS, AuthenticationError, describe, error_body, status_of
from memos.server.jobs import JobRunner
from memos.server.metrics import Instrument, Metrics
from memos.server.parts import ServerParts
from memos.server.rest import metrics_route, router, scheduler_router
from memos.server.service import Service
from memos.server.tools import PRINCIPAL_SCOPE_KEY, build_mcp

log = logging.getLogger("memos.server")

# SDK calls running at once. Each holds a database connection and may need a second
# (an index catching up while a search holds one); SQLite's pool has 12 and PostgreSQL's
# 15, so more threads than this could wait on each other until the pool times out.
SDK_THREADS = 8

LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "[::1]", "127.0.0.1:*", "localhost:*", "[::1]:*"]
LOOPBACK_ORIGINS = ["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"]


def create_app(
    mos: MemOS,
    *,
    local_token: str | None = None,
    host: str = "127.0.0.1",
    jobs: JobRunner | None = None,
    threads: int = SDK_THREADS,
) -> FastAPI:
    """The app over an opened memos; the caller keeps `mos` open while it serves and
    closes it after. `local_token` (see `memos.server.local`) lets loopback callers act
    as `mos.user`; `host` is the address served (MCP then checks Host headers against it);
    `threads` caps the SDK calls running at once (others wait their turn)."""
    service = Service(mos, jobs=jobs)
    auth = Authenticator.for_memos(mos, local_token=local_token)
    metrics = Metrics()
    mcp = build_mcp(service)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # The MCP app is built for its session manager (one per run of the app); its
        # route is mounted below, behind the API-key check. Stateless JSON: every request
        # carries its key, no session outlives it, and several server processes can
        # share one database.
        # REST routes, MCP tools and key checks all run on anyio's default thread pool.
        anyio.to_thread.current_default_thread_limiter().total_tokens = threads
        mcp.streamable_http_app(
            streamable_http_path="/mcp",
            stateless_http=True,
            json_response=True,
            transport_security=_transport_security(host),
            host=host,
        )
        try:
            async with mcp.session_manager.run():
                yield
        finally:
            await anyio.to_thread.run_sync(service.jobs.drain)

    app = FastAPI(
        title="memos",
        version=__version__,
        summary="Memory for LLM agents: the memos SDK over HTTP.",
        lifespan=lifespan,
    )
    app.state.memos = ServerParts(service=service, auth=auth, metrics=metrics)
    app.include_router(router)
    if getattr(mos, "scheduler", None) is not None:
        app.include_router(scheduler_router())
    app.add_api_route("/metrics", metrics_route, methods=["GET"], tags=["server"])
    app.add_api_route(
        "/healthz", healthz, methods=["GET"], tags=["server"], openapi_extra={"security": []}
    )
    app.router.routes.append(Route("/mcp", endpoint=KeyedMCP(mcp, auth)))
    _install_errors(app)
    app.add_middleware(Instrument, metrics=metrics)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def healthz() -> dict[str, str]:
    """Liveness: no key needed."""
    return {"status": "ok", "version": __version__}


def _transport_security(host: str) -> TransportSecuritySettings:
    # On loopback, refuse Host headers naming anything else (DNS rebinding). Bound to
    # another address the names it is reached by are unknown; keys still gate it.
    if is_loopback(host):
        return TransportSecuritySettings(
            enable_dns_rebinding_protection=True,
            allowed_hosts=LOOPBACK_HOSTS,
            allowed_origins=LOOPBACK_ORIGINS,
        )
    return TransportSecuritySettings(enable_dns_rebinding_protection=False)


class KeyedMCP:
    """The MCP endpoint behind the same API keys as REST: the caller's `Principal` rides
    in the ASGI scope, where the tools read it."""

    def __init__(self, mcp: MCPServer, auth: Authenticator) -> None:
        self.mcp = mcp
        self.auth = auth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        client = scope.get("client")
        host = client[0] if client else None
        try:
            principal = await anyio.to_thread.run_sync(self.auth.principal, headers, host)
        except MemosError as exc:
            response = JSONResponse(
                describe(exc), status_code=status_of(exc), headers=_challenge(exc)
            )
            await response(scope, receive, send)
            return
        scope[PRINCIPAL_SCOPE_KEY] = principal
        await self.mcp.session_manager.handle_request(scope, receive, send)


def _challenge(exc: Exception) -> dict[str, str]:
    return {"WWW-Authenticate": "Bearer"} if isinstance(exc, AuthenticationError) else {}


def _install_errors(app: FastAPI) -> None:
    async def memos_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, MemosError)
        return JSONResponse(describe(exc), status_code=status_of(exc), headers=_challenge(exc))

    async def validation_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
        message = f"{where}: {first.get('msg', 'invalid request')}" if where else "invalid request"
        return JSONResponse(error_body("InvalidInputError", message), status_code=422)

    async def http_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        kind = TYPE_OF_STATUS.get(exc.status_code, "HTTPError")
        return JSONResponse(
            error_body(kind, str(exc.detail)), status_code=exc.status_code, headers=exc.headers
        )

    app.add_exception_handler(MemosError, memos_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title, version=app.version, summary=app.summary, routes=app.routes
        )
        components = schema.setdefault("components", {})
        components.setdefault("schemas", {}).update(schema_components())
        components["securitySchemes"] = {
            "bearer": {"type": "http", "scheme": "bearer"},
            "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
        }
        schema["security"] = [{"bearer": []}, {"apiKey": []}]
        app.openapi_schema = schema
    return app.openapi_schema
