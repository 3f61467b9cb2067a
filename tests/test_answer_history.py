""" "What was it before X?" (issue #12): a "before X" question presupposes X came later,
so when no recalled state holds X, the value X replaced is the last one recalled (from a
keyed state), or a value written like X in a recalled sentence (from text)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from memos.eval.memtrack.backends import Retrieved
from memos.eval.memtrack.extractive import ExtractiveAnswerer
from memos.eval.memtrack.memos_backend import StateRetrieved
from memos.eval.memtrack.replaced import replaced_value, shape_of

AT = datetime(2027, 3, 1, 9, tzinfo=UTC)


def _item(text: str, day: int) -> Retrieved:
    return Retrieved(text=text, refs=(f"m{day}",), timestamp=AT.replace(day=day), actor="ines")


def _state(subject: str, attribute: str, value: str, day: int, said: str) -> StateRetrieved:
    when = AT.replace(day=day)
    return StateRetrieved(
        text=f"The {attribute} of the {subject} is {value}.", refs=(f"m{day}",), timestamp=when,
        actor="ines", current=True, said=said, valid_from=when,
        state={"subject": subject, "attribute": attribute, "value": value,
               "state_key": f"{subject}/{attribute}"},
    )  # fmt: skip


def _answer(question: str, *items: Retrieved) -> str:
    return ExtractiveAnswerer().answer(question, items, asked_at=AT.replace(day=28)).text


def test_a_value_the_reader_missed_replaced_the_last_one_keyed() -> None:
    # The change to Delgado Tiling was never keyed; the question says it came later.
    keyed = _state("backsplash", "installer", "Ortiz & Sons", 4, "Ortiz & Sons will tile it.")
    price = _state("backsplash", "price", "$1,150", 4, "Ortiz & Sons quoted $1,150.")
    missed = _item("Ortiz & Sons cancelled, so Delgado Tiling is stepping in.", day=12)
    question = "Which tiler was doing the backsplash before Delgado Tiling?"
    assert _answer(question, keyed, price, missed) == "Ortiz & Sons"
    # A first name is the keyed value, not a newer one: the value before it answers.
    first = _state("PAY-88", "assignee", "Tomas Berg", 2, "PAY-88 assigned to Tomas Berg")
    then = _state("PAY-88", "assignee", "Lucia Ferrante", 9, "PAY-88 -> Lucia Ferrante")
    assert _answer("Who was the assignee of PAY-88 before Lucia?", first, then) == "Tomas Berg"


def test_shapes_tell_values_from_capitalised_words() -> None:
    shape = shape_of("Kastanienallee 8")
    assert shape is not None and shape.findall("we lost Schönhauser 31, sadly") == [
        "Schönhauser 31"
    ]
    shape = shape_of("Bay 12")
    assert shape is not None and shape.findall("moved from Bay 7 to Bay 12") == ["Bay 7", "Bay 12"]
    shape = shape_of("Rev F")
    assert shape is not None and shape.findall("drawing at Rev E since May") == ["Rev E"]
    assert shape_of("Priya") is None  # one capitalised word: any name, any sentence start
    assert shape_of("the handover") is None


def test_a_value_written_like_the_named_one_answers_from_text() -> None:
    office = _item("Our office is at Torstraße 140, come by any time.", day=1)
    lost = _item("The landlord of Kastanienallee 8 picked another applicant for the flat.", day=9)
    won = _item("Good news: the flat at Schönhauser 31 is yours.", day=10)
    question = "Which flat had they applied for before Schönhauser 31?"
    # The address said about the flat, not the office's address or the named one.
    assert replaced_value(question, [office, lost, won]) == "Kastanienallee 8"
    assert _answer(question, office, lost, won) == "Kastanienallee 8"
    # Nothing said about a flat: no answer rather than any address.
    assert replaced_value(question, [office, won]) is None
    assert replaced_value("Which flat did they apply for?", [office, lost, won]) is None


def test_a_newer_mention_of_the_attribute_s_noun_overrides_the_keyed_value() -> None:
    # The reader keyed "working guest count: 45" and missed "the count is now 52".
    keyed = _state("offsite", "working guest count", "45", 2, "Working guest count: 45")
    newer = _item("Quick note for the caterer: the count is now 52.", day=9)
    assert _answer("What is the current guest count for the offsite?", keyed, newer) == "52"
    # Another rate said later is not the blended rate changing.
    rate = _state("Kestrel order form", "blended rate", "1.45%", 2, "Blended rate is 1.45%")
    error = _item("Kestrel is live for 10% of traffic, error rate 0.2%.", day=9)
    assert _answer("What is the blended rate?", rate, error) == "1.45%"


def test_just_before_a_value_held_twice_is_before_its_latest_return() -> None:
    # Todo -> In Progress -> Blocked -> In Progress: the latest move to In Progress
    # came from Blocked, not from Todo.
    steps = [("Todo", 2), ("In Progress", 4), ("Blocked", 8), ("In Progress", 12)]
    states = [_state("WEB-77", "status", value, day, f"WEB-77 -> {value}") for value, day in steps]
    question = "What was the status of WEB-77 just before it moved to In Progress?"
    assert _answer(question, *states) == "Blocked"


def test_the_first_value_comes_from_text_when_no_state_holds_what_was_replaced() -> None:
    question = "What date was opening day originally scheduled for?"
    kickoff = _item("Opening day Sat 3/20 at Hollis Park, fields 1-4.", day=2)
    # One keyed value, and the question says it changed: the text before it answers.
    moved = _state("Opening", "day", "March 27", 19, "Opening day is now Sat 3/27.")
    assert _answer(question, moved, kickoff) == "March 20"
    calendar = _state("Opening", "day", "March 27", 19, "When: Saturday, March 27, 9am.")
    assert _answer(question, calendar, kickoff) == "March 20"
    # A state that says what it replaced answers on its own, and so does an earlier state.
    known = dataclasses.replace(calendar, state={**calendar.state, "previous": "March 13"})
    assert _answer(question, known, kickoff) == "March 13"
    keyed = _state("Opening", "day", "March 20", 2, "Opening day Sat 3/20 at Hollis Park.")
    assert _answer(question, moved, keyed) == "March 20"
    # One keyed value and nothing said before it: it was the first, whatever came later.
    target = _state("5.0", "target release date", "March 3", 12, "Target release: March 3.")
    later = _item("Release date update - 5.0 final is now March 24.", day=20)
    asked = "What was the originally targeted release date for 5.0?"
    assert _answer(asked, target, later) == "March 3"
