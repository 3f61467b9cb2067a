"""A networkx view of a cube's links: neighbours, paths, topics, GraphML and JSON export.

The links table in SQL is the source of truth; a `MemoryGraph` is built from it on demand
(`cube.graph()`) and never written back. Nodes are the live items the user may read that
take part in at least one link; edges are links (a `MultiDiGraph`: two items may be
linked by several kinds), keyed by link id. Retrieval's graph expansion reads the links
table directly (`memos.retrieval.hybrid`), so it needs no graph in memory.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from memos import validation
from memos.errors import InvalidInputError, NotFoundError
from memos.models import Link, MemoryItem, Record

if TYPE_CHECKING:
    import networkx as nx

FORMAT_VERSION = 1
_LABEL_CHARS = 80


@dataclass(frozen=True, slots=True)
class Neighbour(Record):
    """An item reached over links: by which link, from where, and how far."""

    id: int
    kind: str
    reason: str | None
    direction: str
    weight: float
    created_by: str
    link_id: int
    distance: int
    via: int
    type: str = ""
    label: str = ""


@dataclass(frozen=True, slots=True)
class Step(Record):
    """One hop of a path: the item reached and the link taken to it (none for the start)."""

    id: int
    label: str
    kind: str | None = None
    reason: str | None = None
    direction: str | None = None
    link_id: int | None = None


@dataclass(frozen=True, slots=True)
class Topic(Record):
    """A connected topic: a community of densely linked items, named by their tags."""

    id: int
    items: tuple[int, ...]
    label: str
    tags: tuple[str, ...] = field(default=())


def _names(kinds: object) -> list[object]:
    """Link kinds given as one name or a list of names."""
    if isinstance(kinds, str):
        return [kinds]
    if isinstance(kinds, list | tuple | set | frozenset):
        return list(kinds)
    raise InvalidInputError(f"kinds must be link kinds (a list of names), got {kinds!r:.40}")


def _label(item: MemoryItem) -> str:
    text = " ".join((item.content or "").split())
    return text if len(text) <= _LABEL_CHARS else text[: _LABEL_CHARS - 1] + "…"


class MemoryGraph:
    """Read-only queries over a snapshot of the links (see the module docstring)."""

    def __init__(self, graph: nx.MultiDiGraph) -> None:
        self.graph = graph

    @classmethod
    def build(cls, items: Iterable[MemoryItem], links: Iterable[Link]) -> MemoryGraph:
        """Nodes from `items`; links whose ends are not among them are left out (forgotten
        or unreadable items must not leak through the graph)."""
        import networkx as nx  # loaded when a graph is built, not at import

        graph = nx.MultiDiGraph()
        for item in items:
            graph.add_node(
                item.id,
                type=item.type,
                label=_label(item),
                tags=list(item.tags),
                keywords=list(item.keywords),
                author=item.author or "",
            )
        for link in links:
            if link.src_id in graph and link.dst_id in graph:
                graph.add_edge(
                    link.src_id,
                    link.dst_id,
                    key=link.id,
                    kind=link.kind,
                    reason=link.reason or "",
                    weight=link.weight,
                    created_by=link.created_by,
                )
        return cls(graph)

    def __len__(self) -> int:
        return int(self.graph.number_of_nodes())

    @property
    def edge_count(self) -> int:
        return int(self.graph.number_of_edges())

    def _require(self, item_id: int) -> None:
        if item_id not in self.graph:
            raise NotFoundError(
                f"item #{item_id} has no links (or is not visible to you); link it with "
                "`memos link` or add it as a note"
            )

    def _edges(self, node: int) -> list[tuple[int, str, int, dict[str, Any]]]:
        """Every link touching `node`: (other end, direction, link id, attributes)."""
        out = [
            (dst, "out", key, data)
            for _, dst, key, data in self.graph.out_edges(node, keys=True, data=True)
        ]
        into = [
            (src, "in", key, data)
            for src, _, key, data in self.graph.in_edges(node, keys=True, data=True)
        ]
        return sorted(out + into, key=lambda e: (-float(e[3]["weight"]), e[2]))

    def neighbours(
        self, item_id: int, *, depth: int = 1, kinds: Iterable[str] | None = None
    ) -> list[Neighbour]:
        """Items within `depth` hops over links in either direction, nearest first, each
        with the link it was first reached by.

        Raises:
            NotFoundError: the item is not in the graph.
            InvalidInputError: depth below 1.
        """
        item_id = validation.item_id(item_id)
        depth = validation.limit(depth, field="depth", most=1000)
        self._require(item_id)
        wanted = None if kinds is None else {validation.link_kind(k) for k in _names(kinds)}
        seen = {item_id}
        found: list[Neighbour] = []
        queue: deque[tuple[int, int]] = deque([(item_id, 0)])
        while queue:
            node, distance = queue.popleft()
            if distance == depth:
                continue
            for other, direction, key, data in self._edges(node):
                if other in seen or (wanted is not None and data["kind"] not in wanted):
                    continue
                seen.add(other)
                attributes = self.graph.nodes[other]
                found.append(
                    Neighbour(
                        id=other, kind=data["kind"], reason=data["reason"] or None,
                        direction=direction, weight=float(data["weight"]),
                        created_by=data["created_by"], link_id=int(key),
                        distance=distance + 1, via=node, type=attributes.get("type", ""),
                        label=attributes.get("label", ""),
                    )
                )  # fmt: skip
                queue.append((other, distance + 1))
        return found

    def path(self, src: int, dst: int) -> list[Step]:
        """A shortest chain of links between two items (either direction).

        Raises:
            NotFoundError: either item is not in the graph, or they are not connected.
        """
        import networkx as nx  # loaded when a graph is built, not at import

        src, dst = validation.item_id(src, field="src"), validation.item_id(dst, field="dst")
        self._require(src)
        self._require(dst)
        try:
            nodes: list[int] = nx.shortest_path(self.graph.to_undirected(as_view=True), src, dst)
        except nx.NetworkXNoPath:
            raise NotFoundError(
                f"no chain of links joins #{src} and #{dst}; `memos graph neighbors` shows "
                "what each is linked to"
            ) from None
        steps = [Step(src, self.graph.nodes[src].get("label", ""))]
        for here, there in itertools.pairwise(nodes):
            other, direction, key, data = next(e for e in self._edges(here) if e[0] == there)
            steps.append(
                Step(other, self.graph.nodes[other].get("label", ""), data["kind"],
                     data["reason"] or None, direction, int(key))
            )  # fmt: skip
        return steps

    def topics(self, *, min_size: int = 2, seed: int = 0) -> list[Topic]:
        """Connected topics by Louvain community detection on the undirected, weighted
        graph (seeded, so the same links give the same topics), largest first.

        Raises:
            InvalidInputError: `min_size` below 1, or a seed that is not an integer.
        """
        import networkx as nx  # loaded when a graph is built, not at import

        min_size = validation.limit(min_size, field="min_size", most=validation.MAX_ID)
        seed = validation.offset(seed, field="seed")

        simple = nx.Graph()
        simple.add_nodes_from(self.graph.nodes)
        for src, dst, data in self.graph.edges(data=True):
            if src != dst:
                # Several links between two items add up to one stronger tie.
                before = simple[src][dst]["weight"] if simple.has_edge(src, dst) else 0.0
                simple.add_edge(src, dst, weight=before + float(data["weight"]))
        if simple.number_of_edges() == 0:
            return []
        groups = nx.community.louvain_communities(simple, weight="weight", seed=seed)
        ordered = sorted((sorted(g) for g in groups if len(g) >= min_size),
                         key=lambda g: (-len(g), g[0]))  # fmt: skip
        topics = []
        for number, members in enumerate(ordered, start=1):
            counts: Counter[str] = Counter()
            for node in members:
                counts.update(self.graph.nodes[node].get("tags", []))
            if not counts:
                for node in members:
                    counts.update(k.lower() for k in self.graph.nodes[node].get("keywords", []))
            tags = tuple(t for t, _ in counts.most_common(3))
            label = ", ".join(tags) or self.graph.nodes[members[0]].get("label", "")
            topics.append(Topic(number, tuple(members), label, tags))
        return topics

    # -- export -------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """A JSON document of nodes and edges (`from_json` reads it back)."""
        nodes = [{"id": n, **data} for n, data in sorted(self.graph.nodes(data=True))]
        edges = [
            {"id": key, "source": src, "target": dst, **data}
            for src, dst, key, data in sorted(
                self.graph.edges(keys=True, data=True), key=lambda e: e[2]
            )
        ]
        return {"format": "memos-graph", "version": FORMAT_VERSION, "nodes": nodes,
                "edges": edges}  # fmt: skip

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> MemoryGraph:
        """Raises: InvalidInputError: not a document written by `to_json`."""
        import networkx as nx  # loaded when a graph is built, not at import

        if document.get("format") != "memos-graph":
            raise InvalidInputError("not a memos graph JSON document (format 'memos-graph')")
        graph = nx.MultiDiGraph()
        try:
            for node in document["nodes"]:
                data = dict(node)
                graph.add_node(int(data.pop("id")), **data)
            for edge in document["edges"]:
                data = dict(edge)
                src, dst, key = int(data.pop("source")), int(data.pop("target")), data.pop("id")
                graph.add_edge(src, dst, key=int(key), **data)
        except (KeyError, TypeError, ValueError) as error:
            raise InvalidInputError(f"malformed memos graph document: {error}") from None
        return cls(graph)

    def write(self, path: str | Path, *, format: str | None = None) -> str:
        """Write GraphML or JSON (chosen by `format`, else by the file suffix); returns
        the format written.

        Raises:
            InvalidInputError: an unknown format, or a path that cannot be written.
        """
        import networkx as nx  # loaded when a graph is built, not at import

        try:
            target = validation.output_file(path)
        except InvalidInputError as error:
            raise InvalidInputError(f"cannot write the graph: {error}") from None
        if format is not None and not isinstance(format, str):
            raise InvalidInputError(f"format must be graphml or json, got {format!r:.40}")
        chosen = (format or target.suffix.lstrip(".") or "json").lower()
        if chosen not in ("graphml", "json"):
            raise InvalidInputError(f"unknown graph format {chosen!r}; use graphml or json")
        try:
            if chosen == "graphml":
                # GraphML holds scalars only: lists travel as JSON text.
                flat = self.graph.copy()
                for _, data in flat.nodes(data=True):
                    for name in ("tags", "keywords"):
                        data[name] = json.dumps(list(data.get(name, [])), ensure_ascii=False)
                nx.write_graphml(flat, target)
            else:
                target.write_text(json.dumps(self.to_json(), ensure_ascii=False, indent=1))
        except OSError as error:
            raise InvalidInputError(
                f"cannot write the graph to {target}: {error.strerror or error}; choose a "
                "writable path"
            ) from None
        return chosen

    @classmethod
    def read(cls, path: str | Path) -> MemoryGraph:
        """Read a file written by `write` (GraphML or JSON, by suffix).

        Raises:
            NotFoundError: no such file.
            InvalidInputError: the file is not a memos graph (or cannot be read).
        """
        import networkx as nx  # loaded when a graph is built, not at import

        source = validation.input_file(path, what="graph file")
        if source.suffix.lower() == ".graphml":
            try:
                graph = nx.read_graphml(source, node_type=int, edge_key_type=int,
                                        force_multigraph=True)  # fmt: skip
                for _, data in graph.nodes(data=True):
                    for name in ("tags", "keywords"):
                        data[name] = list(json.loads(data.get(name, "[]")))
            except (OSError, ValueError, TypeError, SyntaxError, nx.NetworkXError) as error:
                # (a malformed XML file raises ParseError, a SyntaxError)
                raise InvalidInputError(f"{source} is not a memos graph: {error}") from None
            graph.graph.clear()  # GraphML's key defaults: not part of a memos graph
            return cls(nx.MultiDiGraph(graph))
        try:
            document = json.loads(source.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise InvalidInputError(f"{source} is not a memos graph file: {error}") from None
        return cls.from_json(document)
