"""Text tables, clock times, prices per unit and the day of an act (issue #12): shapes the
fresh probe timelines (bench/probes/audit, release, wedding, oncall) showed the reader and
the answerer could not read."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

import memos
from memos.agents.tables import unfold_tables
from memos.agents.values import values
from memos.eval.memtrack.backends import Retrieved
from memos.eval.memtrack.extractive import ExtractiveAnswerer
from memos.eval.truth import read_states
from memos.testing import HashEmbedder

AT = datetime(2027, 3, 1, 9, tzinfo=UTC)
TABLE = """Action items:
ID | Action | Owner | Status | Due
---|---|---|---|---
AI-1 | Add replica-lag alert | Ravi Patel | Open | Oct 23
AI-3 | Automate failover | Jordan Alvarez | - | Nov 6
--
Anja Brunner | Biomedical Engineering | ext. 4471"""


def _item(text: str, day: int = 3) -> Retrieved:
    return Retrieved(text=text, refs=(f"m{day}",), timestamp=AT.replace(day=day), actor="sam")


def test_a_table_row_is_unfolded_into_one_sentence_per_named_cell() -> None:
    lines = unfold_tables(TABLE).splitlines()
    assert "AI-1 owner: Ravi Patel." in lines
    assert "AI-3 due: Nov 6." in lines
    assert not any(line.startswith("AI-3 status") for line in lines)  # an empty cell
    assert "ID | Action | Owner | Status | Due" not in lines  # the header is said per row
    # A pipe-separated signature line is no table: kept as written.
    assert lines[-1] == "Anja Brunner | Biomedical Engineering | ext. 4471"
    assert unfold_tables("No table here.") == "No table here."


def test_the_reader_keys_a_table_cell_by_its_row_and_column(tmp_path: Path) -> None:
    mos = memos.open(tmp_path / "home", embedder=HashEmbedder())
    cube = mos.create_cube("tables")
    event = {"platform": "gdocs", "actor": "maya", "timestamp": "2026-10-15T09:00:00Z"}
    cube.ingest([{**event, "text": TABLE, "id": "m1"}])
    states = {(s.subject, s.attribute, s.value) for s in read_states(cube)}
    assert ("AI-1", "owner", "Ravi Patel") in states
    assert ("AI-1", "status", "Open") in states
    assert ("AI-3", "owner", "Jordan Alvarez") in states


@pytest.mark.parametrize(
    ("question", "items", "expected"),
    [
        (
            "When is the Sysmex XN-1000 next due?",
            [_item("Instrument | Serial | Next due\nSysmex XN-1000 | XN-20931 | 2027-03-02")],
            "2027-03-02",  # the cell under "Next due", as written
        ),
        (
            "What time does the shuttle leave?",
            [_item("Shuttle departs the inn at 4:15 PM, returns at 10:30 PM. Booked 2 coaches.")],
            "4:15 PM",
        ),
        (
            "What time does the kickoff start?",
            [_item("Kickoff moved to room A3.12, Tuesday May 4, 08:00-09:00.")],
            "08:00",  # neither the room's code nor the end of the range
        ),
        (
            "How much does one T14 cost?",
            [
                _item("Our price for the T14 is EUR 1,240 per unit, lead time 4 weeks.", 2),
                _item("PO issued for 150 x T14, total EUR 186,000.", 5),
            ],
            "EUR 1,240",
        ),
        (
            "How much is Hearth & Vine charging per head?",
            [
                _item("Caterer | Per head\nHearth & Vine | $96", 2),
                _item("Hearth & Vine deposit of $2,500 received.", 4),
                _item("Hearth & Vine revised price is $104 per head (was $96).", 9),
            ],
            "$104",
        ),
        (
            "When was wrenfield 5.0.0 released?",
            [_item("Release 5.0.0: wrenfield 5.0.0 is out! Thanks to all 41 contributors.", 31)],
            "March 31",
        ),
        (
            "What was the checkout-api SLO percentage before it was changed?",
            [
                _item(
                    "Following the review, the SLO for checkout-api is going from 99.9% to 99.95%."
                )
            ],
            "99.9%",  # what the one change replaced
        ),
        (
            "Which CVE was fixed in release 4.11.2?",
            [_item("Release 4.11.2 fixes CVE-2026-1187, a ReDoS in EmailField.")],
            "CVE-2026-1187",
        ),
    ],
)
def test_answers_of_the_shapes_fresh_text_showed(
    question: str, items: list[Retrieved], expected: str
) -> None:
    answer = ExtractiveAnswerer().answer(question, items, asked_at=AT.replace(day=31))
    assert answer.text == expected


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Release manager: Dana O'Reilly, since January.", "Dana O'Reilly"),
        ("Jean-Luc Picard signed the order.", "Jean-Luc Picard"),
    ],
)
def test_names_with_apostrophes_and_hyphens_are_read_whole(text: str, name: str) -> None:
    assert name in [v.text for v in values(text) if v.kind == "person"]


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("January was 1.53M downloads.", "count", "1.53M"),
        ("We have 2.5k users.", "count", "2.5k"),
        ("The grant is EUR 2.5 million.", "money", "EUR 2.5 million"),
    ],
)
def test_scaled_numbers_are_read_whole(text: str, kind: str, value: str) -> None:
    assert (kind, value) in [(v.kind, v.text) for v in values(text)]
