"""Naming (issue #12): the entities a conversation establishes and their aliases, the
attribute ontology, and how the reader, the LLM path, the answerer and the truth scorer
match on any name."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

import memos
from memos.agents.entities import Entities, names_in, subject_line_names
from memos.agents.naming import plausible_subject
from memos.agents.ontology import attribute_class, attribute_names, same_attribute
from memos.eval.memtrack.memos_backend import StateRetrieved
from memos.eval.memtrack.states import answer_from_states
from memos.eval.truth import Extraction, read_states, score, truth_from_dict
from memos.testing import HashEmbedder, ScriptedLLM


def test_names_in_a_text_ids_kinds_numbered_places_and_proper_names() -> None:
    found = names_in(
        "Thank you for your order HC-30771. We are pleased: St. Aldric Hospital is site 114."
    )
    by_text = {n.text: n for n in found}
    assert by_text["HC-30771"].kind == "order"
    assert by_text["HC-30771"].aliases == ("order HC-30771",)
    assert by_text["site 114"].source == "numbered"
    assert "St. Aldric Hospital" in by_text
    assert next(n.text for n in names_in("we receive PO-5521 today")) == "PO-5521"
    assert names_in("we receive PO-5521 today")[0].kind is None  # "receive" is no kind


def test_subject_lines_name_their_topic() -> None:
    assert next(n.text for n in subject_line_names("Re: Dock 7 - terms")) == "Dock 7"
    assert [n.text for n in subject_line_names("Booking BWL-88213 / PO-5521")][:2] == [
        "BWL-88213",
        "PO-5521",
    ]
    assert next(n.text for n in subject_line_names("Re: Nair kitchen - proposal")) == (
        "Nair kitchen"
    )
    # A subject line that opens with an attribute ("Quote") is about what follows it.
    assert "Calacatta quartz" in [n.text for n in subject_line_names("Quote - Calacatta quartz")]


def test_the_entity_book_joins_names_on_strong_evidence_only() -> None:
    book = Entities()
    book.learn("HC-30771", "order HC-30771", kind="order")
    book.learn("St. Aldric Hospital")
    assert book.canonical("order HC-30771") == "HC-30771"
    assert book.find_loose("the order") is not None
    assert book.find_loose("St. Aldric") is book.find("St. Aldric Hospital")
    assert book.find_loose("ENG-14") is None  # ids are never matched by a prefix


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("the fit-out", "fit-out"),
        ("to go ahead", None),
        ("Quote", None),  # an attribute, not a thing
        ("Items", None),  # a record's field key
        ("Received", None),
        ("St. Aldric Hospital", "St. Aldric Hospital"),
        ("launch", "launch"),  # a milestone can be a thing
    ],
)
def test_plausible_subjects(raw: str, expected: str | None) -> None:
    assert plausible_subject(raw) == expected


def test_attribute_ontology() -> None:
    assert attribute_class("monthly rent") == "price"
    assert attribute_class("hiring manager") == "owner"
    assert attribute_class("go-live") == "date"
    assert {"rent", "price", "monthly price"} <= set(attribute_names("monthly rent"))
    assert {"completion date", "completion"} <= set(attribute_names("substantial completion date"))
    assert same_attribute("cost", "price") and same_attribute("rent", "monthly rent")
    assert not same_attribute("move-in date", "completion date")
    assert not same_attribute("eta", "departure date")


@pytest.fixture
def cube(tmp_path: Path) -> Iterator[memos.MemCube]:
    with memos.open(tmp_path / "h", user="alice", embedder=HashEmbedder(dim=64)) as mos:
        yield mos.create_cube("naming")


def _event(ref: str, at: str, text: str, **meta: object) -> dict[str, object]:
    return {"platform": "email", "actor": "grete", "id": ref, "timestamp": at, "text": text, **meta}


def test_the_reader_names_states_as_the_conversation_does(cube: memos.MemCube) -> None:
    cube.ingest(
        [
            _event("e1", "2027-01-11T10:30:00Z", "The rent is NOK 128,500 per month.",
                   subject="Dock 7 - terms"),
            _event("e2", "2027-01-15T14:45:00Z", "Good news: the owner agreed, the rent is now "
                   "NOK 119,000 per month.", subject="Re: Dock 7 - terms"),
            _event("e3", "2027-03-08T10:00:00Z",
                   "Application BP-2027-0418 received. Status: Submitted."),
            _event("e4", "2027-03-27T09:05:00Z", "BP-2027-0418: Status changed from Submitted to "
                   "Approved."),
        ]
    )  # fmt: skip
    states = sorted(read_states(cube), key=lambda s: s.valid_from)
    rent = [s for s in states if s.attribute == "rent"]
    assert [(s.subject, s.value, s.valid_to is None) for s in rent] == [
        ("Dock 7", "NOK 128,500", False),
        ("Dock 7", "NOK 119,000", True),
    ]  # the subject line names what the email is about; one key, superseded
    assert "price" in rent[0].attribute_names and "cost" in rent[0].attribute_names
    permit = [s for s in states if s.attribute == "status"]
    assert {s.subject for s in permit} == {"BP-2027-0418"}
    assert "application BP-2027-0418" in permit[-1].names
    assert [s.value for s in permit if s.valid_to is None] == ["Approved"]


def test_a_synonym_supersedes_the_same_attribute(cube: memos.MemCube) -> None:
    cube.ingest(
        [
            _event("e1", "2027-01-11T10:30:00Z", "Catering: price per person is €42.",
                   subject="Summit catering"),
            _event("e2", "2027-01-20T10:30:00Z", "The catering cost per person is now €39.",
                   subject="Re: Summit catering"),
        ]
    )  # fmt: skip
    live = [s for s in read_states(cube) if s.valid_to is None]
    assert [(s.subject, s.value) for s in live] == [("Summit catering", "€39")]


def test_the_llm_path_stores_the_same_schema(cube: memos.MemCube) -> None:
    answer = json.dumps(
        {
            "memories": [
                {
                    "message": 1,
                    "type": "fact",
                    "content": "The Dock 7 rent is NOK 119,000 per month.",
                    "subject": "the unit at Dock 7",
                    "attribute": "monthly rent",
                    "value": "NOK 119,000",
                    "names": ["Dock 7", "the Oslo warehouse"],
                }
            ]
        }
    )
    llm = ScriptedLLM().when("Messages:", answer)
    cube.ingest(
        [_event("e1", "2027-01-15T14:45:00Z", "The owner agreed: the unit at Dock 7 rents for "
                "NOK 119,000 per month.", subject="Re: Dock 7 - terms")],
        llm=llm,
    )  # fmt: skip
    (state,) = read_states(cube)
    assert state.value == "NOK 119,000"
    assert "Dock 7" in state.names  # the model's other name, grounded in the message
    assert "the Oslo warehouse" not in state.names  # not in the message: dropped
    assert "rent" in state.attribute_names


TRUTH = {
    "instance": "t",
    "entities": {"Dock 7 lease": ["Dock 7", "the lease"]},
    "states": [
        {"event": "e1", "entity": "Dock 7 lease", "attribute": "monthly rent",
         "attribute_aliases": ["rent"], "value": "NOK 119,000", "value_aliases": [],
         "valid_from": "2027-01-15T14:45:00Z"},
    ],
    "probes": [],
}  # fmt: skip


def test_the_scorer_matches_any_stored_name_and_says_when() -> None:
    truth = truth_from_dict(TRUTH)
    at = datetime(2027, 1, 15, 14, 45, tzinfo=UTC)
    found = [
        Extraction(
            "unit", "price", "NOK 119,000", "e1", at,
            names=("unit", "Dock 7"), attribute_names=("price", "rent"),
        )
    ]  # fmt: skip
    with_aliases = score(truth, found, {"e1": at})
    strict = score(truth, found, {"e1": at}, aliases=False)
    assert (with_aliases.final_right, with_aliases.supported) == (1, 1)
    assert (strict.final_right, strict.unmatched) == (0, 1)


def _state(subject: str, attribute: str, value: str, **more: object) -> StateRetrieved:
    at = datetime(2027, 2, 1, tzinfo=UTC)
    return StateRetrieved(
        text=f"The {attribute} of {subject} is {value}.",
        timestamp=at,
        actor="grete",
        current=True,
        state={"subject": subject, "attribute": attribute, "value": value, **more},
        valid_from=at,
    )


def test_the_answerer_matches_on_aliases_and_synonyms() -> None:
    items = [
        _state("HC-30771", "estimated delivery date", "April 20",
               names=["HC-30771", "order HC-30771", "cabinet order"],
               attribute_names=list(attribute_names("estimated delivery date"))),
        _state("site 114", "status", "Activated", names=["site 114", "St. Aldric Hospital"]),
        _state("CTX-204-02", "pi", "Sara Lindqvist"),
    ]  # fmt: skip
    assert answer_from_states("When is the cabinet order delivery date?", items) == "April 20"
    assert answer_from_states("What is the state of St. Aldric?", items) == "Activated"
    # "PI" is the principal investigator's initials.
    assert answer_from_states("Who is the principal investigator?", items) == "Sara Lindqvist"


def test_a_field_change_on_a_ticket_is_the_tickets(tmp_path: Path) -> None:
    mos = memos.open(tmp_path / "home", embedder=HashEmbedder())
    cube = mos.create_cube("tickets")
    event = {"platform": "zendesk", "actor": "Tomas Ribeiro", "ticket": "#48213"}
    cube.ingest(
        [
            {**event, "id": "t1", "timestamp": "2027-02-10T09:00:00Z",
             "text": "Priority changed from Normal to High.\nFindings: the app sends the email "
                     "in a custom attribute, not in NameID."},
            {**event, "id": "t2", "timestamp": "2027-02-22T18:00:00Z",
             "text": "Update: new SP signing certificate deployed for the tenant. Prod SSO is "
                     "unblocked.\nPriority lowered from Urgent to Low."},
        ]
    )  # fmt: skip
    priorities = {(s.subject, s.value) for s in read_states(cube) if s.attribute == "priority"}
    assert priorities == {("#48213", "High"), ("#48213", "Low")}


def test_a_milestone_field_moved_by_an_arrow_holds_the_new_date(tmp_path: Path) -> None:
    mos = memos.open(tmp_path / "home", embedder=HashEmbedder())
    cube = mos.create_cube("tickets")
    cube.ingest(
        [
            {"platform": "jira", "actor": "Leah Brandt", "ticket": "SQE-2281", "id": "j1",
             "timestamp": "2027-03-30T15:05:00Z",
             "text": "SQE-2281 updated by Leah Brandt\nDue: 2027-04-30 -> 2027-05-21\n"
                     "Status: Open -> In Progress"},
        ]
    )  # fmt: skip
    due = [s for s in read_states(cube) if s.attribute == "due date"]
    assert [(s.subject, s.value) for s in due] == [("SQE-2281", "May 21")]
