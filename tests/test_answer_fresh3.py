"""Answers for question shapes of bench/fresh3 (dev data since bench/fresh4 was written,
issue #12): free days before demurrage, a yes/no about what happened on a day, a prefixed
identifier, the first quote, and a status as of a day before the first change recalled."""

from __future__ import annotations

from datetime import UTC, datetime

from memos.eval.memtrack.backends import Retrieved
from memos.eval.memtrack.codes import codes, number_beside
from memos.eval.memtrack.extractive import ExtractiveAnswerer
from memos.eval.memtrack.memos_backend import StateRetrieved

AT = datetime(2027, 4, 1, 9, tzinfo=UTC)


def _item(text: str, day: int = 3) -> Retrieved:
    return Retrieved(text=text, refs=(f"m{day}",), timestamp=AT.replace(day=day), actor="sam")


def _state(subject: str, attribute: str, value: str, day: int, **extra: object) -> StateRetrieved:
    when = AT.replace(day=day)
    return StateRetrieved(
        text=f"The {attribute} of {subject} is {value}.",
        refs=(f"s{day}",),
        timestamp=when,
        state={"subject": subject, "attribute": attribute, "value": value,
               "state_key": f"{subject.lower()}/{attribute}", **extra},
        valid_from=when,
    )  # fmt: skip


def _answer(question: str, *items: Retrieved, day: int = 28) -> str:
    return ExtractiveAnswerer().answer(question, items, asked_at=AT.replace(day=day)).text


def test_how_many_days_before_something_asks_a_duration_not_a_change() -> None:
    standard = _item("Free time at destination: standard 5 days before demurrage.", day=6)
    granted = _item(
        "Good news: Maersk will give you 7 free days at destination instead of the "
        "standard 5, given the delay.",
        day=17,
    )
    question = "How many free days do we get at destination before demurrage?"
    assert _answer(question, standard, granted) == "7"


def test_did_it_happen_on_a_day_is_answered_by_what_was_said_that_day() -> None:
    scheduled = _state("County health inspection", "date", "April 2", day=1)  # the invite
    failed = _item("inspection update: we did NOT pass today.", day=2)
    question = "Did the place pass the health inspection on April 2?"
    assert _answer(question, scheduled, failed) == "no"
    passed = _item("inspection update: we passed today, certificate is on the wall.", day=2)
    assert _answer(question, scheduled, passed) == "yes"


def test_an_identifier_written_with_the_asked_prefix() -> None:
    ticket = _item("[PUR-3317] Purchase: Calder Spectra M5 multimode plate reader", day=16)
    moved = _item("PO: PO-2027-0418 (cancelled) -> PO-2027-0453", day=22)
    question = "Which PO number is the plate reader order on?"
    assert _answer(question, ticket, moved) == "PO-2027-0453"
    # No identifier written with the prefix: any identifier of the thing.
    assert _answer("Which PO number is the plate reader order on?", ticket) == "PUR-3317"


def test_the_first_quote_is_the_first_value() -> None:
    quoted = _state("Orbit PM", "seats", "12", day=3)
    revised = _state("Orbit PM", "seats", "14", day=10, previous="12")
    assert _answer("How many seats were in Orbit's first quote?", quoted, revised) == "12"
    assert _answer("How many seats are in the Orbit quote?", quoted, revised) == "14"


def test_as_of_a_day_before_the_first_change_recalled_reads_what_it_replaced() -> None:
    started = _state("MIG-207", "status", "In Progress", day=20, previous="Blocked")
    done = _state("MIG-207", "status", "Done", day=27, previous="In Progress")
    other = _state("MIG-201", "status", "Done", day=15, previous="In Progress")
    question = "What was the status of MIG-207 as of April 10?"
    assert _answer(question, started, done, other) == "Blocked"


def test_a_tag_is_an_identifier_and_a_container_keeps_its_owner_letters() -> None:
    installed = _item(
        "plate reader is IN, Dana finished the install on bench 6 around 1:30. "
        "university asset tag EU-118804.",
        day=3,
    )
    delivery = _item("Plate reader: delivery slipped to June 3, install June 4.", day=2)
    question = "What's the university asset tag on the new plate reader?"
    assert _answer(question, installed, delivery) == "EU-118804"
    assert codes("Containers: TBD -> TGHU 8812334, MSKU 4471928") == [
        (19, "TGHU 8812334"),
        (33, "MSKU 4471928"),
    ]


def test_the_number_labelled_as_asked_of_a_card() -> None:
    card = _item(
        "Ryan Mercer; Account Manager, Calder Scientific; Office 800-555-0134 x212; "
        "Cell 508-555-0187",
        day=7,
    )
    confirmed = _item("Ryan Mercer confirmed our PO this morning.", day=20)
    question = "What's the cell number for the Calder person who confirmed our PO?"
    assert _answer(question, card, confirmed) == "508-555-0187"
    assert number_beside("Ryan Mercer", card.text, "What is Ryan's office line?") == "800-555-0134"
