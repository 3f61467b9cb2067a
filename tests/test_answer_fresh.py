"""Answer shapes from the first sealed set once it became dev data (issue #12,
bench/fresh): a change said in other words than the state it changes, rooms named with
their building, the kind a question's opener asks for, things counted by their order."""

from __future__ import annotations

from datetime import UTC, datetime

from memos.eval.memtrack.backends import Retrieved
from memos.eval.memtrack.extractive import ExtractiveAnswerer
from memos.eval.memtrack.memos_backend import StateRetrieved

AT = datetime(2027, 3, 1, 9, tzinfo=UTC)


def _item(text: str, day: int = 3) -> Retrieved:
    return Retrieved(text=text, refs=(f"m{day}",), timestamp=AT.replace(day=day), actor="sam")


def _state(subject: str, attribute: str, value: str, day: int) -> StateRetrieved:
    when = AT.replace(day=day)
    return StateRetrieved(
        text=f"The {attribute} of {subject} is {value}.",
        refs=(f"m{day}",),
        timestamp=when,
        state={"subject": subject, "attribute": attribute, "value": value},
        valid_from=when,
    )


def _answer(question: str, *items: Retrieved) -> str:
    return ExtractiveAnswerer().answer(question, items, asked_at=AT.replace(day=28)).text


def test_a_later_change_that_names_the_states_attribute_beside_the_subject_wins() -> None:
    seats = _state("Kestrel x Lumenly", "seats", "320", 5)
    change = _item(
        "Confirming the amendment: we're adding 15 seats, which takes Kestrel from 320 to "
        "335 seats.",
        day=20,
    )
    question = "How many seats does Kestrel's Lumenly contract cover now?"
    assert _answer(question, seats, change) == "335"
    assert _answer(question, seats) == "320"  # nothing newer: the state's value
    discount = _state("Kestrel", "discount", "18%", 5)
    revised = _item(
        "I have to correct one term: the first-year discount has been revised to 12% "
        "(previously 18%).",
        day=10,
    )
    assert _answer("What first-year discount percentage does Kestrel get?", discount, revised) == (
        "12%"
    )


def test_a_value_far_from_the_states_attribute_changes_nothing() -> None:
    total = _state("first-year", "discount", "$114,892.80", 10)
    later = _item(
        "Price per seat is unchanged at $34/month, and the 12% first-year discount applies "
        "to the new seats too.",
        day=20,
    )
    question = "How much is Kestrel's first-year total after the discount?"
    assert _answer(question, total, later) == "$114,892.80"


def test_a_room_keeps_its_buildings_name_and_room_words_are_not_names() -> None:
    booked = _item("Lyman Hall 210 is the room on hold for you (capacity 160).")
    assert _answer("Which room is the CS 214 midterm booked in?", booked) == "Lyman Hall 210"
    moved = _item("Reminder: the review moves to Room 5 at noon.")
    assert _answer("Where is the review held?", moved) == "Room 5"


def test_the_opener_names_the_kind_a_room_or_venue_does_not() -> None:
    reminder = _item("Reminder: midterm is in Keller K-105, proctors please be there by 12:40.")
    assert _answer("What time do proctors need to be at the midterm room?", reminder) == "12:40"
    flat = _item("The flat at Belgradstrasse 17 has 4 rooms and costs EUR 2,480 a month.")
    assert _answer("How many rooms does the rented flat have?", flat) == "4"


def test_a_thing_counted_by_its_order_is_answered_by_it() -> None:
    old = _item("Required text is Kessler, Foundations of Data Structures, 3rd edition.", 2)
    new = _item(
        "Textbook update: we are switching to the 4th edition of Foundations of Data "
        "Structures, ISBN 978-0-262-55102-8.",
        day=20,
    )
    # A question in the present asks what holds at the end, as "now" does.
    assert _answer("Which edition of the textbook is required?", old, new) == "4th edition"
    assert _answer("Which edition of the textbook was required?", old, new) == "3rd edition"


def test_the_id_of_a_thing_is_the_identifier_its_sentence_gives() -> None:
    title = _item("[RG-0412] Regrade request - HW1 Q4")
    opened = _item("Opened by: Leo Fischer (lfischer3) (RG-0412).")
    assert _answer("What is the id of Leo Fischer's regrade request?", title, opened) == "RG-0412"


def test_how_much_takes_a_percentage_when_no_amount_is_said() -> None:
    old = _item("Late work: late submissions lose 10% per day.", 2)
    new = _item("Updated late policy: late submissions now lose 5% per day (was 10%).", 20)
    assert _answer("How much is deducted per day for a late submission now?", old, new) == "5%"
    fee = _item("The late fee is $25 per day.", 4)
    assert _answer("How much is the late fee per day?", fee, new) == "$25"


