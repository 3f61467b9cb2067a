"""Who holds a role (issue #12): a role changes hands in words ("Priya is head coach of
the Otters now", "she's officially our treasurer"), and the phone question about the role
reaches the number of whoever was named last, under the line it asks for."""

from __future__ import annotations

from datetime import UTC, datetime

from memos.eval.memtrack.backends import Retrieved
from memos.eval.memtrack.extractive import ExtractiveAnswerer
from memos.eval.memtrack.roles import asked_role, role_holder

AT = datetime(2027, 5, 1, 9, tzinfo=UTC)


def _item(text: str, day: int) -> Retrieved:
    return Retrieved(text=text, refs=(f"m{day}",), timestamp=AT.replace(day=day), actor="kim")


def _answer(question: str, *items: Retrieved) -> str:
    return ExtractiveAnswerer().answer(question, items, asked_at=AT.replace(day=28)).text


ROSTER = _item(
    "Otters U9: Dmitri Vance (head), 212-555-0101; Priya Anand (asst), 212-555-0177\n"
    "Herons U9: Lou Baker (head), 212-555-0140",
    day=2,
)


def test_the_last_person_named_to_a_role_holds_it_and_their_number_answers() -> None:
    handover = _item("Priya Anand is head coach of the Otters from today; thanks, Dmitri.", day=9)
    assert role_holder("Who is the Otters U9 head coach?", [ROSTER, handover]) == "Priya Anand"
    question = "What is the phone number of the Otters U9 head coach?"
    assert _answer(question, ROSTER, handover) == "212-555-0177"
    # Before the handover, the roster answers (no statement names the role's noun).
    assert _answer(question, ROSTER) == "212-555-0101"


def test_a_pronoun_holder_is_the_name_before_it_and_stepping_down_is_no_claim() -> None:
    leaving = _item("Omar Haddad is stepping down as treasurer at the end of the month.", day=5)
    joining = _item("Welcome aboard! Nadia confirmed: she's officially our treasurer now.", day=7)
    assert role_holder("Who is the club's treasurer?", [leaving, joining]) == "Nadia"
    assert role_holder("Who is the club's treasurer?", [leaving]) is None


def test_a_newer_card_or_statement_beats_an_older_one_and_other_roles_do_not_count() -> None:
    old = _item("Devon Price; Senior Loan Officer | Harbor Lending | (503) 555-0119", day=2)
    new = _item("From Monday, Grace Okafor becomes your loan officer.", day=20)
    escrow = _item("Hana Ito is your escrow officer at Summit Title.", day=25)
    question = "Who is our current loan officer?"
    assert asked_role(question) == asked_role("Who's the loan officer?")
    assert role_holder(question, [old, new, escrow]) == "Grace Okafor"
    assert role_holder(question, [old, escrow]) == "Devon Price"


def test_the_number_under_the_line_asked_for_wins() -> None:
    card = _item("Grace Okafor; Loan Officer | Harbor Lending | Office: (503) 555-0100", day=21)
    cc = _item("I'm cc'ing Grace Okafor, and her direct line is (503) 555-0133.", day=3)
    new = _item("From Monday, Grace Okafor becomes your loan officer.", day=20)
    question = "What is the direct phone number of our current loan officer?"
    assert _answer(question, card, cc, new) == "(503) 555-0133"
    assert _answer("What is the office phone of our current loan officer?", card, cc, new) == (
        "(503) 555-0100"
    )


def test_whoever_was_last_handed_a_thing_holds_it() -> None:
    owner = _item("Ruth owns the state liquor permit application and the signage permit.", day=3)
    handed = _item("Handing the liquor permit to Marco Diaz, he's at city hall daily.", day=12)
    unrelated = _item("Handing the keys to Sam Lee on Friday.", day=20)
    question = "Who's dealing with the liquor permit now?"
    assert _answer(question, owner, handed, unrelated) == "Marco Diaz"
    assert _answer(question, owner, unrelated) == "Ruth"


def test_a_contact_for_a_thing_is_who_will_be_our_contact_for_it() -> None:
    cover = _item(
        "While I'm out, Gabriela Stone will be your property manager; anything building-related, "
        "call her at (503) 555-0110.",
        day=18,
    )
    lease = _item("The lease starts May 1; The landlord will be the one to sign.", day=2)
    question = "Who should we call about building stuff now?"
    assert _answer(question, lease, cover) == "Gabriela Stone"
