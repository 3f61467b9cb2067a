"""The networkx view of a cube's links: queries, topics and round-trip export."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import pytest

import memos
from memos.agents.graph import MemoryGraph
from memos.errors import InvalidInputError, NotFoundError


def _chain(cube: memos.MemCube) -> list[int]:
    """Two topics: a -> b -> c (databases) and d -> e (pottery), with c linked to a."""
    ids = [
        cube.add(text, tags=tags).id
        for text, tags in [
            ("database pool sizing", ["db"]),
            ("database failover drill", ["db"]),
            ("database backups nightly", ["db", "ops"]),
            ("pottery glaze recipes", ["craft"]),
            ("pottery kiln schedule", ["craft"]),
        ]
    ]
    a, b, c, d, e = ids
    cube.link_many(
        [
            {"src": a, "dst": b, "kind": "related", "reason": "both about the pool"},
            {"src": b, "dst": c, "kind": "supports", "reason": "drill needs backups"},
            {"src": c, "dst": a, "kind": "related", "weight": 0.5},
            {"src": d, "dst": e, "kind": "example-of", "created_by": "zettelkasten:offline"},
        ]
    )
    return ids


def test_neighbours_paths_and_kinds(cube: memos.MemCube) -> None:
    a, b, c, d, e = _chain(cube)
    graph = cube.graph()
    assert len(graph) == 5 and graph.edge_count == 4
    near = graph.neighbours(b)
    assert [(n.id, n.kind, n.direction) for n in near] == [(a, "related", "in"),
                                                           (c, "supports", "out")]  # fmt: skip
    assert near[0].reason == "both about the pool" and near[0].created_by == "alice"
    assert [n.id for n in graph.neighbours(d)] == [e]
    assert graph.neighbours(d)[0].created_by == "zettelkasten:offline"
    assert [n.id for n in graph.neighbours(a, kinds=["supports"])] == []
    two = graph.neighbours(d, depth=2)
    assert [(n.id, n.distance) for n in two] == [(e, 1)]
    steps = graph.path(a, c)
    assert [s.id for s in steps] == [a, c] and steps[1].direction == "in"
    assert [s.id for s in graph.path(b, a)] == [b, a]
    with pytest.raises(NotFoundError, match="no chain of links"):
        graph.path(a, d)
    with pytest.raises(NotFoundError, match="has no links"):
        graph.neighbours(10_000)
    with pytest.raises(InvalidInputError):
        graph.neighbours(a, depth=0)


def test_topics_are_communities_named_by_tags(cube: memos.MemCube) -> None:
    a, b, c, d, e = _chain(cube)
    topics = cube.graph().topics()
    assert [set(t.items) for t in topics] == [{a, b, c}, {d, e}]
    assert topics[0].tags[0] == "db" and topics[1].label == "craft"
    assert [t.items for t in cube.graph().topics(min_size=3)] == [(a, b, c)]


def test_the_graph_is_a_view_of_the_links_table(cube: memos.MemCube) -> None:
    a, b, c, _, _ = _chain(cube)
    graph = cube.graph()
    graph.graph.remove_node(b)
    assert len(cube.graph()) == 5  # nothing was written back
    cube.forget(c)
    again = cube.graph()
    assert c not in again.graph and [n.id for n in again.neighbours(b)] == [a]


def test_unreadable_items_stay_out_of_the_graph(mos: memos.MemOS, cube: memos.MemCube) -> None:
    shared = cube.add("shared note")
    private = cube.add("alice's private note", visibility="private")
    cube.link(shared.id, private.id, reason="secret")
    cube.grant("bob", "read")
    seen_by_bob = mos.as_user("bob").cube("work").graph()
    # Nor does a link to it show: bob sees no edge, so no node either.
    assert private.id not in seen_by_bob.graph and seen_by_bob.edge_count == 0


@pytest.mark.parametrize("suffix", [".graphml", ".json"])
def test_export_round_trips(cube: memos.MemCube, tmp_path: Path, suffix: str) -> None:
    _chain(cube)
    graph = cube.graph()
    target = tmp_path / f"graph{suffix}"
    assert graph.write(target) == suffix.lstrip(".")
    back = MemoryGraph.read(target)
    assert nx.utils.graphs_equal(back.graph, graph.graph)
    assert back.to_json() == graph.to_json()
    assert [n.to_dict() for n in back.neighbours(_first(graph))] == [
        n.to_dict() for n in graph.neighbours(_first(graph))
    ]


def _first(graph: MemoryGraph) -> int:
    return min(graph.graph.nodes)


def test_export_refuses_bad_formats_and_files(cube: memos.MemCube, tmp_path: Path) -> None:
    _chain(cube)
    with pytest.raises(InvalidInputError, match="graphml or json"):
        cube.graph().write(tmp_path / "graph.txt")
    with pytest.raises(InvalidInputError, match="cannot write"):
        cube.graph().write(tmp_path / "missing-folder" / "graph.graphml")
    bad = tmp_path / "bad.graphml"
    bad.write_text("<graphml><broken")
    with pytest.raises(InvalidInputError):
        MemoryGraph.read(bad)
    other = tmp_path / "other.json"
    other.write_text('{"nodes": []}')
    with pytest.raises(InvalidInputError, match="memos-graph"):
        MemoryGraph.read(other)
    with pytest.raises(NotFoundError):
        MemoryGraph.read(tmp_path / "missing.json")
