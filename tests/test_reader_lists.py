"""List-shaped messages (issue #12): meeting notes, checklists and summaries are about what
their heading names. A line that names no subject belongs to the heading's topic, not to
a subject an earlier line named; one word before a line's attribute noun qualifies it."""

from __future__ import annotations

from pathlib import Path

import pytest

import memos
from memos.agents.listing import heading_topic, is_list, list_topic
from memos.eval.truth import read_states
from memos.testing import HashEmbedder


@pytest.mark.parametrize(
    ("heading", "topic"),
    [
        ("Atlas bid kickoff notes", "Atlas bid"),
        ("Standup 12/3 - Orion app", "Orion app"),
        ("Venue checklist for the offsite:", "offsite"),
        ("Renewal terms (Northwind contract)", "Northwind contract"),
        ("Grant kickoff notes (7 Sep)", "Grant"),
        ("Spring promo -- store ops", "Spring promo"),
        ("PO-5521 revised (rev 2)", "PO-5521"),
        ("Harbor lease signed", "Harbor lease"),
        ("Smith v. Halvorsen -- case status (privileged)", "Smith v. Halvorsen"),
        ("Weekly sync", None),
        ("Hi all, here is the summary of what we agreed today with the vendor and legal:", None),
    ],
)
def test_a_heading_names_its_topic_without_the_document_words(
    heading: str, topic: str | None
) -> None:
    assert heading_topic(heading) == topic


def test_a_list_is_a_heading_over_list_lines() -> None:
    assert is_list("Offsite\n- Venue: Lakeside Lodge\n- Headcount: 42")
    assert is_list("Offsite\nVenue: Lakeside Lodge\nHeadcount: 42\nsee you there")
    assert not is_list("- Venue: Lakeside Lodge\n- Headcount: 42\n- Date: May 14")  # no heading
    assert not is_list("Offsite\nWe booked Lakeside Lodge.\nThe headcount is 42.")
    assert list_topic("Just one line: Budget: $240k") is None


def _states(tmp_path: Path, *texts: str) -> set[tuple[str, str, str]]:
    mos = memos.open(tmp_path / "home", embedder=HashEmbedder())
    cube = mos.create_cube("lists")
    for index, text in enumerate(texts):
        cube.ingest(
            [
                {
                    "role": "user",
                    "name": "dana",
                    "content": text,
                    "created_at": f"2026-11-0{index + 1}T10:00:00Z",
                }
            ]
        )
    return {(s.subject, s.attribute, s.value) for s in read_states(cube)}


def test_lines_without_a_subject_are_about_the_heading(tmp_path: Path) -> None:
    states = _states(
        tmp_path,
        "Atlas bid kickoff notes\n* Lead: Mira Sandoval\n* Appendix C word limit: 800 words\n"
        "* Budget: $240k\n* Internal deadline: March 3",
    )
    assert ("Appendix C", "word limit", "800 words") in states  # the line's own subject
    # Not the subject the line above named, nor "Internal" for "Internal deadline".
    assert ("Atlas bid", "budget", "$240k") in states, states
    assert ("Atlas bid", "internal deadline", "March 3") in states, states
    assert ("Atlas bid", "lead", "Mira Sandoval") in states, states


def test_a_numbered_checklist_and_a_bracketed_name(tmp_path: Path) -> None:
    states = _states(
        tmp_path,
        "Venue checklist for the offsite:\n1. Venue: Lakeside Lodge\n2. Headcount: 42\n"
        "3. Catering vendor: Bluefin Catering",
        "Renewal terms (Northwind contract)\n- Annual fee: $58,000\n- Notice period: 60 days",
    )
    assert ("offsite", "venue", "Lakeside Lodge") in states, states
    assert ("offsite", "catering vendor", "Bluefin Catering") in states, states
    assert ("Northwind contract", "annual fee", "$58,000") in states, states
    assert ("Northwind contract", "notice period", "60 days") in states, states


def test_a_record_the_lines_name_or_the_heading_names_by_id(tmp_path: Path) -> None:
    states = _states(
        tmp_path,
        # The heading names an id: the vendor line is the PO's vendor, not its subject.
        "PO-5521 confirmed\nVendor: Saigon Woodcraft Co.\nQuantity: 480 units\nUnit price: USD 212",
        # No id in the heading: the cluster field names the record the lines are about.
        "Orders DB runbook (updated)\nCluster: orders-db, eu-west-1\nRead replicas: 3",
        # One numbered name in a line is not what the list is about.
        "Fall term - Intro to Statistics (STAT 101) logistics\nInstructor: Dr. Helen Marsh\n"
        "Room: Whitmore Hall 210\nEnrollment cap: 120",
    )
    assert ("PO-5521", "quantity", "480 units") in states, states
    assert ("PO-5521", "unit price", "USD 212") in states, states
    assert ("orders-db", "read replicas", "3") in states, states
    assert ("STAT 101", "enrollment cap", "120") in states, states
    assert ("STAT 101", "room", "Whitmore Hall 210") in states, states


def test_a_heading_is_not_a_field_line() -> None:
    assert is_list("Kickoff recap: Harbor St. clinic\n- GC: Dunmore Builders\n- Budget: $1.2M")
    assert list_topic("Re: Lease renewal, unit 4B\n- Rent: $3,100\n- Term: 24 months") == (
        "Lease renewal"
    )
    # A key and its value on the first line: the first line of a list, not its heading.
    minutes = "Attendees: Dana, Marcus (Lumenly CSM)\n\nAgreed:\n- Seats: 320\n- Price: $34"
    assert not is_list(minutes)


def test_a_list_line_keys_what_its_key_names(tmp_path: Path) -> None:
    states = _states(
        tmp_path,
        "Smith v. Halvorsen -- case status (privileged)\n1. Lead associate: Rachel Denney\n"
        "2. Stores visited: 42\n3. Discovery cutoff: Oct 31\n4. Mediation call: Nov 4\n"
        "5. Expert witness: TBD\n6. Settlement range? need the client's input",
    )
    # Keys the rules know no attribute noun of, under a heading: the topic's attributes.
    assert ("Smith v. Halvorsen", "lead associate", "Rachel Denney") in states, states
    assert ("Smith v. Halvorsen", "stores visited", "42") in states, states
    assert ("Smith v. Halvorsen", "discovery cutoff date", "October 31") in states, states
    assert ("Mediation call", "date", "November 4") in states, states  # an event's own date
    values = {value for _, _, value in states}
    assert "TBD" not in values  # an open item is no value


def test_outside_a_list_an_unknown_key_is_not_read(tmp_path: Path) -> None:
    states = _states(tmp_path, "Lead associate: Rachel Denney")
    assert not any(value == "Rachel Denney" for _, _, value in states), states


def test_only_dates_and_days_are_taken_out_of_a_heading() -> None:
    assert heading_topic("Monday standup - Monitoring service") == "Monitoring service"
    assert heading_topic("Satellite launch checklist - Tue 4/2") == "Satellite launch"
    assert heading_topic("Wedding vendors recap") == "Wedding vendors"
