"""Request models: the one validation layer for what callers send.

The SDK (`MemCube.add`, `update`, `search`, links), JSONL import, MemReader and the
server all parse input through these pydantic models, so a value is accepted or refused
the same way everywhere. Each field reuses the checks in `memos.validation` (their
messages say what to do next); `parse` turns any failure into one `InvalidInputError`
naming the field, never a raw pydantic or Python exception.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo, field_validator

from memos import validation
from memos.config import DEFAULT_MAX_CONTENT_CHARS
from memos.errors import InvalidInputError
from memos.models import (
    SEARCHABLE_STATUSES,
    ItemDraft,
    Kind,
    Permission,
    SearchFilters,
    Status,
    Tier,
    Visibility,
)
from memos.timeutil import parse_time, parse_ttl

Model = TypeVar("Model", bound=BaseModel)


def parse(model: type[Model], data: Mapping[str, Any], **context: Any) -> Model:
    """Validate `data` as `model`.

    Raises:
        InvalidInputError: the first problem, with the field it is in.
    """
    if not isinstance(data, Mapping):
        raise InvalidInputError(f"expected an object of fields, got {type(data).__name__}")
    try:
        return model.model_validate(dict(data), context=context)
    except ValidationError as exc:
        raise InvalidInputError(describe(exc, model)) from None


def describe(exc: ValidationError, model: type[BaseModel]) -> str:
    """One line for a pydantic failure, keeping memos' own messages as they are."""
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"])
    original = (error.get("ctx") or {}).get("error")
    if isinstance(original, InvalidInputError):
        return str(original)
    if error["type"] == "extra_forbidden":
        known = ", ".join(sorted(n for n in model.model_fields if n != "content"))
        if model is UpdateRequest:
            return f"cannot update {where}; updatable: {known}"
        return f"unknown field {where!r}; known fields: {known}"
    if error["type"] == "missing":
        return f"{where} is missing (required)"
    return f"{where}: {error['msg']}"


def _enum(value: Any, enum: type[Any], field: str) -> Any:
    try:
        return enum(value)
    except ValueError:
        choices = ", ".join(e.value for e in enum)
        raise InvalidInputError(f"{field} {value!r:.80} is not one of: {choices}") from None


def _max_chars(info: ValidationInfo) -> int:
    context = info.context or {}
    return int(context.get("max_chars", DEFAULT_MAX_CONTENT_CHARS))


class _Request(BaseModel):
    # strict: "no" is not a boolean and "5" is not a number; frozen: a request is a value.
    model_config = ConfigDict(
        extra="forbid", frozen=True, strict=True, arbitrary_types_allowed=True
    )


