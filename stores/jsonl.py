"""The JSONL export format: one header line for the cube, one line per item (with every
version), one line per link. Reading validates the whole file before anything is stored."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from memos.config import DEFAULT_MAX_CONTENT_CHARS
from memos.errors import InvalidInputError, NotFoundError
from memos.fsutil import atomic_file
from memos.models import Kind, MemoryItem, Status, Tier, Visibility
from memos.requests import ExportedCube, ExportedItem, ExportedLink, parse

FORMAT = "memos-export"
FORMAT_VERSION = 1


@dataclass(frozen=True, slots=True)
class Export:
    """A validated export file."""

    header: dict[str, Any]
    items: list[dict[str, Any]]
    links: list[dict[str, Any]]


def write_export(records: Iterable[Mapping[str, Any]], path: Path) -> int:
    """Write records to `path` atomically; returns the number of item records."""
    count = 0
    with atomic_file(Path(path)) as handle:
        for record in records:
            line = json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n"
            handle.write(line.encode("utf-8"))
            count += record.get("record") == "item"
    return count


def read_export(path: Path, *, max_chars: int = DEFAULT_MAX_CONTENT_CHARS) -> Export:
    """Parse and validate an export file completely.

    Raises:
        NotFoundError: the file does not exist.
        InvalidInputError: a line is not UTF-8 or JSON, or a record is malformed; the message
            names the line.
    """
    path = Path(path)
    if not path.is_file():
        raise NotFoundError(f"no export file at {path}")
    header: dict[str, Any] | None = None
    items: list[dict[str, Any]] = []
    links: list[dict[str, Any]] = []
    uids: set[str] = set()
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            where = f"{path}:{number}"
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise InvalidInputError(
                    f"{where}: not UTF-8 text (byte {exc.start}); memos exports are UTF-8 JSONL"
                ) from None
            if not text.strip():
                continue
            try:
                record = json.loads(text)
            except json.JSONDecodeError as exc:
                raise InvalidInputError(f"{where}: not valid JSON ({exc.msg})") from None
            if not isinstance(record, dict):
                raise InvalidInputError(f"{where}: expected a JSON object")
            kind = record.get("record")
            if header is None:
                if kind != "cube" or record.get("format") != FORMAT:
                    raise InvalidInputError(
                        f"{where}: not a memos export (the first line must be the cube header)"
                    )
                if record.get("format_version") != FORMAT_VERSION:
                    raise InvalidInputError(
                        f"{where}: export format version {record.get('format_version')} is not "
                        f"supported (this memos reads version {FORMAT_VERSION})"
                    )
                header = _checked(ExportedCube, record, where, max_chars)
            elif kind == "item":
                record = _validate_item(record, where, max_chars)
                if record["uid"] in uids:
                    raise InvalidInputError(f"{where}: duplicate item uid {record['uid']!r}")
                uids.add(record["uid"])
                items.append(record)
            elif kind == "link":
                links.append(_checked(ExportedLink, record, where, max_chars))
            else:
                raise InvalidInputError(f"{where}: unknown record type {kind!r}")
    if header is None:
        raise InvalidInputError(f"{path}: empty file, not a memos export")
    for link in links:
        for key in ("src_uid", "dst_uid"):
            if link[key] not in uids:
                raise InvalidInputError(f"{path}: link names unknown item uid {link[key]!r}")
    return Export(header, items, links)


def _checked(
    model: type[ExportedLink] | type[ExportedCube],
    record: dict[str, Any],
    where: str,
    max_chars: int,
) -> dict[str, Any]:
    """A header or link line checked by its request model, as plain values."""
    try:
        checked = parse(model, record, max_chars=max_chars)
    except InvalidInputError as exc:
        raise InvalidInputError(f"{where}: {exc}") from None
    values = checked.model_dump()
    if isinstance(checked, ExportedCube):
        values["acl"] = [
            {**grant.model_dump(), "permission": grant.permission.value} for grant in checked.acl
        ]
    return values


def _validate_item(record: dict[str, Any], where: str, max_chars: int) -> dict[str, Any]:
    """An item line checked the way `add` checks input (`memos.requests`), as store values."""
    fields = {k: v for k, v in record.items() if k != "record"}
    versions = fields.get("versions")
    if isinstance(versions, list):
        for version in versions:
            if isinstance(version, dict):
                version.setdefault("uid", fields.get("uid"))
    try:
        item = parse(ExportedItem, fields, max_chars=max_chars)
        checked = item.record()
        checked["versions"] = [version.record() for version in item.versions]
    except InvalidInputError as exc:
        raise InvalidInputError(f"{where}: {exc}") from None
    for version in checked["versions"]:
        if version["recorded_at"] is None or version["operation"] is None:
            raise InvalidInputError(f"{where}: a version needs recorded_at and operation")
        version["actor"] = version["actor"] or checked["owner"]
    for key in ("created_at", "updated_at", "valid_from"):
        if checked[key] is None:
            raise InvalidInputError(f"{where}: item is missing {key}")
    checked["record"] = "item"
    return checked


_REFERENCES = ("supersedes", "superseded_by", "merged_into")


def export_item(item: MemoryItem, uids: Mapping[int, str]) -> dict[str, Any]:
    """An item's export record; references to other items become uids."""
    data = item.to_dict()
    for key in ("id", "cube_id"):
        data.pop(key)
    for key in _REFERENCES:
        value = data.pop(key)
        data[f"{key}_uid"] = uids.get(value) if value is not None else None
    data["derived_from"] = [
        {**d, "uid": uids.get(int(d["id"]))} if "id" in d else dict(d) for d in data["derived_from"]
    ]
    return data


