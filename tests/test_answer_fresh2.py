"""Answer shapes from the second sealed set once it became dev data (issue #12,
bench/fresh2): years are no counts, a hyphenated length is said as a length, a unit's
budget is a count, and the first value may be the one the earliest state replaced."""

from __future__ import annotations

from datetime import UTC, datetime

from memos.eval.memtrack.backends import Retrieved
from memos.eval.memtrack.extractive import ExtractiveAnswerer
from memos.eval.memtrack.memos_backend import StateRetrieved
from memos.eval.memtrack.spans import typed_span

AT = datetime(2027, 3, 1, 9, tzinfo=UTC)


def _item(text: str, day: int = 3) -> Retrieved:
    return Retrieved(text=text, refs=(f"m{day}",), timestamp=AT.replace(day=day), actor="sam")


def _answer(question: str, *items: Retrieved) -> str:
    return ExtractiveAnswerer().answer(question, items, asked_at=AT.replace(day=28)).text


def _state(
    attribute: str, value: str, previous: str | None, day: int, subject: str = "AMBO"
) -> StateRetrieved:
    when = AT.replace(day=day)
    state = {"subject": subject, "attribute": attribute, "value": value}
    if previous:
        state["previous"] = previous
    return StateRetrieved(
        text=f"The {attribute} of {subject} is {value}.",
        refs=(f"m{day}",),
        timestamp=when,
        state=state,
        valid_from=when,
    )


def test_a_year_after_a_season_is_no_count() -> None:
    kickoff = _item("Registration for the spring season: Spring 2027 kickoff is next week.")
    assert _answer("How many players are registered for the spring season?", kickoff) != "2027"


def test_a_hyphenated_length_is_answered_as_a_length() -> None:
    rule = _item("Lightning rule: play waits a full 30-minute period after the last thunder.")
    assert _answer("How long must play wait after the last thunder?", rule) == "30 minutes"


def test_a_budget_of_words_is_a_count() -> None:
    budget = _state("budget", "2,400 words", "2,200 words", 9)
    assert _answer("What is the word budget for the AMBO story now?", budget) == "2,400"


def test_the_first_value_is_the_one_the_earliest_state_replaced() -> None:
    cut = _state("budget", "2,200 words", "2,800", 5)
    raised = _state("budget", "2,400 words", "2,200 words", 9)
    assert _answer("What was the AMBO story's original word budget?", cut, raised) == "2,800"


def test_who_attends_is_no_answer_to_where() -> None:
    when = AT.replace(day=4)
    attendees = StateRetrieved(
        text="The attendees of AMBO pre-pub read-through is Marisol Aguirre.",
        refs=("m4",),
        timestamp=when,
        state={
            "subject": "AMBO pre-pub read-through",
            "attribute": "attendees",
            "value": "Marisol Aguirre",
        },
        valid_from=when,
    )
    assert _answer("In which room is the AMBO pre-pub read-through?", attendees) != (
        "Marisol Aguirre"
    )


def test_cash_is_an_amount() -> None:
    from memos.eval.memtrack.states import read_question

    assert "money" in read_question("What cash to close was shown on the disclosure?", AT).kinds
    disclosure = _item("Closing Disclosure issued May 12: cash to close $141,912.40.", 12)
    assert _answer("What cash to close was shown on the Closing Disclosure?", disclosure) == (
        "$141,912.40"
    )


def test_a_negation_reaches_over_its_own_clause_only() -> None:
    # The new price opens the sentence; the "couldn't" belongs to the clause after the dash.
    locked = _item("After review we can do $13.95/pc for KFS-40127 on a 2-yr LTA.", day=16)
    raised = _item(
        "Piece price $14.35 - we couldn't absorb the added drain boss op entirely, "
        "but we met you partway (KFS-40127 Rev D impact).",
        day=28,
    )
    question = "What is the current piece price for KFS-40127 from Brightwater?"
    assert _answer(question, locked, raised) == "$14.35"


def test_a_negated_clause_still_gives_no_value() -> None:
    offered = _item("The piece price for KFS-40127 is $13.95.", day=16)
    refused = _item("We won't accept a piece price of $14.35 for KFS-40127 - too late.", day=20)
    question = "What is the piece price for KFS-40127?"
    assert _answer(question, offered, refused) == "$13.95"