class _Fields(_Request):
    """Metadata fields shared by `add` and `update`."""

    type: str | None = None
    source: str | None = None
    source_ref: str | None = None
    tags: tuple[str, ...] | None = None
    keywords: tuple[str, ...] | None = None
    context: str | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    attributes: dict[str, Any] | None = None
    importance: float | None = None
    confidence: float | None = None
    visibility: Visibility | None = None
    author: str | None = None

    @field_validator("type", mode="before")
    @classmethod
    def _type(cls, value: Any) -> Any:
        return None if value is None else validation.item_type(value)

    @field_validator("source", "author", mode="before")
    @classmethod
    def _short(cls, value: Any, info: ValidationInfo) -> Any:
        return validation.optional_text(value, field=str(info.field_name), max_chars=128)

    @field_validator("source_ref", mode="before")
    @classmethod
    def _ref(cls, value: Any) -> Any:
        return validation.optional_text(value, field="source_ref")

    @field_validator("context", mode="before")
    @classmethod
    def _context(cls, value: Any) -> Any:
        return validation.optional_text(value, field="context", max_chars=4096)

    @field_validator("tags", "keywords", mode="before")
    @classmethod
    def _labels(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None:
            return None
        return validation.labels(value, field=str(info.field_name))

    @field_validator("valid_from", "valid_to", mode="before")
    @classmethod
    def _time(cls, value: Any, info: ValidationInfo) -> Any:
        return parse_time(value, field=str(info.field_name))

    @field_validator("attributes", mode="before")
    @classmethod
    def _attributes(cls, value: Any) -> Any:
        return None if value is None else validation.attributes(value)

    @field_validator("importance", "confidence", mode="before")
    @classmethod
    def _unit(cls, value: Any, info: ValidationInfo) -> Any:
        return (
            None if value is None else validation.unit_interval(value, field=str(info.field_name))
        )

    @field_validator("visibility", mode="before")
    @classmethod
    def _visibility(cls, value: Any) -> Any:
        return None if value is None else _enum(value, Visibility, "visibility")

    def _check_window(self) -> None:
        start, end = self.valid_from, self.valid_to
        if start is not None and end is not None and end <= start:
            raise InvalidInputError("valid_to must be after valid_from")


class AddRequest(_Fields):
    """A new plaintext memory (`MemCube.add`)."""

    content: str
    ttl: timedelta | None = None
    status: Status = Status.ACTIVATED
    created_by: str | None = None

    @field_validator("content", mode="before")
    @classmethod
    def _content(cls, value: Any, info: ValidationInfo) -> Any:
        return validation.content(value, max_chars=_max_chars(info))

    @field_validator("ttl", mode="before")
    @classmethod
    def _ttl(cls, value: Any) -> Any:
        return parse_ttl(value)

    @field_validator("status", mode="before")
    @classmethod
    def _status(cls, value: Any) -> Any:
        status = _enum(value, Status, "status")
        if status not in (Status.GENERATED, Status.ACTIVATED):
            raise InvalidInputError("a new memory starts as 'generated' or 'activated'")
        return status

    @field_validator("created_by", mode="before")
    @classmethod
    def _created_by(cls, value: Any) -> Any:
        return validation.optional_text(value, field="created_by", max_chars=256)

    def draft(self) -> ItemDraft:
        """The store's draft of this request."""
        self._check_window()
        return ItemDraft(
            content=self.content,
            type=self.type or "fact",
            status=self.status,
            source=self.source,
            source_ref=self.source_ref,
            tags=self.tags or (),
            keywords=self.keywords or (),
            context=self.context,
            valid_from=self.valid_from,
            valid_to=self.valid_to,
            ttl=self.ttl,
            attributes=self.attributes or {},
            importance=0.5 if self.importance is None else self.importance,
            confidence=1.0 if self.confidence is None else self.confidence,
            visibility=self.visibility or Visibility.SHARED,
            author=self.author,
            created_by=self.created_by,
        )


class UpdateRequest(_Fields):
    """Changes to an item (`MemCube.update` and `revise`): only the fields given change."""

    content: str | None = None
    ttl: timedelta | None = None

    @field_validator("content", mode="before")
    @classmethod
    def _content(cls, value: Any, info: ValidationInfo) -> Any:
        return None if value is None else validation.content(value, max_chars=_max_chars(info))

    @field_validator("ttl", mode="before")
    @classmethod
    def _ttl(cls, value: Any) -> Any:
        return parse_ttl(value)

    def changes(self) -> dict[str, Any]:
        """The fields to change (those given), as the store takes them; `ttl` is returned
        as is for the caller to turn into `expires_at` against its clock.

        Raises:
            InvalidInputError: nothing to change, or validity ending before it starts.
        """
        self._check_window()
        given = self.model_dump(exclude_none=True)
        if not given:
            raise InvalidInputError("nothing to update: give new content or a field to change")
        for name in ("tags", "keywords"):
            if name in given:
                given[name] = tuple(given[name])
        return given


class SearchRequest(_Request):
    """A search: the query, how many hits, and the filters (`MemCube.search`)."""

    query: str
    k: int = 10
    types: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    statuses: frozenset[Status] = SEARCHABLE_STATUSES
    kinds: frozenset[Kind] = frozenset({Kind.PLAINTEXT})
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    recorded_from: datetime | None = None
    recorded_to: datetime | None = None
    as_of: datetime | None = None

    @field_validator("query", mode="before")
    @classmethod
    def _query(cls, value: Any, info: ValidationInfo) -> Any:
        return validation.content(value, max_chars=_max_chars(info), field="query")

    @field_validator("k", mode="before")
    @classmethod
    def _k(cls, value: Any) -> Any:
        return validation.top_k(value)

    @field_validator("types", mode="before")
    @classmethod
    def _types(cls, value: Any) -> Any:
        return tuple(validation.item_type(t) for t in validation.labels(value, field="types"))

    @field_validator("sources", "authors", "tags", mode="before")
    @classmethod
    def _labels(cls, value: Any, info: ValidationInfo) -> Any:
        return validation.labels(value, field=str(info.field_name))

    @field_validator("statuses", mode="before")
    @classmethod
    def _statuses(cls, value: Any) -> Any:
        if value is None:
            return SEARCHABLE_STATUSES
        return frozenset(validation.each(value, validation.status, field="statuses") or ())

    @field_validator("kinds", mode="before")
    @classmethod
    def _kinds(cls, value: Any) -> Any:
        if value is None:
            return frozenset({Kind.PLAINTEXT})
        return frozenset(validation.each(value, validation.kind, field="kinds") or ())

    @field_validator(
        "valid_from", "valid_to", "recorded_from", "recorded_to", "as_of", mode="before"
    )
    @classmethod
    def _time(cls, value: Any, info: ValidationInfo) -> Any:
        return parse_time(value, field=str(info.field_name))

    def filters(self) -> SearchFilters:
        """The store's filters of this request.

        Raises:
            InvalidInputError: a time window that ends before it starts.
        """
        return SearchFilters(
            statuses=self.statuses,
            kinds=self.kinds,
            types=frozenset(self.types),
            sources=frozenset(self.sources),
            authors=frozenset(self.authors),
            tags=frozenset(self.tags),
            valid_during=_window(self.valid_from, self.valid_to, "valid"),
            recorded_during=_window(self.recorded_from, self.recorded_to, "recorded"),
            as_of=self.as_of,
        )


def _window(
    low: datetime | None, high: datetime | None, name: str
) -> tuple[datetime | None, datetime | None]:
    if low is not None and high is not None and high <= low:
        raise InvalidInputError(f"{name}_to must be after {name}_from")
    return low, high


def _link_weight(value: Any) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not 0 < value <= validation.MAX_LINK_WEIGHT
    ):
        raise InvalidInputError(
            f"link weight must be a number above 0 and at most "
            f"{validation.MAX_LINK_WEIGHT:g}, got {value!r:.80}"
        )
    return float(value)


