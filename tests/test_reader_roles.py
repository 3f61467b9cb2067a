"""Who holds a role, as people actually say it (issue #12, from bench/probes/audit,
release and oncall): a role replaced, handed over, taken from someone, an acronym role
held by the writer; and a phone number in a signature is no value at all."""

from __future__ import annotations

from pathlib import Path

import pytest

import memos
from memos.agents.values import values
from memos.eval.truth import read_states
from memos.testing import HashEmbedder


def _states(tmp_path: Path, *messages: tuple[str, str]) -> dict[tuple[str, str], str]:
    """(subject, attribute) -> the current value, after ingesting (author, text) pairs."""
    mos = memos.open(tmp_path / "home", embedder=HashEmbedder())
    cube = mos.create_cube("roles")
    for index, (author, text) in enumerate(messages):
        event = {"platform": "slack", "actor": author, "id": f"m{index}"}
        cube.ingest([{**event, "timestamp": f"2027-04-{index + 1:02d}T10:00:00Z", "text": text}])
    latest: dict[tuple[str, str], tuple[object, str]] = {}
    for state in read_states(cube):
        key = (state.subject, state.attribute.lower())
        if key not in latest or str(state.valid_from) > str(latest[key][0]):
            latest[key] = (state.valid_from, state.value)
    return {key: value for key, (_, value) in latest.items()}


def test_a_role_replaced_by_someone_passes_to_them(tmp_path: Path) -> None:
    states = _states(
        tmp_path,
        ("Maria Keller", "The technical expert for microbiology is Mr. Pascal Roth."),
        (
            "Claudia Meier",
            "Please note that Mr. Pascal Roth has been replaced as technical expert for "
            "microbiology by Dr. Ines Kaufmann.",
        ),
    )
    assert states[("microbiology", "technical expert")] == "Ines Kaufmann"


def test_a_role_handed_over_and_one_taken_from_its_holder(tmp_path: Path) -> None:
    states = _states(
        tmp_path,
        ("ravi.p", "Declaring INC-2207, SEV2. Checkout errors in us-east-1. I'm IC for now."),
        ("ravi.p", "Bumping INC-2207 to SEV1. Paging Maya to take IC."),
        # The message names another thing; the role goes with the incident Ravi led.
        ("Maya Chen", "I'm taking IC from Ravi as of 03:52. Bea: roll back the pool flag."),
    )
    assert states[("INC-2207", "ic")] == "Maya Chen"
    handed = _states(
        tmp_path / "handed",
        (
            "Dana O'Reilly",
            "I'm handing release-manager duty for 5.0 over to Sofia, effective today.",
        ),
    )
    assert handed[("5.0", "release manager")] == "Sofia"


@pytest.mark.parametrize(
    "text", ["(518) 555-0143", "+41 44 123 45 67", "ext. 4471", "518-555-0143"]
)
def test_a_phone_number_is_no_value(text: str) -> None:
    assert [v for v in values(f"Reach me on {text} after nine.") if v.kind != "person"] == []


def test_a_signature_phone_number_sets_no_count(tmp_path: Path) -> None:
    states = _states(
        tmp_path,
        ("Priya Nair", "The headcount for the wedding is 120.\n\nWarmly,\nPriya\n(518) 555-0143"),
    )
    assert "120" in states.values()
    assert not any("518" in value for value in states.values())


def test_a_verb_opening_a_message_is_no_first_name() -> None:
    people = [v.text for v in values("Paging Maya to take IC.") if v.kind == "person"]
    assert "Paging Maya" not in people


def test_a_job_done_names_its_role_and_a_question_by_the_verb_finds_it(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from memos.eval.memtrack.backends import Retrieved
    from memos.eval.memtrack.extractive import ExtractiveAnswerer
    from memos.eval.memtrack.states import read_question

    states = _states(
        tmp_path,
        ("Priya Nair", "The ceremony is scheduled for September 18."),
        ("Priya Nair", "Officiant: Sofia's aunt, Lucia Marquez, will officiate."),
        ("Sofia", "Jonah Feld (Dan's college roommate) got ordained online and will officiate!"),
    )
    assert "Jonah Feld" in states.values()
    assert "officiant" in {attribute for _, attribute in states}
    assert "offici" in " ".join(read_question("Who is officiating the ceremony?", None).words)
    at = datetime(2027, 5, 20, 12, tzinfo=UTC)
    items = [
        Retrieved(text="Music: band vs DJ still open.", refs=("m1",), timestamp=at.replace(day=2)),
        Retrieved(text="We're doing the band after all!!", refs=("m2",), timestamp=at),
    ]
    # A decision names one option without the question's words for the topic.
    answer = ExtractiveAnswerer().answer(
        "Is the reception music a band or a DJ?", items, asked_at=at
    )
    assert answer.text == "band"
