"""A sentence that says more than the states read from it is also kept as a fact (issue
#12): "Adyen is live for 10% of EU card traffic, error rate 0.2%" keys Adyen's status, and
a question about the error rate must still find the sentence. A sentence that says only
its change is stored once, as the state."""

from __future__ import annotations

from pathlib import Path

import memos
from memos.eval.truth import read_states
from memos.testing import HashEmbedder


def _ingest(tmp_path: Path, *texts: str) -> memos.MemCube:
    mos = memos.open(tmp_path / "home", embedder=HashEmbedder())
    cube = mos.create_cube("more")
    for index, text in enumerate(texts):
        cube.ingest(
            [
                {
                    "platform": "slack",
                    "actor": "priya",
                    "timestamp": f"2027-04-21T{10 + index:02d}:00:00Z",
                    "text": text,
                    "id": f"m{index}",
                }
            ]
        )
    return cube


def test_the_rest_of_a_stated_sentence_stays_findable(tmp_path: Path) -> None:
    said = "Adyen is live for 10% of EU card traffic, error rate 0.2%."
    cube = _ingest(tmp_path, said)
    states = {(s.subject, s.attribute, s.value) for s in read_states(cube)}
    assert ("Adyen", "status", "live") in states
    plain = [i.content for i in cube.items() if "state_key" not in i.attributes]
    assert any("error rate 0.2%" in (text or "") for text in plain), plain
    hits = cube.search("error rate at cutover", k=3)
    assert any("error rate 0.2%" in (h.item.content or "") for h in hits)


def test_a_sentence_that_only_states_its_change_is_stored_once(tmp_path: Path) -> None:
    cube = _ingest(tmp_path, "PAY-223 moved from In Progress to In Review.")
    items = cube.items()
    assert [i.attributes.get("state_key") for i in items] == ["pay-223/status"]


def test_statements_joined_by_a_comma_are_read_apart(tmp_path: Path) -> None:
    cube = _ingest(
        tmp_path,
        "Spring campaign budget is $60k, launch is planned for March 15.",
        "If Finance signs off, the budget is $80k.",  # a condition: nothing is stated
        "Our fee for the creative package is $18,500, and Hana Sato will be your lead.",
    )
    states = {(s.subject, s.attribute, s.value) for s in read_states(cube)}
    assert ("Spring campaign", "budget", "$60k") in states
    assert ("Spring campaign", "launch date", "March 15") in states
    assert not any(value == "$80k" for _, _, value in states)
    # A comma after an amount ends it: "$18,500," is $18,500.
    assert ("creative package", "fee", "$18,500") in states


def test_a_status_phrase_that_ends_a_change_is_read_whole(tmp_path: Path) -> None:
    cube = _ingest(
        tmp_path,
        "FAC-88 status changed from Open to Waiting for delivery.",
        "We moved Bay B from Lagertek to Nordrack for the fit-out.",
    )
    values = {s.value for s in read_states(cube)}
    assert "Waiting for delivery" in values
    assert "Nordrack" in values  # "for the fit-out" is why, not part of the value


def test_an_estimate_someone_sends_is_a_value_with_a_noun_before_it() -> None:
    from memos.agents.statements import stated_nothing

    assert not stated_nothing("The renovation estimate for the kitchen is EUR 48,000.")
    assert stated_nothing("The team estimates the cost at EUR 5,000.")  # a guess
    assert stated_nothing("We estimate EUR 5,000.")


def test_what_a_meeting_decides_is_about_what_the_meeting_is_named_after(tmp_path: Path) -> None:
    cube = _ingest(
        tmp_path,
        "Spring campaign budget is $60k.",
        "Campaign sync notes\n- Budget raised to $72k total",
    )
    chain = sorted((s.valid_from, s.value) for s in read_states(cube) if s.attribute == "budget")
    assert [value for _, value in chain] == ["$60k", "$72k"]
    assert {s.subject for s in read_states(cube) if s.attribute == "budget"} == {"Spring campaign"}
