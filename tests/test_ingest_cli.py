"""`memos ingest`: JSONL in, a report out (human or --json); bad files fail clearly and
store nothing; `memos stats` shows the reader's totals."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from loopback_llm import Reply, completion, loopback_llm
from typer.testing import CliRunner

from memos.cli.app import app

LINES = [
    {
        "platform": "linear",
        "actor": "ann",
        "id": "1",
        "issue": "WEB-3",
        "timestamp": "2025-03-01T10:00:00Z",
        "text": "Status: Todo",
    },
    {
        "platform": "slack",
        "actor": "ben",
        "id": "2",
        "timestamp": "2025-03-02T10:00:00Z",
        "text": "WEB-3 is blocked on the CDN config. Thanks!",
    },
    {
        "platform": "linear",
        "actor": "ann",
        "id": "3",
        "issue": "WEB-3",
        "timestamp": "2025-03-03T10:00:00Z",
        "text": "Status: Blocked -> Done",
    },
]


@pytest.fixture
def run(tmp_path: Path):  # type: ignore[no-untyped-def]
    runner = CliRunner()
    base = ["--home", str(tmp_path / "home"), "--embedder", "hash", "--user", "ann"]

    def invoke(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(app, [*base, *args])

    assert invoke("cube", "create", "web").exit_code == 0
    return invoke


def write(path: Path, rows: list[Any], *, extra: str = "") -> Path:
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n" + extra)
    return path


def test_ingest_reports_and_stats_show_totals(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    file = write(tmp_path / "feed.jsonl", LINES, extra="\n# a comment\n")
    result = run("ingest", str(file), "--cube", "web")
    assert result.exit_code == 0, result.output
    first = result.output.splitlines()[0]
    assert first.startswith("read 3 messages (offline): 3 added, 0 updated, 2 superseded")
    assert "The status of WEB-3 is Done." in result.output and "replaces #" in result.output
    assert "skipped; --verbose lists them" in result.output

    again = run("--json", "ingest", str(file), "--cube", "web", "--llm", "none")
    report = json.loads(again.output)
    assert (len(report["added"]), report["messages"], report["usage"]["calls"]) == (0, 3, 0)
    assert {e["action"] for e in report["skipped"]} == {"skipped"}
    assert all(e["reason"] for e in report["skipped"])

    stats = json.loads(run("--json", "stats", "--cube", "web").output)
    assert stats["llm_usage"]["ingest"]["runs"] == 2
    assert stats["llm_usage"]["ingest"]["messages"] == 6
    human = run("stats", "--cube", "web").output
    assert "llm_usage:" in human and "tokens_per_message" in human


def test_verbose_lists_every_skip(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    file = write(tmp_path / "feed.jsonl", LINES)
    result = run("ingest", str(file), "-c", "web", "-v")
    assert "small talk" in result.output and "[2]" in result.output


def test_a_bad_line_fails_with_its_number_and_stores_nothing(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    broken = write(tmp_path / "bad.jsonl", LINES[:2], extra='{"platform": "slack", "text": \n')
    result = run("ingest", str(broken), "--cube", "web")
    assert result.exit_code == 2
    assert "bad.jsonl line 3: not valid JSON" in result.output
    assert "Traceback" not in result.output
    wrong = write(tmp_path / "wrong.jsonl", [*LINES[:1], {"role": "user"}])
    result = run("ingest", str(wrong), "--cube", "web")
    assert result.exit_code == 2 and "wrong.jsonl line 2: a message needs 'content'" in (
        result.output
    )
    stats = json.loads(run("--json", "stats", "--cube", "web").output)
    assert stats["items"] == 0 and stats["llm_usage"] == {}


def test_missing_file_empty_file_and_missing_cube(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert run("ingest", str(tmp_path / "nope.jsonl"), "--cube", "web").exit_code == 3
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n")
    result = run("ingest", str(empty), "--cube", "web")
    assert result.exit_code == 2 and "holds no messages" in result.output
    ok = write(tmp_path / "ok.jsonl", LINES)
    result = run("ingest", str(ok), "--cube", "nosuch")
    assert result.exit_code == 3 and "Traceback" not in result.output
    result = run("ingest", str(ok), "--cube", "web", "--llm", "gpt")
    assert result.exit_code == 7 and "not one of" in result.output


def test_ingest_with_an_llm_server(run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    answer = json.dumps(
        {
            "memories": [
                {
                    "message": 1,
                    "content": "WEB-3 status is Todo.",
                    "subject": "WEB-3",
                    "attribute": "status",
                    "value": "Todo",
                }
            ]
        }
    )
    file = write(tmp_path / "one.jsonl", LINES[:1])
    with loopback_llm() as server:
        server.script(completion(answer, prompt_tokens=90, completion_tokens=30))
        monkeypatch.setenv("MEMOS_LLM_BASE_URL", server.url)
        monkeypatch.setenv("MEMOS_LLM_MODEL", "served")
        result = run("--json", "ingest", str(file), "--cube", "web")
    report = json.loads(result.output)
    assert report["extractor"] == "llm:served" and report["tokens_per_message"] == 120.0
    stats = json.loads(run("--json", "stats", "--cube", "web").output)
    assert stats["llm_usage"]["ingest"]["prompt_tokens"] == 90


def test_a_failing_llm_server_falls_back_and_a_refused_key_stops(  # type: ignore[no-untyped-def]
    run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = write(tmp_path / "one.jsonl", LINES[:1])
    monkeypatch.setenv("MEMOS_LLM_MODEL", "served")
    monkeypatch.setenv("MEMOS_LLM_MAX_RETRIES", "0")
    with loopback_llm() as server:
        server.default = Reply(500, {"error": {"message": "out of memory"}})
        monkeypatch.setenv("MEMOS_LLM_BASE_URL", server.url)
        result = run("ingest", str(file), "--cube", "web")
    assert result.exit_code == 0, result.output
    assert "1 LLM calls (1 failed)" in result.output and "1 added" in result.output
    assert "fallback:" in result.output and "out of memory" in result.output
    with loopback_llm() as server:
        server.default = Reply(401, {"error": {"message": "invalid api key"}})
        monkeypatch.setenv("MEMOS_LLM_BASE_URL", server.url)
        refused = run("ingest", str(write(tmp_path / "two.jsonl", LINES[1:])), "--cube", "web")
    assert refused.exit_code != 0 and "MEMOS_LLM_API_KEY" in refused.output
    assert "Traceback" not in refused.output
    stats = json.loads(run("--json", "stats", "--cube", "web").output)
    assert stats["items"] == 1  # the refused run stored nothing
