"""The operations REST and MCP serve, written once over the public SDK.

Every operation takes the authenticated `Principal`, checks the key's scope, and runs on
`mos.as_user(principal.user)`: the store then applies that user's grants and item
visibility exactly as it does in the embedded SDK. Inputs are validated by the SDK's
request models (`memos.requests`); results are the SDK's typed records.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from memos import validation
from memos.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from memos.models import CubeInfo, Hit, Link, MemoryItem, Permission, Version
from memos.requests import AddRequest, SearchRequest, parse
from memos.server.auth import Principal
from memos.server.bodies import (
    AbstractBody,
    ActivationBody,
    AdapterBody,
    ConceptBody,
    ConceptQueryBody,
    ConceptUseBody,
    CubeBody,
    GenerateBody,
    GrantBody,
    IngestBody,
    NoteBody,
    SearchBody,
)
from memos.server.jobs import Job, JobRunner
from memos.server.recent import Recent

if TYPE_CHECKING:
    from memos.agents.concepts import Abstraction, Concept, ConceptChange
    from memos.agents.report import IngestReport
    from memos.agents.zettelkasten import NoteResult
    from memos.cube import MemCube
    from memos.mos import MemOS
    from memos.runtime.cube_runtime import Generation

READ, WRITE, ADMIN = Permission.READ, Permission.WRITE, Permission.ADMIN
MAX_PAGE = 1000


def encode_cursor(before: int, offset: int) -> str:
    raw = json.dumps({"b": before, "o": offset}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, int]:
    """Raises: InvalidInputError: not a cursor this server issued."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        before, offset = data["b"], data["o"]
    except (ValueError, TypeError, KeyError, binascii.Error):
        raise InvalidInputError("cursor is not one this server issued; start without one") from None
    if not isinstance(before, int) or not isinstance(offset, int) or offset < 0:
        raise InvalidInputError("cursor is not one this server issued; start without one")
    return before, offset