class LinkRequest(_Request):
    """A link between two items (`MemCube.link`, `link_many`); ids are resolved by the
    caller."""

    src: int | str
    dst: int | str
    kind: str = "related"
    reason: str | None = None
    weight: float = 1.0
    created_by: str | None = None

    @field_validator("src", "dst", mode="before")
    @classmethod
    def _ref(cls, value: Any, info: ValidationInfo) -> Any:
        return validation.item_ref(value, field=str(info.field_name))

    @field_validator("kind", mode="before")
    @classmethod
    def _kind(cls, value: Any) -> Any:
        return validation.link_kind(value)

    @field_validator("reason", mode="before")
    @classmethod
    def _reason(cls, value: Any) -> Any:
        return validation.optional_text(value, field="reason", max_chars=4096)

    @field_validator("weight", mode="before")
    @classmethod
    def _weight(cls, value: Any) -> Any:
        return _link_weight(value)

    @field_validator("created_by", mode="before")
    @classmethod
    def _created_by(cls, value: Any) -> Any:
        return validation.optional_text(value, field="created_by", max_chars=128)


def add_drafts(records: object, **context: Any) -> list[ItemDraft]:
    """The drafts of `MemCube.add_many`: texts, or mappings with `content` and the fields
    of `add`; all are checked before any is stored.

    Raises:
        InvalidInputError: not a list of records, or a bad record (named by position).
    """
    if isinstance(records, str | bytes | Mapping) or not isinstance(records, Iterable):
        raise InvalidInputError(
            f"add_many takes a list of records (texts or objects with 'content'), got "
            f"{type(records).__name__}; use add() for one text"
        )
    drafts = []
    for position, record in enumerate(records):
        data = {"content": record} if isinstance(record, str) else record
        try:
            drafts.append(parse(AddRequest, data, **context).draft())
        except InvalidInputError as exc:
            raise InvalidInputError(f"record {position}: {exc}") from None
    return drafts


