"""Rendering of SDK results for people (default) and for programs (--json)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import typer

from memos.models import CubeInfo, Grant, Hit, Link, MemoryItem, Record, Version


def to_jsonable(value: Any) -> Any:
    if isinstance(value, Record):
        return value.to_dict()
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: to_jsonable(v) for k, v in value.items()}
    return value


def emit_json(value: Any) -> None:
    typer.echo(json.dumps(to_jsonable(value), ensure_ascii=False, indent=2, sort_keys=False))


def _short(text: str | None, width: int = 100) -> str:
    if text is None:
        return "<purged>"
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value else ""


def item_line(item: MemoryItem) -> str:
    tags = f" [{', '.join(item.tags)}]" if item.tags else ""
    return (
        f"#{item.id} v{item.version} {item.type} {item.status.value}{tags}: {_short(item.content)}"
    )


def item_detail(item: MemoryItem) -> str:
    lines = [item_line(item)]
    fields = (
        ("uid", item.uid),
        ("source", item.source),
        ("source_ref", item.source_ref),
        ("author", item.author),
        ("owner", item.owner),
        ("visibility", item.visibility.value),
        ("valid", f"{item.valid_from.isoformat()} .. {_iso(item.valid_to)}"),
        ("recorded", item.created_at.isoformat()),
        ("updated", item.updated_at.isoformat()),
        ("expires", item.expires_at.isoformat() if item.expires_at else None),
        ("accessed", f"{item.access_count} times"),
    )
    lines += [f"  {name}: {value}" for name, value in fields if value]
    return "\n".join(lines)


def hits(results: Sequence[Hit]) -> str:
    if not results:
        return "no matches"
    return "\n".join(f"{hit.score:6.3f}  {item_line(hit.item)}" for hit in results)


def explained(results: Sequence[Hit]) -> str:
    """Each hit with its score per signal, in pipeline order."""
    if not results:
        return "no matches"
    order = ("vector", "lexical", "fused", "author", "graph", "prior", "ended", "when", "rerank")
    lines = []
    for hit in results:
        lines.append(f"{hit.score:6.3f}  {item_line(hit.item)}")
        parts = [f"{name}={hit.scores[name]:.3f}" for name in order if name in hit.scores]
        lines.append("        " + " ".join(parts))
    return "\n".join(lines)


def versions(history: Sequence[Version]) -> str:
    return "\n".join(
        f"v{v.version} {v.recorded_at.isoformat()} {v.operation} by {v.actor} "
        f"[{v.status.value}]: {_short(v.content)}"
        for v in history
    )


def cubes(found: Sequence[CubeInfo]) -> str:
    if not found:
        return "no cubes yet; create one with `memos cube create NAME`"
    return "\n".join(
        f"{c.name}  (owner {c.owner}, embedder {c.embedder.model}, {c.embedder.dim}-d)"
        for c in found
    )


def link(edge: Link) -> str:
    reason = f" — {edge.reason}" if edge.reason else ""
    return f"link {edge.id}: #{edge.src_id} -[{edge.kind}]-> #{edge.dst_id}{reason}"


def grants(found: Sequence[Grant]) -> str:
    return "\n".join(f"{g.user}: {g.permission.value} (by {g.granted_by})" for g in found) or (
        "no grants (only the owner has access)"
    )