def resolve_references(record: Mapping[str, Any], ids: Mapping[str, int]) -> dict[str, Any]:
    """Column values for the uid references of an imported record, mapped to new ids."""
    values: dict[str, Any] = {}
    for key in _REFERENCES:
        uid = record.get(f"{key}_uid")
        if uid is not None and uid in ids:
            values[key] = ids[uid]
    derived = record.get("derived_from") or []
    if any("uid" in d for d in derived):
        values["derived_from"] = [
            {**d, "id": ids[d["uid"]]} if d.get("uid") in ids else dict(d) for d in derived
        ]
    return values


def item_from_record(record: Mapping[str, Any], *, cube_id: int, item_id: int) -> MemoryItem:
    """A MemoryItem from a validated item or version record."""
    return MemoryItem(
        id=item_id,
        uid=record["uid"],
        cube_id=cube_id,
        kind=Kind(record.get("kind", "plaintext")),
        type=record.get("type", "fact"),
        content=record.get("content"),
        status=Status(record["status"]),
        version=int(record["version"]),
        created_at=record.get("created_at") or record["recorded_at"],
        updated_at=record.get("updated_at") or record["recorded_at"],
        valid_from=record.get("valid_from") or record["recorded_at"],
        owner=record.get("owner") or "unknown",
        artifact=record.get("artifact"),
        keywords=tuple(record.get("keywords") or ()),
        tags=tuple(record.get("tags") or ()),
        context=record.get("context"),
        attributes=dict(record.get("attributes") or {}),
        supersedes=None,
        superseded_by=None,
        merged_into=None,
        stale=bool(record.get("stale", False)),
        source=record.get("source"),
        source_ref=record.get("source_ref"),
        author=record.get("author"),
        created_by=record.get("created_by"),
        derived_from=tuple(record.get("derived_from") or ()),
        valid_to=record.get("valid_to"),
        expires_at=record.get("expires_at"),
        access_count=int(record.get("access_count") or 0),
        last_accessed_at=record.get("last_accessed_at"),
        importance=float(record.get("importance", 0.5)),
        confidence=float(record.get("confidence", 1.0)),
        tier=Tier(record.get("tier", "disk")),
        size_bytes=int(record.get("size_bytes") or 0),
        visibility=Visibility(record.get("visibility", "shared")),
    )