def link_requests(edges: object) -> list[LinkRequest]:
    """The links of `MemCube.link_many`: (src, dst) pairs or mappings of `LinkRequest`'s
    fields, all checked before any is made.

    Raises:
        InvalidInputError: not a list of links, or a bad one (named by position).
    """
    if isinstance(edges, str | bytes | Mapping) or not isinstance(edges, Iterable):
        raise InvalidInputError(
            f"link_many takes a list of links ((src, dst) pairs or objects with 'src' and "
            f"'dst'), got {type(edges).__name__}"
        )
    found = []
    for position, edge in enumerate(edges):
        if isinstance(edge, Mapping):
            data: Mapping[str, Any] = edge
        elif isinstance(edge, tuple | list) and len(edge) == 2:
            data = {"src": edge[0], "dst": edge[1]}
        else:
            raise InvalidInputError(
                f"link {position}: expected a (src, dst) pair or an object, got {edge!r:.80}"
            )
        try:
            found.append(parse(LinkRequest, data))
        except InvalidInputError as exc:
            raise InvalidInputError(f"link {position}: {exc}") from None
    return found


# Chat roles MemReader reads: a person's turn, or a machine's (read for context only). An
# unknown role would be taken for a person's; `speaker` names who said it.
MESSAGE_ROLES = ("user", "human", "assistant", "system", "tool", "function", "developer")


def ingest_records(records: object, source: object = None) -> tuple[list[Any], str | None]:
    """The records of `MemCube.ingest` as a list, each message's role checked (events and
    MemReader's own checks do the rest), and the source they come from.

    Raises:
        InvalidInputError: not records, a message with a role memos does not know, or a
            source that is not a short name.
    """
    source = validation.optional_text(source, field="source", max_chars=128)
    if isinstance(records, str | bytes | Mapping):
        batch: list[Any] = [records]
    elif isinstance(records, Iterable):
        batch = list(records)
    else:
        raise InvalidInputError(
            f"ingest takes messages or events (a list of objects), got {type(records).__name__}"
        )
    for position, record in enumerate(batch):
        if isinstance(record, Mapping):
            role = None if "platform" in record else record.get("role")
        else:
            role = getattr(record, "role", None)
        if role is not None and (
            not isinstance(role, str) or role.strip().lower() not in MESSAGE_ROLES
        ):
            raise InvalidInputError(
                f"record {position}: role {role!r:.40} is not one of: {', '.join(MESSAGE_ROLES)}"
                "; name the person with 'speaker' instead"
            )
    return batch, source


# -- import: records of a JSONL export --------------------------------------------------


def _text_list(value: Any, info: ValidationInfo) -> Any:
    if value is None:
        return ()
    if not isinstance(value, list | tuple):
        raise InvalidInputError(f"{info.field_name} must be a list of text, got {value!r:.80}")
    return validation.labels(value, field=str(info.field_name))


class DerivedSource(_Request):
    """One source of a derived item: its id in the exporting database, uid, version."""

    model_config = ConfigDict(extra="allow", frozen=True, strict=True)

    id: int | None = None
    uid: str | None = None
    version: int | None = None


