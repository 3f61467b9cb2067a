"""Shapes the offline reader reads in bench/fresh3 (dev data since bench/fresh4 was
written, issue #12): calendar invites, street addresses, moved fields, dated titles, a name
that is all of a field's value, "make it 14" and past-tense first person. Each message goes
through `cube.ingest` (the public path) into a real SQLite cube."""

from __future__ import annotations

from pathlib import Path

import memos
from memos.agents.extract import third_person
from memos.agents.signatures import joined_signature
from memos.agents.values import values
from memos.eval.truth import read_states
from memos.testing import HashEmbedder


def _states(
    tmp_path: Path, *messages: str | tuple[str, dict[str, str]]
) -> dict[str, set[tuple[str, str, str]]]:
    """message text -> the (subject, attribute, value) states read from it; messages are
    ingested one by one, an hour apart, on March 1, 2027 (a message may carry fields)."""
    mos = memos.open(tmp_path / "home", embedder=HashEmbedder())
    cube = mos.create_cube("fresh3")
    texts = []
    for index, message in enumerate(messages):
        text, fields = message if isinstance(message, tuple) else (message, {})
        texts.append(text)
        cube.ingest(
            [
                {
                    "platform": "slack",
                    "actor": "Dev Okafor",
                    "timestamp": f"2027-03-01T{10 + index:02d}:00:00Z",
                    "text": text,
                    "id": f"m{index}",
                    **fields,
                }
            ]
        )
    found: dict[str, set[tuple[str, str, str]]] = {text: set() for text in texts}
    for state in read_states(cube):
        found[texts[int(str(state.source_ref)[1:])]].add(
            (state.subject, state.attribute, state.value)
        )
    mos.close()
    return found


def test_a_calendar_invites_fields_are_about_the_event_it_names(tmp_path: Path) -> None:
    first = (
        "Invite: County health inspection (pre-opening) - Saltgrass\n"
        "When: Tue Mar 30, 2027, 10:00-11:30 AM PT\nWhere: 218 Alder St, Unit 4C\n"
        "Organizer: Dev Okafor"
    )
    moved = (
        "Updated invite: County health inspection (pre-opening) - Saltgrass\n"
        "When: Fri Apr 2, 2027, 2:00-3:30 PM PT (was Tue Mar 30, 10:00 AM)"
    )
    found = _states(tmp_path, first, moved)
    # Not keyed to "Unit 4C", the one numbered name in the message, as it was.
    assert ("County health inspection", "date", "March 30") in found[first]
    assert ("County health inspection", "where", "218 Alder St") in found[first]
    assert ("County health inspection", "date", "April 2") in found[moved]


def test_an_event_field_names_what_an_invite_is_about(tmp_path: Path) -> None:
    invite = ("When: Thu Apr 8, 2027 9:00 AM\nWhere: Room 210", {"event": "Menu tasting (final)"})
    found = _states(tmp_path, invite)
    assert ("Menu tasting", "date", "April 8") in found[invite[0]]


def test_a_street_address_is_no_count_and_no_person() -> None:
    found = [(v.kind, v.text) for v in values("Deliver to 14880 Jurupa Ave, Fontana by 3pm.")]
    assert ("count", "14880") not in found
    assert ("person", "Jurupa Ave") not in found
    assert ("count", "12") in [(v.kind, v.text) for v in values("we need 12 Large Boxes")]


def test_a_field_that_moves_again_holds_the_value_after_the_arrow(tmp_path: Path) -> None:
    moved = "Opening date moves again: April 24 -> Saturday May 1. Reason: the OLCC license."
    found = _states(tmp_path, moved)
    assert found[moved] == {("Opening", "date", "May 1")}


def test_a_title_dated_the_day_it_was_written_dates_nothing(tmp_path: Path) -> None:
    notes = "Opening plan - Mon Mar 1 (notes: Jo)"
    ahead = "Opening plan - Mon Mar 8"
    found = _states(tmp_path, notes, ahead)
    assert found[notes] == set()  # the minutes' own date
    assert ("Opening plan", "date", "March 8") in found[ahead]


def test_a_name_that_is_all_of_a_one_noun_fields_value(tmp_path: Path) -> None:
    moved = (
        "Vessel: Maersk Halifax V.314E -> Maersk Seletar V.316E",
        {"ticket": "IMP-301"},
    )
    found = _states(tmp_path, moved)
    assert ("IMP-301", "vessel", "Maersk Seletar V.316E") in found[moved[0]]


