"""Concept memory (ArcMemo): distil reusable concepts from solution traces, retrieve them
by cues for a new problem, and record whether they helped.

Offline, lines marked `Routine:`, `Heuristic:`, `Pattern:` or `Pitfall:` become concepts
(an unmarked trace yields one, named by its best keyphrase). Pass `llm=` to let a model
abstract, reusing and refining the existing concepts it is shown.

Run: MEMOS_HOME=./memos-home python examples/concepts.py
"""

from __future__ import annotations

import memos

with memos.open() as mos:
    if any(c.name == "concepts" for c in mos.cubes()):
        mos.drop_cube("concepts")
    cube = mos.create_cube("concepts")

    solved = cube.abstract(
        [
            "Looked at the three examples: every closed shape gets filled.",
            "Heuristic: flood from the border - cells not reached from the border are enclosed",
            "Pitfall: diagonal gaps - count 4-neighbours only, or shapes leak",
            "Filled the enclosed cells with the shape's colour. Result: solved",
        ],
        task="Fill the inside of every closed shape in the grid",
        outcome="success",
    )
    for change in solved.changes:
        print(f"{change.action}: {change.concept.render()}\n")

    # The same name merges into one concept (the old state stays in its history).
    cube.abstract("Heuristic: flood from the border: also finds holes in letters",
                  task="Mark the holes in letter shapes")  # fmt: skip

    problem = "Colour the regions enclosed by walls in this maze"
    found = cube.concepts_for(problem, k=2)
    for concept in found:
        print(f"{concept.score:.3f} {concept.name} ({concept.kind}) cues={list(concept.cues)}")

    # After trying them: record the outcome; importance follows the success rate.
    cube.abstract(
        ["Routine: outside-in colouring - flood the outside, colour what stays dry",
         "Result: solved"],
        task=problem, used=[c.id for c in found],
    )  # fmt: skip
    for concept in cube.concepts():
        print(f"#{concept.id} {concept.name}: used {concept.uses}x, {concept.successes} ok")
