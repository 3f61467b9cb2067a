"""REST routes under `/v1`: JSON in and out, one SDK call per route (`Service`).

The SDK blocks (SQL, embedding), so each route hands one function to the thread pool
that authenticates the key, makes the call and encodes the answer: a single hop off the
event loop per request. Bodies are read as JSON and validated by the SDK's request
models; `openapi_body` gives `/openapi.json` their schemas.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from memos.errors import InvalidInputError
from memos.requests import parse
from memos.server.auth import Principal
from memos.server.bodies import (
    AbstractBody,
    ActivationBody,
    AdapterBody,
    AddRequest,
    ConceptBody,
    ConceptQueryBody,
    ConceptUseBody,
    CubeBody,
    GenerateBody,
    GrantBody,
    IngestBody,
    LinkRequest,
    NoteBody,
    RevertBody,
    SearchBody,
    StatusBody,
    UpdateRequest,
    openapi_body,
)
from memos.server.encode import jsonable
from memos.server.parts import caller, parts
from memos.server.service import Service

router = APIRouter(prefix="/v1")

# `?cube=NAME` on an item's routes: only an item of that cube (as `MemCube` methods do).
InCube = Annotated[str | None, Query(alias="cube", description="Only an item of this cube.")]
Work = Callable[[Principal, Service], Any]


async def json_body(request: Request) -> Any:
    """The request's JSON value. Raises: HTTPException 400: empty or not JSON."""
    raw = await request.body()
    if not raw.strip():
        raise HTTPException(400, "send a JSON body")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise HTTPException(400, f"the body is not valid JSON: {exc}") from None


Body = Annotated[Any, Depends(json_body)]


async def serve(request: Request, work: Work, status: int = 200) -> JSONResponse:
    """Authenticate, run `work(caller, service)` and encode its result, on one thread."""
    service = parts(request).service

    def call() -> JSONResponse:
        return JSONResponse(jsonable(work(caller(request), service)), status_code=status)

    return await anyio.to_thread.run_sync(call)


