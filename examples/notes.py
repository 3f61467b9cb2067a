"""Zettelkasten notes (A-MEM): notes that construct themselves, link and evolve.

Offline (no LLM): keywords, tags and a context sentence come from the text and its
nearest notes; links join notes that are similar and share keywords. Pass `llm=` (any
`memos.protocols.LLMClient`, e.g. `memos.agents.llm.OpenAIClient`) to let a model decide.

Run: MEMOS_HOME=./memos-home python examples/notes.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import memos
from memos.agents.zettelkasten import evolutions

NOTES = [
    "Mira's manager is Tomas Berg.",
    "Tomas Berg moved to Bergen in 2021 and cycles to the office every day.",
    "The payments service times out when the database pool is exhausted.",
    "We raised the database pool size of the payments service to 50 connections.",
    "Database pool exhaustion also hit the search service last week.",
]

with memos.open() as mos:
    if any(c.name == "notes" for c in mos.cubes()):
        mos.drop_cube("notes")
    cube = mos.create_cube("notes")
    # A plain memory without a context: a note that links to it will evolve it.
    alarm = cube.add("The search service alarms when its database pool is 90% used.")

    for text in NOTES:
        made = cube.note(text, agent="assistant")
        note = made.note
        print(f"#{note.id} {note.content}")
        print(f"    keywords {list(note.keywords)}, tags {list(note.tags)}")
        print(f"    context: {note.context}")
        for link in made.links:
            print(f"    -[{link.kind}]-> #{link.dst_id}: {link.reason}")
        for change in made.evolved:
            print(f"    evolved #{change.item_id} ({', '.join(change.fields)}), "
                  f"undo with cube.revert({change.item_id}, {change.from_version})")  # fmt: skip

    # A multi-hop question: the answer shares no word with it, the link from the manager
    # note reaches it (hit.scores["graph"] is the share that came over the link).
    for hit in cube.search("Which city does Mira's manager live in?", k=3):
        print(f"{hit.score:.3f} graph={hit.scores.get('graph', 0):.3f} {hit.item.content}")

    graph = cube.graph()  # a networkx view of the links; the links table stays the truth
    for topic in graph.topics():
        print(f"topic {topic.label}: {list(topic.items)}")
    # Evolution is audited: each change is a version of the neighbour naming the note.
    for note in cube.items(type=["note"]):
        for change in evolutions(cube, note.id):  # read back from the histories
            print(f"note #{note.id} evolved #{change.item_id} ({change.created_by})")
            print(f"    now: {cube.get(change.item_id).context}")
            cube.revert(change.item_id, change.from_version)  # the undo is a new version
            print(f"    reverted: context={cube.get(change.item_id).context}")
    with tempfile.TemporaryDirectory() as folder:
        graph.write(Path(folder) / "notes.graphml")  # or .json
