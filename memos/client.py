"""The HTTP client of `memos serve`: the SDK's methods and results over the network.

`memos.connect(url, api_key=...)` returns a `Client` that reads like `memos.open(...)`:
`cube()`, `create_cube()`, `cubes()`, and cubes with `add`, `search`, `get`, `history`,
`update`, `forget`, `items`, `link`, `ingest`, `stats`, ... returning the same typed
records (`MemoryItem`, `Hit`, `Version`, `Link`, `CubeInfo`, rebuilt from JSON) and
raising the same `memos.errors` types, so code moves between embedded and served memory
by changing one line. `memos.connect_async` gives the same with `async` methods.

Each operation is written once, as a plan of HTTP calls (`_Call`) that the sync and the
async client each carry out with their own transport.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import time
import typing
from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from enum import Enum
from types import TracebackType, UnionType
from typing import Any, Generic, TypeVar, Union
from urllib.parse import quote

import httpx

from memos import errors
from memos.errors import BackendError, InvalidInputError, MemosError, NotFoundError
from memos.models import CubeInfo, Grant, Hit, Link, MemoryItem, Version
from memos.timeutil import isoformat
from memos.transport import HttpxTransport, Reply, Transport, encoded, open_transport, reply_of

__all__ = ["AsyncClient", "AsyncRemoteCube", "Client", "RemoteCube", "connect", "connect_async"]

T = TypeVar("T")
ItemRef = int | str
API_KEY_ENV = "MEMOS_API_KEY"
JOB_POLL_S = 0.2


# -- records from JSON ----------------------------------------------------------------------


def _decoder(kind: Any) -> Any:
    """A function turning a JSON value into `kind` (a record, enum, time, container)."""
    origin = typing.get_origin(kind)
    if origin in (Union, UnionType):
        options = [a for a in typing.get_args(kind) if a is not type(None)]
        inner = _decoder(options[0]) if len(options) == 1 else (lambda value: value)
        return lambda value: None if value is None else inner(value)
    if origin is tuple:
        element = _decoder(typing.get_args(kind)[0])
        return lambda value: tuple(element(v) for v in value)
    if origin in (dict, list) or kind is Any:
        return lambda value: value
    if kind is datetime:
        return datetime.fromisoformat
    if kind is float:
        return float
    if isinstance(kind, type) and issubclass(kind, Enum):
        return kind
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        return lambda value: decode(kind, value)
    return lambda value: value


_FIELDS: dict[type[Any], list[tuple[str, Any]]] = {}


def decode(record: type[T], data: Mapping[str, Any]) -> T:
    """A frozen record (`MemoryItem`, `Hit`, ...) from its `to_dict()` JSON.

    Raises:
        BackendError: the JSON is not that record (a server of another version).
    """
    fields = _FIELDS.get(record)
    if fields is None:
        hints = typing.get_type_hints(record)
        fields = [(f.name, _decoder(hints[f.name])) for f in dataclasses.fields(record)]  # type: ignore[arg-type]
        _FIELDS[record] = fields
    try:
        return record(**{name: convert(data[name]) for name, convert in fields if name in data})
    except (TypeError, ValueError, KeyError) as exc:
        raise BackendError(
            f"the server sent a {record.__name__} this client cannot read: {exc}"
        ) from None


def _many(record: type[T], key: str) -> Callable[[Any], list[T]]:
    return lambda data: [decode(record, value) for value in data[key]]


def _data(value: Any) -> dict[str, Any]:
    return dict(value)


def _one(record: type[T]) -> Callable[[Any], T]:
    return lambda data: decode(record, data)


# -- values to JSON ------------------------------------------------------------------------


def _json(value: Any) -> Any:
    if isinstance(value, datetime):
        return isoformat(value)
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _json(dataclasses.asdict(value))
    if isinstance(value, Mapping):
        return {str(k): _json(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_json(v) for v in value]
    return value


def _labels(value: Any) -> list[str] | None:
    if value is None:
        return None
    return [value] if isinstance(value, str) else [str(v) for v in value]


# -- errors ----------------------------------------------------------------------------------

_BY_STATUS: dict[int, type[MemosError]] = {
    400: InvalidInputError,
    401: errors.PermissionDeniedError,
    403: errors.PermissionDeniedError,
    404: NotFoundError,
    409: errors.ConflictError,
    422: InvalidInputError,
}


def _error(reply: Reply) -> MemosError:
    """The `memos.errors` exception a response's `{error: {type, message}}` names."""
    try:
        body = reply.json()["error"]
        kind, message = str(body["type"]), str(body["message"])
    except (ValueError, KeyError, TypeError):
        kind, message = "", reply.text[:500] or reply.reason
    found = getattr(errors, kind, None)
    if isinstance(found, type) and issubclass(found, MemosError):
        return found(message)
    if reply.status == 401:
        return errors.PermissionDeniedError(f"the server refused the API key: {message}")
    return _BY_STATUS.get(reply.status, BackendError)(
        message if reply.status < 500 else f"server error {reply.status}: {message}"
    )


