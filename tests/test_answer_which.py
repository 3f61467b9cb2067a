"""'Which' questions (issue #12): the thing of the kind the question names (a ticket's id,
a release's version, a vendor's or team's name), from the recalled sentence that says the
rest of the question; the latest one when the question asks what holds now."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from memos.eval.memtrack.backends import Retrieved
from memos.eval.memtrack.extractive import ExtractiveAnswerer
from memos.eval.memtrack.which import which_answer

AT = datetime(2027, 5, 3, 9, tzinfo=UTC)


def _item(text: str, day: int = 3) -> Retrieved:
    return Retrieved(text=text, refs=(f"m{day}",), timestamp=AT.replace(day=day), actor="sam")


CASES = [
    (
        "Which region is serving checkout traffic now?",
        [
            _item("Failover done: 100% of checkout traffic now served from us-west-2.", 4),
            _item("Failback: checkout traffic moved from us-west-2 back to us-east-1.", 9),
        ],
        "us-east-1",  # the region the change goes to, not the one it leaves
    ),
    (
        "Which ticket tracks the checkout timeout?",
        [_item("Opened PAY-412 for the checkout timeout."), _item("PAY-400 is the refund bug.", 4)],
        "PAY-412",
    ),
    (
        "Which vendor did we pick for catering?",
        [
            _item("We're going with Bluefin Catering for the offsite."),
            _item("Harbor Foods quoted 42 per head.", 2),
        ],
        "Bluefin Catering",
    ),
    (
        "Which room is the design review in?",
        [_item("Design review moved to Room 4B."), _item("Design review is in Room 2A.", 1)],
        "Room 4B",
    ),
    (
        "Which build went to beta testers?",
        [_item("Build 5.3.1 (1042) is out to beta testers."), _item("Build 5.3.0 failed QA.", 2)],
        "5.3.1",
    ),
    (
        "Which customer reported the invoice bug?",
        [_item("Northwind reported the invoice rounding bug, logged as SUP-88.")],
        "Northwind",
    ),
    (
        "Which team owns the billing service now?",
        [
            _item("Billing service moves to the Payments team from Monday."),
            _item("Core team owns the billing service.", 1),
        ],
        "Payments team",
    ),
    (
        "Which carrier is shipping the replacement units?",
        [_item("The replacement units ship with DHL tomorrow.")],
        "DHL",
    ),
    (
        "Which datacenter will host the new cluster?",
        [_item("New cluster goes to fra-2, not ams-1.")],
        "fra-2",
    ),
    (
        "Which ticket was closed as a duplicate?",
        [_item("Closing OPS-90 as a duplicate of OPS-88.")],
        "OPS-90",
    ),
    (
        "Which incident caused the outage on Tuesday?",
        [_item("Tuesday's outage was INC-2231 (expired TLS cert).")],
        "INC-2231",
    ),
    (
        "Which region is the staging cluster in now?",
        [
            _item("Staging cluster migrated to eu-central-1 last night.", 6),
            _item("Staging cluster lives in eu-west-1 for now.", 1),
        ],
        "eu-central-1",
    ),
    (
        "What version of the SDK are we on?",
        [_item("We upgraded the SDK to 12.4.1 this morning.", 4), _item("SDK is at 12.2.0.", 1)],
        "12.4.1",
    ),
    (
        "Which venue did they settle on for the offsite?",
        [
            _item("Offsite venue settled: Casa do Lago, near Sintra.", 4),
            _item("Venue options for the offsite: Casa do Lago or Quinta Verde.", 2),
        ],
        "Casa do Lago",
    ),
    (
        "Which protocol version is current?",
        [_item("Protocol v2.1 is approved, sites move from v2.0 next week.", 4)],
        "v2.1",
    ),
]


@pytest.mark.parametrize(("question", "items", "expected"), CASES, ids=[c[0] for c in CASES])
def test_the_thing_of_the_kind_asked_answers(
    question: str, items: list[Retrieved], expected: str
) -> None:
    assert ExtractiveAnswerer().answer(question, items, asked_at=AT.replace(day=10)).text == (
        expected
    )


def test_now_prefers_the_latest_sentence_and_without_it_the_closest() -> None:
    items = [
        _item("Billing service moves to the Payments team from Monday.", 5),
        _item("Core team owns the billing service.", 1),
    ]
    assert which_answer("Which team owns the billing service now?", items) == "Payments team"
    # Not asked about "now": the sentence saying more of the question answers.
    assert which_answer("Which team owns the billing service?", items) == "Core team"


@pytest.mark.parametrize(
    "question",
    [
        "Which vendor did we use before Bluefin?",  # the value before a change
        "What date is the review?",  # a typed value
        "Which status is the ticket in?",
        "What is the checkout timeout?",  # not a thing of a kind
        "Which dock is the delivery at?",  # a noun of no known kind, named nowhere
    ],
)
def test_questions_left_to_the_other_answerers(question: str) -> None:
    items = [_item("Opened PAY-412 for the checkout timeout; Bluefin delivers at the review.")]
    assert which_answer(question, items) is None


def test_a_name_the_question_gives_or_a_hedge_never_answers() -> None:
    assert which_answer("Which vendor replaced Bluefin?", [_item("Bluefin is the vendor.")]) is None
    hedged = [_item("Maybe we could go with Harbor Foods for catering?")]
    assert which_answer("Which vendor did we pick for catering?", hedged) is None


def test_typed_spans_read_rates_durations_places_and_values_beside_their_names() -> None:
    from memos.eval.memtrack.spans import typed_span

    terms = [_item("Blended rate is 1.45% + EUR 0.10 per transaction, 24-month term.")]
    assert typed_span("What is the blended rate?", terms) == "1.45%"  # a rate may be a %
    assert typed_span("What is the fee per transaction?", terms) == "EUR 0.10"
    assert (
        typed_span("How long is the contract term?", terms) == "24 months"
    )  # a length, said as one
    live = [_item("Adyen is live for 10% of EU card traffic, error rate 0.2%.")]
    assert typed_span("What was the error rate at cutover?", live) == "0.2%"
    moved = [_item("Finance wants the cutover later, so we're moving it from April 14 to May 4.")]
    assert typed_span("When is the cutover?", moved) == "May 4"  # a change: the new value
    room = [_item("Payments cutover dry run - Wed Apr 7, 14:00-16:00, Room Tejo and Meet link.")]
    assert typed_span("Where is the cutover dry run?", room) == "Room Tejo"


def test_an_identifier_in_a_question_is_no_cue_for_a_kind() -> None:
    from memos.eval.memtrack.states import read_question

    assert "money" not in read_question("What priority is PAY-210?", None).kinds
    assert "money" in read_question("What is the pay for the role?", None).kinds


def test_who_holds_a_role_is_the_person_named_beside_it_never_a_role_or_the_question() -> None:
    from memos.eval.memtrack.spans import typed_span

    said = [
        _item("Our fee for the creative package is $18,500, and Hana Sato will be your lead."),
        _item("Principal Investigator sign-off is pending at St. Aldric Hospital.", 4),
    ]
    assert typed_span("Who is the account lead at Northlight?", said[:1]) == "Hana Sato"
    assert typed_span("Who is the principal investigator at St. Aldric?", said[1:]) is None


def test_codes_rooms_and_choices() -> None:
    po = [
        _item("PO 4500187722 has been issued to Carl Zeiss AG for CHF 389,500."),
        _item("Serial number 2710004813, all lasers pass acceptance.", 5),
    ]
    assert which_answer("What is the PO number?", po) == "4500187722"
    assert which_answer("What is the serial number of the microscope?", po) == "2710004813"
    moved = [
        _item("Bad news: room B2.14 fails the vibration spec.", 2),
        _item("The scope will go into B1.07 instead.", 2),
    ]
    assert which_answer("Which room is the scope going into?", moved) == "B1.07"
    picked = [_item("After the demo days the committee picked the Zeiss LSM 980.")]
    assert which_answer("Which microscope did the committee pick?", picked) == "Zeiss LSM 980"
    quoted = [_item("Please find our quote Q-2291 for the LSM 980.")]
    assert which_answer("Which quote covers the LSM 980?", quoted) == "Q-2291"


def test_a_specific_synonym_alone_never_picks_another_things_state() -> None:
    from memos.eval.memtrack.memos_backend import StateRetrieved
    from memos.eval.memtrack.states import answer_from_states

    price = StateRetrieved(
        text="The price of the carbonara is EUR 15.",
        refs=("w5",),
        timestamp=AT,
        actor="marco",
        said="carbonara goes up to EUR 15",
        state={"subject": "carbonara", "attribute": "price", "value": "EUR 15",
               "attribute_names": ["price", "cost", "rent", "fee"]},
    )  # fmt: skip
    assert answer_from_states("How much is the monthly rent?", [price]) is None
    assert answer_from_states("What is the price now?", [price]) == "EUR 15"


def test_names_and_codes_as_people_write_them() -> None:
    from memos.eval.memtrack.spans import typed_span

    permit = [_item("Your application SUAP-2027-0412 for the food business permit is in.")]
    assert which_answer("What is the permit application number?", permit) == "SUAP-2027-0412"
    hired = [_item("Hired Paolo Conti as sous chef, he's great with pasta.")]
    assert typed_span("Who did Giulia hire as sous chef?", hired) == "Paolo Conti"


def test_instead_of_names_the_old_value_and_asides_still_answer() -> None:
    from memos.eval.memtrack.spans import typed_span

    late = [_item("Apologies, the first batch ships October 15 instead of October 11.")]
    assert typed_span("When does the first batch ship?", late) == "October 15"
    order = [
        _item("Rollout order is Lisbon first (Oct 18), then Berlin (Oct 25), Warsaw last (Nov 8).")
    ]
    assert typed_span("When is the Warsaw rollout?", order) == "November 8"


def test_names_said_to_be_the_noun_or_plain_words_before_it() -> None:
    model = [_item("Standard model will be the ThinkPad T14 Gen 5.")]
    assert which_answer("Which laptop model is the standard?", model) == "ThinkPad T14 Gen 5"
    moving = [_item("Bruno is moving to the security team, Chiara owns the refresh from today.")]
    assert which_answer("Which team is Bruno moving to?", moving) == "security team"
    po = [_item("PO 7700412 issued to Nordic IT Supply for 150 laptops.")]
    assert which_answer("Which vendor got the PO?", po) == "Nordic IT Supply"


def test_a_name_question_is_never_answered_by_a_greeting_or_an_amount() -> None:
    items = [_item("Dear Ms Rossi, the renovation estimate for the kitchen is EUR 48,000.")]
    answer = ExtractiveAnswerer().answer("Which firm is doing the renovation?", items, asked_at=AT)
    assert answer.text not in ("Dear Ms Rossi", "Ms Rossi", "EUR 48,000")
