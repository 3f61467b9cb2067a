"""MCP tools over the same operations as REST (`memos.server.service`).

No tool takes a user: over HTTP (`/mcp`) the caller is the user of the API key the
request carried (the app authenticates it before MCP sees the request); over stdio
(`memos mcp`) it is the local user the process was started as, like the CLI.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError

from memos.errors import MemosError
from memos.server.auth import Principal
from memos.server.encode import jsonable
from memos.server.service import Service

PRINCIPAL_SCOPE_KEY = "memos.principal"
TOOL_NAMES = (
    "add_memory",
    "search_memories",
    "get_memory",
    "list_memories",
    "update_memory",
    "delete_memory",
    "list_cubes",
    "get_history",
    "ingest",
    "get_status",
)

Result = TypeVar("Result")


def _principal(ctx: Context, default: Principal | None) -> Principal:
    request = ctx.request_context.request
    scope = getattr(request, "scope", None)
    if isinstance(scope, dict):
        found = scope.get(PRINCIPAL_SCOPE_KEY)
        if isinstance(found, Principal):
            return found
        raise ToolError("AuthenticationError: this request carried no valid API key")
    if default is not None:
        return default
    raise ToolError(
        "AuthenticationError: no caller; serve MCP through `memos serve` or `memos mcp`"
    )


def _run(work: Callable[[], Result]) -> Result:
    """A memos error becomes a tool error the model can read (type and message); any
    other exception is left to the SDK, which logs it and tells the caller nothing."""
    try:
        return work()
    except MemosError as exc:
        raise ToolError(f"{type(exc).__name__}: {exc}") from None


def _fields(**given: Any) -> dict[str, Any]:
    return {name: value for name, value in given.items() if value is not None}


def build_mcp(service: Service, *, default: Principal | None = None) -> MCPServer:
    """The MCP server; `default` is the caller when a request has no HTTP request (stdio,
    in-process sessions)."""
    server = MCPServer(
        "memos",
        instructions="Long-term memory: add_memory stores a fact in a cube, search_memories "
        "finds what is relevant, list_cubes shows the cubes you may read.",
        log_level="WARNING",
    )

    def who(ctx: Context) -> Principal:
        return _principal(ctx, default)

    @server.tool()
    def add_memory(
        ctx: Context,
        cube: str,
        content: str,
        type: str | None = None,
        tags: list[str] | None = None,
        source: str | None = None,
        source_ref: str | None = None,
        valid_from: str | None = None,
        valid_to: str | None = None,
        visibility: str | None = None,
        attributes: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Remember a piece of text in a cube. Returns the stored memory."""
        data = _fields(
            content=content,
            type=type,
            tags=tags,
            source=source,
            source_ref=source_ref,
            valid_from=valid_from,
            valid_to=valid_to,
            visibility=visibility,
            attributes=attributes,
        )
        return dict(jsonable(_run(lambda: service.add(who(ctx), cube, data))))

    @server.tool()
    def search_memories(
        ctx: Context,
        query: str,
        cubes: list[str] | None = None,
        k: int = 10,
        as_of: str | None = None,
        tags: list[str] | None = None,
        types: list[str] | None = None,
    ) -> dict[str, Any]:
        """The k memories that best answer a query, best first, over the given cubes
        (default: all you may read); `as_of` (ISO 8601) asks what was true then."""
        filters = _fields(tags=tags, types=types)
        data = _fields(query=query, cubes=cubes, k=k, as_of=as_of, filters=filters or None)
        hits = _run(lambda: service.search(who(ctx), data))
        return {"hits": jsonable(hits)}

    @server.tool()
    def get_memory(
        ctx: Context, id: int | str, as_of: str | None = None, known_at: str | None = None
    ) -> dict[str, Any]:
        """One memory by id or uid; `as_of` gives the version true in the world then,
        `known_at` what memos had recorded by then."""
        item = _run(lambda: service.get(who(ctx), id, as_of=as_of, known_at=known_at))
        return dict(jsonable(item))

    @server.tool()
    def list_memories(
        ctx: Context, cube: str, limit: int = 20, cursor: str | None = None
    ) -> dict[str, Any]:
        """A page of a cube's memories, newest first; pass `next_cursor` for the next."""
        items, following = _run(lambda: service.items(who(ctx), cube, limit=limit, cursor=cursor))
        return {"items": jsonable(items), "next_cursor": following}

    @server.tool()
    def update_memory(
        ctx: Context,
        id: int | str,
        content: str | None = None,
        type: str | None = None,
        tags: list[str] | None = None,
        valid_from: str | None = None,
        valid_to: str | None = None,
        importance: float | None = None,
        force: bool = False,
    ) -> dict[str, Any]:
        """Change a memory's text and/or metadata; the old state stays as a version."""
        data = _fields(
            content=content,
            type=type,
            tags=tags,
            valid_from=valid_from,
            valid_to=valid_to,
            importance=importance,
        )
        return dict(jsonable(_run(lambda: service.update(who(ctx), id, data, force=force))))

    @server.tool()
    def delete_memory(ctx: Context, id: int | str, hard: bool = False) -> dict[str, Any]:
        """Forget a memory: it leaves search and get. `hard` also purges its text from
        every version."""
        return dict(jsonable(_run(lambda: service.forget(who(ctx), id, hard=hard))))

    @server.tool()
    def list_cubes(ctx: Context) -> dict[str, Any]:
        """The cubes you may read."""
        return {"cubes": jsonable(_run(lambda: service.cubes(who(ctx))))}

    @server.tool()
    def get_history(ctx: Context, id: int | str) -> dict[str, Any]:
        """Every version of a memory, oldest first."""
        return {"versions": jsonable(_run(lambda: service.history(who(ctx), id)))}

    @server.tool()
    def ingest(
        ctx: Context,
        cube: str,
        records: list[dict[str, Any] | str],
        source: str | None = None,
    ) -> dict[str, Any]:
        """Read chat messages ({speaker, content, timestamp?, id?}) or platform events
        ({platform, actor, timestamp, text, id}) into memories (MemReader)."""
        data = _fields(records=records, source=source)
        return dict(jsonable(_run(lambda: service.ingest(who(ctx), cube, data))))

    @server.tool()
    def get_status(ctx: Context) -> dict[str, Any]:
        """Who you are to memos (user, key scope), its version and your cubes."""
        return _run(lambda: service.status(who(ctx)))

    return server
