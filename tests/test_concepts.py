"""Concept memory: abstraction from traces, merging by name, retrieval by cues, usage."""

from __future__ import annotations

import json

import pytest

import memos
from memos.agents.concepts import USED_IN, name_key
from memos.errors import InvalidInputError
from memos.testing import ScriptedLLM

FILL_TRACE = [
    "1. find the connected components of the background colour",
    "2. keep the components that do not touch the border",
    "3. paint them with {fill}",
    "Result: solved",
]


def test_offline_abstraction_of_an_unmarked_trace(cube: memos.MemCube) -> None:
    result = cube.abstract(FILL_TRACE, task="fill the enclosed regions of a grid puzzle")
    assert result.method == "offline" and result.trace.type == "trace"
    task = result.trace.attributes["task"]
    assert result.trace.attributes == {"outcome": "success", "task": task}
    assert task == "fill the enclosed regions of a grid puzzle"
    [change] = result.changes
    concept = change.concept
    assert change.action == "created" and concept.kind == "routine"
    assert concept.name == "connected components" and concept.parameters == ("fill",)
    assert "enclosed regions" in concept.cues and len(concept.notes) == 4
    assert concept.used_in == ({"trace": result.trace.id, "outcome": "success"},)
    [link] = cube.links(concept.id)
    assert (link.src_id, link.dst_id, link.kind) == (concept.id, result.trace.id, USED_IN)
    item = cube.get(concept.id)
    assert item.type == "concept" and item.tags == ("routine",)
    assert item.content is not None and item.content.startswith("connected components (routine)")
    failed = cube.abstract(["tried rotating the grid", "Result: wrong"], outcome=False)
    assert failed.changes[0].concept.kind == "pitfall"
    assert failed.changes[0].concept.description.startswith("did not work")


def test_marked_lines_become_concepts_of_their_kind(cube: memos.MemCube) -> None:
    trace = (
        "looked at the examples\n"
        "Heuristic: border first - regions not reached from the border are enclosed\n"
        "- Pitfall: diagonal adjacency — count 4-neighbours only\n"
        "Lesson: check <grid size> before indexing\n"
    )
    result = cube.abstract(trace, task="fill enclosed areas")
    got = [(c.concept.name, c.concept.kind) for c in result.changes]
    assert got == [
        ("border first", "heuristic"),
        ("diagonal adjacency", "pitfall"),
        ("check <grid size> before indexing", "heuristic"),
    ]
    assert result.changes[0].concept.description == (
        "regions not reached from the border are enclosed"
    )
    assert result.changes[2].concept.parameters == ("grid size",)


def test_same_name_merges_and_keeps_history(cube: memos.MemCube) -> None:
    first = cube.abstract("Heuristic: Border First - start at the border", task="grid fill")
    second = cube.abstract("heuristic: border-first: flood from edges", task="maze escape")
    assert second.changes[0].action == "merged"
    concept = second.changes[0].concept
    assert concept.id == first.changes[0].concept.id and concept.version == 2
    assert concept.name == "Border First" and concept.description == "start at the border"
    assert set(concept.cues) >= {"grid fill", "maze escape"}
    assert [u["trace"] for u in concept.used_in] == [first.trace.id, second.trace.id]
    assert len(cube.concepts()) == 1
    history = cube.history(concept.id)
    assert [v.operation for v in history] == ["add", "merge"]
    assert history[1].item.created_by == f"concepts:abstract:trace#{second.trace.id}"
    assert name_key("Border First") == name_key("border-first") == "border first"


def test_llm_abstraction_sees_existing_concepts_and_refines(cube: memos.MemCube) -> None:
    old = cube.add_concept(
        "flood fill", kind="routine", description="fill from a seed", cues=["enclosed region"]
    ).concept
    answer = {
        "concepts": [
            {"name": "flood fill from the border", "kind": "Routine",
             "description": "flood from every border cell; unreached cells are enclosed",
             "cues": ["enclosed region", "holes in shapes"], "reuses": old.id},
            {"name": "component size filter", "kind": "pattern",
             "description": "drop components below a size", "parameters": ["min size"]},
        ]
    }  # fmt: skip
    llm = ScriptedLLM().enqueue("not json at all", json.dumps(answer))
    result = cube.abstract(FILL_TRACE, task="fill enclosed regions", llm=llm)
    assert result.method == "llm:scripted" and len(llm.calls) == 2
    assert f"[id {old.id}] flood fill (routine)" in llm.calls[0]["messages"][-1]["content"]
    refined, created = result.changes
    assert refined.action == "refined" and refined.concept.id == old.id
    assert refined.concept.name == "flood fill"  # a refinement never renames
    assert refined.concept.description.startswith("flood from every border cell")
    assert refined.concept.cues == ("enclosed region", "holes in shapes")
    assert created.action == "created" and created.concept.parameters == ("min size",)
    assert len(cube.concepts()) == 2


