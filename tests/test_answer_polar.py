"""Yes/no questions (issue #12): "yes" or "no" from the current value or the latest
statement about what the question names, never a span of the recalled text."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from memos.eval.memtrack.backends import Retrieved
from memos.eval.memtrack.extractive import ExtractiveAnswerer
from memos.eval.memtrack.polar import is_polar

AT = datetime(2027, 3, 1, 9, tzinfo=UTC)


def _item(text: str, day: int = 3, actor: str = "sam") -> Retrieved:
    return Retrieved(text=text, refs=(f"m{day}",), timestamp=AT.replace(day=day), actor=actor)


CASES = [
    # A named value against the current one.
    (
        "Is the launch still on March 20?",
        [_item("Launch is set for March 20.", 2), _item("Launch moved to March 27.", 5)],
        "no",
    ),
    (
        "Is the launch still on March 27?",
        [_item("Launch is set for March 20.", 2), _item("Launch moved to March 27.", 5)],
        "yes",
    ),
    (
        "Is the budget still $60k?",
        [_item("Campaign budget is $60k.", 2), _item("Budget raised to $72k total.", 6)],
        "no",
    ),
    (
        "Is PAY-210 done?",
        [_item("PAY-210 moved from In Progress to In Review.", 4)],
        "no",
    ),
    (
        "Is PAY-210 done?",
        [_item("PAY-210 moved from In Progress to In Review.", 4), _item("PAY-210 is Done.", 8)],
        "yes",
    ),
    (
        "Is Chiara the owner of IT-1402?",
        [_item("IT-1402 assignee changed from Bruno Alves to Chiara Neri.", 4)],
        "yes",
    ),
    # No value: the latest statement about what the question names.
    (
        "Is Google Ads still one of the channels?",
        [
            _item("Channels: LinkedIn, Google Ads, newsletter.", 2),
            _item("Decision: Google Ads is out, LinkedIn budget goes up.", 7),
        ],
        "no",
    ),
    (
        "Is Google Ads still one of the channels?",
        [
            _item("Channels: LinkedIn, Google Ads, newsletter.", 2),
            _item("I think we should drop Google Ads from the channels.", 7),  # a proposal
        ],
        "yes",
    ),
    (
        "Is the newsletter one of the channels?",
        [_item("Channels are now LinkedIn instead of the newsletter.", 7)],
        "no",
    ),
    (
        "Was the order cancelled?",
        [_item("The order HS-7781 was cancelled by the supplier.", 5)],
        "yes",
    ),
    (
        "Was the order cancelled?",
        [_item("Order HS-7781 confirmed, delivery on February 24.", 5)],
        "no",
    ),
    (
        "Did Finance approve the budget?",
        [_item("Finance approved the budget this morning.", 5)],
        "yes",
    ),
    (
        "Did Finance approve the budget?",
        [_item("Finance did not approve the budget.", 5)],
        "no",
    ),
    # A status undone ("unblocked"), written short ("prod"), after a keyed status.
    (
        "Is production SSO still blocked?",
        [
            _item("Status: Blocked (waiting on customer) (#48213).", 2),
            _item("Heads up: SSO is blocked on #48213.", 3),
            _item("Prod SSO is unblocked, 12 test users logged in successfully.", 9),
        ],
        "no",
    ),
    # Taken off a list.
    (
        "Is Aarav still on the Isarvale waitlist?",
        [
            _item("Aarav still waitlisted at Isarvale; applying to Nymphenburg as a backup.", 2),
            _item(
                "Accepted Nymphenburg for Aarav and asked Isarvale to take him off their waitlist.",
                6,
            ),
        ],
        "no",
    ),
    # A title's period ends no sentence ("Dr. Ravi Menon").
    (
        "Is Dr. Ravi Menon's guest lecture still going ahead this semester?",
        [
            _item("Guest lecture: Dr. Ravi Menon is booked for the April 8 slot.", 2),
            _item('CANCELLED: CS 214 Guest lecture - Dr. Ravi Menon, "Hash tables at scale"', 7),
        ],
        "no",
    ),
]


@pytest.mark.parametrize(("question", "items", "expected"), CASES)
def test_polar_questions_are_answered_yes_or_no(
    question: str, items: list[Retrieved], expected: str
) -> None:
    answer = ExtractiveAnswerer().answer(question, items, asked_at=AT.replace(day=28))
    assert answer.text == expected


def test_a_polar_question_nothing_speaks_to_is_unknown_not_a_span() -> None:
    items = [_item("The venue holds 120 guests.", 4)]
    answer = ExtractiveAnswerer().answer("Did Legal sign the NDA?", items, asked_at=AT)
    assert answer.text == "unknown"


@pytest.mark.parametrize(
    ("question", "polar"),
    [
        ("Is the launch still on March 20?", True),
        ("Will the SIV be on site or remote?", False),  # a choice, answered by its options
        ("When is the launch?", False),
        ("Who is the owner?", False),
    ],
)
def test_which_questions_are_polar(question: str, polar: bool) -> None:
    assert is_polar(question) is polar


def test_the_author_of_a_statement_is_part_of_what_it_is_about() -> None:
    sponsor = _item("Sponsor tally: Gus's Pizza $750, Hollis Hardware $500.", 4)
    out = _item(
        "We're closing the Riverbend location, so we have to back out of the $750 "
        "sponsorship this spring.",
        9,
        "Gus Pappas",
    )
    question = "Is Gus's Pizza still sponsoring the league this spring?"
    assert ExtractiveAnswerer().answer(question, [sponsor, out]).text == "no"
    assert ExtractiveAnswerer().answer(question, [sponsor]).text == "yes"


def test_a_signature_line_says_neither_yes_nor_no() -> None:
    # The sponsor's message backs out; its name line, recalled first and with the
    # thread's subject in brackets, shares as many words with the question but states
    # nothing.
    name = _item("Gus's Pizza (Sponsorship).", 9, "Gus Pappas")
    out = _item(
        "We're closing the Riverbend location, so we have to back out of the $750 "
        "sponsorship this spring (Sponsorship).",
        9,
        "Gus Pappas",
    )
    question = "Is Gus's Pizza still sponsoring the league this spring?"
    answer = ExtractiveAnswerer().answer(question, [name, out], asked_at=AT.replace(day=20))
    assert answer.text == "no"
