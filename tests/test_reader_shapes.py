"""Clause shapes the offline reader reads in tracker, incident, release, office and order
messages (issue #12): each test feeds messages through `cube.ingest` (the public path) and
checks the keyed states the cube then holds, or reads a clause or a value directly."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

import memos
from memos.agents.ontology import attribute_names
from memos.agents.values import values
from memos.eval.truth import read_states
from memos.testing import HashEmbedder

AT = datetime(2027, 3, 1, 10, tzinfo=UTC)  # a Monday


def _states(
    tmp_path: Path, *messages: str | tuple[str, dict[str, str]]
) -> dict[str, set[tuple[str, str, str]]]:
    """message text -> the (subject, attribute, value) states read from it; messages are
    ingested one by one, an hour apart, into one cube (a message may carry fields)."""
    mos = memos.open(tmp_path / "home", embedder=HashEmbedder())
    cube = mos.create_cube("shapes")
    texts = []
    for index, message in enumerate(messages):
        text, fields = message if isinstance(message, tuple) else (message, {})
        texts.append(text)
        record = {
            "platform": "slack",
            "actor": "sam",
            "timestamp": f"2027-03-01T{10 + index:02d}:00:00Z",
            "text": text,
            "id": f"m{index}",
            **fields,
        }
        cube.ingest([record])
    found: dict[str, set[tuple[str, str, str]]] = {text: set() for text in texts}
    for state in read_states(cube):
        index = int(str(state.source_ref)[1:])
        found[texts[index]].add((state.subject, state.attribute, state.value))
    mos.close()
    return found


def test_an_incident_thread_keys_everything_to_the_numbered_incident(tmp_path: Path) -> None:
    opened = "Incident #4412 triggered: Webhook delivery failures (SEV-2). Assigned to Kai Young."
    bumped = "Bumping this to SEV-1, merchants are affected."
    counted = "Final count: 318 merchants affected, not 290."
    resolved = "Resolved - This incident has been resolved."
    found = _states(tmp_path, opened, bumped, counted, resolved)
    assert found[opened] == {("Incident 4412", "assignee", "Kai Young")}  # SEV-2 is no thing
    assert found[bumped] == {("Incident 4412", "severity", "SEV-1")}
    assert found[counted] == {("Incident 4412", "merchants affected", "318")}
    assert found[resolved] == {("Incident 4412", "status", "resolved")}


def test_tracker_lines_name_the_ticket_not_the_actor(tmp_path: Path) -> None:
    created = "SHOP-212 created: Checkout button unresponsive on Safari. Priority: High."
    taken = "Wei Zhang changed Assignee from Unassigned to Wei Zhang."
    done = "SHOP-212: Status In Progress → Done. Fix Version: 3.8.1"
    moved = "MOB-77 Fix Version changed from 6.2 to 6.3"
    found = _states(tmp_path, created, taken, done, moved)
    assert ("SHOP-212", "priority", "High") in found[created]
    assert found[taken] == {("SHOP-212", "assignee", "Wei Zhang")}
    assert found[done] == {("SHOP-212", "status", "Done"), ("SHOP-212", "fix version", "3.8.1")}
    assert found[moved] == {("MOB-77", "fix version", "6.3")}  # "from 6.2": a decimal


def test_a_status_chain_ends_at_its_last_step(tmp_path: Path) -> None:
    chain = "iOS 5.1.0 (512) status: Waiting for Review → In Review → Ready for Sale"
    gate = "Gate biometric_login: pass percentage 25% -> 100%"
    found = _states(tmp_path, chain, gate)
    assert found[chain] == {("iOS 5.1.0", "status", "Ready for Sale")}
    assert found[gate] == {("biometric_login", "pass percentage", "100%")}  # a flag's bare name


def test_office_moves_floors_and_counts(tmp_path: Path) -> None:
    move = "The Berlin team moves to the 5th floor on March 3."
    desks = "Desk count for the 5th floor: 46."
    headcount = "Headcount for the new floor is 38 (was 35): three interns join in June."
    slipped = "The move date for the design team is pushed back two weeks, to April 19."
    found = _states(tmp_path, headcount, move, desks, slipped)
    assert found[move] == {
        ("Berlin team", "floor", "5th floor"),
        ("Berlin team", "move date", "March 3"),
    }
    assert found[desks] == {("5th floor", "desk count", "46")}
    # "Headcount ... is 38: three interns join" is a sentence, not a "Key: value" line.
    assert {(a, v) for _, a, v in found[headcount]} == {("headcount", "38")}
    assert found[slipped] == {("design team", "move date", "April 19")}


def test_roles_reviews_and_choices(tmp_path: Path) -> None:
    captain = "Marco is covering as release captain for 6.2"
    back = "Taking release captain back from Marco for 6.3."
    reviews = "Security review passed, no findings. Legal review pending."
    build = "we're going with build 6203 for the store submission, 6200 had the login crash"
    found = _states(tmp_path, captain, back, reviews, build)
    assert found[captain] == {("6.2", "release captain", "Marco")}
    assert found[back] == set()  # no release "captain back from Marco" ships in 6.3
    assert found[reviews] == {
        ("Security review", "status", "passed"),
        ("Legal review", "status", "pending"),
    }
    assert found[build] == {("store submission", "build", "6203")}


def test_an_order_form_list_and_a_priced_count(tmp_path: Path) -> None:
    form = "Attached is the revised order form: 150 agents, $95/agent/month, 24-month term."
    deal = "Deal. Please send the updated order form for 300 seats at $17."
    quantity = "Quantity: 480 units"
    subject = {"subject": "Acme support renewal"}
    found = _states(tmp_path, (form, subject), (deal, subject), (quantity, subject))
    assert {(a, v) for _, a, v in found[form]} == {
        ("agents", "150"),
        ("price per agent", "$95"),
        ("term", "24 months"),
    }
    assert {(a, v) for _, a, v in found[deal]} == {("seats", "300"), ("price per seat", "$17")}
    # Alone, "480 units" is the value of the field that names it.
    assert {(a, v) for _, a, v in found[quantity]} == {("quantity", "480 units")}


def test_corrections_measures_and_closing(tmp_path: Path) -> None:
    rent = "The rent for Suite 400 will be $14,200/month starting July 1."
    fixed = "Apologies — the correct figure is $14,800/month."
    storage = "Update: storage cap raised to 6 TB after the finance review."
    dock = "Dock 7 stays at 1,800 sqm"
    found = _states(tmp_path, rent, fixed, (storage, {"subject": "Cluster sizing"}), dock)
    assert found[fixed] == {("Suite 400", "rent", "$14,800")}
    assert {(a, v) for _, a, v in found[storage]} == {("storage cap", "6 TB")}
    assert all(a != "dock 7" for _, a, _ in found[dock])  # a name is no attribute


@pytest.mark.parametrize(
    "text",
    [
        "We think the bug is fixed if the tests pass.",
        "Open PR #230 in mobile-app: Upgrade Postgres to 16 (API-177)",
        "Reference: ICO-2027-5531.",
        "Closing thoughts: great quarter, everyone.",
    ],
)
def test_shapes_that_state_nothing_new(tmp_path: Path, text: str) -> None:
    assert _states(tmp_path, text)[text] == set()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("new date is Saturday the 20th", ["March 20"]),  # not the coming Saturday
        ("Tuesday, the 13th works", ["April 13"]),  # the first 13th that is a Tuesday
        ("Close date: 9/30/2027.", ["September 30"]),
        ("due 30/09/27", ["September 30"]),
        ("on 3/4/2027", []),  # March 4 or April 3: left alone
        # A month and day with no year: beside a weekday or a word that brings a date.
        ("Opening day is now Sat 3/27, same game times.", ["March 27"]),
        ("PPAP due 4/30 at the latest", ["April 30"]),
        ("registration opened Mon 1/18", ["January 18"]),  # the weekday picks the year
        ("visa interview Wed 14/4", ["April 14"]),  # and which number is the month
        ("the line is 3/4 booked", []),  # a share, not March 4
    ],
)
def test_dates_by_weekday_and_in_numbers(text: str, expected: list[str]) -> None:
    assert [v.text for v in values(text, AT) if v.kind == "date"] == expected


def test_counted_attributes_go_by_both_word_orders() -> None:
    names = attribute_names("merchants affected")
    assert names[:3] == ("merchants affected", "affected merchants", "merchants")


def test_identifiers_and_a_correction_in_the_same_message(tmp_path: Path) -> None:
    po = "PO number for Lumenfield is 7781-22."
    fixed = "Correction, sorry: the PO number is 7781-23."
    both = "The budget for Lumenfield is $5,000. Correction, sorry: the budget is $6,000."
    found = _states(tmp_path, po, fixed, both)
    assert found[po] == {("Lumenfield", "po number", "7781-22")}
    assert found[fixed] == {("Lumenfield", "po number", "7781-23")}  # not the count 7781
    assert found[both] == {("Lumenfield", "budget", "$6,000")}  # the message's last word


def test_steps_and_decided_keys(tmp_path: Path) -> None:
    subject = {"subject": "Suite 400 lease"}
    rent = "Rent goes up 3% on renewal, to $15,244/month."
    budget = "Budget approved: $1.2M for FY28."
    found = _states(tmp_path, (rent, subject), (budget, subject))
    assert {(a, v) for _, a, v in found[rent]} == {("rent", "$15,244")}  # not the 3%
    assert {(a, v) for _, a, v in found[budget]} == {("budget", "$1.2M")}


def test_a_renewal_confirmed_with_its_terms(tmp_path: Path) -> None:
    confirmed = (
        "Confirming we'll renew Brightline for 40 seats at $22/seat/month, "
        "12-month term starting March 1."
    )
    signed = "Signed! Brightline order form is fully executed as of today."
    counts = "circuit count for Lab B stays at 6; the rack count for Lab B is now 12"
    found = _states(tmp_path, confirmed, signed, counts)
    assert found[confirmed] == {
        ("Brightline", "seats", "40"),
        ("Brightline", "price per seat", "$22"),
        ("Brightline", "term", "12 months"),
        ("Brightline", "start date", "March 1"),
    }
    assert found[signed] == {("Brightline order form", "status", "executed")}
    assert found[counts] == {("Lab B", "circuit count", "6"), ("Lab B", "rack count", "12")}


def test_flags_quotes_schedules_and_roles(tmp_path: Path) -> None:
    flag = "Flag offline-sync: targeting changed — production rollout 5% → 20%"
    paused = "Pausing offline-sync at 20% — crash rate ticked up."
    quote = (
        "Hi Sam, as discussed the Quorra renewal comes in at $41 per user per month, "
        "220 users, starting May 1."
    )
    legal = "Legal review of the Quorra MSA is complete, redlines sent."
    locked = "move date for Floor 6 is locked for Sat 27 Mar."
    bumped = "FAC-312 status: Scheduled. Due date: 24 Mar."
    later = "electrician bumped FAC-312 to the 25th"
    captain = "Captain for 7.4 is Ben."
    swap = "Swap: Data takes Bay B, Bay C becomes the quiet room."
    found = _states(tmp_path, flag, paused, quote, legal, locked, bumped, later, captain, swap)
    assert found[flag] == {("offline-sync", "production rollout", "20%")}
    assert found[paused] == set()  # holds the rollout where it is: nothing new
    assert found[quote] == {
        ("Quorra renewal", "price per user", "$41"),
        ("Quorra renewal", "users", "220"),
        ("Quorra renewal", "start date", "May 1"),
    }
    assert found[legal] == {("Quorra MSA", "status", "complete")}
    assert found[locked] == {("Floor 6", "move date", "March 27")}  # not just a "date"
    assert ("FAC-312", "due date", "March 25") in found[later]
    assert found[captain] == {("7.4", "captain", "Ben")}
    assert found[swap] == set()  # "Data takes Bay B" is no name


def test_asides_handovers_and_tracker_verbs(tmp_path: Path) -> None:
    slipped = "Veridian go-live slipped to Oct 14 (their SSO isn't ready)."
    mine = "Onboarding owner for Veridian moves from Hannah to me starting Monday."
    parked = "SEC-455 parked until Q1; revisit after the audit."
    marked = 'Grace Kim marked "Order monitors" complete'
    access = (
        "Access to level 4 will be from March 24, not March 20 — the cleaners need the weekend."
    )
    seats = (
        "We've decided to add 50 more seats, bringing us to 350.",
        {"subject": "Veridian renewal"},
    )
    found = _states(tmp_path, slipped, mine, parked, marked, access, seats)
    # the aside's "isn't" negates nothing, and the date is keyed once, not twice
    assert found[slipped] == {("Veridian go-live", "date", "Oct 14")}
    assert found[mine] == {("Veridian", "owner", "sam")}
    assert found[parked] == {("SEC-455", "status", "parked")}
    assert found[marked] == {("Order monitors", "status", "complete")}
    assert found[access] == {("level 4", "access date", "March 24")}
    assert {(a, v) for _, a, v in found[seats[0]]} == {("seats", "350")}


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("The status is now Waiting for Review", "Waiting for Review"),
        ("OPS-9 moved to Ready for Distribution.", "Ready for Distribution"),
    ],
)
def test_stage_names_with_for(tmp_path: Path, text: str, value: str) -> None:
    first = "OPS-9 status: Open"
    found = _states(tmp_path, first, text)
    assert {v for _, a, v in found[text] if a == "status"} == {value}


def test_an_estimate_sent_is_a_value_and_an_aside_hedges_nothing(tmp_path: Path) -> None:
    opened = "Claim CLM-3301 opened for the hail damage."
    approved = "Approved amount for CLM-3301: $7,420 (estimate $8,420 less $1,000 deductible)."
    sent = "Our estimate for the roof repair is $8,420."
    guessed = "We estimate the roof at about $9,000."
    found = _states(tmp_path, opened, approved, sent, guessed)
    assert {value for _, _, value in found[approved]} == {"$7,420"}  # not the aside's values
    assert {value for _, _, value in found[sent]} == {"$8,420"}
    assert found[guessed] == set()  # the verb still hedges


def test_fyi_leads_a_message_and_names_no_attribute(tmp_path: Path) -> None:
    text = "FYI ROOF-12 went to In Progress."
    assert _states(tmp_path, text) == {text: {("ROOF-12", "status", "In Progress")}}