class ExportedVersion(_Request):
    """One version of an item as an export file holds it; the same checks as `add`."""

    uid: str
    kind: Kind = Kind.PLAINTEXT
    type: str = "fact"
    content: str | None = None
    status: Status
    version: int
    artifact: str | None = None
    keywords: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    context: str | None = None
    attributes: dict[str, Any] = {}
    supersedes_uid: str | None = None
    superseded_by_uid: str | None = None
    merged_into_uid: str | None = None
    stale: bool = False
    source: str | None = None
    source_ref: str | None = None
    author: str | None = None
    created_by: str | None = None
    derived_from: tuple[DerivedSource, ...] = ()
    created_at: datetime | None = None
    updated_at: datetime | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    expires_at: datetime | None = None
    last_accessed_at: datetime | None = None
    access_count: int = 0
    importance: float = 0.5
    confidence: float = 1.0
    tier: Tier = Tier.DISK
    size_bytes: int = 0
    owner: str | None = None
    visibility: Visibility = Visibility.SHARED
    recorded_at: datetime | None = None
    operation: str | None = None
    actor: str | None = None

    @field_validator("uid", mode="before")
    @classmethod
    def _uid(cls, value: Any) -> Any:
        return _uid(value, "uid")

    @field_validator("kind", mode="before")
    @classmethod
    def _kind(cls, value: Any) -> Any:
        return validation.kind(value)

    @field_validator("status", mode="before")
    @classmethod
    def _status(cls, value: Any) -> Any:
        return _enum(value, Status, "status")

    @field_validator("tier", mode="before")
    @classmethod
    def _tier(cls, value: Any) -> Any:
        return _enum(value, Tier, "tier")

    @field_validator("visibility", mode="before")
    @classmethod
    def _visibility(cls, value: Any) -> Any:
        return _enum(value, Visibility, "visibility")

    @field_validator("type", mode="before")
    @classmethod
    def _type(cls, value: Any) -> Any:
        return validation.item_type(value)

    @field_validator("content", mode="before")
    @classmethod
    def _content(cls, value: Any, info: ValidationInfo) -> Any:
        # None: the text was purged by a hard forget, which the export keeps as it is.
        return None if value is None else validation.content(value, max_chars=_max_chars(info))

    @field_validator("version", mode="before")
    @classmethod
    def _version(cls, value: Any) -> Any:
        return validation.item_id(value, field="version")

    @field_validator("keywords", "tags", mode="before")
    @classmethod
    def _lists(cls, value: Any, info: ValidationInfo) -> Any:
        return _text_list(value, info)

    @field_validator("context", mode="before")
    @classmethod
    def _context(cls, value: Any) -> Any:
        return validation.optional_text(value, field="context", max_chars=4096)

    @field_validator("attributes", mode="before")
    @classmethod
    def _attributes(cls, value: Any) -> Any:
        return validation.attributes(value)

    @field_validator("source", "author", "owner", "actor", mode="before")
    @classmethod
    def _short(cls, value: Any, info: ValidationInfo) -> Any:
        return validation.optional_text(value, field=str(info.field_name), max_chars=128)

    @field_validator("source_ref", "artifact", "supersedes_uid", "superseded_by_uid",
                     "merged_into_uid", mode="before")  # fmt: skip
    @classmethod
    def _ref(cls, value: Any, info: ValidationInfo) -> Any:
        return validation.optional_text(value, field=str(info.field_name))

    @field_validator("created_by", "operation", mode="before")
    @classmethod
    def _created_by(cls, value: Any, info: ValidationInfo) -> Any:
        return validation.optional_text(value, field=str(info.field_name), max_chars=256)

    @field_validator("derived_from", mode="before")
    @classmethod
    def _derived(cls, value: Any) -> Any:
        if value is None:
            return ()
        if not isinstance(value, list | tuple) or not all(isinstance(v, dict) for v in value):
            raise InvalidInputError(f"derived_from must be a list of objects, got {value!r:.80}")
        return tuple(value)

    @field_validator("created_at", "updated_at", "valid_from", "valid_to", "expires_at",
                     "last_accessed_at", "recorded_at", mode="before")  # fmt: skip
    @classmethod
    def _time(cls, value: Any, info: ValidationInfo) -> Any:
        return parse_time(value, field=str(info.field_name))

    @field_validator("access_count", "size_bytes", mode="before")
    @classmethod
    def _count(cls, value: Any, info: ValidationInfo) -> Any:
        return validation.offset(value, field=str(info.field_name))

    @field_validator("importance", "confidence", mode="before")
    @classmethod
    def _unit(cls, value: Any, info: ValidationInfo) -> Any:
        return validation.unit_interval(value, field=str(info.field_name))

    def record(self) -> dict[str, Any]:
        """The checked values as the store reads them. A KV cache or adapter comes in
        stale and without its artifact: files do not travel in exports, and a digest in
        the file must never adopt an artifact already on this host (someone else's)."""
        if self.valid_from and self.valid_to and self.valid_to <= self.valid_from:
            raise InvalidInputError("valid_to must be after valid_from")
        values = self.model_dump(exclude_none=False)
        values["derived_from"] = [d.model_dump(exclude_none=True) for d in self.derived_from]
        if self.kind is not Kind.PLAINTEXT:
            values.update(artifact=None, stale=True, size_bytes=0, tier=Tier.COLD)
        return values


