"""Identifiers and phone numbers (issue #12, bench/fresh2 as dev data): "the Parks permit
number" is a code, not the count 1 of "fields 1-4"; a phone question about a role holder
finds the holder first, then the number written beside their name."""

from __future__ import annotations

from datetime import UTC, datetime

from memos.eval.memtrack.backends import Retrieved
from memos.eval.memtrack.codes import asks_for_code, asks_for_phone, codes, whose_number
from memos.eval.memtrack.extractive import ExtractiveAnswerer
from memos.eval.memtrack.memos_backend import StateRetrieved

AT = datetime(2027, 3, 1, 9, tzinfo=UTC)


def _item(text: str, day: int = 3) -> Retrieved:
    return Retrieved(text=text, refs=(f"m{day}",), timestamp=AT.replace(day=day), actor="sam")


def _answer(question: str, *items: Retrieved) -> str:
    return ExtractiveAnswerer().answer(question, items, asked_at=AT.replace(day=28)).text


def test_an_identifier_question_takes_a_code_not_a_count() -> None:
    permit = _item(
        "Parks finally emailed: our permit is PR-27-3312, Hollis fields 1-4, Saturdays "
        "8am-2pm, 3/20 through 5/22."
    )
    other = _item("U10 is running hot (51), U14 is thin (17).", day=4)
    assert _answer("What is the league's Parks permit number for Hollis Park?", permit, other) == (
        "PR-27-3312"
    )
    request = _item("It's PRR-2027-0193, filed w/ the county clerk Friday 3/19.")
    assert _answer("What is the number of the county records request?", request) == (
        "PRR-2027-0193"
    )


def test_a_request_names_its_reference_and_the_ticket_it_is_filed_on_is_not_it() -> None:
    said = _item("8D requested from BW, ref 8D-BW-0117 (SQE-2281).")
    ticket = _item("Supplier quality ticket SQE-2281 opened for Brightwater.", day=2)
    question = "What is the reference number of the 8D requested from Brightwater?"
    assert _answer(question, said, ticket) == "8D-BW-0117"


def test_a_state_of_another_shape_does_not_answer_an_identifier_question() -> None:
    state = StateRetrieved(
        text="The permit of the league is 1.",
        refs=("m2",),
        timestamp=AT.replace(day=2),
        state={"subject": "league", "attribute": "permit", "value": "1"},
        valid_from=AT.replace(day=2),
    )
    permit = _item("Our permit is PR-27-3312 for the spring.")
    assert _answer("What is the league's permit number?", state, permit) == "PR-27-3312"


def test_a_role_holders_phone_is_the_number_beside_their_name() -> None:
    holder = _item("Marcus Webb continues as registrar for the spring season.", day=4)
    numbers = _item(
        "Contacts: Hannah Delgado (president) 413-555-0140; Marcus Webb (registrar) "
        "413-555-0111; Frank Olsen (refs) 413-555-0177.",
        day=3,
    )
    question = "What is the phone number of the league's registrar?"
    assert _answer(question, holder, numbers) == "413-555-0111"
    extension = _item("Rafael Ocampo, supplier quality, ext. 4417, desk by the lab.", day=4)
    took = _item("Rafael Ocampo took over SQE-2281 from Leah Brandt today.", day=5)
    question = "What phone extension reaches the engineer who took over SQE-2281?"
    assert _answer(question, took, extension) == "4417"


def test_what_asks_for_a_code_or_a_phone() -> None:
    assert asks_for_code("What purchase order number is Lena's invoice on?")
    assert asks_for_code("What is the number of the county records request?")
    assert not asks_for_code("What is the number of players registered?")  # a count
    assert not asks_for_code("How many players are registered?")
    assert not asks_for_code("What is the phone number of the head coach?")
    assert asks_for_phone("What is the cell number of the league's scheduler?")
    assert whose_number("What is the cell number of the league's scheduler?") == (
        "Who is the league's scheduler?"
    )
    assert whose_number("What phone extension reaches the engineer who took over X-1?") == (
        "Who took over X-1?"
    )
    assert whose_number("What is the PO number?") is None
    assert whose_number("What is the phone number for emergencies?") is None  # no holder
    # Phone numbers, ISO dates and short ranges are no identifiers.
    found = [v for _, v in codes("Call 413-555-0140 on 2027-03-19 about fields 1-4, PO 55-1038.")]
    assert found == ["55-1038"]


def test_a_state_read_from_a_sentence_that_gives_the_asked_word_another_value_is_not_it() -> None:
    said = "Lock date: 3/16/2027 - 60-day lock, expires 5/15/2027"
    state = StateRetrieved(
        text="Rate lock is scheduled for March 16.",
        refs=("m3",),
        timestamp=AT.replace(day=3),
        state={"subject": "Rate lock", "attribute": "date", "value": "March 16"},
        said=f"Devin on email about Rate lock confirmation: {said}",
        valid_from=AT.replace(day=3),
    )
    text = _item(f"{said} (Rate lock confirmation).")
    # Recalled for "expire", the message ranks above the state's rendering of it.
    assert _answer("When does the rate lock expire?", text, state) == "May 15"
    assert _answer("What is the rate lock date?", state, text) == "March 16"  # the one keyed


def test_a_which_question_may_open_with_a_preposition() -> None:
    from memos.eval.memtrack.which import which_answer

    items = [_item("The trial pallets arrive on Line 7 on Monday, second shift.")]
    assert which_answer("On which line do the trial pallets arrive?", items) == "Line 7"