# -- the plan of an operation ----------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class _Call(Generic[T]):
    """One HTTP request and how to read its JSON answer (raw JSON when `decode` is None)."""

    method: str
    path: str
    decode: Callable[[Any], T] | None = None
    body: Any = None
    params: Mapping[str, Any] | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class _Sleep:
    seconds: float


Plan = Generator["_Call[Any] | _Sleep", Any, T]


def _single(call: _Call[T]) -> Plan[T]:
    result = yield call
    return typing.cast(T, result)


def _nothing() -> Plan[list[Any]]:
    """A plan that sends nothing (an empty batch stores nothing, as in the SDK)."""
    yield from ()
    return []


def _path(*parts: Any) -> str:
    return "/v1/" + "/".join(quote(str(part), safe="") for part in parts)


def _params(**given: Any) -> dict[str, Any]:
    return {k: _json(v) for k, v in given.items() if v is not None}


def _wait_job(submitted: Mapping[str, Any], poll_s: float) -> Plan[MemoryItem]:
    job = submitted
    while job["status"] in ("queued", "running"):
        yield _Sleep(poll_s)
        job = yield _Call("GET", _path("jobs", job["id"]))
    if job["status"] == "failed":
        error = job.get("error") or {}
        kind = getattr(errors, str(error.get("type")), None)
        message = str(error.get("message", "the job failed"))
        raise (
            kind(message)
            if isinstance(kind, type) and issubclass(kind, MemosError)
            else BackendError(message)
        )
    return decode(MemoryItem, job["result"])