def _object(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise InvalidInputError(f"expected a JSON object, got {type(data).__name__}")
    return data


# -- cubes --------------------------------------------------------------------------------


@router.post("/cubes", status_code=201, openapi_extra=openapi_body(CubeBody), tags=["cubes"])
async def create_cube(request: Request, data: Body) -> JSONResponse:
    """Create a cube owned by the caller."""
    return await serve(request, lambda who, s: s.create_cube(who, _object(data)), 201)


@router.get("/cubes", tags=["cubes"])
async def list_cubes(request: Request) -> JSONResponse:
    """The cubes the caller may read."""
    return await serve(request, lambda who, s: {"cubes": s.cubes(who)})


@router.get("/cubes/{cube}", tags=["cubes"])
async def get_cube(request: Request, cube: str) -> JSONResponse:
    """A cube the caller may read."""
    return await serve(request, lambda who, s: s.cube_info(who, cube))


@router.delete("/cubes/{cube}", tags=["cubes"])
async def drop_cube(request: Request, cube: str) -> JSONResponse:
    """Delete a cube with its items, history, indexes, KV caches and adapters (admin)."""

    def work(who: Principal, s: Service) -> Any:
        s.drop_cube(who, cube)
        return {"dropped": cube}

    return await serve(request, work)


@router.get("/cubes/{cube}/stats", tags=["cubes"])
async def cube_stats(request: Request, cube: str) -> JSONResponse:
    """Counts by status and kind, index size, log position and LLM usage."""
    return await serve(request, lambda who, s: s.stats(who, cube))


@router.get("/cubes/{cube}/grants", tags=["cubes"])
async def list_grants(request: Request, cube: str) -> JSONResponse:
    """Who has access to the cube."""
    return await serve(request, lambda who, s: {"grants": s.grants(who, cube)})


@router.post(
    "/cubes/{cube}/grants", status_code=201, openapi_extra=openapi_body(GrantBody), tags=["cubes"]
)
async def grant(request: Request, cube: str, data: Body) -> JSONResponse:
    """Give a user read, write or admin on the cube ('*' = everyone; admin)."""
    return await serve(request, lambda who, s: s.grant(who, cube, _object(data)), 201)


@router.delete("/cubes/{cube}/grants/{user}", tags=["cubes"])
async def revoke(request: Request, cube: str, user: str) -> JSONResponse:
    """Remove a user's grant (admin)."""

    def work(who: Principal, s: Service) -> Any:
        s.revoke(who, cube, user)
        return {"revoked": user, "cube": cube}

    return await serve(request, work)


# -- memories -----------------------------------------------------------------------------


@router.post(
    "/cubes/{cube}/memories",
    status_code=201,
    openapi_extra=openapi_body(AddRequest, batch=True),
    tags=["memories"],
)
async def add_memories(request: Request, cube: str, data: Body) -> JSONResponse:
    """Remember one record (an object: the item back) or a batch (a list, stored in one
    transaction: `{"items": [...]}` back)."""

    def work(who: Principal, s: Service) -> Any:
        added = s.add(who, cube, data)
        return {"items": added} if isinstance(added, list) else added

    return await serve(request, work, 201)


@router.get("/cubes/{cube}/memories", tags=["memories"])
async def list_memories(
    request: Request,
    cube: str,
    limit: int = 100,
    cursor: str | None = None,
    status: Annotated[list[str] | None, Query()] = None,
    kind: Annotated[list[str] | None, Query()] = None,
    type: Annotated[list[str] | None, Query()] = None,
) -> JSONResponse:
    """A page of the cube's items, newest first; `next_cursor` fetches the next page."""

    def work(who: Principal, s: Service) -> Any:
        found, following = s.items(
            who, cube, limit=limit, cursor=cursor, status=status, kind=kind, type=type
        )
        return {"items": found, "next_cursor": following}

    return await serve(request, work)


@router.get("/memories/{ref}", tags=["memories"])
async def get_memory(
    request: Request,
    ref: str,
    as_of: str | None = None,
    known_at: str | None = None,
    in_cube: InCube = None,
) -> JSONResponse:
    """An item (by id or uid) now; `as_of` the version true in the world then;
    `known_at` what memos had recorded by then."""
    return await serve(
        request, lambda who, s: s.get(who, ref, as_of=as_of, known_at=known_at, cube=in_cube)
    )


@router.patch("/memories/{ref}", openapi_extra=openapi_body(UpdateRequest), tags=["memories"])
async def update_memory(
    request: Request, ref: str, data: Body, force: bool = False, in_cube: InCube = None
) -> JSONResponse:
    """Change an item's text and/or metadata; the old state stays as a version."""
    return await serve(
        request, lambda who, s: s.update(who, ref, _object(data), force=force, cube=in_cube)
    )


@router.delete("/memories/{ref}", tags=["memories"])
async def forget_memory(
    request: Request, ref: str, hard: bool = False, in_cube: InCube = None
) -> JSONResponse:
    """Forget an item (`hard=true` purges its text from every version)."""
    return await serve(request, lambda who, s: s.forget(who, ref, hard=hard, cube=in_cube))


@router.get("/memories/{ref}/history", tags=["memories"])
async def history(request: Request, ref: str, in_cube: InCube = None) -> JSONResponse:
    """Every version of an item, oldest first."""
    return await serve(request, lambda who, s: {"versions": s.history(who, ref, cube=in_cube)})


@router.get("/memories/{ref}/links", tags=["links"])
async def item_links(request: Request, ref: str, in_cube: InCube = None) -> JSONResponse:
    """Links from and to an item, as far as the caller may see their ends."""
    return await serve(request, lambda who, s: {"links": s.links(who, ref, cube=in_cube)})


@router.post("/memories/{ref}/status", openapi_extra=openapi_body(StatusBody), tags=["memories"])
async def set_status(
    request: Request, ref: str, data: Body, in_cube: InCube = None
) -> JSONResponse:
    """Move an item through the lifecycle (activated, frozen, archived, ...)."""

    def work(who: Principal, s: Service) -> Any:
        return s.set_status(who, ref, parse(StatusBody, _object(data)).status, cube=in_cube)

    return await serve(request, work)


@router.post("/memories/{ref}/revert", openapi_extra=openapi_body(RevertBody), tags=["memories"])
async def revert(request: Request, ref: str, data: Body, in_cube: InCube = None) -> JSONResponse:
    """Make an earlier version current again, as a new version."""

    def work(who: Principal, s: Service) -> Any:
        return s.revert(who, ref, parse(RevertBody, _object(data)).version, cube=in_cube)

    return await serve(request, work)


@router.post("/memories/{ref}/rebuild", status_code=202, tags=["derived"])
async def rebuild(
    request: Request, ref: str, force: bool = False, in_cube: InCube = None
) -> JSONResponse:
    """Rebuild a KV cache or adapter from its sources' current versions (a job)."""
    return await serve(request, lambda who, s: s.rebuild(who, ref, force=force, cube=in_cube), 202)


# -- links --------------------------------------------------------------------------------


@router.post(
    "/cubes/{cube}/links",
    status_code=201,
    openapi_extra=openapi_body(LinkRequest, batch=True),
    tags=["links"],
)
async def link(request: Request, cube: str, data: Body) -> JSONResponse:
    """Link two items (an object), or several in one transaction (a list)."""

    def work(who: Principal, s: Service) -> Any:
        made = s.link(who, cube, data)
        return {"links": made} if isinstance(made, list) else made

    return await serve(request, work, 201)


@router.delete("/cubes/{cube}/links/{link_id}", tags=["links"])
async def unlink(request: Request, cube: str, link_id: int) -> JSONResponse:
    """Remove a link."""

    def work(who: Principal, s: Service) -> Any:
        s.unlink(who, cube, link_id)
        return {"unlinked": link_id}

    return await serve(request, work)


# -- search -------------------------------------------------------------------------------


@router.post("/search", openapi_extra=openapi_body(SearchBody), tags=["search"])
async def search(request: Request, data: Body) -> JSONResponse:
    """The k best hits, with each hit's score by signal (`scores`)."""
    return await serve(request, lambda who, s: {"hits": s.search(who, _object(data))})


# -- agents -------------------------------------------------------------------------------


@router.post("/cubes/{cube}/ingest", openapi_extra=openapi_body(IngestBody), tags=["agents"])
async def ingest(request: Request, cube: str, data: Body) -> JSONResponse:
    """MemReader: messages and events become memories; the report back."""
    return await serve(request, lambda who, s: s.ingest(who, cube, _object(data)))


@router.post(
    "/cubes/{cube}/notes", status_code=201, openapi_extra=openapi_body(NoteBody), tags=["agents"]
)
async def note(request: Request, cube: str, data: Body) -> JSONResponse:
    """A Zettelkasten note: constructed, linked, evolving its neighbours."""
    return await serve(request, lambda who, s: s.note(who, cube, _object(data)), 201)


@router.get("/cubes/{cube}/concepts", tags=["agents"])
async def concepts(
    request: Request, cube: str, kind: str | None = None, limit: int = 1000
) -> JSONResponse:
    """Live concepts, newest first."""
    return await serve(
        request, lambda who, s: {"concepts": s.concepts(who, cube, kind=kind, limit=limit)}
    )


@router.post(
    "/cubes/{cube}/concepts",
    status_code=201,
    openapi_extra=openapi_body(ConceptBody),
    tags=["agents"],
)
async def add_concept(request: Request, cube: str, data: Body) -> JSONResponse:
    """Store a concept by hand; one of the same name is merged into."""
    return await serve(request, lambda who, s: s.add_concept(who, cube, _object(data)), 201)


@router.post(
    "/cubes/{cube}/concepts/search", openapi_extra=openapi_body(ConceptQueryBody), tags=["agents"]
)
async def concepts_for(request: Request, cube: str, data: Body) -> JSONResponse:
    """The k concepts whose cues best fit a problem."""
    return await serve(
        request, lambda who, s: {"concepts": s.concepts_for(who, cube, _object(data))}
    )


@router.post(
    "/cubes/{cube}/concepts/use", openapi_extra=openapi_body(ConceptUseBody), tags=["agents"]
)
async def concept_use(request: Request, cube: str, data: Body) -> JSONResponse:
    """Count that concepts were applied and whether it worked."""
    return await serve(
        request, lambda who, s: {"concepts": s.record_concept_use(who, cube, _object(data))}
    )


@router.post(
    "/cubes/{cube}/abstract",
    status_code=201,
    openapi_extra=openapi_body(AbstractBody),
    tags=["agents"],
)
async def abstract(request: Request, cube: str, data: Body) -> JSONResponse:
    """Store a solution trace and distil reusable concepts from it."""
    return await serve(request, lambda who, s: s.abstract(who, cube, _object(data)), 201)


# -- derived memory -----------------------------------------------------------------------


@router.post(
    "/cubes/{cube}/activations",
    status_code=202,
    openapi_extra=openapi_body(ActivationBody),
    tags=["derived"],
)
async def build_activation(request: Request, cube: str, data: Body) -> JSONResponse:
    """Build a KV cache of a prefix made from plaintext items: a job."""
    return await serve(request, lambda who, s: s.build_activation(who, cube, _object(data)), 202)


@router.post(
    "/cubes/{cube}/adapters",
    status_code=202,
    openapi_extra=openapi_body(AdapterBody),
    tags=["derived"],
)
async def distill(request: Request, cube: str, data: Body) -> JSONResponse:
    """Train a LoRA adapter on plaintext items: a job."""
    return await serve(request, lambda who, s: s.distill(who, cube, _object(data)), 202)


@router.get("/jobs/{job_id}", tags=["derived"])
async def job(request: Request, job_id: str) -> JSONResponse:
    """A job of the caller: queued, running, done (with `result`) or failed (`error`)."""
    return await serve(request, lambda who, s: s.job(who, job_id))


@router.post("/generate", openapi_extra=openapi_body(GenerateBody), tags=["derived"])
async def generate(request: Request, data: Body) -> JSONResponse:
    """Greedy generation after a KV cache or a memory prefix, with adapters stacked."""
    return await serve(request, lambda who, s: s.generate(who, _object(data)))


# -- the caller and the server ------------------------------------------------------------


@router.get("/status", tags=["server"])
async def status(request: Request) -> JSONResponse:
    """Who the key is (user, scope), the server's version and the caller's cubes."""
    return await serve(request, lambda who, s: s.status(who))


def scheduler_router() -> APIRouter:
    """`GET /v1/scheduler`, for a memos that has a scheduler."""
    extra = APIRouter(prefix="/v1")

    @extra.get("/scheduler", tags=["server"])
    async def scheduler(request: Request) -> JSONResponse:
        """The scheduler's tiers and counters, and its decisions about the caller's cubes."""
        return await serve(request, lambda who, s: s.scheduler(who))

    return extra


async def metrics_route(request: Request) -> PlainTextResponse:
    """Prometheus metrics: requests by route and status, latency, and the caller's cubes
    and items."""
    server = parts(request)

    def call() -> PlainTextResponse:
        gauges = server.service.gauges(caller(request))
        return PlainTextResponse(
            server.metrics.render(gauges), media_type="text/plain; version=0.0.4"
        )

    return await anyio.to_thread.run_sync(call)