def test_a_name_replaced_by_an_arrow_is_the_whole_previous_name(tmp_path: Path) -> None:
    mos = memos.open(tmp_path / "home", embedder=HashEmbedder())
    cube = mos.create_cube("vessel")
    text = "Vessel: Maersk Halifax V.314E (rolled) -> Maersk Seletar V.316E"
    cube.ingest([{"platform": "jira", "actor": "sam", "timestamp": "2027-03-01T10:00:00Z",
                  "text": text, "id": "m0", "ticket": "IMP-301"}])  # fmt: skip
    states = [i for i in cube.items() if i.attributes.get("state_key") == "imp-301/vessel"]
    assert [(i.attributes["value"], i.attributes["previous"]) for i in states] == [
        ("Maersk Seletar V.316E", "Maersk Halifax V.314E")  # was "Maersk Halifax", a person
    ]
    mos.close()


def test_make_it_sets_the_value_and_on_names_no_subject(tmp_path: Path) -> None:
    quoted = ("Orbit PM quote: 12 seats at $79 / seat / month.", {"subject": "Orbit PM quote"})
    reply = (
        "On seats: make it 14, not the 15 I mentioned on the phone.",
        {"subject": "RE: Orbit PM quote"},
    )
    found = _states(tmp_path, quoted, reply)
    values_said = {value for _, attribute, value in found[reply[0]] if attribute == "seats"}
    assert values_said == {"14"}  # was "make it 14", keyed to a subject "On"


def test_past_tense_stays_past_in_the_third_person() -> None:
    said = third_person("sorry, I meant Friday April 2 at 2:00 PM", "Tom Baptiste")
    assert said == "Sorry, Tom Baptiste meant Friday April 2 at 2:00 PM"
    assert third_person("I own the ticket", "Tom Baptiste") == "Tom Baptiste owns the ticket"


def _memories(tmp_path: Path, author: str, text: str) -> list[str]:
    """What one email by `author` is stored as, through `cube.ingest` into SQLite."""
    with memos.open(tmp_path / "home", embedder=HashEmbedder()) as mos:
        cube = mos.create_cube("cards")
        cube.ingest([{"platform": "email", "actor": author, "id": "m0", "text": text,
                      "timestamp": "2027-04-26T18:15:00Z"}])  # fmt: skip
        return [i.content or "" for i in cube.items()]


def test_a_signature_block_is_one_memory_that_says_whose_number_it_is(tmp_path: Path) -> None:
    text = (
        "Hi Ken,\n\nApex can take BHG-7781 from here: entry fee $145.\n\nThanks,\n"
        "Maria Lindqvist\nLicensed Customs Broker, Apex Trade Compliance\n"
        "(714) 555-0152 | maria@apextrade.com"
    )
    said = _memories(tmp_path, "Maria Lindqvist", text)
    card = [s for s in said if "555-0152" in s]
    assert len(card) == 1 and card[0].startswith(
        "Maria Lindqvist; Licensed Customs Broker, Apex Trade Compliance; (714) 555-0152"
    )
    assert "The entry fee of BHG-7781 is $145." in said  # the body is read as before


def test_text_that_does_not_end_in_a_signature_is_left_as_it_is() -> None:
    plain = "Status update\n\nWe moved the call to Friday.\nRoom B is booked."
    assert joined_signature(plain) == plain
    listing = "Vendors:\n\nAcme Supply\nBolt Bros\nCarter & Sons"  # no number, no email
    assert joined_signature(listing) == listing
    assert joined_signature("Thanks!\n\n- Tom Baptiste, REHS\nCell: 503-555-0110") == (
        "Thanks!\n\nTom Baptiste, REHS; Cell: 503-555-0110"
    )


def test_a_card_with_its_title_on_the_name_line_and_an_extension_is_one_memory(
    tmp_path: Path,
) -> None:
    text = (
        "Ines,\n\nThe re-test passed, so please ship the 50 samples by Friday.\n\n"
        "Tomas Reyes | Supplier Quality Engineer\nHalden Pumps - Akron\n(330) 555-0142 ext. 2208"
    )
    said = _memories(tmp_path, "Tomas Reyes", text)
    card = [s for s in said if "555-0142" in s]
    # "ext." ends no sentence: the extension stays with its number, on the holder's card.
    assert len(card) == 1 and card[0].startswith(
        "Tomas Reyes | Supplier Quality Engineer; Halden Pumps - Akron; (330) 555-0142 ext. 2208"
    )
    assert not any(s.startswith("2208") for s in said)