def test_a_corrected_version_keeps_its_point_and_its_cue() -> None:
    # "not 5.3" ends at the sentence's end, not at the point inside 5.3, and "targets"
    # marks the number after it as a version.
    planned = _item("Agreed, offline_maps goes in 5.3.", day=2)
    moved = _item(
        "Change of plan: offline maps now targets 5.4, not 5.3 - the tile server "
        "migration won't make 5.3.",
        day=25,
    )
    assert _answer("Which release is offline maps targeting now?", planned, moved) == "5.4"


def test_a_newer_sentence_changes_a_state_kept_with_its_unit() -> None:
    # The state holds "2,200 words", the answer shows "2,200": the later sentence that
    # changes it is still found to be newer than that state.
    cut = _state("budget", "2,200 words", "2,800", 5)
    raised = _item(
        "Word budget: the county budget package came in short, so you can have 2,400, "
        "not 2,200. v6 is at 2,410.",
        day=14,
    )
    assert _answer("What is the word budget for the AMBO story now?", cut, raised) == "2,400"


def test_any_change_verb_of_the_reader_marks_the_newer_value() -> None:
    # "extended ... to" is one of the reader's change verbs: the newer sentence wins over
    # an older one that names the question's words more fully.
    lock = _item("Loan rate lock expiry date: May 15.", 3)
    extended = _item("The rate lock on the loan was extended 9 days to May 24.", 9)
    question = "What is the rate lock expiry date for the loan?"
    assert typed_span(question, [lock, extended], AT.replace(day=28)) == "May 24"


def test_a_value_in_a_parallel_list_is_the_one_its_own_label_names() -> None:
    # "U10 center $35, U12 center $40": "center" labels both; "U10 center" labels $35.
    board = _item("The board voted in November: U10 center $35, U12 center $40, ARs stay $20.")
    question = "How much is a U10 center referee paid per game?"
    assert typed_span(question, [board], AT.replace(day=28)) == "$35"


def test_a_sentence_about_a_sibling_id_is_about_another_thing() -> None:
    # The U10 reminder is later than the board's list, but says nothing of U12's pay.
    board = _item("The board voted in November: U10 center $35, U12 center $40.", 3)
    reminder = _item("Reminder: U10 center referees are paid $35 per game.", 9)
    question = "How much is a U12 center referee paid per game?"
    assert typed_span(question, [board, reminder], AT.replace(day=28)) == "$40"


def test_the_value_before_a_change_may_be_said_in_the_same_message() -> None:
    # The change and the list it changes were stored as said at the same time.
    update = _item("Ref pay update: the board approved bumping U12 center to $45 mid-season.", 9)
    board = _item("As voted in November: U10 center $35, U12 center $40.", 9)
    question = "What was the U12 center referee pay before the mid-season increase?"
    assert typed_span(question, [update, board], AT.replace(day=28)) == "$40"


def test_one_attribute_inside_another_is_one_key_when_the_question_says_both() -> None:
    # "students enrolled" (a kickoff note) and "enrolled" (the registrar's total row) under
    # two subjects: the question names both words, so the later count held on March 25.
    kickoff = _state("students enrolled", "142", None, 8, subject="CS 214 Spring 2027")
    registrar = _state("enrolled", "156", None, 20, subject="CS 214 enrolment")
    question = "How many students were enrolled on March 25?"
    assert _answer(question, kickoff, registrar) == "156"


def test_a_newer_value_beside_the_states_subject_changes_it() -> None:
    # "Tooling holds at $38,000" keyed the tooling's price; "total tooling $41,500" later
    # names the same thing with a new value, in words the reader did not key.
    held = _state("price", "$38,000", None, 3, subject="Tooling")
    final = _item("Final numbers for Rev D: tooling mod $3,500, so total tooling $41,500.", 9)
    question = "What is the total Brightwater tooling cost for KFS-40127?"
    assert _answer(question, held, final) == "$41,500"


def test_a_value_in_another_comma_part_belongs_to_another_thing() -> None:
    # The EUR 15 is the carbonara's; the tiramisu's value in that sentence is the 7.
    held = _state("price", "EUR 7", None, 3, subject="tiramisu")
    later = _item("Food cost check done: carbonara goes up to EUR 15, tiramisu stays at 7.", 9)
    assert _answer("How much is the tiramisu?", held, later) == "EUR 7"
