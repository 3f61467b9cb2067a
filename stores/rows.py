"""Mapping between SQL rows and memos records."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from memos.models import (
    CubeInfo,
    EmbedderSpec,
    Grant,
    Kind,
    Link,
    MemoryItem,
    Operation,
    Permission,
    Status,
    Tier,
    Version,
    Visibility,
)
from memos.stores.schema import ITEM_FIELDS


def item_from_row(row: Mapping[Any, Any]) -> MemoryItem:
    # Version rows have no usage counters and name the item by item_id.
    item_id = row["id"] if "id" in row else row["item_id"]
    return MemoryItem(
        id=int(item_id),
        uid=row["uid"],
        cube_id=int(row["cube_id"]),
        kind=Kind(row["kind"]),
        type=row["type"],
        content=row["content"],
        status=Status(row["status"]),
        version=int(row["version"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        valid_from=row["valid_from"],
        owner=row["owner"],
        artifact=row["artifact"],
        keywords=tuple(row["keywords"] or ()),
        tags=tuple(row["tags"] or ()),
        context=row["context"],
        attributes=dict(row["attributes"] or {}),
        supersedes=row["supersedes"],
        superseded_by=row["superseded_by"],
        merged_into=row["merged_into"],
        stale=bool(row["stale"]),
        source=row["source"],
        source_ref=row["source_ref"],
        author=row["author"],
        created_by=row["created_by"],
        derived_from=tuple(row["derived_from"] or ()),
        valid_to=row["valid_to"],
        expires_at=row["expires_at"],
        access_count=int(row.get("access_count") or 0),
        last_accessed_at=row.get("last_accessed_at"),
        importance=float(row["importance"]),
        confidence=float(row["confidence"]),
        tier=Tier(row["tier"]),
        size_bytes=int(row["size_bytes"]),
        visibility=Visibility(row["visibility"]),
    )


def item_values(item: MemoryItem) -> dict[str, Any]:
    """Column values of the shared item columns plus `version`."""
    values: dict[str, Any] = {name: getattr(item, name) for name in ITEM_FIELDS}
    values["version"] = item.version
    for name in ("kind", "status", "tier", "visibility"):
        values[name] = str(values[name])
    values["keywords"] = list(item.keywords)
    values["tags"] = list(item.tags)
    values["derived_from"] = [dict(d) for d in item.derived_from]
    values["attributes"] = dict(item.attributes)
    return values


def version_from_row(row: Mapping[Any, Any]) -> Version:
    return Version(
        item=item_from_row(row),
        recorded_at=row["recorded_at"],
        operation=row["operation"],
        actor=row["actor"],
        op_seq=row["op_seq"],
    )


def cube_from_row(row: Mapping[Any, Any]) -> CubeInfo:
    return CubeInfo(
        id=int(row["id"]),
        name=row["name"],
        owner=row["owner"],
        embedder=EmbedderSpec(
            model=row["embedder_model"], dim=int(row["embedder_dim"]), metric=row["embedder_metric"]
        ),
        created_at=row["created_at"],
        attributes=dict(row["attributes"] or {}),
    )


def link_from_row(row: Mapping[Any, Any]) -> Link:
    return Link(
        id=int(row["id"]),
        cube_id=int(row["cube_id"]),
        src_id=int(row["src_id"]),
        dst_id=int(row["dst_id"]),
        kind=row["kind"],
        created_at=row["created_at"],
        created_by=row["created_by"],
        reason=row["reason"],
        weight=float(row["weight"]),
    )


def grant_from_row(row: Mapping[Any, Any]) -> Grant:
    return Grant(
        cube_id=int(row["cube_id"]),
        user=row["user"],
        permission=Permission(row["permission"]),
        granted_by=row["granted_by"],
        granted_at=row["granted_at"],
    )


def operation_from_row(row: Mapping[Any, Any]) -> Operation:
    return Operation(
        seq=int(row["cube_seq"]),
        cube_id=int(row["cube_id"]),
        item_id=row["item_id"],
        operation=row["operation"],
        actor=row["actor"],
        at=row["at"],
        payload=dict(row["payload"] or {}),
    )
