"""The MEMTRACK-style harness: the instance format and its validator, the archive
converter, the metrics on hand-computed cases, the seeded generator against its ground
truth, the answerers, the backends, and end-to-end runs through the CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import memos
from memos.cli.app import app
from memos.errors import InvalidInputError
from memos.eval import memtrack
from memos.eval.memtrack import metrics
from memos.eval.memtrack.backends import Retrieved
from memos.eval.memtrack.generator import simulate
from memos.eval.memtrack.memos_backend import StateRetrieved, reader_record
from memos.eval.memtrack.report import summarise
from memos.eval.memtrack.runner import QuestionResult
from memos.testing import HashEmbedder, ScriptedLLM
from memos.timeutil import ReplayClock

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "memtrack"
T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def _event(event_id: str, text: str, **extra: Any) -> dict[str, Any]:
    return {"id": event_id, "timestamp": "2025-03-01T09:00:00Z", "platform": "slack",
            "actor": "alice", "text": text, **extra}  # fmt: skip


def _document(**overrides: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "id": "tiny",
        "events": [
            _event("e1", "Launch is set for March 20."),
            _event(
                "e2",
                "REL-12 status: In Progress -> Done",
                platform="linear",
                meta={"ticket": "REL-12"},
            ),
        ],
        "questions": [
            {
                "id": "q1",
                "after": "e2",
                "question": "What is the status of REL-12?",
                "answer": "Done",
                "evidence": ["e2"],
                "category": "state",
            },
        ],
    }
    document.update(overrides)
    return document


def _problems(document: object, tmp_path: Path) -> str:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document))
    with pytest.raises(InvalidInputError) as caught:
        memtrack.load_instance(path)
    message = str(caught.value)
    assert str(path) in message  # every error names the file
    return message


# -- the format ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.json")), ids=lambda p: p.stem)
def test_the_examples_are_valid(path: Path) -> None:
    instance = memtrack.load_instance(path)
    assert instance.events and instance.questions
    categories = {q.category for q in instance.questions}
    assert categories <= {"state", "conflict", "history", "cross-reference"}


def test_a_valid_instance_round_trips(tmp_path: Path) -> None:
    instance = memtrack.instance_from_dict(_document())
    assert instance.events[1].meta == {"ticket": "REL-12"}
    assert instance.questions[0].answers == ("Done",)
    assert instance.replayed_before(instance.questions[0]) == 2
    memtrack.write_instance(instance, tmp_path / "tiny.json")
    again = memtrack.load_instance(tmp_path / "tiny.json")
    assert again.to_dict() == instance.to_dict()


def test_the_validator_lists_every_problem_with_its_path(tmp_path: Path) -> None:
    document = _document()
    del document["events"][0]["timestamp"]
    document["events"][1]["user"] = "bob"
    document["questions"][0]["evidence"] = ["e9"]
    document["questions"].append({"id": "q2", "question": "Who?"})
    message = _problems(document, tmp_path)
    assert "4 problems" in message
    assert "$.events[0].timestamp: missing" in message
    assert "$.events[1].user: unknown key" in message and "'meta'" in message
    assert "$.questions[0].evidence[0]: no event has id 'e9'" in message
    assert "$.questions[1].answer: missing" in message


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d["events"][0].update(timestamp="March 1st"), "not a valid ISO 8601"),
        (lambda d: d["events"][1].update(id="e1"), "duplicate id 'e1'"),
        (lambda d: d["questions"][0].update(answer=[]), "at least one acceptable answer"),
        (lambda d: d["questions"][0].update(after="e7"), "$.questions[0].after: no event"),
        (lambda d: d["events"][0].update(text="  "), "$.events[0].text: expected non-empty"),
        (lambda d: d.update(events=[]), "$.events: expected a non-empty list"),
        (lambda d: d["events"][0].update(meta=[1]), "$.events[0].meta: expected an object"),
    ],
)
def test_each_kind_of_bad_file_gets_a_clear_error(
    tmp_path: Path, change: Any, expected: str
) -> None:
    document = _document()
    change(document)
    assert expected in _problems(document, tmp_path)


def test_questions_may_not_go_back_in_time(tmp_path: Path) -> None:
    document = _document()
    document["questions"].append(
        {"id": "q2", "after": "e1", "question": "When is the launch?", "answer": "March 20"}
    )
    message = _problems(document, tmp_path)
    assert "$.questions[1].after" in message and "sort them by 'after'" in message


def test_unreadable_files_and_folders(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(InvalidInputError, match="not valid JSON"):
        memtrack.load_instance(broken)
    listed = tmp_path / "listed.json"
    listed.write_text("[]")
    with pytest.raises(InvalidInputError, match=r"\$: expected an object, got a list"):
        memtrack.load_instance(listed)
    with pytest.raises(InvalidInputError, match="no such file"):
        memtrack.load_paths([tmp_path / "missing.json"])
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InvalidInputError, match=r"no \*\.json instances"):
        memtrack.load_paths([empty])
    twice = tmp_path / "twice"
    twice.mkdir()
    for name in ("a.json", "b.json"):
        (twice / name).write_text(json.dumps(_document()))
    with pytest.raises(InvalidInputError, match="instance id 'tiny' is also used"):
        memtrack.load_paths([twice])


# -- the MEMTRACK archive ------------------------------------------------------------------------


def _archive(root: Path, *, answers: str = '[["carol", "Carol"], "Done"]') -> Path:
    (root / "test_configs").mkdir(parents=True)
    (root / "test_event_histories").mkdir()
    (root / "test_configs" / "config_007.yaml").write_text(
        "benchmark:\n"
        "  questions:\n"
        "    - question: Who merged PR #5?\n"
        "      asked_at: '20241203T1000'\n"
        "      category: cross-reference\n"
        "    - What is the status of ENG-1?\n"
        f"  expected_answers: {answers}\n"
        "  event_history: test_event_histories/event_history_007.json\n"
    )
    events = [
        {"timestamp": "20241202T0900", "platform": "Linear", "user": "alice",
         "title": "ENG-1 status changed", "status": "In Progress", "issue_id": "ENG-1",
         "generation_meta_data": {"template": "status_change"}},
        {"timestamp": "20241203T0930", "platform": "git", "author": "carol",
         "message": "Merge PR #5", "sha": "abc123"},
        {"timestamp": "20241204T1100", "platform": "linear", "user": "bob",
         "title": "ENG-1 moved", "status": "Done"},
    ]  # fmt: skip
    (root / "test_event_histories" / "event_history_007.json").write_text(json.dumps(events))
    return root


def test_the_memtrack_archive_is_converted(tmp_path: Path) -> None:
    [instance] = memtrack.load_paths([_archive(tmp_path / "archive")])
    assert instance.id == "memtrack-007"
    first, merge, last = instance.events
    assert first.timestamp == datetime(2024, 12, 2, 9, 0, tzinfo=UTC)
    assert (first.id, first.platform, first.actor) == ("e1", "linear", "alice")
    assert first.text.splitlines() == ["ENG-1 status changed", "status: In Progress",
                                       "issue_id: ENG-1"]  # fmt: skip
    assert "generation_meta_data" not in first.meta and first.meta["status"] == "In Progress"
    assert (merge.id, merge.actor, merge.text) == ("abc123", "carol", "Merge PR #5")
    assert last.id == "e3"
    asked, status = instance.questions
    assert (asked.after, asked.category, asked.answers) == ("abc123", "cross-reference",
                                                            ("carol", "Carol"))  # fmt: skip
    assert (status.after, status.answers, status.category) == (None, ("Done",), "other")


def test_a_broken_archive_names_the_file(tmp_path: Path) -> None:
    root = _archive(tmp_path / "archive", answers='["Done"]')
    with pytest.raises(InvalidInputError, match="one answer per question"):
        memtrack.load_paths([root])
    (root / "test_configs" / "config_007.yaml").write_text("benchmark: {questions: [a]}\n")
    (root / "test_event_histories" / "event_history_007.json").unlink()
    with pytest.raises(InvalidInputError, match=r"event_history_007\.json: no such file"):
        memtrack.load_paths([root])


# -- metrics, on hand-computed cases -------------------------------------------------------------


def test_exact_match_and_token_f1() -> None:
    assert metrics.normalise("  The  In-Progress, column! ") == "in progress column"
    assert metrics.exact_match("The Done.", ["done"]) == 1.0
    assert metrics.exact_match("In-Progress", ["Blocked", "in progress"]) == 1.0
    assert metrics.exact_match("Done soon", ["Done"]) == 0.0
    # 2 of 3 predicted tokens are right and both answer tokens are found: 2PR/(P+R) = 0.8.
    assert metrics.token_f1("in progress now", ["Done", "In Progress"]) == pytest.approx(0.8)
    assert metrics.token_f1("", ["Done"]) == 0.0
    assert metrics.token_f1("unknown", ["Done"]) == 0.0


def test_evidence_recall_and_token_counts() -> None:
    assert metrics.evidence_recall(["e1", "e2", "e3"], [("e1",), ("e3", "e9")]) == 2 / 3
    assert metrics.evidence_recall(["e1"], []) == 0.0
    assert metrics.evidence_recall([], [("e1",)]) is None
    assert metrics.count_tokens("Merge PR #88: ok") == 6  # Merge PR # 88 : ok


def test_redundancy_counts_repeats_within_and_across_retrievals() -> None:
    tracker = metrics.Redundancy(0.8)
    first = tracker.check([
        "PAY-214 status: Todo -> In Progress",
        "The PAY-214 status: todo -> in progress.",  # the same text once normalised
        "Lunch at 12?",
    ])  # fmt: skip
    assert first == [False, True, False]
    # An earlier retrieval of the same instance counts too.
    assert tracker.check(["Lunch at 12?", "Merge PR #88: Payment retries"]) == [True, False]
    words = "alpha beta gamma delta epsilon zeta eta theta iota"
    near = metrics.Redundancy(0.8)
    assert near.check([f"{words} kappa"]) == [False]
    assert near.check([f"{words} lambda"]) == [True]  # Jaccard 9/11 = 0.82 >= 0.8
    assert near.check(["alpha beta gamma delta epsilon zeta eta theta mu nu"]) == [False]  # 8/12


def _result(retrieved: int, redundant: int, correct: float, category: str) -> QuestionResult:
    return QuestionResult(
        instance="i", id="q", category=category, question="?", answers=("a",), predicted="a",
        correct=correct, token_f1=correct, judge=None, evidence_recall=None, memory_calls=1,
        retrieved_items=retrieved, retrieved_tokens=10 * retrieved,
        redundant_items=redundant, duplicate_items=0, seconds=0.0, llm_calls=0, llm_tokens=0,
    )  # fmt: skip


def test_aggregates_pool_redundancy_and_average_correctness() -> None:
    results = [_result(4, 1, 1.0, "state"), _result(6, 3, 0.0, "conflict")]
    summary = summarise(results)
    assert summary["redundancy"] == 0.4  # (1 + 3) / (4 + 6), not the mean of 0.25 and 0.5
    assert summary["correctness"] == 0.5
    assert summary["evidence_recall"] is None and summary["judge"] is None
    assert summary["efficiency"]["retrieved_tokens"] == 50.0
    assert summarise([_result(0, 0, 0.0, "state")])["redundancy"] is None


# -- the generator -------------------------------------------------------------------------------


def test_the_generator_is_deterministic(tmp_path: Path) -> None:
    first = [i.to_dict() for i in memtrack.generate(2, 3)]
    assert first == [i.to_dict() for i in memtrack.generate(2, 3)]
    assert first != [i.to_dict() for i in memtrack.generate(2, 4)]
    written = memtrack.generator.write(memtrack.generate(2, 3), tmp_path)
    assert [i.to_dict() for i in memtrack.load_paths([tmp_path])] == first
    assert [p.name for p in written] == ["gen-s3-000.json", "gen-s3-001.json"]
    with pytest.raises(InvalidInputError):
        memtrack.generate(0, 3)


def test_generated_answers_come_from_the_ground_truth() -> None:
    for index in range(4):
        world, instance = simulate(11, index)
        position = {e.id: i for i, e in enumerate(instance.events)}
        for question in instance.questions:
            point = position[question.after or instance.events[-1].id]
            assert all(position[ref] <= point for ref in question.evidence)
            if question.category in ("state", "conflict", "history"):
                back = 2 if question.category == "history" else 1
                matches = [
                    key for key in world.history
                    if len(changes := world.at(key, point)) >= back
                    and changes[-back].value in question.answers
                    and changes[-back].event == question.evidence[0]
                ]  # fmt: skip
                assert matches, question
                changes = world.at(matches[0], point)
                if question.category == "conflict":
                    assert len(changes) >= 3  # older, contradicting values are in the timeline
            else:
                assert question.category == "cross-reference"
                truth = [
                    {pr.ticket, pr.merged_by, pr.reverted_by} for pr in world.prs.values()
                    if question.evidence[0] in (pr.merge_event, pr.revert_event)
                ]  # fmt: skip
                assert truth and question.answers[0] in truth[0]


def test_generated_timelines_hold_the_events_that_make_state_hard() -> None:
    texts = [e.text for i in memtrack.generate(6, 0) for e in i.events]

    def seen(*words: str) -> bool:
        return any(any(w in t for w in words) for t in texts)

    assert seen("Revert")
    assert seen("Renamed")
    assert seen("slipped to", "pushed the", "New date for", "moved to")
    assert seen("Handing", "I'll take", "assignee:")
    assert seen("might be", "Is ", "is not")  # chatter that changes nothing
    assert seen("Fixes ")  # a commit naming its ticket


# -- answerers and backends ----------------------------------------------------------------------


def _item(text: str, hours: int, *, current: bool | None = None) -> Retrieved:
    return Retrieved(text, ("x",), T0 + timedelta(hours=hours), "alice", "slack", None, current)


def test_the_extractive_answerer_reads_the_latest_stated_value() -> None:
    items = [
        _item("PAY-1 status: Todo -> In Progress", 1),
        _item("PAY-1 might be done by Friday.", 5),  # a hedge states nothing
        _item("Moved PAY-1 to In Review.", 3),
        _item("Is PAY-1 still blocked?", 6),  # a question states nothing
    ]
    answerer = memtrack.ExtractiveAnswerer()
    assert answerer.answer("What is the status of PAY-1?", items).text == "In Review"
    before = "What was the status of PAY-1 just before it moved to In Review?"
    assert answerer.answer(before, items).text == "In Progress"
    assert answerer.answer("Who owns PAY-9?", items).text == "unknown"
    # A value its backend marks superseded loses to a current one, however late.
    marked = [_item("PAY-1 is blocked.", 9, current=False), _item("PAY-1 is done.", 2)]
    assert answerer.answer("What is the status of PAY-1?", marked).text == "done"


def test_the_llm_answerer_and_judge_through_the_client_protocol() -> None:
    items = [_item("PAY-1 status: Todo -> In Progress", 1), _item("PAY-1 is blocked.", 2)]
    llm = ScriptedLLM().enqueue('{"answer": "Blocked"}', "In Progress, I think", "still not json")
    answerer = memtrack.LLMAnswerer(llm)
    answer = answerer.answer("What is the status of PAY-1?", items, asked_at=T0)
    assert (answer.text, answer.llm_calls) == ("Blocked", 1) and answer.prompt_tokens > 0
    prompt = llm.calls[0]["messages"][-1]["content"]
    # Memories are shown oldest first, dated, with platform and author.
    assert prompt.index("Todo -> In Progress") < prompt.index("is blocked")
    assert "[2025-03-03 10:00] slack alice" in prompt and "asked on 2025-03-03 09:00" in prompt
    # A reply that is not JSON twice still answers with its first line.
    fallback = answerer.answer("What is the status of PAY-1?", items, asked_at=None)
    assert (fallback.text, fallback.llm_calls) == ("In Progress, I think", 2)
    judge = memtrack.LLMJudge(ScriptedLLM().enqueue('{"correct": true}', "no", "no"))
    assert judge.grade("Status?", ["Blocked"], "blocked") == 1.0
    assert judge.grade("Status?", ["Blocked"], "done") is None  # no usable verdict


def _events() -> list[memtrack.Event]:
    return list(memtrack.instance_from_dict(_document()).events)


def test_the_baseline_backends() -> None:
    events = _events()
    rag = memtrack.RagBackend(HashEmbedder()).start("tiny")
    rag.observe(events)
    found = rag.retrieve("REL-12 status", k=1)
    assert (found.calls, len(found.items)) == (1, 1)
    assert found.items[0].refs == ("e2",)
    everything = memtrack.FullContextBackend(None).start("tiny")
    everything.observe(events)
    assert [i.refs for i in everything.retrieve("?", k=1).items] == [("e1",), ("e2",)]
    # A budget keeps the newest events that fit: the second event has 11 tokens.
    tight = memtrack.FullContextBackend(11).start("tiny")
    tight.observe(events)
    assert [i.refs for i in tight.retrieve("?", k=1).items] == [("e2",)]
    nothing = memtrack.NoBackend().start("tiny")
    nothing.observe(events)
    assert nothing.retrieve("?", k=5) == memtrack.Retrieval((), 0)


def test_events_reach_memreader_with_their_fields() -> None:
    event = memtrack.Event("9f2c1e7", T0, "git", "carol", "Merge PR #88", None,
                           {"pr": 88, "text": "spoofed", "repo": "payments-api"})  # fmt: skip
    record = reader_record(event)
    assert record["pr"] == "88" and record["repo"] == "payments-api"
    assert (record["text"], record["id"], record["actor"]) == ("Merge PR #88", "9f2c1e7", "carol")


def test_the_memos_backend_keeps_provenance_and_the_latest_statement(tmp_path: Path) -> None:
    moments = [T0 + timedelta(days=d) for d in range(3)]
    events = [
        memtrack.Event("e1", moments[0], "linear", "hana", "WEB-77 status: Todo -> In Progress",
                       None, {"ticket": "WEB-77", "field": "status", "from": "Todo",
                              "to": "In Progress"}),
        memtrack.Event("e2", moments[1], "slack", "hana", "FYI WEB-77 went to Blocked."),
        memtrack.Event("e3", moments[2], "slack", "hana",
                       "Quick update: WEB-77 is in progress as of this morning."),
    ]  # fmt: skip
    question = "What state is WEB-77 in right now?"
    with memos.open(tmp_path, embedder=HashEmbedder(), user="eval") as mos:
        memory = memtrack.make_backend("memos", mos).start("web-77")
        memory.observe(events)
        found = memory.retrieve(question, k=5)
        memory.close()
    assert found.calls >= 1 and found.items
    stated = [i for i in found.items if "in progress" in i.text.lower() and i.current]
    # The state restated last is dated by that restatement, and the event is provenance.
    assert stated and stated[0].timestamp == moments[2] and "e3" in stated[0].refs
    assert memtrack.ExtractiveAnswerer().answer(question, found.items).text.lower() == (
        "in progress"
    )


@pytest.mark.parametrize("replay", [True, False])
def test_a_replay_clock_reads_the_timeline_at_its_own_time(tmp_path: Path, replay: bool) -> None:
    # A timeline dated decades ahead: on the wall clock nothing in it has ended yet.
    moments = [datetime(2090, 5, 1, 9, 0, tzinfo=UTC) + timedelta(days=d) for d in range(2)]
    events = [
        memtrack.Event(f"e{n}", moments[n], "linear", "hana", f"WEB-77 status: {a} -> {b}", None,
                       {"ticket": "WEB-77", "field": "status", "from": a, "to": b})
        for n, (a, b) in enumerate([("Todo", "In Progress"), ("In Progress", "Blocked")])
    ]  # fmt: skip
    clock = ReplayClock() if replay else None
    with memos.open(tmp_path, embedder=HashEmbedder(), user="eval", clock=clock) as mos:
        assert (mos.clock is clock) == replay  # the backend finds the replay clock here
        memory = memtrack.make_backend("memos", mos).start("web-77")
        memory.observe(events)
        memory.retrieve("What status is WEB-77 in?", k=5)
        cube = mos.cube(mos.cubes()[0].name)
        hits = [h.item.content for h in cube.search("WEB-77 status", k=5)]
        stored = sorted(i.created_at for i in cube.items(limit=20))
        memory.close()
    assert hits[0] == "The status of WEB-77 is Blocked."
    if replay:
        # Each event was stored at its own time and searched at the question's time, so
        # the state Blocked replaced has ended, whatever the date of the run.
        assert moments[0] <= stored[0] < moments[0] + timedelta(seconds=1)
        assert moments[1] <= stored[-1] < moments[1] + timedelta(seconds=1)
        assert "The status of WEB-77 is In Progress." not in hits
    else:  # stored today, and "In Progress" holds until 2090 as far as today knows
        assert stored[-1] < moments[0]
        assert "The status of WEB-77 is In Progress." in hits


def _web77_status_changes() -> list[memtrack.Event]:
    """WEB-77: Todo -> In Progress -> Blocked -> In Review, a day apart."""
    changes = [("Todo", "In Progress"), ("In Progress", "Blocked"), ("Blocked", "In Review")]
    return [
        memtrack.Event(f"e{n}", T0 + timedelta(days=n), "linear", "hana",
                       f"WEB-77 status: {a} -> {b}", None,
                       {"ticket": "WEB-77", "field": "status", "from": a, "to": b})
        for n, (a, b) in enumerate(changes)
    ]  # fmt: skip


def test_the_best_state_brings_its_history_back_to_the_first_value(tmp_path: Path) -> None:
    events = _web77_status_changes()
    with memos.open(tmp_path, embedder=HashEmbedder(), user="eval", clock=ReplayClock()) as mos:
        memory = memtrack.make_backend("memos", mos).start("web-77")
        memory.observe(events)
        found = memory.retrieve("What status was WEB-77 in originally?", k=10)
        memory.close()
    states = [i for i in found.items if isinstance(i, StateRetrieved)]
    # Superseded states are out of a search at the question's time; the current one
    # brings both values before it, newest first, each one memory call.
    assert [(s.state["value"], s.current) for s in states] == [
        ("In Review", True), ("Blocked", False), ("In Progress", False)
    ]  # fmt: skip
    assert found.calls == 3
    # The first change says what it replaced: the ticket was Todo to begin with.
    answer = memtrack.ExtractiveAnswerer().answer("What status was WEB-77 in originally?", states)
    assert answer.text == "Todo"


def test_a_long_history_never_pushes_a_search_hit_out(tmp_path: Path) -> None:
    events = _web77_status_changes()
    events += [
        memtrack.Event(f"c{n}", T0 + timedelta(days=5, hours=n), "slack", "omar",
                       f"WEB-77 note {n}: the status page copy needs pass {n}.", None, {})
        for n in range(12)
    ]  # fmt: skip
    with memos.open(tmp_path, embedder=HashEmbedder(), user="eval", clock=ReplayClock()) as mos:
        memory = memtrack.make_backend("memos", mos).start("web-77")
        memory.observe(events)
        found = memory.retrieve("What status was WEB-77 in before?", k=10)
        first = memory.retrieve("What status was WEB-77 in originally?", k=10)
        memory.close()
    texts = [i.text for i in found.items]
    # The best state and the value it replaced lead; the state before that (history)
    # would only fill room the search's hits leave, and here the notes fill it.
    assert texts[:2] == ["The status of WEB-77 is In Review.", "The status of WEB-77 is Blocked."]
    assert len(texts) == 10 and sum(t.startswith("WEB-77 note") for t in texts) == 8, texts
    assert "The status of WEB-77 is In Progress." not in texts, texts
    # Asked for the first value, the first state known takes the last hit's place.
    texts = [i.text for i in first.items]
    assert texts[:2] == ["The status of WEB-77 is In Review.", "The status of WEB-77 is Blocked."]
    assert texts[-1] == "The status of WEB-77 is In Progress.", texts
    assert len(texts) == 10 and sum(t.startswith("WEB-77 note") for t in texts) == 7, texts


def test_the_replay_clock() -> None:
    clock = ReplayClock()
    assert abs((clock() - datetime.now(UTC)).total_seconds()) < 60  # the wall clock, unset
    clock.set(T0)
    first, second = clock(), clock()
    assert T0 < first < second < T0 + timedelta(seconds=1)  # readings stay ordered
    clock.set(T0 - timedelta(days=1))  # a replay does not go back on its own
    assert clock() > second
    clock.set(T0 - timedelta(days=1), rewind=True)  # a new timeline does
    assert clock() < T0
    with pytest.raises(InvalidInputError, match="timezone-aware"):
        clock.set(datetime(2025, 1, 1))


# -- end to end ----------------------------------------------------------------------------------


def test_all_four_backends_on_the_examples(tmp_path: Path) -> None:
    instances = memtrack.load_paths([EXAMPLES])
    with memos.open(tmp_path, embedder=HashEmbedder(), user="eval") as mos:
        runs = memtrack.run(
            memtrack.default_backends(mos), instances, memtrack.ExtractiveAnswerer()
        )
    report = memtrack.build_report(
        runs, instances=len(instances), answerer="extractive", judge=None,
        settings=memtrack.RunSettings(),
    )  # fmt: skip
    by_name = {r["backend"]: r for r in report["reports"]}
    assert list(by_name) == ["memos", "rag", "full-context", "none"]
    asked = sum(len(i.questions) for i in instances)
    for entry in by_name.values():
        overall = entry["overall"]
        assert overall["questions"] == len(entry["questions"]) == asked
        for name in ("correctness", "token_f1", "evidence_recall"):
            assert 0.0 <= overall[name] <= 1.0
    # The examples are short: the whole timeline fits the budget, so every evidence event
    # is handed over; with no memory nothing is.
    assert by_name["full-context"]["overall"]["evidence_recall"] == 1.0
    assert by_name["none"]["overall"]["correctness"] == 0.0
    assert by_name["none"]["overall"]["redundancy"] is None
    assert by_name["memos"]["overall"]["efficiency"]["memory_calls"] >= 1.0
    assert "| memos |" in memtrack.markdown(report)


def test_the_cli_generates_and_compares_backends(tmp_path: Path) -> None:
    runner = CliRunner()
    made = runner.invoke(
        app, ["--json", "eval", "memtrack", "generate", "--n", "2", "--seed", "5",
              "--events", "60", str(tmp_path / "gen")],
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    assert json.loads(made.stdout)["instances"] == 2
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["--embedder", "hash", "eval", "memtrack", str(tmp_path / "gen"), "--json",
              "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert [r["backend"] for r in report["reports"]] == ["memos", "rag", "full-context", "none"]
    assert report["instances"] == 2 and report["answerer"] == "extractive"
    first = report["reports"][0]
    assert set(first) == {"backend", "overall", "by_category", "questions"}
    assert set(first["overall"]) >= {"correctness", "token_f1", "judge", "evidence_recall",
                                     "efficiency", "redundancy"}  # fmt: skip
    assert json.loads((out / "memtrack.json").read_text()) == report
    assert "| rag |" in (out / "memtrack.md").read_text()
    human = runner.invoke(
        app, ["--embedder", "hash", "eval", "memtrack", str(EXAMPLES / "project-rename.json"),
              "-b", "rag,none"],
    )  # fmt: skip
    assert human.exit_code == 0, human.output
    assert "| rag |" in human.stdout and "| memos |" not in human.stdout


def test_cli_errors_are_clear(tmp_path: Path) -> None:
    runner = CliRunner()
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"id": "x", "events": [], "questions": []}))
    broken = runner.invoke(app, ["--embedder", "hash", "eval", "memtrack", str(bad)])
    assert broken.exit_code == 2
    assert str(bad) in broken.stderr and "$.events: expected a non-empty list" in broken.stderr
    unknown = runner.invoke(app, ["eval", "memtrack", str(EXAMPLES), "--backend", "mem0"])
    assert unknown.exit_code == 2 and "unknown backend 'mem0'" in unknown.stderr
    answerer = runner.invoke(app, ["eval", "memtrack", str(EXAMPLES), "--answerer", "gpt"])
    assert answerer.exit_code == 2 and "--answerer" in answerer.stderr


def test_the_plot(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    result = CliRunner().invoke(
        app, ["--embedder", "hash", "eval", "memtrack", str(EXAMPLES / "sso-handoff.json"),
              "-b", "rag", "-b", "none", "--out", str(tmp_path), "--plot"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (tmp_path / "memtrack.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.model
def test_the_examples_with_minilm(tmp_path: Path) -> None:
    instances = memtrack.load_paths([EXAMPLES])
    with memos.open(tmp_path, embedder="minilm", user="eval") as mos:
        runs = memtrack.run(
            [memtrack.make_backend(n, mos) for n in ("memos", "rag")],
            instances,
            memtrack.ExtractiveAnswerer(),
        )
    for outcome in runs:
        assert len(outcome.results) == sum(len(i.questions) for i in instances)
        assert sum(r.correct for r in outcome.results) > 0