class Service:
    """The server's operations over one opened memos (`root`), for any caller."""

    def __init__(self, root: MemOS, *, jobs: JobRunner | None = None) -> None:
        self.root = root
        self.jobs = jobs if jobs is not None else JobRunner()
        # One runtime model serves every request: generation and jobs take turns.
        self.model_lock = threading.Lock()
        # Cubes found by name, per user, for a moment (see `memos.server.recent`). A
        # `MemCube` checks the user's grants on every call, so only the name -> cube
        # lookup is remembered, never a permission.
        self._found: Recent[tuple[str, str], MemCube] = Recent(root.settings.server_cache_s)

    def mos(self, principal: Principal, needed: Permission) -> MemOS:
        """The memos as the caller's user, after checking the key's scope."""
        principal.require(needed)
        return self.root.as_user(principal.user)

    def _cube(self, principal: Principal, name: str, needed: Permission) -> MemCube:
        return self._named(self.mos(principal, needed), name)

    def _named(self, mos: MemOS, name: str) -> MemCube:
        key = (mos.user, name)
        found = self._found.get(key)
        if found is None:
            found = mos.cube(name)
            self._found.put(key, found)
        return found

    def _item_cube(
        self, principal: Principal, ref: int | str, needed: Permission, cube: str | None
    ) -> MemCube:
        """The named cube (its items only, as `MemCube` methods), else the item's own."""
        mos = self.mos(principal, needed)
        return self._named(mos, cube) if cube is not None else mos.cube_of(ref)

    # -- cubes --------------------------------------------------------------------------

    def cubes(self, principal: Principal) -> list[CubeInfo]:
        return self.mos(principal, READ).cubes()

    def create_cube(self, principal: Principal, data: Mapping[str, Any]) -> CubeInfo:
        body = parse(CubeBody, data)
        created = self.mos(principal, WRITE).create_cube(body.name, attributes=body.attributes)
        self._found.forget(lambda key: key[1] == body.name)
        return created.info

    def cube_info(self, principal: Principal, name: str) -> CubeInfo:
        """A cube the caller may read; others are not found (their names stay private)."""
        cube = self._cube(principal, name, READ)
        try:
            cube.grants()  # the cheapest call that needs read permission
        except PermissionDeniedError:
            raise NotFoundError(f"no cube named {name!r} that you may read") from None
        return cube.info

    def drop_cube(self, principal: Principal, name: str) -> None:
        self.mos(principal, ADMIN).drop_cube(name)
        self._found.forget(lambda key: key[1] == name)

    def stats(self, principal: Principal, name: str) -> dict[str, Any]:
        return self._cube(principal, name, READ).stats()

    def grants(self, principal: Principal, name: str) -> list[Any]:
        return self._cube(principal, name, READ).grants()

    def grant(self, principal: Principal, name: str, data: Mapping[str, Any]) -> Any:
        body = parse(GrantBody, data)
        return self._cube(principal, name, ADMIN).grant(body.user, body.permission)

    def revoke(self, principal: Principal, name: str, user: str) -> None:
        self._cube(principal, name, ADMIN).revoke(user)

    # -- memories -----------------------------------------------------------------------

    def add(self, principal: Principal, name: str, data: Any) -> MemoryItem | list[MemoryItem]:
        """One record (an object) or a batch (a list), as `add` / `add_many`."""
        cube = self._cube(principal, name, WRITE)
        if isinstance(data, list):
            return cube.add_many(data)
        if not isinstance(data, Mapping):
            raise InvalidInputError("send one record (an object) or a batch (a list)")
        request = parse(AddRequest, data, max_chars=self.root.settings.max_content_chars)
        fields = {k: v for k, v in data.items() if k != "content"}
        return cube.add(request.content, **fields)

    def items(
        self,
        principal: Principal,
        name: str,
        *,
        limit: int = 100,
        cursor: str | None = None,
        status: Sequence[str] | None = None,
        kind: Sequence[str] | None = None,
        type: Sequence[str] | None = None,
    ) -> tuple[list[MemoryItem], str | None]:
        """A page of items, newest first, and the cursor of the next page (None: last).

        The cursor holds the last id returned and where the scan stopped: items added
        meanwhile (newer, so at the head) are skipped, never repeated.
        """
        cube = self._cube(principal, name, READ)
        size = validation.limit(limit, most=MAX_PAGE)
        before, offset = decode_cursor(cursor) if cursor else (None, 0)
        page: list[MemoryItem] = []
        while True:
            batch = cube.items(status=status, kind=kind, type=type, limit=size + 1, offset=offset)
            for position, item in enumerate(batch):
                if before is not None and item.id >= before:
                    continue
                if len(page) == size:  # one more exists: the page is full
                    return page, encode_cursor(page[-1].id, offset + position)
                page.append(item)
            if len(batch) <= size:
                return page, None
            offset += len(batch)

    def get(
        self,
        principal: Principal,
        ref: int | str,
        *,
        as_of: str | None = None,
        known_at: str | None = None,
        cube: str | None = None,
    ) -> MemoryItem:
        return self._item_cube(principal, ref, READ, cube).get(ref, as_of=as_of, known_at=known_at)

    def update(
        self,
        principal: Principal,
        ref: int | str,
        data: Mapping[str, Any],
        *,
        force: bool = False,
        cube: str | None = None,
    ) -> MemoryItem:
        if not isinstance(data, Mapping):
            raise InvalidInputError("send the fields to change as an object")
        fields = dict(data)
        content = fields.pop("content", None)
        return self._item_cube(principal, ref, WRITE, cube).update(
            ref, content, force=force, **fields
        )

    def forget(
        self, principal: Principal, ref: int | str, *, hard: bool = False, cube: str | None = None
    ) -> MemoryItem:
        return self._item_cube(principal, ref, WRITE, cube).forget(ref, hard=hard)

    def history(
        self, principal: Principal, ref: int | str, *, cube: str | None = None
    ) -> list[Version]:
        return self._item_cube(principal, ref, READ, cube).history(ref)

    def set_status(
        self, principal: Principal, ref: int | str, status: str, *, cube: str | None = None
    ) -> MemoryItem:
        return self._item_cube(principal, ref, WRITE, cube).set_status(ref, status)

    def revert(
        self, principal: Principal, ref: int | str, version: int, *, cube: str | None = None
    ) -> MemoryItem:
        return self._item_cube(principal, ref, WRITE, cube).revert(ref, version)

    def links(self, principal: Principal, ref: int | str, *, cube: str | None = None) -> list[Link]:
        return self._item_cube(principal, ref, READ, cube).links(ref)

    def link(self, principal: Principal, name: str, data: Any) -> Link | list[Link]:
        """One link (an object) or several in one transaction (a list)."""
        cube = self._cube(principal, name, WRITE)
        if isinstance(data, list):
            if not all(isinstance(edge, Mapping) for edge in data):
                raise InvalidInputError("a batch of links is a list of objects")
            return cube.link_many(data)
        if not isinstance(data, Mapping):
            raise InvalidInputError("send one link (an object) or a batch (a list)")
        return cube.link_many([data])[0]

    def unlink(self, principal: Principal, name: str, link_id: int) -> None:
        self._cube(principal, name, WRITE).unlink(link_id)

    # -- search -------------------------------------------------------------------------

    def search(self, principal: Principal, data: Mapping[str, Any]) -> list[Hit]:
        """The best hits over the named cubes (default: all the caller may read), best
        first; scores are each cube's own, so across cubes the order is approximate."""
        body = parse(SearchBody, data)
        options = body.search_options()
        # Validate once up front, as one cube's search would, even when no cube is read.
        parse(
            SearchRequest,
            {k: v for k, v in options.items() if k != "weights"} | {"query": body.query},
            max_chars=self.root.settings.max_content_chars,
        )
        mos = self.mos(principal, READ)
        names = body.cubes if body.cubes is not None else [c.name for c in mos.cubes()]
        hits: list[Hit] = []
        for name in dict.fromkeys(names):
            hits += self._named(mos, name).search(body.query, **options)
        if len(names) > 1:
            hits.sort(key=lambda hit: -hit.score)
        return hits[: body.k]

    # -- agents -------------------------------------------------------------------------

    def ingest(self, principal: Principal, name: str, data: Mapping[str, Any]) -> IngestReport:
        body = parse(IngestBody, data)
        return self._cube(principal, name, WRITE).ingest(body.records, source=body.source)

    def note(self, principal: Principal, name: str, data: Mapping[str, Any]) -> NoteResult:
        body = parse(NoteBody, data)
        cube = self._cube(principal, name, WRITE)
        return cube.note(body.content, agent=body.agent, **(body.fields or {}))

    def concepts(
        self, principal: Principal, name: str, *, kind: str | None = None, limit: int = 1000
    ) -> list[Concept]:
        return self._cube(principal, name, READ).concepts(kind=kind, limit=limit)

    def add_concept(
        self, principal: Principal, name: str, data: Mapping[str, Any]
    ) -> ConceptChange:
        body = parse(ConceptBody, data)
        lists = body.model_dump(include={"cues", "parameters", "notes"}, exclude_none=True)
        return self._cube(principal, name, WRITE).add_concept(
            body.name, kind=body.kind, description=body.description, **lists
        )

    def concepts_for(
        self, principal: Principal, name: str, data: Mapping[str, Any]
    ) -> list[Concept]:
        body = parse(ConceptQueryBody, data)
        return self._cube(principal, name, READ).concepts_for(body.problem, k=body.k)

    def abstract(self, principal: Principal, name: str, data: Mapping[str, Any]) -> Abstraction:
        body = parse(AbstractBody, data)
        return self._cube(principal, name, WRITE).abstract(
            body.trace, outcome=body.outcome, task=body.task, used=body.used
        )

    def record_concept_use(
        self, principal: Principal, name: str, data: Mapping[str, Any]
    ) -> list[Concept]:
        body = parse(ConceptUseBody, data)
        return self._cube(principal, name, WRITE).record_concept_use(
            body.concepts, success=body.success
        )

    # -- derived memory: jobs and generation ---------------------------------------------

    def build_activation(self, principal: Principal, name: str, data: Mapping[str, Any]) -> Job:
        body = parse(ActivationBody, data)
        cube = self._cube(principal, name, WRITE)

        def work() -> MemoryItem:
            with self.model_lock:
                return cube.build_activation(
                    body.items, template=body.template, storage=body.storage
                )

        return self.jobs.submit("activation", principal.user, name, work)

    def distill(self, principal: Principal, name: str, data: Mapping[str, Any]) -> Job:
        body = parse(AdapterBody, data)
        cube = self._cube(principal, name, WRITE)
        from memos.parametric.train import TrainingPlan

        TrainingPlan.of(rank=body.rank, **body.plan())  # refuse bad options now, not in the job

        def work() -> MemoryItem:
            with self.model_lock:
                return cube.distill(body.items, rank=body.rank, **body.plan())

        return self.jobs.submit("adapter", principal.user, name, work)

    def rebuild(
        self, principal: Principal, ref: int | str, *, force: bool = False, cube: str | None = None
    ) -> Job:
        holder = self._item_cube(principal, ref, WRITE, cube)
        holder.get(ref)  # not found or not readable: refuse now

        def work() -> MemoryItem:
            with self.model_lock:
                return holder.rebuild(ref, force=force)

        return self.jobs.submit("rebuild", principal.user, holder.name, work)

    def job(self, principal: Principal, job_id: str) -> Job:
        principal.require(READ)
        return self.jobs.get(job_id, principal.user)

    def generate(self, principal: Principal, data: Mapping[str, Any]) -> Generation:
        body = parse(GenerateBody, data)
        cube = self._cube(principal, body.cube, READ)
        with self.model_lock:
            return cube.generate(body.prompt, **body.options())

    # -- status -------------------------------------------------------------------------

    def status(self, principal: Principal) -> dict[str, Any]:
        """Who the key is and what it may read: for `get_status` and `/v1/status`."""
        from memos import __version__

        cubes = self.cubes(principal)
        return {
            "version": __version__,
            "user": principal.user,
            "scope": principal.scope.value,
            "key": principal.key_id,
            "embedder": self.root.embedder.spec.to_dict(),
            "cubes": [cube.name for cube in cubes],
        }

    def scheduler(self, principal: Principal) -> dict[str, Any]:
        """The scheduler's tiers and counters, and its latest decisions about cubes the
        caller may read.

        Raises:
            NotFoundError: this memos has no scheduler.
        """
        mos = self.mos(principal, READ)
        scheduler = getattr(self.root, "scheduler", None)
        if scheduler is None:
            raise NotFoundError("this memos has no scheduler")
        readable = {cube.id for cube in mos.cubes()}
        decisions = [d for d in scheduler.decisions(limit=500) if d.cube_id in readable]
        return {"status": scheduler.status(), "decisions": decisions[:50]}

    def gauges(self, principal: Principal) -> list[tuple[str, str, dict[str, str], float]]:
        """Cube and item counts as the caller sees them, for `/metrics`."""
        mos = self.mos(principal, READ)
        cubes = mos.cubes()
        found: list[tuple[str, str, dict[str, str], float]] = [
            ("memos_cubes", "Cubes the caller may read.", {}, float(len(cubes)))
        ]
        for info in cubes:
            counts = mos.cube(info.name).stats()["by_status"]
            found += [
                (
                    "memos_items",
                    "Items by cube and status.",
                    {"cube": info.name, "status": s},
                    float(n),
                )
                for s, n in sorted(counts.items())
            ]
        return found