class ExportedItem(ExportedVersion):
    """An item line of an export: the current state and every version."""

    record_type: str = "item"
    owner: str
    versions: tuple[ExportedVersion, ...]

    @field_validator("versions", mode="before")
    @classmethod
    def _versions(cls, value: Any) -> Any:
        if not isinstance(value, list | tuple) or not value:
            raise InvalidInputError("an item needs a non-empty list of versions")
        return tuple(value)


def _uid(value: Any, field: str) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= 64 or not value.isprintable():
        raise InvalidInputError(f"{field} must be 1-64 printable characters, got {value!r:.80}")
    return value


class ExportedLink(_Request):
    """A link line of an export: between two items of the file, by uid."""

    record: str = "link"
    src_uid: str
    dst_uid: str
    kind: str
    reason: str | None = None
    weight: float = 1.0
    created_by: str
    created_at: datetime

    @field_validator("src_uid", "dst_uid", mode="before")
    @classmethod
    def _uids(cls, value: Any, info: ValidationInfo) -> Any:
        return _uid(value, str(info.field_name))

    @field_validator("kind", mode="before")
    @classmethod
    def _kind(cls, value: Any) -> Any:
        return validation.link_kind(value)

    @field_validator("reason", mode="before")
    @classmethod
    def _reason(cls, value: Any) -> Any:
        return validation.optional_text(value, field="reason", max_chars=4096)

    @field_validator("weight", mode="before")
    @classmethod
    def _weight(cls, value: Any) -> Any:
        return _link_weight(value)

    @field_validator("created_by", mode="before")
    @classmethod
    def _created_by(cls, value: Any) -> Any:
        if value is None:
            raise InvalidInputError("created_by is missing (required)")
        return validation.optional_text(value, field="created_by", max_chars=128)

    @field_validator("created_at", mode="before")
    @classmethod
    def _time(cls, value: Any) -> Any:
        return parse_time(value, field="created_at")


class ExportedGrant(_Request):
    """One access grant in an export's header."""

    user: str
    permission: Permission
    granted_by: str
    granted_at: datetime

    @field_validator("user", "granted_by", mode="before")
    @classmethod
    def _user(cls, value: Any) -> Any:
        return validation.user_name(value)

    @field_validator("permission", mode="before")
    @classmethod
    def _permission(cls, value: Any) -> Any:
        return validation.permission(value)

    @field_validator("granted_at", mode="before")
    @classmethod
    def _time(cls, value: Any) -> Any:
        return parse_time(value, field="granted_at")


class ExportedCube(BaseModel):
    """The header line of an export: the cube's name, attributes and grants (other keys,
    such as its embedder, are kept but not used)."""

    model_config = ConfigDict(extra="allow", frozen=True, strict=True)

    record: str
    format: str
    name: str
    attributes: dict[str, Any] = {}
    acl: tuple[ExportedGrant, ...] = ()

    @field_validator("name", mode="before")
    @classmethod
    def _name(cls, value: Any) -> Any:
        return validation.cube_name(value)

    @field_validator("attributes", mode="before")
    @classmethod
    def _attributes(cls, value: Any) -> Any:
        return validation.attributes(value)

    @field_validator("acl", mode="before")
    @classmethod
    def _acl(cls, value: Any) -> Any:
        if value is None:
            return ()
        if not isinstance(value, list | tuple) or not all(isinstance(g, dict) for g in value):
            raise InvalidInputError(f"acl must be a list of grants, got {value!r:.80}")
        return tuple(value)