class _Plans:
    """The HTTP plan of every operation of one cube (shared by both clients)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def add(self, content: str, fields: Mapping[str, Any]) -> Plan[MemoryItem]:
        body = _json({**fields, "content": content})
        return _single(_Call("POST", _path("cubes", self.name, "memories"), _one(MemoryItem), body))

    def add_many(self, records: Iterable[str | Mapping[str, Any]]) -> Plan[list[MemoryItem]]:
        if isinstance(records, str | bytes | Mapping):
            raise InvalidInputError("add_many takes a list of records; use add() for one text")
        body = [_json(r) for r in records]
        if not body:
            return _nothing()
        return _single(
            _Call("POST", _path("cubes", self.name, "memories"), _many(MemoryItem, "items"), body)
        )

    def search(
        self, query: str, k: int, weights: Any, filters: Mapping[str, Any]
    ) -> Plan[list[Hit]]:
        given = {k: v for k, v in filters.items() if v is not None}
        as_of = given.pop("as_of", None)
        for name in ("types", "sources", "authors", "tags", "statuses", "kinds"):
            if name in given:
                given[name] = _labels(given[name])
        body = {
            "query": query,
            "cubes": [self.name],
            "k": k,
            "filters": _json(given) or None,
            "as_of": _json(as_of),
            "weights": _json(weights),
        }
        body = {key: value for key, value in body.items() if value is not None}
        return _single(_Call("POST", "/v1/search", _many(Hit, "hits"), body))

    def items(
        self, status: Any, kind: Any, type: Any, limit: int, offset: int
    ) -> Plan[list[MemoryItem]]:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise InvalidInputError(f"limit must be an integer of at least 1, got {limit!r}")
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            raise InvalidInputError(f"offset must be an integer of at least 0, got {offset!r}")
        wanted, cursor = offset + limit, None
        found: list[MemoryItem] = []
        while len(found) < wanted:
            params = _params(
                limit=min(wanted - len(found), 1000),
                cursor=cursor,
                status=_labels(status),
                kind=_labels(kind),
                type=_labels(type),
            )
            page = yield _Call("GET", _path("cubes", self.name, "memories"), params=params)
            found += [decode(MemoryItem, value) for value in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        return found[offset:wanted]


class _Runner:
    """Carries out plans over a sync transport."""

    def __init__(self, transport: Transport, headers: dict[str, str]) -> None:
        self.transport = transport
        self.headers = headers

    def run(self, plan: Plan[T]) -> T:
        try:
            step = next(plan)
            while True:
                if isinstance(step, _Sleep):
                    time.sleep(step.seconds)
                    step = plan.send(None)
                else:
                    step = plan.send(self.send(step))
        except StopIteration as done:
            return typing.cast(T, done.value)

    def send(self, call: _Call[Any]) -> Any:
        reply = self.transport.request(
            call.method, call.path, body=call.body, params=call.params, headers=self.headers
        )
        return _answer(reply, call)


class _AsyncRunner:
    """Carries out plans over an async httpx client."""

    def __init__(self, http: httpx.AsyncClient, base: str, headers: dict[str, str]) -> None:
        self.http = http
        self.base = base
        self.headers = headers

    async def run(self, plan: Plan[T]) -> T:
        try:
            step = next(plan)
            while True:
                if isinstance(step, _Sleep):
                    await asyncio.sleep(step.seconds)
                    step = plan.send(None)
                else:
                    step = plan.send(await self.send(step))
        except StopIteration as done:
            return typing.cast(T, done.value)

    async def send(self, call: _Call[Any]) -> Any:
        payload, headers = encoded(call.body, self.headers)
        try:
            response = await self.http.request(
                call.method, call.path, content=payload, params=call.params, headers=headers
            )
        except httpx.TransportError as exc:
            raise BackendError(f"cannot reach the memos server at {self.base}: {exc}") from None
        return _answer(reply_of(response), call)


def _answer(reply: Reply, call: _Call[Any]) -> Any:
    if reply.status >= 400:
        raise _error(reply)
    data = reply.json()
    return call.decode(data) if call.decode is not None else data


def _headers(api_key: str | None) -> dict[str, str]:
    key = api_key if api_key is not None else os.environ.get(API_KEY_ENV)
    return {"Authorization": f"Bearer {key}"} if key else {}


# -- the sync client -------------------------------------------------------------------------


class RemoteCube:
    """A cube on a memos server; the methods of `MemCube` that work over HTTP."""

    def __init__(self, client: Client, info: CubeInfo) -> None:
        self._client = client
        self._plans = _Plans(info.name)
        self.info = info

    def __repr__(self) -> str:
        return f"RemoteCube(name={self.info.name!r}, id={self.info.id}, url={self._client.url!r})"

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def id(self) -> int:
        return self.info.id

    def _run(self, plan: Plan[T]) -> T:
        return self._client._runner.run(plan)

    def _do(self, call: _Call[T]) -> T:
        return self._run(_single(call))

    # -- writing

    def add(self, content: str, **fields: Any) -> MemoryItem:
        """Remember a piece of text (the fields of `MemCube.add`)."""
        return self._run(self._plans.add(content, fields))

    def add_many(self, records: Iterable[str | Mapping[str, Any]]) -> list[MemoryItem]:
        """Remember many records in one transaction."""
        return self._run(self._plans.add_many(records))

    def update(
        self,
        item: ItemRef,
        content: str | None = None,
        *,
        force: bool = False,
        ttl: timedelta | float | str | None = None,
        **meta: Any,
    ) -> MemoryItem:
        """Change an item's text and/or metadata; the old state stays as a version."""
        body = _json({**meta, "content": content, "ttl": ttl})
        body = {k: v for k, v in body.items() if v is not None}
        return self._do(
            _Call(
                "PATCH",
                _path("memories", item),
                _one(MemoryItem),
                body,
                _params(force=force or None, cube=self.name),
            )
        )

    def set_status(self, item: ItemRef, status: str) -> MemoryItem:
        return self._do(
            _Call(
                "POST",
                _path("memories", item, "status"),
                _one(MemoryItem),
                {"status": _json(status)},
                {"cube": self.name},
            )
        )

    def activate(self, item: ItemRef) -> MemoryItem:
        return self.set_status(item, "activated")

    def archive(self, item: ItemRef) -> MemoryItem:
        return self.set_status(item, "archived")

    def freeze(self, item: ItemRef) -> MemoryItem:
        return self.set_status(item, "frozen")

    def forget(self, item: ItemRef, *, hard: bool = False) -> MemoryItem:
        """Forget an item (`hard=True` purges its text everywhere)."""
        return self._do(
            _Call(
                "DELETE",
                _path("memories", item),
                _one(MemoryItem),
                params=_params(hard=hard or None, cube=self.name),
            )
        )

    def revert(self, item: ItemRef, version: int) -> MemoryItem:
        return self._do(
            _Call(
                "POST",
                _path("memories", item, "revert"),
                _one(MemoryItem),
                {"version": version},
                {"cube": self.name},
            )
        )

    def link(
        self,
        src: ItemRef,
        dst: ItemRef,
        *,
        kind: str = "related",
        reason: str | None = None,
        weight: float = 1.0,
    ) -> Link:
        body = {"src": src, "dst": dst, "kind": kind, "reason": reason, "weight": weight}
        return self._do(_Call("POST", _path("cubes", self.name, "links"), _one(Link), body))

    def link_many(self, edges: Iterable[tuple[ItemRef, ItemRef] | Mapping[str, Any]]) -> list[Link]:
        body = [dict(e) if isinstance(e, Mapping) else {"src": e[0], "dst": e[1]} for e in edges]
        return self._do(
            _Call("POST", _path("cubes", self.name, "links"), _many(Link, "links"), body)
        )

    def unlink(self, link_id: int) -> None:
        self._do(_Call("DELETE", _path("cubes", self.name, "links", link_id)))

    # -- reading

    def get(
        self,
        item: ItemRef,
        *,
        as_of: datetime | str | None = None,
        known_at: datetime | str | None = None,
    ) -> MemoryItem:
        """An item now, or as it was (`as_of`) or as recorded (`known_at`) then."""
        return self._do(
            _Call(
                "GET",
                _path("memories", item),
                _one(MemoryItem),
                params=_params(as_of=as_of, known_at=known_at, cube=self.name),
            )
        )

    def history(self, item: ItemRef) -> list[Version]:
        return self._do(
            _Call(
                "GET",
                _path("memories", item, "history"),
                _many(Version, "versions"),
                params={"cube": self.name},
            )
        )

    def links(self, item: ItemRef) -> list[Link]:
        return self._do(
            _Call(
                "GET",
                _path("memories", item, "links"),
                _many(Link, "links"),
                params={"cube": self.name},
            )
        )

    def items(
        self,
        *,
        status: Any = None,
        kind: Any = None,
        type: Any = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[MemoryItem]:
        """Items of the cube, newest first (fetched page by page)."""
        return self._run(self._plans.items(status, kind, type, limit, offset))

    def search(self, query: str, *, k: int = 10, weights: Any = None, **filters: Any) -> list[Hit]:
        """The k best hits, best first, with their scores by signal."""
        return self._run(self._plans.search(query, k, weights, filters))

    def stats(self) -> dict[str, Any]:
        return self._do(_Call("GET", _path("cubes", self.name, "stats"), _data))

    # -- sharing

    def grant(self, user: str, permission: str) -> Grant:
        return self._do(
            _Call(
                "POST",
                _path("cubes", self.name, "grants"),
                _one(Grant),
                {"user": user, "permission": _json(permission)},
            )
        )

    def revoke(self, user: str) -> None:
        self._do(_Call("DELETE", _path("cubes", self.name, "grants", user)))

    def grants(self) -> list[Grant]:
        return self._do(_Call("GET", _path("cubes", self.name, "grants"), _many(Grant, "grants")))

    # -- agents

    def ingest(
        self,
        records: Iterable[Mapping[str, Any] | str] | Mapping[str, Any],
        *,
        source: str | None = None,
    ) -> Any:
        """MemReader on the server; returns its `IngestReport`."""
        from memos.agents.report import IngestReport

        listed = [records] if isinstance(records, Mapping) else list(records)
        body = _params(records=listed, source=source)
        return self._do(
            _Call("POST", _path("cubes", self.name, "ingest"), _one(IngestReport), body)
        )

    def note(self, content: str, *, agent: str | None = None, **fields: Any) -> Any:
        """A Zettelkasten note; returns its `NoteResult`."""
        from memos.agents.zettelkasten import NoteResult

        body = _params(content=content, agent=agent, fields=fields or None)
        return self._do(_Call("POST", _path("cubes", self.name, "notes"), _one(NoteResult), body))

    def abstract(
        self,
        trace: str | Sequence[str],
        *,
        outcome: str | bool = "success",
        task: str | None = None,
        used: Iterable[ItemRef] = (),
    ) -> Any:
        from memos.agents.concepts import Abstraction

        body = _params(trace=trace, outcome=outcome, task=task, used=list(used))
        return self._do(
            _Call("POST", _path("cubes", self.name, "abstract"), _one(Abstraction), body)
        )

    def concepts_for(self, problem: str, *, k: int = 5) -> list[Any]:
        from memos.agents.concepts import Concept

        return self._do(
            _Call(
                "POST",
                _path("cubes", self.name, "concepts", "search"),
                _many(Concept, "concepts"),
                {"problem": problem, "k": k},
            )
        )

    def record_concept_use(self, concepts: Iterable[ItemRef], *, success: bool) -> list[Any]:
        from memos.agents.concepts import Concept

        return self._do(
            _Call(
                "POST",
                _path("cubes", self.name, "concepts", "use"),
                _many(Concept, "concepts"),
                {"concepts": list(concepts), "success": success},
            )
        )

    def add_concept(self, name: str, *, kind: str, description: str, **lists: Any) -> Any:
        from memos.agents.concepts import ConceptChange

        body = _json({**lists, "name": name, "kind": kind, "description": description})
        return self._do(
            _Call("POST", _path("cubes", self.name, "concepts"), _one(ConceptChange), body)
        )

    def concepts(self, *, kind: str | None = None, limit: int = 1000) -> list[Any]:
        from memos.agents.concepts import Concept

        return self._do(
            _Call(
                "GET",
                _path("cubes", self.name, "concepts"),
                _many(Concept, "concepts"),
                params=_params(kind=kind, limit=limit),
            )
        )

    # -- derived memory (jobs on the server; these wait for them)

    def build_activation(
        self,
        item_ids: Iterable[ItemRef] | ItemRef,
        *,
        template: str | None = None,
        storage: str = "native",
    ) -> MemoryItem:
        """A KV cache of these items, built by a server job (waits for it)."""
        ids = [item_ids] if isinstance(item_ids, int | str) else list(item_ids)
        body = _params(items=ids, template=template, storage=storage)
        job: dict[str, Any] = self._do(
            _Call("POST", _path("cubes", self.name, "activations"), _data, body)
        )
        return self._run(_wait_job(job, self._client.poll_s))

    def distill(
        self, item_ids: Iterable[ItemRef] | ItemRef, *, rank: int = 8, **plan: Any
    ) -> MemoryItem:
        """A LoRA adapter trained by a server job (waits for it)."""
        ids = [item_ids] if isinstance(item_ids, int | str) else list(item_ids)
        job = self._do(
            _Call(
                "POST",
                _path("cubes", self.name, "adapters"),
                _data,
                _params(items=ids, rank=rank, **plan),
            )
        )
        return self._run(_wait_job(job, self._client.poll_s))

    def rebuild(self, item: ItemRef, *, force: bool = False) -> MemoryItem:
        job = self._do(
            _Call(
                "POST",
                _path("memories", item, "rebuild"),
                _data,
                params=_params(force=force or None, cube=self.name),
            )
        )
        return self._run(_wait_job(job, self._client.poll_s))

    def generate(self, prompt: str, **options: Any) -> Any:
        """Greedy generation on the server's runtime model; returns a `Generation`."""
        from memos.runtime.cube_runtime import Generation

        body = _json({**options, "cube": self.name, "prompt": prompt})
        return self._do(_Call("POST", "/v1/generate", _one(Generation), body))


class Client:
    """A memos server, as `memos.open()` would give it: use `memos.connect()`."""

    def __init__(
        self,
        url: str,
        *,
        api_key: str | None = None,
        timeout: float = 60.0,
        http: httpx.Client | None = None,
        poll_s: float = JOB_POLL_S,
    ) -> None:
        self.url = url.rstrip("/")
        self.poll_s = poll_s
        self._transport: Transport = (
            open_transport(self.url, timeout)
            if http is None
            else HttpxTransport(http, self.url, owned=False)
        )
        # Sent with each request, so a shared httpx client keeps no one's key.
        self._runner = _Runner(self._transport, _headers(api_key))
        self._user: str | None = None

    def __repr__(self) -> str:
        return f"Client(url={self.url!r})"

    def _do(self, call: _Call[T]) -> T:
        return self._runner.run(_single(call))

    @property
    def user(self) -> str:
        """The user the API key acts as."""
        if self._user is None:
            self._user = str(self.status()["user"])
        return self._user

    def status(self) -> dict[str, Any]:
        """Who the key is (user, scope), the server's version and the caller's cubes."""
        return self._do(_Call("GET", "/v1/status", _data))

    def create_cube(self, name: str, *, attributes: dict[str, Any] | None = None) -> RemoteCube:
        info = self._do(
            _Call("POST", "/v1/cubes", _one(CubeInfo), _params(name=name, attributes=attributes))
        )
        return RemoteCube(self, info)

    def cube(self, name: str, *, create: bool = False) -> RemoteCube:
        """A cube you may read; with `create=True`, created first if it does not exist."""
        try:
            return RemoteCube(self, self._do(_Call("GET", _path("cubes", name), _one(CubeInfo))))
        except NotFoundError:
            if not create:
                raise
            return self.create_cube(name)

    def cubes(self) -> list[CubeInfo]:
        return self._do(_Call("GET", "/v1/cubes", _many(CubeInfo, "cubes")))

    def cube_of(self, item: ItemRef) -> RemoteCube:
        """The cube that holds an item (one you may read)."""
        found = self._do(_Call("GET", _path("memories", item), _one(MemoryItem)))
        for info in self.cubes():
            if info.id == found.cube_id:
                return RemoteCube(self, info)
        raise NotFoundError(f"item {item} is in a cube you may not read")

    def drop_cube(self, name: str) -> None:
        self._do(_Call("DELETE", _path("cubes", name)))

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def connect(
    url: str, *, api_key: str | None = None, timeout: float = 60.0, http: httpx.Client | None = None
) -> Client:
    """A client of the memos server at `url` (e.g. 'http://127.0.0.1:8765'). `api_key`
    defaults to MEMOS_API_KEY; `http` is an httpx client to send through (tests)."""
    return Client(url, api_key=api_key, timeout=timeout, http=http)


# -- the async client ------------------------------------------------------------------------


class AsyncRemoteCube:
    """A cube on a memos server, with `async` methods."""

    def __init__(self, client: AsyncClient, info: CubeInfo) -> None:
        self._client = client
        self._plans = _Plans(info.name)
        self.info = info

    @property
    def name(self) -> str:
        return self.info.name

    async def _do(self, call: _Call[T]) -> T:
        return await self._client._runner.run(_single(call))

    async def add(self, content: str, **fields: Any) -> MemoryItem:
        return await self._client._runner.run(self._plans.add(content, fields))

    async def add_many(self, records: Iterable[str | Mapping[str, Any]]) -> list[MemoryItem]:
        return await self._client._runner.run(self._plans.add_many(records))

    async def search(
        self, query: str, *, k: int = 10, weights: Any = None, **filters: Any
    ) -> list[Hit]:
        return await self._client._runner.run(self._plans.search(query, k, weights, filters))

    async def items(
        self,
        *,
        status: Any = None,
        kind: Any = None,
        type: Any = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[MemoryItem]:
        return await self._client._runner.run(self._plans.items(status, kind, type, limit, offset))

    async def get(
        self,
        item: ItemRef,
        *,
        as_of: datetime | str | None = None,
        known_at: datetime | str | None = None,
    ) -> MemoryItem:
        return typing.cast(
            MemoryItem,
            await self._do(
                _Call(
                    "GET",
                    _path("memories", item),
                    _one(MemoryItem),
                    params=_params(as_of=as_of, known_at=known_at, cube=self.name),
                )
            ),
        )

    async def history(self, item: ItemRef) -> list[Version]:
        return typing.cast(
            list[Version],
            await self._do(
                _Call(
                    "GET",
                    _path("memories", item, "history"),
                    _many(Version, "versions"),
                    params={"cube": self.name},
                )
            ),
        )

    async def update(
        self, item: ItemRef, content: str | None = None, *, force: bool = False, **meta: Any
    ) -> MemoryItem:
        body = {k: v for k, v in _json({**meta, "content": content}).items() if v is not None}
        return typing.cast(
            MemoryItem,
            await self._do(
                _Call(
                    "PATCH",
                    _path("memories", item),
                    _one(MemoryItem),
                    body,
                    _params(force=force or None, cube=self.name),
                )
            ),
        )

    async def forget(self, item: ItemRef, *, hard: bool = False) -> MemoryItem:
        return typing.cast(
            MemoryItem,
            await self._do(
                _Call(
                    "DELETE",
                    _path("memories", item),
                    _one(MemoryItem),
                    params=_params(hard=hard or None, cube=self.name),
                )
            ),
        )

    async def link(
        self,
        src: ItemRef,
        dst: ItemRef,
        *,
        kind: str = "related",
        reason: str | None = None,
        weight: float = 1.0,
    ) -> Link:
        body = {"src": src, "dst": dst, "kind": kind, "reason": reason, "weight": weight}
        return typing.cast(
            Link,
            await self._do(_Call("POST", _path("cubes", self.name, "links"), _one(Link), body)),
        )

    async def ingest(
        self, records: Iterable[Mapping[str, Any] | str], *, source: str | None = None
    ) -> Any:
        from memos.agents.report import IngestReport

        body = _params(records=list(records), source=source)
        return await self._do(
            _Call("POST", _path("cubes", self.name, "ingest"), _one(IngestReport), body)
        )

    async def stats(self) -> dict[str, Any]:
        return await self._do(_Call("GET", _path("cubes", self.name, "stats"), _data))


class AsyncClient:
    """A memos server with `async` methods: use `memos.connect_async()`."""

    def __init__(
        self,
        url: str,
        *,
        api_key: str | None = None,
        timeout: float = 60.0,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self._owned = http is None
        self._http = (
            http if http is not None else httpx.AsyncClient(base_url=self.url, timeout=timeout)
        )
        self._runner = _AsyncRunner(self._http, self.url, _headers(api_key))

    async def _do(self, call: _Call[T]) -> T:
        return await self._runner.run(_single(call))

    async def status(self) -> dict[str, Any]:
        return await self._do(_Call("GET", "/v1/status", _data))

    async def create_cube(
        self, name: str, *, attributes: dict[str, Any] | None = None
    ) -> AsyncRemoteCube:
        info = await self._do(
            _Call("POST", "/v1/cubes", _one(CubeInfo), _params(name=name, attributes=attributes))
        )
        return AsyncRemoteCube(self, info)

    async def cube(self, name: str, *, create: bool = False) -> AsyncRemoteCube:
        try:
            return AsyncRemoteCube(
                self, await self._do(_Call("GET", _path("cubes", name), _one(CubeInfo)))
            )
        except NotFoundError:
            if not create:
                raise
            return await self.create_cube(name)

    async def cubes(self) -> list[CubeInfo]:
        return typing.cast(
            list[CubeInfo], await self._do(_Call("GET", "/v1/cubes", _many(CubeInfo, "cubes")))
        )

    async def drop_cube(self, name: str) -> None:
        await self._do(_Call("DELETE", _path("cubes", name)))

    async def aclose(self) -> None:
        if self._owned:
            await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()


def connect_async(
    url: str,
    *,
    api_key: str | None = None,
    timeout: float = 60.0,
    http: httpx.AsyncClient | None = None,
) -> AsyncClient:
    """The async twin of `connect`: `async with memos.connect_async(url) as client: ...`."""
    return AsyncClient(url, api_key=api_key, timeout=timeout, http=http)
