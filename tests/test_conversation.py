"""`MemCube.add_conversation`: one message per turn, by its speaker, at its time, with the
turns around it as context, an importance from how much it says, and `next` links."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

import pytest

import memos
from memos.agents.conversation import CONTEXT_TURNS, MAX_NEIGHBOUR_CHARS, informativeness

STANDUP = [
    {"speaker": "Ann", "text": "Morning! The staging deploy failed again overnight.", "id": "m1"},
    {"speaker": "Ben", "text": "Was it the migration step?", "id": 2},
    {"speaker": "Ann", "text": "Yes, the orders table lock timed out.",
     "timestamp": "2024-03-01T09:05:00Z"},
    {"speaker": "Ben", "text": "I'll rerun it after lunch."},
    {"speaker": "Ann", "text": "Thanks!"},
]  # fmt: skip


def test_turns_become_messages_with_authors_times_context_and_links(
    cube: memos.MemCube,
) -> None:
    items = cube.add_conversation(STANDUP, session="standup", at="2024-03-01T09:00:00Z")
    assert [i.content for i in items] == [t["text"] for t in STANDUP]
    assert [i.author for i in items] == ["Ann", "Ben", "Ann", "Ben", "Ann"]
    assert {i.type for i in items} == {"message"}
    assert {i.source for i in items} == {"chat"}
    assert [i.source_ref for i in items] == ["m1", "2", None, None, None]
    assert {i.attributes["session"] for i in items} == {"standup"}
    session_start = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
    assert [i.valid_from for i in items] == [
        session_start, session_start, datetime(2024, 3, 1, 9, 5, tzinfo=UTC),
        session_start, session_start,
    ]  # fmt: skip
    # Context: up to two turns each side, in order, never the turn itself.
    assert CONTEXT_TURNS == 2
    assert items[0].context == (
        "Ben: Was it the migration step?\nAnn: Yes, the orders table lock timed out."
    )
    assert items[2].context == "\n".join(
        f"{t['speaker']}: {t['text']}" for n, t in enumerate(STANDUP) if n != 2
    )
    assert items[4].context == (
        "Ann: Yes, the orders table lock timed out.\nBen: I'll rerun it after lunch."
    )
    # `next` links join consecutive turns, made by the conversation agent.
    links = {(link.src_id, link.dst_id, link.kind, link.created_by)
             for item in items for link in cube.links(item.id)}  # fmt: skip
    assert links == {
        (a.id, b.id, "next", "memos:conversation") for a, b in itertools.pairwise(items)
    }
    # Importance says how much a turn states.
    assert items[4].importance < items[1].importance < items[0].importance
    assert cube.get(items[0].id).importance == pytest.approx(informativeness(STANDUP[0]["text"]))


def test_a_lone_turn_has_no_context_or_links_and_long_neighbours_are_cut(
    cube: memos.MemCube,
) -> None:
    [alone] = cube.add_conversation([{"role": "user", "content": "hello there"}])
    assert (alone.author, alone.context, cube.links(alone.id)) == ("user", None, [])
    long_text = "word " * 1000
    first, _second = cube.add_conversation(
        [{"speaker": "Ann", "text": "short"}, {"speaker": "Ben", "text": long_text}]
    )
    assert first.context == f"Ben: {long_text}"[:MAX_NEIGHBOUR_CHARS]
    assert cube.add_conversation([]) == []


def test_informativeness() -> None:
    assert informativeness("Me too!") == 0.0
    assert informativeness("haha yes!") < 0.2
    assert 0.0 < informativeness("The deploy failed on the orders migration") < 0.5
    assert informativeness(" ".join(f"word{n}" for n in range(40))) == 1.0


@pytest.mark.parametrize(
    ("turns", "message"),
    [
        ([{"speaker": "Ann", "text": "fine"}, {"text": "no speaker"}], "turn 1: needs a speaker"),
        ([{"speaker": "Ann", "text": "   "}], "turn 0: needs text"),
        ([{"speaker": "Ann", "text": "ok"}, "just text"], "turn 1: expected an object"),
        ([{"speaker": "Ann", "text": "ok", "timestamp": "someday"}], "turn 0: "),
        ([{"speaker": "Ann", "text": "ok", "id": [1]}], "turn 0: id must be"),
        ([{"speaker": "Ann", "text": "ok"}, {"speaker": "Ben", "text": "x" * 40_000}],
         "turn 1: "),
    ],
)  # fmt: skip
def test_bad_turns_are_named_and_store_nothing(
    cube: memos.MemCube, turns: list[Any], message: str
) -> None:
    with pytest.raises(memos.InvalidInputError, match=message):
        cube.add_conversation(turns, session="broken")
    assert cube.items() == []


def test_bad_session_or_time_store_nothing(cube: memos.MemCube) -> None:
    turns = [{"speaker": "Ann", "text": "hello"}]
    with pytest.raises(memos.InvalidInputError, match="session"):
        cube.add_conversation(turns, session=" ")
    with pytest.raises(memos.InvalidInputError):
        cube.add_conversation(turns, at="not a time")
    assert cube.items() == []


def test_search_finds_a_turn_through_its_neighbours_words(cube: memos.MemCube) -> None:
    # Neither Ann's announcement nor Ben's reply says "beagle" or "Biscuit" twice: each
    # is found through the turn next to it, which the lexical index reads as context.
    announce, reply, name = cube.add_conversation(
        [
            {"speaker": "Ann", "text": "Guess who came home with me today!"},
            {"speaker": "Ben", "text": "A beagle puppy? So cute, what is he called?"},
            {"speaker": "Ann", "text": "Biscuit. He already sleeps on my bed."},
        ]
    )
    cube.add_many([f"note {n} about the quarterly budget" for n in range(10)])
    no_graph = {"graph": 0.0}
    found = {h.item.id: h for h in cube.search("beagle", k=10, weights=no_graph)}
    assert announce.id in found and found[announce.id].scores["lexical"] > 0
    assert name.id in found and found[name.id].scores["lexical"] > 0
    found = {h.item.id: h for h in cube.search("Biscuit", k=10, weights=no_graph)}
    assert reply.id in found and found[reply.id].scores["lexical"] > 0
    # The same texts stored one by one, without the structure, are not found that way.
    bare = cube.add("Guess who came home with me today!", author="Ann")
    hits = {h.item.id: h for h in cube.search("beagle", k=20, weights=no_graph)}
    assert bare.id not in hits or hits[bare.id].scores["lexical"] == 0
