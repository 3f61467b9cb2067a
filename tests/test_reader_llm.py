"""MemReader with an LLM: scripted answers (good, broken, ungrounded, failing), the offline
fallback, LLM reconciliation advice, cost accounting, and one run over real HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from loopback_llm import Reply, completion, loopback_llm

import memos
from memos.agents.llm import OpenAIClient
from memos.agents.reader import MemReader, ReaderSettings
from memos.errors import BackendError, ConfigError
from memos.testing import FakeClock, HashEmbedder, ScriptedLLM

CHAT = [
    {
        "speaker": "nina",
        "id": "m1",
        "timestamp": "2025-03-01T09:00:00Z",
        "content": "Hey! I moved to Oslo last week and I started at Telenor.",
    },
    {"role": "assistant", "id": "m2", "content": "Congratulations on the move!"},
    {
        "speaker": "omar",
        "id": "m3",
        "timestamp": "2025-03-01T09:05:00Z",
        "content": "ENG-12 is done, the cache fix shipped.",
    },
]


def memories(*items: dict[str, Any]) -> str:
    return json.dumps({"memories": list(items)})


GOOD = memories(
    {
        "message": 1,
        "type": "fact",
        "content": "Nina lives in Oslo.",
        "subject": "Nina",
        "attribute": "city",
        "value": "Oslo",
        "keywords": ["Oslo"],
    },
    {
        "message": 1,
        "type": "fact",
        "content": "Nina started working at Telenor.",
        "keywords": "Telenor, job",
    },
    {
        "message": 2,
        "type": "task_state",
        "content": "ENG-12 is done.",
        "subject": "ENG-12",
        "attribute": "status",
        "value": "done",
    },
)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2025, 6, 1, 9, 0, tzinfo=UTC))


@pytest.fixture
def mos(tmp_path: Path, clock: FakeClock) -> Iterator[memos.MemOS]:
    with memos.open(tmp_path / "h", user="alice", embedder=HashEmbedder(dim=64), clock=clock) as m:
        yield m


@pytest.fixture
def cube(mos: memos.MemOS) -> memos.MemCube:
    return mos.create_cube("team")


def test_llm_extracts_keyed_and_free_memories(cube: memos.MemCube) -> None:
    llm = ScriptedLLM().when("Messages:", GOOD)
    report = cube.ingest(CHAT, llm=llm)
    assert report.extractor == "llm:scripted" and not report.fallbacks
    assert [e.content for e in report.added] == [
        "Nina lives in Oslo.",
        "Nina started working at Telenor.",
        "The status of ENG-12 is done.",
    ]  # keyed states are stored in one wording, whoever extracted them
    oslo = cube.get(report.added[0].item_id)  # type: ignore[arg-type]
    assert oslo.attributes["state_key"] == "nina/location"  # 'city' is a location
    assert (oslo.source, oslo.source_ref, oslo.author) == ("chat", "m1", "nina")
    assert oslo.created_by == "memreader:llm:scripted"
    assert oslo.valid_from == datetime(2025, 3, 1, 9, tzinfo=UTC)
    telenor = cube.get(report.added[1].item_id)  # type: ignore[arg-type]
    assert telenor.keywords == ("Telenor", "job") and "state_key" not in telenor.attributes
    ticket = cube.get(report.added[2].item_id)  # type: ignore[arg-type]
    assert (ticket.source_ref, ticket.attributes["state_key"]) == ("m3", "eng-12/status")
    # The assistant's turn is not sent to the model, and is reported as skipped.
    prompt = llm.calls[0]["messages"][1]["content"]
    assert "Congratulations" not in prompt and "[2]" in prompt and "omar" in prompt
    assert any(e.source_ref == "m2" for e in report.skipped)
    # Cost: one extraction call (nothing similar to reconcile), counted per message.
    assert report.usage.calls == 1 and report.usage.prompt_tokens > 0
    assert report.llm_calls_per_message == round(1 / 3, 3)
    totals = cube.stats()["llm_usage"]["ingest"]
    assert totals["llm_calls"] == 1 and totals["prompt_tokens"] == report.usage.prompt_tokens


def test_broken_json_is_retried_once(cube: memos.MemCube) -> None:
    llm = ScriptedLLM().enqueue("Sure! Here are the memories: {'memories': [{'message': 1,", GOOD)
    report = cube.ingest(CHAT, llm=llm)
    assert len(report.added) == 3 and not report.fallbacks
    assert len(llm.calls) == 2 and "not valid" in llm.calls[1]["messages"][-1]["content"]


def test_unusable_answers_fall_back_to_the_offline_extractor(cube: memos.MemCube) -> None:
    llm = ScriptedLLM().enqueue("I cannot help with that.", '{"memories": "none"}')
    report = cube.ingest(CHAT, llm=llm)
    assert len(report.fallbacks) == 1 and "read offline" in report.fallbacks[0]
    stored = {e.content for e in report.added}
    assert "Nina lives in Oslo." in stored  # the offline extractor's reading
    assert all(cube.get(e.item_id).created_by == "memreader:offline" for e in report.added)  # type: ignore[arg-type]
    assert report.usage.calls == 2


def test_ungrounded_memories_are_dropped(cube: memos.MemCube) -> None:
    echo = memories(
        {
            "message": 1,
            "content": "ENG-7 is assigned to Dana.",
            "subject": "ENG-7",
            "attribute": "assignee",
            "value": "Dana",
        },  # the prompt's example, echoed
        {
            "message": 2,
            "content": "ENG-12 is done.",
            "subject": "ENG-12",
            "attribute": "status",
            "value": "closed",
        },  # a value the message never says
        {"message": 9, "content": "Nina likes Oslo."},  # no such message
    )
    report = cube.ingest(CHAT, llm=ScriptedLLM().when("Messages:", echo))
    assert [e.content for e in report.added] == ["ENG-12 is done."]
    assert "state_key" not in cube.get(report.added[0].item_id).attributes  # type: ignore[arg-type]
    assert any("not grounded" in e.reason for e in report.skipped)
    # When nothing a model says is grounded, the offline extractor reads the batch.
    only_echo = memories({"message": 1, "content": "ENG-7 is assigned to Dana."})
    again = cube.ingest(CHAT[:1], llm=ScriptedLLM().when("Messages:", only_echo))
    assert "no LLM memory was grounded" in again.fallbacks[0]


def test_failing_llm_falls_back_and_stops_being_asked(cube: memos.MemCube) -> None:
    llm = ScriptedLLM().enqueue(BackendError("server down"), BackendError("server down"))
    events = [
        {
            "platform": "linear",
            "actor": "kim",
            "id": f"e{n}",
            "issue": f"OPS-{n}",
            "text": "Status: Done",
            "timestamp": f"2025-03-0{n}T10:00:00Z",
        }
        for n in range(1, 6)
    ]
    reader = MemReader(llm, settings=ReaderSettings(batch_size=1, max_llm_failures=2))
    report = cube.ingest(events, reader=reader)
    assert len(llm.calls) == 2 and len(report.added) == 5  # all read offline
    assert "server down" in report.fallbacks[0] and "rest of this ingest" in report.fallbacks[-1]
    assert report.usage.failures == 2


def test_refused_credentials_stop_the_ingest(cube: memos.MemCube) -> None:
    llm = ScriptedLLM().enqueue(ConfigError("the LLM server refused the API key"))
    with pytest.raises(ConfigError, match="API key"):
        cube.ingest(CHAT, llm=llm)
    assert cube.stats()["items"] == 0


def test_event_fields_are_kept_when_the_llm_misses_them(cube: memos.MemCube) -> None:
    event = {
        "platform": "linear",
        "actor": "kim",
        "id": "x1",
        "issue": "OPS-4",
        "field": "assignee",
        "from": "kim",
        "to": "lee",
        "text": "Reassigned the ticket",
    }
    report = cube.ingest([event], llm=ScriptedLLM().when("Messages:", memories()))
    assert [e.content for e in report.added] == ["OPS-4 is assigned to lee."]


def test_llm_advice_reconciles_free_statements(cube: memos.MemCube) -> None:
    first = cube.ingest(
        [
            {
                "speaker": "ida",
                "id": "a",
                "timestamp": "2025-03-01T09:00:00Z",
                "content": "The team standup is at 9:30 in room Fjord.",
            }
        ]
    )
    old_id = first.added[0].item_id
    moved = {
        "speaker": "ida",
        "id": "b",
        "timestamp": "2025-03-10T09:00:00Z",
        "content": "The team standup is at 10:00 in room Fjord.",
    }
    llm = (
        ScriptedLLM()
        .when(
            "Messages:",
            memories({"message": 1, "content": "The team standup is at 10:00 in room Fjord."}),
        )
        .when(
            "New memory",
            json.dumps(
                {
                    "decisions": [
                        {
                            "candidate": 1,
                            "action": "supersede",
                            "target": old_id,
                            "reason": "new time",
                        }
                    ]
                }
            ),
        )
    )
    report = cube.ingest([moved], llm=llm)
    assert [e.item_id for e in report.superseded] == [old_id]
    assert "LLM: contradicted" in report.superseded[0].reason
    decide = llm.calls[1]["messages"][1]["content"]
    assert f"existing #{old_id}" in decide and "10:00" in decide
    now = cube.search("when is standup", k=5)
    assert [h.item.content for h in now] == ["The team standup is at 10:00 in room Fjord."]
    then = cube.search("when is standup", k=5, as_of="2025-03-05")
    assert [h.item.content for h in then] == ["The team standup is at 9:30 in room Fjord."]


def test_llm_advice_about_items_it_was_not_shown_is_ignored(cube: memos.MemCube) -> None:
    cube.ingest([{"speaker": "ida", "content": "The build server runs on Debian 12."}])
    llm = (
        ScriptedLLM()
        .when(
            "Messages:", memories({"message": 1, "content": "The build server runs on Debian 13."})
        )
        .when(
            "New memory",
            '{"decisions": [{"candidate": 1, "action": "update", "target": 999,'
            ' "content": "The build server runs on Debian."}]}',
        )
    )
    report = cube.ingest(
        [{"speaker": "ida", "content": "The build server runs on Debian 13."}], llm=llm
    )
    assert [e.content for e in report.added] == ["The build server runs on Debian 13."]
    assert not report.updated and not report.superseded


def test_llm_update_advice_makes_a_new_version(cube: memos.MemCube) -> None:
    first = cube.ingest([{"speaker": "ida", "content": "Ida's laptop is a ThinkPad."}])
    item_id = first.added[0].item_id
    llm = (
        ScriptedLLM()
        .when(
            "Messages:",
            memories({"message": 1, "content": "Ida's ThinkPad laptop has 64 GB of RAM."}),
        )
        .when(
            "New memory",
            json.dumps(
                {
                    "decisions": [
                        {
                            "candidate": 1,
                            "action": "update",
                            "target": item_id,
                            "content": "Ida's laptop is a ThinkPad with 64 GB of RAM.",
                        }
                    ]
                }
            ),
        )
    )
    report = cube.ingest(
        [{"speaker": "ida", "content": "My ThinkPad laptop has 64 GB of RAM."}], llm=llm
    )
    assert [e.item_id for e in report.updated] == [item_id]
    item = cube.get(item_id)  # type: ignore[arg-type]
    assert item.version == 2 and item.content == "Ida's laptop is a ThinkPad with 64 GB of RAM."


def test_ingest_over_http_with_failures_and_broken_json(mos: memos.MemOS) -> None:
    cube = mos.create_cube("http")
    with loopback_llm() as server:
        server.script(
            Reply(500, {"error": {"message": "warming up"}}),
            completion(
                "```json\n{'memories': [{'message': 1, 'content': 'Nina lives in "
                "Oslo.', 'subject': 'Nina', 'attribute': 'location', 'value': 'Oslo',},]}"
                "\n```\nLet me know if you need more!",
                prompt_tokens=120,
                completion_tokens=40,
            ),
        )
        llm = OpenAIClient(server.url, model="served-model", backoff_s=0.01)
        report = cube.ingest(CHAT[:1], llm=llm)
        llm.close()
    assert [e.content for e in report.added] == ["Nina lives in Oslo."]
    assert report.usage.calls == 1 and report.usage.total_tokens == 160
    assert report.tokens_per_message == 160.0 and report.extractor == "llm:served-model"
    sent = server.requests[-1]["json"]
    assert sent["response_format"]["type"] == "json_schema" and sent["temperature"] == 0.0


def test_llm_delete_and_noop_advice(cube: memos.MemCube) -> None:
    """Mem0-style action names: "delete" ends the old item (kept in history), "noop" skips."""
    first = cube.ingest(
        [
            {"speaker": "ida", "timestamp": "2025-03-01", "content": "The guest wifi is open."},
            {"speaker": "ida", "timestamp": "2025-03-01", "content": "The VPN uses WireGuard."},
        ]
    )
    wifi, vpn = (e.item_id for e in first.added)
    later = [
        {"speaker": "ida", "timestamp": "2025-03-09", "content": "The guest wifi is closed."},
        {"speaker": "ida", "timestamp": "2025-03-09", "content": "The VPN runs WireGuard."},
    ]
    decisions = [
        {"candidate": 1, "action": "DELETE", "target": f"#{wifi}", "reason": "closed now"},
        {"candidate": 2, "action": "noop", "target": vpn},
    ]
    llm = (
        ScriptedLLM()
        .when(
            "Messages:",
            memories(
                {"message": 1, "content": "The guest wifi is closed."},
                {"message": 2, "content": "The VPN runs on WireGuard."},
            ),
        )
        .when("New memory", json.dumps({"decisions": decisions}))
    )
    report = cube.ingest(later, llm=llm)
    assert [e.item_id for e in report.superseded] == [wifi]
    assert [e.content for e in report.added] == ["The guest wifi is closed."]
    assert [(e.item_id, e.reason) for e in report.skipped] == [(vpn, "LLM: nothing new")]
    assert cube.get(wifi).valid_to is not None  # type: ignore[arg-type]
    then = cube.search("guest wifi", k=3, as_of="2025-03-05")
    assert [h.item.content for h in then][:1] == ["The guest wifi is open."]


def test_llm_update_advice_never_rewrites_a_keyed_state(cube: memos.MemCube) -> None:
    first = cube.ingest([{"speaker": "ida", "content": "I work at Equinor."}])
    keyed = first.added[0].item_id
    decisions = [{"candidate": 1, "action": "update", "target": keyed, "content": "Ida rocks."}]
    llm = (
        ScriptedLLM()
        .when("Messages:", memories({"message": 1, "content": "Ida works at Equinor in Oslo."}))
        .when("New memory", json.dumps({"decisions": decisions}))
    )
    report = cube.ingest([{"speaker": "ida", "content": "I work at Equinor in Oslo."}], llm=llm)
    assert not report.updated
    item = cube.get(keyed)  # type: ignore[arg-type]
    assert (item.version, item.content) == (1, "Ida works at Equinor.")


def test_an_llm_state_from_a_negated_sentence_is_never_current(cube: memos.MemCube) -> None:
    cube.ingest([{"speaker": "ida", "timestamp": "2025-03-01", "content": "I work at Equinor."}])
    said = [
        {"speaker": "ida", "timestamp": "2025-03-05", "content": "I no longer work at Equinor."},
        {"speaker": "ida", "timestamp": "2025-03-05", "content": "I never lived in Bergen."},
        {"speaker": "ida", "timestamp": "2025-03-06", "content": "I left Oslo for Tromsø."},
    ]
    keyed = [
        {"message": 1, "content": "Ida no longer works at Equinor.", "subject": "Ida",
         "attribute": "employer", "value": "Equinor"},
        {"message": 2, "content": "Ida never lived in Bergen.", "subject": "Ida",
         "attribute": "location", "value": "Bergen"},
        {"message": 3, "content": "Ida left Oslo for Tromsø.", "subject": "Ida",
         "attribute": "location", "value": "Oslo"},
    ]  # fmt: skip
    report = cube.ingest(said, llm=ScriptedLLM().when("Messages:", memories(*keyed)))
    assert [e.content for e in report.superseded] == ["Ida works at Equinor."]
    ended = cube.get(report.added[0].item_id)  # type: ignore[arg-type]
    assert ended.attributes["value_key"] == "no longer equinor"
    for entry, said_as in zip(
        report.added[1:], ["Ida never lived in Bergen.", "Ida left Oslo for Tromsø."], strict=True
    ):
        item = cube.get(entry.item_id)  # type: ignore[arg-type]
        assert item.content == said_as and "state_key" not in item.attributes
