"""The general statement reader (issue #12): typed values, structural rules, corrections
and retractions, and state-truth scoring on the dev families in bench/dev/."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

import memos
from memos.agents.events import Utterance, utterances
from memos.agents.extract import extract
from memos.agents.statements import Context, general_states
from memos.agents.values import values
from memos.errors import InvalidInputError
from memos.eval.memtrack.format import load_instance
from memos.eval.memtrack.memos_backend import StateRetrieved, reader_record
from memos.eval.memtrack.states import answer_from_states
from memos.eval.truth import Extraction, load_truth, read_states, score, truth_from_dict
from memos.testing import HashEmbedder

DEV = Path(__file__).resolve().parent.parent / "bench" / "dev"
AT = "2026-02-04T11:20:00Z"  # a Wednesday


def _said(text: str, *, at: str = AT, actor: str = "rita", **fields: object) -> Utterance:
    record = {"platform": "email", "actor": actor, "timestamp": at, "text": text, **fields}
    return utterances([record])[0]


def _read(
    *texts: str, context: Context | None = None, **fields: object
) -> list[tuple[str, str, str, str]]:
    """(subject, attribute, value, rule) for every state the general rules read."""
    known = context or Context()
    found = []
    for text in texts:
        utterance = _said(text, **fields)
        for state, rule in general_states(text, utterance, known, text):
            found.append((state.subject, state.attribute, state.value, rule))
    return found


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("buffet package is €42 per person", [("money", "€42")]),
        ("rollout changed from 5% to 25%", [("percent", "5%"), ("percent", "25%")]),
        ("Release quill-python 3.4.1", [("version", "3.4.1")]),
        ("an onsite on Tuesday next week", [("date", "February 10")]),
        ("retired on June 30, 2026", [("date", "June 30")]),
        ("extended to 70 rooms", [("count", "70")]),
        ("NOK 128,500 per month", [("money", "NOK 128,500")]),
        ("we're down to one opening", [("count", "1")]),
        # Hundreds spelled out are one count, not the "twelve" at their end.
        ("a hundred and twelve seats", [("count", "112")]),
        ("stands at one hundred fifty-one students", [("count", "151")]),
    ],
)
def test_typed_values(text: str, expected: list[tuple[str, str]]) -> None:
    at = datetime(2026, 2, 4, 11, 20, tzinfo=UTC)
    assert [(v.kind, v.text) for v in values(text, at)] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hiring manager: Paul Okafor", ("hiring manager", "Paul Okafor")),
        ("Openings: 2", ("openings", "2")),
        ("Flag strict_auth: percentage rollout changed from 5% to 25%", ("rollout", "25%")),
        ("the v2 rate limit is 500 rpm, not 600", ("rate limit", "500 rpm")),
        ("the v1 sunset is pushed to September 30", ("sunset", "September 30")),
        ("Rolled strict_auth back to 0% after the 401s", ("rollout", "0%")),
        ("Jonas Weber from our team will give the keynote instead", ("speaker", "Jonas Weber")),
        ("Acme Freight: Stage changed from Proposal to Closed Won.", ("stage", "Closed Won")),
        ("Ola resolved PLAT-430 as Won't Fix", ("status", "Won't Fix")),
        # Roles no list names, known by their form (agent nouns).
        ("Adjuster: Rick Santos.", ("adjuster", "Rick Santos")),
        ("Claims handler: Mei Ling", ("claims handler", "Mei Ling")),
        ("Mei Ling will be your adjuster from now on.", ("adjuster", "Mei Ling")),
        ("Tomás is their new translator", ("translator", "Tomás")),
        # A key's word for the change, and why it changed, name no part of the attribute.
        ("Revised estimate after opening the wall: $15,950", ("estimate", "$15,950")),
        ("Revised cash to close: $141,387.40.", ("cash to close", "$141,387.40")),
        ("Total enrolled: 156", ("enrolled", "156")),  # a table's total row, unfolded
    ],
)
def test_structural_rules_read_any_attribute(text: str, expected: tuple[str, str]) -> None:
    found = [(attribute, value) for _, attribute, value, _ in _read(text, ticket="REQ-118")]
    assert expected in found, found


@pytest.mark.parametrize(
    "text",
    [
        "we might move the summit to the 23rd, nothing confirmed yet",
        "Could you do €36 if we drop the afternoon break?",
        "we could do €39 per person without the afternoon break",
        "Let's aim for an offer somewhere around 80k",
        "Pre-release quill-python 3.5.0rc1 is up for testing",
        "> we can meet you at EUR 84,000",
        "Ana can't do the 23rd",
        "Sara is later than planned",  # an -er word, but no determiner: not a role
        "Summary: Dana Whitfield",  # a field whose key is no role
        "Hannah may raise the piece price to $15.20 next quarter",  # "may" hedges
        "Actually the venue is great. Let's make it 140 guests.",  # a proposal, not a fix
    ],
)
def test_hedges_offers_questions_quotes_and_negations_state_nothing(text: str) -> None:
    assert _read(text) == []


def test_a_correction_rewrites_the_state_that_held_the_old_value() -> None:
    context = Context()
    first = _read("Final headcount for the summit: 134.", context=context)
    fixed = _read("Sorry, typo in my last mail - it's 143, not 134.", context=context)
    assert first[0][:3] == ("summit", "headcount", "134")
    assert fixed[0][:3] == ("summit", "headcount", "143")
    assert fixed[0][3] == "correction"


def test_a_retraction_restores_the_value_a_change_replaced() -> None:
    context = Context()
    # The venue needs a subject: a bare "Venue: Harbor Hall." names none and keys nothing.
    _read("Venue for the summit: Harbor Hall.", context=context)
    _read("We've moved the venue to the Maassilo.", context=context)
    back = _read("Scratch that - we're staying at Harbor Hall after all.", context=context)
    assert [(a, v, r) for _, a, v, r in back] == [("venue", "Harbor Hall", "retraction")]


def test_a_clause_without_a_subject_takes_the_known_one() -> None:
    context = Context()
    _read("We have reserved a block of 60 rooms at a rate of €129 per night.", context=context)
    later = _read("Done - the block has been extended to 70 rooms.", context=context)
    assert later[0][:3] == ("block", "rooms", "70")


def test_extract_keeps_patterns_and_adds_general_states() -> None:
    utterance = _said(
        "REQ-118 Backend Engineer: hiring manager changed from Paul Okafor to Lena Vogt "
        "(Paul moved to Payments)."
    )
    found, _ = extract(utterance, Context())
    keys = {(c.state.attribute, c.state.value) for c in found if c.state is not None}
    assert ("hiring manager", "Lena Vogt") in keys


@pytest.fixture
def lite(tmp_path: Path) -> Iterator[memos.MemCube]:
    with memos.open(tmp_path / "home", user="alice", embedder=HashEmbedder(dim=64)) as mos:
        yield mos.create_cube("dev")


def test_a_correction_supersedes_through_ingest(lite: memos.MemCube) -> None:
    lite.ingest(
        [
            {"platform": "email", "actor": "rita", "timestamp": "2026-02-24T14:00:00Z",
             "id": "em-8", "text": "Hi Lena, Marta's start date is now March 23."},
            {"platform": "email", "actor": "rita", "timestamp": "2026-02-24T14:09:00Z",
             "id": "em-9", "text": "Sorry, I meant March 24, not March 23."},
        ]
    )  # fmt: skip
    states = read_states(lite)
    live = [s for s in states if s.valid_to is None and s.attribute == "start date"]
    assert [(s.value, s.source_ref) for s in live] == [("March 24", "em-9")]
    assert any(s.value == "March 23" and s.valid_to is not None for s in states)


def test_truth_files_are_checked() -> None:
    with pytest.raises(InvalidInputError, match=r"entity"):
        truth_from_dict({"instance": "x", "entities": {}, "states": [{"entity": "nope"}]})
    for path in sorted(DEV.glob("*/truth/*.truth.json")):
        truth = load_truth(path)
        instance = load_instance(path.parent.parent / f"{truth.instance}.json")
        events = {e.id for e in instance.events}
        assert all(row.event in events for row in truth.rows)
        assert len(truth.probes) >= 4


def test_scoring_final_state_probes_and_precision() -> None:
    truth = truth_from_dict(
        json.loads(
            """{"instance": "t", "entities": {"summit": ["the summit"]},
            "states": [
              {"event": "e1", "entity": "summit", "attribute": "date",
               "attribute_aliases": ["when"], "value": "April 16", "value_aliases": ["Apr 16"],
               "valid_from": "2026-01-12T09:00:00Z"},
              {"event": "e2", "entity": "summit", "attribute": "date",
               "attribute_aliases": ["when"], "value": "April 23", "value_aliases": [],
               "valid_from": "2026-03-04T12:00:00Z"}],
            "probes": [{"entity": "summit", "attribute": "date",
                        "as_of": "2026-02-01T00:00:00Z", "value": "April 16"}]}"""
        )
    )
    when = {
        "e1": datetime(2026, 1, 12, 9, tzinfo=UTC),
        "e2": datetime(2026, 3, 4, 12, tzinfo=UTC),
        "e3": datetime(2026, 2, 1, 9, tzinfo=UTC),
    }
    found = [
        Extraction("The Summit", "date", "Apr 16", "e1", when["e1"], when["e2"]),
        Extraction("summit", "when", "April 23", "e2", when["e2"]),
        Extraction("summit", "date", "April 30", "e3", when["e3"], when["e3"]),  # invented
        Extraction("catering", "price", "€39", "e3", when["e3"]),  # unmatched
    ]
    result = score(truth, found, when)
    assert (result.final_right, result.final_total) == (1, 1)
    assert (result.as_of_right, result.as_of_total) == (1, 1)
    assert (result.supported, result.invented, result.unmatched) == (2, 1, 1)


def test_answers_come_from_the_state_current_before_and_as_of() -> None:
    def item(value: str, start: str, end: str | None, current: bool) -> StateRetrieved:
        return StateRetrieved(
            text=f"The speaker of the keynote is {value}.",
            timestamp=datetime.fromisoformat(start),
            actor="mei",
            current=current,
            state={"subject": "keynote", "attribute": "speaker", "value": value},
            valid_from=datetime.fromisoformat(start),
            valid_to=datetime.fromisoformat(end) if end else None,
        )

    items = [
        item("Jonas Weber", "2026-03-05T10:00:00+00:00", None, True),
        item("Ana Ruiz", "2026-01-20T14:00:00+00:00", "2026-03-05T10:00:00+00:00", False),
    ]
    asked = datetime(2026, 4, 1, tzinfo=UTC)
    assert answer_from_states("Who is giving the keynote?", items, asked) == "Jonas Weber"
    assert answer_from_states("Who was the keynote speaker before Jonas Weber?", items) == (
        "Ana Ruiz"
    )
    on_day = "Who was the keynote speaker on February 15?"
    assert answer_from_states(on_day, items, asked) == "Ana Ruiz"
    assert answer_from_states("What is the rollout of strict_auth?", items, asked) is None


@pytest.mark.parametrize("family", ["partner-summit", "api-sunset"])
def test_dev_families_read_back_their_final_states(lite: memos.MemCube, family: str) -> None:
    """A regression guard on two dev families (bench/families.py scores all of them)."""
    for path in sorted((DEV / family).glob("*.json")):
        instance = load_instance(path)
        for event in instance.events:
            lite.ingest([reader_record(event)])
        truth = load_truth(path.parent / "truth" / f"{path.stem}.truth.json")
        when = {e.id: e.timestamp for e in instance.events}
        result = score(truth, read_states(lite), when)
        assert result.final_accuracy == 1.0, result.misses
        assert result.precision == 1.0, result.misses


def test_a_message_opening_on_a_numbered_thing_keys_its_fields_to_that_thing(
    lite: memos.MemCube,
) -> None:
    # A status line in a message about another thing is not the last ticket's status.
    lite.ingest(
        [
            {"platform": "jira", "actor": "Jira", "timestamp": "2027-06-01T09:00:00Z",
             "id": "a8", "text": "MOB-881: Status changed from In Progress to Done"},
            {"platform": "app-store-connect", "actor": "App Store Connect",
             "timestamp": "2027-06-02T09:00:00Z", "id": "a9",
             "text": "Version 5.2.0 (build 5021) submitted for review. Status: Waiting for Review"},
            {"platform": "portal", "actor": "Carrier", "timestamp": "2027-06-03T09:00:00Z",
             "id": "a10", "text": "Order 7781 shipped from Rotterdam. Status: In transit"},
        ]
    )  # fmt: skip
    live = {
        (s.subject, s.value)
        for s in read_states(lite)
        if s.valid_to is None and s.attribute == "status"
    }
    assert live == {
        ("MOB-881", "Done"),
        ("Version 5.2.0", "Waiting for Review"),
        ("Order 7781", "In transit"),
    }


def test_a_contracted_is_is_no_noun() -> None:
    # "it's now $200": the "s" of the contraction named the attribute of nothing.
    found = _read("Update: your policy's ALE limit was raised - it's now $200 per day.")
    assert all(len(subject) > 1 and attribute != "s" for subject, attribute, _, _ in found)
    known = Context()
    _read("The Dock 7 lease deposit is $4,500.", context=known)
    assert ("Dock 7 lease", "deposit", "$5,000") in {
        (s, a, v) for s, a, v, _ in _read("The deposit's now $5,000.", context=known)
    }


def test_a_value_set_after_scratch_that_corrects_the_one_taken_back(
    lite: memos.MemCube,
) -> None:
    # "Let's make it ..." alone proposes; after the message took a value back it corrects
    # the state that held that value, whoever set it.
    lite.ingest(
        [
            {"platform": "notes", "actor": "Wen", "timestamp": "2027-04-30T19:00:00Z",
             "id": "n1", "text": "Paper: the internal deadline moves to Wed June 9."},
            {"platform": "email", "actor": "Priya", "timestamp": "2027-05-17T17:00:00Z",
             "id": "n2", "text": "Internal deadline: Wed June 9 as agreed... wait, scratch "
             "that, I'm at NIH study section on the 9th. Let's make it Thursday June 10, "
             "end of day. Final figures to me by June 7 please."},
        ]
    )  # fmt: skip
    live = [s for s in read_states(lite) if s.valid_to is None and s.attribute == "deadline"]
    assert [(s.value, s.source_ref) for s in live] == [("June 10", "n2")]


@pytest.mark.parametrize(
    ("text", "subject"),
    [
        # What came back, or holds, at a value is the thing, never the adverb or the verb.
        ("The appraisal came back today at $665,000, $7,500 below the contract.", "appraisal"),
        ("Tooling holds at $38,000, invoiced 50% at PO.", "Tooling"),
    ],
)
def test_what_stands_at_a_value_is_named_without_its_verb(text: str, subject: str) -> None:
    assert [s for s, _, v, _ in _read(text) if v.startswith("$")][:1] == [subject]