def test_a_count_is_the_one_written_beside_what_the_question_counts() -> None:
    lost = _item("Bad news: the landlord of Hohenzollernstrasse 42 chose another apartment.", 20)
    backup = _item("Backup: Belgradstrasse 17 (4 rooms), video viewing next week.", 10)
    assert _answer("How many rooms does the rented apartment have?", backup, lost) == "4"
    before = _item("Dietary so far: 11 vegan, 5 gluten-free, 1 nut allergy.", 10)
    final = _item("Dietary: vegan 14 (three cousins switched), gluten-free seven.", 20)
    guests = _item("At 140 guests that's $14,560 before service.", 5)
    assert _answer("How many vegan guests are there?", before, final, guests) == "14"
    attending = _item("Final: 134 attending (6 regrets from the 140 invited).", 21)
    assert _answer("How many guests are attending?", guests, attending) == "134"


def test_a_change_of_something_else_does_not_pick_the_last_time() -> None:
    moved = _item(
        "PackRight pushed packing, so we moved our flights two days later, to Tuesday Aug 24 "
        "- same LH 765, 03:35 dep / 09:30 arr."
    )
    assert _answer("What time does the family's flight depart?", moved) == "03:35"
    retimed = _item("The stand-up moved from 09:30 to 10:15.")
    assert _answer("What time is the stand-up?", retimed) == "10:15"


def test_before_a_named_value_is_the_value_said_before_it() -> None:
    rolled = _item("We've moved the booking to the Maersk Halden, ETD June 27, ETA July 31.", 5)
    delayed = _item("Heads up: Maersk Halden is delayed, new ETD June 29, ETA stays July 31.", 12)
    question = "What was the departure date before it moved to June 29?"
    assert _answer(question, rolled, delayed) == "June 27"


def test_a_later_sentence_that_says_its_value_is_new_supersedes_a_fuller_one() -> None:
    quoted = _item("Catering: Bay Street Kitchen quoted $18 per head for lunch, minimum 30.", 9)
    update = _item(
        "Catering update: Bay Street is now doing breakfast + lunch for $22 per head (up from "
        "$18 lunch-only). Approved.",
        day=20,
    )
    assert _answer("How much does Bay Street Kitchen charge per head?", quoted, update) == "$22"
    # "original" asks for the first value, whatever was said later.
    assert _answer("What was Bay Street Kitchen's original per-head price?", quoted, update) == (
        "$18"
    )


def test_a_question_about_a_named_time_is_not_answered_by_the_latest_update() -> None:
    start = _item(
        "Happy to confirm that Northwind Analytics will sponsor the project at $500/month, "
        "starting February 2026.",
        day=2,
    )
    raise_ = _item("Quick update: from March Northwind will sponsor $750/month (up from $500).", 9)
    question = "How much does Northwind Analytics sponsor per month in March 2026?"
    assert _answer(question, start, raise_) == "$500"
    assert _answer("How much does Northwind Analytics sponsor per month?", start, raise_) == "$750"


def test_an_old_value_before_an_aside_is_left_out() -> None:
    moved = _item(
        "Since Day 3 slipped to the 20th, Farah will deliver the rough cut on June 25 instead of "
        "June 18 (post schedule)."
    )
    assert _answer("When will Farah deliver the rough cut?", moved) == "June 25"


def test_spelled_out_counts_are_counts() -> None:
    confirmed = _item("Confirmed: twenty extras for the diner day, call 10:00 AM.", 18)
    cap = _item("We can fit 18 extras max without it looking staged.", 11)
    assert _answer("How many extras are booked for the diner day?", cap, confirmed) in (
        "20",
        "twenty",
    )
    from memos.agents.values import values

    said = values("CS 214 stands at one hundred fifty-one students (151), thirty-two tutors")
    assert [v.text for v in said if v.kind == "count"][-2:] == ["151", "32"]  # no "1 hundred"


def test_a_number_the_question_names_counts_nothing() -> None:
    now = _item("As of Feb 22, CS 214 stands at one hundred fifty-one students (151).", 22)
    question = "How many students are enrolled in CS 214 now?"
    assert _answer(question, now) == "151"


def test_a_date_opener_asks_a_date_not_the_role_the_question_names() -> None:
    from memos.eval.memtrack.states import read_question

    asked = read_question("By what date must the manual be sent to the lead assessor?", AT)
    assert asked.kinds == {"date"}
    assert "person" in read_question("Who is the lead assessor?", AT).kinds
    # "Which day of the week": a weekday's name, not a date.
    assert "place" in read_question("Which day of the week is the office open?", AT).kinds


def test_a_dated_state_is_answered_in_the_form_people_write() -> None:
    release = _state("wrenfield 5.0", "release date", "March 3, 2026", 4)
    assert _answer("When is the wrenfield 5.0 release date?", release) == "March 3"