def test_llm_failure_and_unknown_reuse_ids(cube: memos.MemCube) -> None:
    nothing = ScriptedLLM(default='{"concepts": []}')  # a valid "nothing reusable here"
    result = cube.abstract(FILL_TRACE, llm=nothing)
    assert result.method == "llm:scripted" and result.changes == ()
    for answer in ("sorry", "{}"):  # not JSON; JSON without the concepts
        garbage = ScriptedLLM(default=answer)
        result = cube.abstract(FILL_TRACE, llm=garbage)
        assert result.method == "offline" and len(garbage.calls) == 2
        assert result.changes[0].concept.name == "connected components"
    answer = {"concepts": [{"name": "new idea", "kind": "heuristic", "description": "d",
                            "reuses": 4242}]}  # fmt: skip
    odd = ScriptedLLM().enqueue(json.dumps(answer))
    result = cube.abstract(FILL_TRACE, llm=odd)
    assert result.changes[0].action == "created"
    assert result.ignored == ("reuses #4242: not an existing concept shown",)


def test_concepts_for_retrieves_by_cues(cube: memos.MemCube) -> None:
    for name, cues in [
        ("flood fill", ["enclosed region", "holes inside a shape"]),
        ("sort by frequency", ["most common colour", "count occurrences"]),
        ("symmetry completion", ["mirror image", "missing half of a pattern"]),
    ]:
        cube.add_concept(name, kind="routine", description="see cues", cues=cues)
    cube.add("a fact about holes and mirrors", type="fact")
    found = cube.concepts_for("the mirror image is missing its left half", k=2)
    assert found[0].name == "symmetry completion" and found[0].score is not None
    assert all(c.kind == "routine" for c in found)
    assert cube.concepts_for("which colour is most common?", k=1)[0].name == "sort by frequency"


def test_usage_is_tracked_and_shapes_retrieval(cube: memos.MemCube) -> None:
    good = cube.add_concept("mirror a", kind="heuristic", description="mirror the grid",
                            cues=["symmetric picture"]).concept  # fmt: skip
    bad = cube.add_concept("mirror b", kind="heuristic", description="mirror the grid",
                           cues=["symmetric picture"]).concept  # fmt: skip
    for _ in range(3):
        cube.record_concept_use([good.id], success=True)
        cube.record_concept_use([bad.id], success=False)
    [after] = cube.record_concept_use([bad.id], success=False)
    assert (after.uses, after.successes, after.failures) == (4, 0, 4)
    assert cube.get(bad.id).importance == pytest.approx(1 / 6, abs=1e-3)
    assert [c.id for c in cube.concepts_for("a symmetric picture", k=2)] == [good.id, bad.id]
    applied = cube.abstract(["mirrored left to right", "Result: solved"], used=[good.id])
    used = cube.get(good.id).attributes
    assert used["uses"] == 4 and used["used_in"][-1] == {
        "trace": applied.trace.id,
        "outcome": "success",
        "applied": True,
    }
    assert any(link.dst_id == applied.trace.id for link in cube.links(good.id))


def test_bad_input(cube: memos.MemCube) -> None:
    with pytest.raises(InvalidInputError, match="kind is one of"):
        cube.add_concept("x", kind="trick", description="d")
    with pytest.raises(InvalidInputError, match="unknown concept kind"):
        cube.concepts(kind="trick")
    with pytest.raises(InvalidInputError):
        cube.add_concept(" ", kind="routine", description="d")
    with pytest.raises(InvalidInputError, match="outcome"):
        cube.abstract("a step", outcome="maybe")
    with pytest.raises(InvalidInputError, match="empty"):
        cube.abstract(["", "  "])
    fact = cube.add("not a concept")
    with pytest.raises(InvalidInputError, match="not a concept"):
        cube.record_concept_use([fact.id], success=True)
    with pytest.raises(InvalidInputError, match="not a concept"):
        cube.abstract("a step", used=[fact.id])
    assert cube.items(type=["trace"]) == []  # nothing stored when the input is wrong
