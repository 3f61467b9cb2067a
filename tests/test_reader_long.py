"""Long messages through the offline reader: a change stated after a long preamble is still
read, and a clause too long to be a statement (a pasted blob, an unpunctuated transcript)
is skipped, with its reason, before the rules read it (they would spend seconds on it).
Time is measured by `bench/reader.py --long`, never asserted here."""

from __future__ import annotations

from pathlib import Path

from test_reader_shapes import _states

import memos
from memos.testing import HashEmbedder

PREAMBLE = (
    "after the long meeting on Tuesday where we went through the quarterly numbers and the "
    "vendor list and the travel policy and the office snacks and the roadmap and the offsite "
    "and the new laptops for the design team and the seating chart for the third floor and "
    "the catering for the launch party and the parking passes for the new hires "
)
FILLER = " ".join(["and then we talked about the roadmap and the offsite"] * 35)


def test_a_change_after_a_long_preamble_is_read(tmp_path: Path) -> None:
    short = "the monthly cloud budget was raised to $48,000"
    long = PREAMBLE + "the monthly cloud budget was raised to $52,000"
    assert len(long) > 300  # the verb is further from the clause start than a noun phrase
    found = _states(tmp_path, short, long)
    assert found[short] == {("monthly cloud", "budget", "$48,000")}
    assert found[long] == {("monthly cloud", "budget", "$52,000")}


def test_a_change_at_the_end_of_a_long_run_on_sentence_is_read(tmp_path: Path) -> None:
    text = FILLER + " the monthly cloud budget was raised to $61,000"
    assert 1500 < len(text) < 2000
    assert _states(tmp_path, text) == {text: {("monthly cloud", "budget", "$61,000")}}


def test_a_sentence_too_long_to_be_prose_is_skipped_and_says_why(tmp_path: Path) -> None:
    blob = "the monthly cloud budget was raised to $61,000 " + FILLER * 2
    mos = memos.open(tmp_path / "home", embedder=HashEmbedder())
    cube = mos.create_cube("long")
    kept = cube.ingest([{"platform": "slack", "actor": "sam", "text": "Lena owns the budget."}])
    report = cube.ingest([{"platform": "slack", "actor": "sam", "text": blob}])
    assert not report.added and not report.updated
    assert [entry.reason for entry in report.skipped] == [
        "a sentence over 2000 characters (not prose)"
    ]
    assert [item.id for item in cube.items()] == [kept.added[0].item_id]
    mos.close()
