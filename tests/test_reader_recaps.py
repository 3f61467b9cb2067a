"""A planner's recap email read as people write it (issue #12, from bench/probes/wedding):
a weekday before a date, a field whose value is a clause, a name joined by "&", and a
long recap that says "what we agreed" without accepting every number in it."""

from __future__ import annotations

from pathlib import Path

import memos
from memos.eval.truth import read_states
from memos.testing import HashEmbedder

RECAP = """Hi Sofia, hi Daniel,

Quick recap of what we agreed:
- Date: Saturday, September 18, 2027
- Working guest count: 120
- Venue: I've put a courtesy hold on Rosewood Barn in Hudson until March 8.

Next up from my side: three caterer quotes and a photographer shortlist.
I paid the $3,000 deposit on the card ending 4417 this afternoon.

Warmly,
Priya"""


def _states(tmp_path: Path, *texts: str) -> set[tuple[str, str, str]]:
    mos = memos.open(tmp_path / "home", embedder=HashEmbedder())
    cube = mos.create_cube("recap")
    for index, text in enumerate(texts):
        cube.ingest(
            [
                {
                    "platform": "email",
                    "actor": "Priya Nair",
                    "id": f"m{index}",
                    "timestamp": f"2027-03-0{index + 1}T14:00:00Z",
                    "text": text,
                    "subject": "Kickoff recap - Sofia & Dan",
                }
            ]
        )
    return {(s.subject, s.attribute, s.value) for s in read_states(cube)}


def test_a_recap_keys_what_it_says_and_nothing_it_does_not(tmp_path: Path) -> None:
    states = _states(tmp_path, RECAP)
    values = {value for _, _, value in states}
    assert "September 18" in values  # not next Saturday, March 6
    assert "March 6" not in values
    assert "120" in values
    # "I've" is the start of a clause, not a venue; "three quotes", a card number and a
    # deposit are no guest count nor price, though the email says "what we agreed".
    assert not {"I've", "3", "4417", "$3,000"} & values, states


def test_a_name_joined_by_an_ampersand_is_one_subject(tmp_path: Path) -> None:
    states = _states(tmp_path, "At 140 guests, Hearth & Vine comes to $13,440 before service.")
    assert any(s == "Hearth & Vine" and v == "$13,440" for s, _, v in states), states


def test_a_role_for_a_quoted_title_keys_the_whole_title(tmp_path: Path) -> None:
    states = _states(
        tmp_path,
        "Confirmed: the speaker for 'Validating at the speed of types' is now Sofia Reyes.",
    )
    assert ("Validating at the speed of types", "speaker", "Sofia Reyes") in states


def test_a_department_signing_an_email_is_no_person() -> None:
    from memos.agents.values import values

    signed = "Best regards, Helga Lindqvist, Program Committee, Group Sales, Ruiz Photography"
    assert [v.text for v in values(signed) if v.kind == "person"] == ["Helga Lindqvist"]


def test_as_requested_hedges_nothing(tmp_path: Path) -> None:
    states = _states(
        tmp_path,
        "The Hudson Ridge room block is 25 rooms.",
        "As requested, we've extended the block to 30 rooms at the same rate.",
    )
    assert any(a == "rooms" and v == "30" for _, a, v in states), states
