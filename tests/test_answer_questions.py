"""Question shapes the offline answerer reads (issue #12). 'Who did X?': the act belongs to
its event, the person a sentence says did it outranks the message's author, and whoever
the question names as the act's object did not do it. Choice questions ('on site or
remote?'): the option the latest statement names, never a span of another kind."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from memos.eval.memtrack.backends import Retrieved
from memos.eval.memtrack.choices import chosen_option, options
from memos.eval.memtrack.extractive import ExtractiveAnswerer
from memos.eval.memtrack.memos_backend import StateRetrieved
from memos.eval.memtrack.spans import typed_span
from memos.eval.memtrack.states import answer_from_states, who_did

AT = datetime(2027, 5, 3, 9, tzinfo=UTC)


def _item(text: str, actor: str, ref: str, day: int = 3) -> Retrieved:
    return Retrieved(text=text, refs=(ref,), timestamp=AT.replace(day=day), actor=actor)


def test_the_person_a_message_says_did_the_act_answers_not_its_author() -> None:
    items = [
        _item("The fire inspection is on May 12 with Dana Whitfield.", "omar", "m1"),
        _item("Fire inspection passed!", "omar", "m2"),
        _item("Dana approved it.", "omar", "m2"),  # the same message, recalled apart
    ]
    assert who_did("Who approved the fire inspection?", items) == "Dana Whitfield"


def test_a_capitalised_word_that_is_nobody_leaves_the_author() -> None:
    items = [_item("Hi Ines, Reservation confirmed for the Lisbon offsite.", "Paulo Reis", "m1")]
    assert who_did("Who confirmed the reservation for the Lisbon offsite?", items) == ("Paulo Reis")


def test_the_agent_of_a_passive_answers() -> None:
    items = [_item("The lease renewal was countersigned by Hanne Lund.", "DocuSign", "m1")]
    assert who_did("Who countersigned the lease renewal?", items) == "Hanne Lund"


def test_whoever_the_question_names_as_the_recipient_did_not_do_it() -> None:
    items = [
        _item("Jonas Berg is happy to accept the offer (Re: Offer).", "Jonas Berg", "m2"),
        _item("Dear Jonas, please find the offer attached (Offer).", "Amara Obi", "m1"),
    ]
    assert who_did("Who sent Jonas Berg the offer?", items) == "Amara Obi"
    # A possessor is not excluded: people merge their own fixes.
    mine = [_item("Merged my fix for the login crash.", "Jonas Berg", "m3")]
    assert who_did("Who merged Jonas's fix for the login crash?", mine) == "Jonas Berg"


def test_a_state_recalled_for_an_act_brings_the_words_it_was_said_in() -> None:
    merged = StateRetrieved(
        text="The status of PR #88 is merged.",
        refs=("g1",),
        timestamp=AT,
        actor="lena",
        said="Merged PR #88: Fix the export timeout (OPS-31)",
        state={"subject": "PR #88", "attribute": "status", "value": "merged"},
    )
    answer = ExtractiveAnswerer().answer("Who merged the fix for OPS-31?", [merged])
    assert answer.text == "lena"


@pytest.mark.parametrize(
    ("question", "offered"),
    [
        ("Will the audit be on site or remote?", ("on site", "remote")),
        ("Is the launch party in Lisbon or Porto?", ("in Lisbon", "Porto")),
        ("Should we use Postgres 16 or MySQL 8?", ("Postgres 16", "MySQL 8")),
        ("Did Acme pick the Business or the Enterprise plan?", ("Business", "Enterprise plan")),
        ("Is the flag on or off?", None),  # function words are in every sentence
        ("What is the price or the fee?", None),  # not a yes/no-style choice
    ],
)
def test_the_options_a_choice_question_offers(
    question: str, offered: tuple[str, str] | None
) -> None:
    assert options(question) == offered


def test_a_choice_is_the_option_the_latest_statement_names() -> None:
    question = "Will the audit be on site or remote?"
    items = [
        _item("Remote works for the audit, not on-site (Re: Audit week).", "ines", "m3", day=9),
        _item("The audit team will do it onsite on the 14th.", "paul", "m1", day=2),
        _item("Remote standup moved to 10:00.", "paul", "m2", day=12),  # not about the audit
        _item("Could the audit be remote instead?", "paul", "m4", day=13),  # a question
    ]
    assert chosen_option(question, items) == "remote"
    assert chosen_option(question, items[1:]) == "on site"
    moved = _item("The audit moved from on site to remote.", "ines", "m5", day=4)
    assert chosen_option(question, [moved, items[1]]) == "remote"
    city = [_item("Porto it is for the launch party!", "ana", "m6")]
    assert chosen_option("Is the launch party in Lisbon or Porto?", city) == "Porto"
    assert ExtractiveAnswerer().answer(question, items[1:]).text == "on site"


def _state(subject: str, attribute: str, value: str, *names: str) -> StateRetrieved:
    return StateRetrieved(
        text=f"The {attribute} of {subject} is {value}.",
        refs=("s1",),
        timestamp=AT,
        actor="app store",
        current=True,
        state={
            "subject": subject,
            "attribute": attribute,
            "value": value,
            "attribute_names": [attribute, *names],
        },
        valid_from=AT,
    )


def test_a_question_for_a_typed_value_is_not_answered_by_another_kind() -> None:
    phased = [_state("Version 4.1.0", "version", "day 3", "release", "build")]
    assert (
        answer_from_states("What percentage of users have 4.1.0 in the phased release?", phased)
        is None
    )
    phased.append(_state("Version 4.1.0", "rollout", "5%"))
    assert (
        answer_from_states("What percentage of users have 4.1.0 in the phased release?", phased)
        == "5%"
    )
    hall = [_state("Hall B", "floor area", "1,200 sqm")]  # a measure answers a count
    assert answer_from_states("What is the floor area of Hall B?", hall) == "1,200"


def test_a_span_answer_comes_from_the_part_the_question_is_about() -> None:
    items = [
        _item(
            "Approved amount: $7,420 (estimate $8,420 less $1,000 deductible) (CLM-3301).",
            "insurer",
            "m1",
        )
    ]
    assert typed_span("What was the approved amount?", items) == "$7,420"
    assert typed_span("What is the deductible?", items) == "$1,000"


def test_the_agent_of_a_passive_answers_even_when_nobody_else_names_them() -> None:
    items = [
        _item("We're going with Northlight. Contract was signed by Dev this morning.", "mira", "m1")
    ]
    assert who_did("Who signed the contract with Northlight?", items) == "Dev"


def test_originally_asks_for_the_first_value_not_the_one_before_the_latest() -> None:
    def state(value: str, day: int, current: bool) -> StateRetrieved:
        return StateRetrieved(
            text=f"The budget of Spring campaign is {value}.",
            refs=(f"m{day}",),
            timestamp=AT.replace(day=day),
            actor="mira",
            current=current,
            said=f"Budget is {value}.",
            state={"subject": "Spring campaign", "attribute": "budget", "value": value},
            valid_from=AT.replace(day=day),
        )

    chain = [state("$60k", 1, False), state("$72k", 5, False), state("$68k", 9, True)]
    ask = answer_from_states
    assert ask("What was the campaign budget before the latest change?", chain) == "$72k"
    assert ask("What was the campaign budget when it was first planned?", chain) == "$60k"
    assert ask("What was the campaign budget originally?", chain) == "$60k"


def test_a_state_that_never_names_whom_the_question_asks_about_does_not_answer() -> None:
    owner = StateRetrieved(
        text="The owner of Landing page is Sam Ortiz.",
        refs=("m1",),
        timestamp=AT,
        actor="mira",
        said="Landing page owner: Sam Ortiz",
        state={"subject": "Landing page", "attribute": "owner", "value": "Sam Ortiz",
               "attribute_names": ["owner", "lead"]},
    )  # fmt: skip
    assert answer_from_states("Who is the lead at Northlight?", [owner]) is None
    assert answer_from_states("Who is the lead on the landing page?", [owner]) == "Sam Ortiz"
