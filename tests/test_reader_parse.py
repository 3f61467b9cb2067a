"""The offline reader's dependency parse (agents/parse.py, issue #12): the shapes it reads
with a real spaCy English pipeline, what it refuses to read, how the general rules use it
only where they read nothing, and the `reader_parse` setting that turns it on."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

import memos
from memos.agents.events import utterances
from memos.agents.parse import load_parser, parsed_readings
from memos.agents.reader import MemReader, ReaderSettings
from memos.agents.statements import Context, general_states
from memos.errors import ConfigError

pytest.importorskip("spacy", reason="the parse extra is not installed (pip install .[parse])")
try:
    NLP = load_parser("auto")
except ConfigError:  # pragma: no cover - spaCy without an English pipeline
    pytest.skip("no spaCy English pipeline installed", allow_module_level=True)

AT = datetime(2026, 2, 4, 11, 20, tzinfo=UTC)


def _parsed(clause: str) -> list[tuple[str | None, str | None, str, str]]:
    return [
        (r.subject, r.attribute, r.value.text, r.reason) for r in parsed_readings(clause, AT, NLP)
    ]


@pytest.mark.parametrize(
    ("clause", "expected"),
    [
        (
            "Yes, the additional living expense allowance is $150 per day.",
            ("additional living expense allowance", None, "$150", "parse copula"),
        ),
        (
            "Good news from the planning review: the monthly cloud budget for Q3 has been "
            "raised to $48,000 to cover the extra replicas.",
            ("monthly cloud budget", None, "$48,000", "parse raise to"),
        ),
        (
            "Also a note for your records: your policy has a $1,000 deductible.",
            ("policy", "deductible", "$1,000", "parse has"),
        ),
        (
            "Revised estimate after opening the wall: $15,950 (mold remediation added).",
            ("estimate", None, "$15,950", "parse label"),
        ),
        (
            "Dana pushed the go-live to March 3.",
            ("go-live", None, "March 3", "parse push to"),
        ),
        ("Ola: v2 rate limit is 300 now.", ("v2 rate limit", None, "300", "parse copula")),
        ("The price of the renewal is $35.", ("renewal price", None, "$35", "parse copula")),
    ],
)
def test_shapes_read_subject_and_value(
    clause: str, expected: tuple[str | None, str | None, str, str]
) -> None:
    assert _parsed(clause) == [expected]


@pytest.mark.parametrize(
    "clause",
    [
        "The budget might be raised to $50,000.",  # modal
        "The launch was not moved to March 3.",  # negated
        "If the price is $35 we sign.",  # conditional
        "It's now $200 per day.",  # a pronoun: what "it" is, the parse cannot say
        "The team met on the roof.",  # no typed value
        "Dana said the weather was nice.",  # nothing typed to key
    ],
)
def test_unsure_or_unnamed_clauses_read_nothing(clause: str) -> None:
    assert _parsed(clause) == []


def test_the_rules_use_the_parse_only_where_they_read_nothing() -> None:
    def read(text: str, nlp: object = NLP) -> list[tuple[str, str, str, str]]:
        record = {"platform": "email", "actor": "rita", "timestamp": AT.isoformat(), "text": text}
        said = utterances([record])[0]
        context = Context()
        context.parser = nlp
        found = general_states(text, said, context, text)
        return [(s.subject, s.attribute, s.value, rule) for s, rule in found]

    # "estimate" reads as a hedge to the rules; the parse says it is a noun here.
    estimate = "Our estimate for mitigation and rebuild is $14,300."
    assert read(estimate) == [("estimate", "price", "$14,300", "parse copula")]
    # A verb "estimate" still hedges.
    assert read("We estimate the rebuild at $14,300.") == []
    # Where the rules read the clause, their reading stands (no parse reason).
    assert read("the v1 sunset is pushed to September 30.") == [
        ("v1", "sunset", "September 30", "pushed to")
    ]
    # Without a parser (the default), the clauses the rules cannot read key nothing.
    assert read(estimate, None) == []
    assert read("Also a note for your records: your policy has a $1,000 deductible.", None) == []


def test_reader_parse_setting_turns_it_on_and_names_what_is_missing(tmp_path: Path) -> None:
    message = {
        "platform": "email",
        "actor": "dana",
        "timestamp": AT.isoformat(),
        "text": "Also a note for your records: your policy has a $1,000 deductible.",
    }

    def keyed(mos: memos.MemOS, name: str, reader: MemReader | None = None) -> list[object]:
        cube = mos.create_cube(name)
        cube.ingest([message], reader=reader)
        return [i.attributes.get("value") for i in cube.items() if "state_key" in i.attributes]

    with memos.open(tmp_path / "off", embedder="hash") as mos:
        assert keyed(mos, "default") == []  # off by default: the rules alone
        on = MemReader(settings=ReaderSettings(parse="auto"))
        assert keyed(mos, "reader", on) == ["$1,000"]
    with memos.open(tmp_path / "on", embedder="hash", reader_parse="auto") as mos:
        assert keyed(mos, "setting") == ["$1,000"]
    assert load_parser("none") is None and load_parser(None) is None
    with pytest.raises(ConfigError, match="no spaCy pipeline not_a_pipeline_xyz is installed"):
        load_parser("not_a_pipeline_xyz")
    with memos.open(tmp_path / "bad", embedder="hash", reader_parse="not_a_pipeline_xyz") as mos:
        cube = mos.create_cube("c")
        with pytest.raises(ConfigError, match="not_a_pipeline_xyz"):
            cube.ingest([message])
        assert cube.items() == []  # nothing stored
