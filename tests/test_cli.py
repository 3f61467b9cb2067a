"""The `memos` command, in process (CliRunner) and as a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from memos.cli.app import app
from memos.retrieval.hybrid import SearchWeights


@pytest.fixture
def run(home: Path, db_url: str | None):  # type: ignore[no-untyped-def]
    runner = CliRunner()
    base = ["--home", str(home), "--embedder", "hash", "--user", "alice"]
    if db_url is not None:
        base += ["--url", db_url]

    def invoke(*args: str, json_out: bool = False):  # type: ignore[no-untyped-def]
        full = [*base, *(["--json"] if json_out else []), *args]
        result = runner.invoke(app, full)
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result

    return invoke


def test_full_session(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert run("cube", "create", "work").exit_code == 0
    added = run(
        "add",
        "Launch is on March 3",
        "--cube",
        "work",
        "--tag",
        "launch",
        "--source",
        "slack",
        "--source-ref",
        "msg-17",
        json_out=True,
    )
    assert added.exit_code == 0, added.output
    item = json.loads(added.stdout)
    assert item["tags"] == ["launch"] and item["source_ref"] == "msg-17"
    run("add", "The cafeteria closes at 3pm", "-c", "work")
    found = run("search", "when is the launch", "-c", "work", "-k", "1", json_out=True)
    hits = json.loads(found.stdout)
    assert len(hits) == 1 and hits[0]["item"]["id"] == item["id"] and hits[0]["score"] > 0
    human = run("search", "launch", "-c", "work")
    assert "Launch is on March 3" in human.stdout
    assert run("update", str(item["id"]), "Launch moved to March 10").exit_code == 0
    history = json.loads(run("history", str(item["id"]), json_out=True).stdout)
    assert [v["item"]["content"] for v in history] == [
        "Launch is on March 3",
        "Launch moved to March 10",
    ]
    as_of = history[0]["item"]["updated_at"]
    old = json.loads(run("get", str(item["id"]), "--as-of", as_of, json_out=True).stdout)
    assert old["content"] == "Launch is on March 3"
    by_uid = json.loads(run("get", item["uid"], json_out=True).stdout)
    assert by_uid["version"] == 2
    link = json.loads(run("link", "1", "2", "--kind", "related", json_out=True).stdout)
    assert (link["src_id"], link["dst_id"]) == (1, 2)
    assert "archived" in run("status", "2", "archived").stdout
    export = tmp_path / "work.jsonl"
    assert run("export", str(export), "--cube", "work").exit_code == 0
    imported = run("import", str(export), "--name", "copy", json_out=True)
    assert json.loads(imported.stdout)["items"] == 2
    cubes = json.loads(run("cube", "list", json_out=True).stdout)
    assert [c["name"] for c in cubes] == ["copy", "work"]
    assert run("forget", "1", "--hard").exit_code == 0
    assert run("get", "1").exit_code == 3
    stats = json.loads(run("stats", "--cube", "work", json_out=True).stdout)
    assert stats["by_status"] == {"deleted": 1, "archived": 1}


def test_errors_are_one_line_with_exit_codes(run) -> None:  # type: ignore[no-untyped-def]
    run("cube", "create", "work")
    run("add", "an existing memory", "--cube", "work")
    cases = [
        (("add", "   ", "--cube", "work"), 2, "empty"),
        (("add", "x", "--cube", "nope"), 3, "no cube named 'nope'"),
        (("get", "12345"), 3, "no memory item"),
        (("get", "1", "--as-of", "not-a-date"), 2, "not a valid ISO 8601"),
        (("cube", "create", "work"), 5, "already exists"),
        (("search", "q", "--cube", "work", "-k", "0"), 2, "k must be"),
        (("import", "/nonexistent/file.jsonl"), 3, "no export file"),
    ]
    for args, code, message in cases:
        result = run(*args)
        assert result.exit_code == code, (args, result.output)
        if message:
            assert message in result.stderr
        assert "Traceback" not in result.output
        assert len(result.stderr.strip().splitlines()) == 1


def test_permission_denied_exit_code(run, home: Path, db_url: str | None) -> None:  # type: ignore[no-untyped-def]
    run("cube", "create", "team")
    run("add", "team secret", "--cube", "team")
    runner = CliRunner()
    args = ["--home", str(home), "--embedder", "hash", "--user", "mallory"]
    if db_url:
        args += ["--url", db_url]
    result = runner.invoke(app, [*args, "search", "secret", "--cube", "team"])
    assert result.exit_code == 4
    assert "lacks read permission" in result.stderr


def _memos(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MEMOS_HOME": str(home), "MEMOS_EMBEDDER": "hash"}
    return subprocess.run(
        [sys.executable, "-m", "memos.cli.app", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_subprocess(home: Path, backend: str) -> None:
    assert _memos(home, "cube", "create", "work").returncode == 0
    added = _memos(home, "--json", "add", "Alice's birthday is June 2", "--cube", "work")
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout)["content"] == "Alice's birthday is June 2"
    found = _memos(home, "--json", "search", "birthday", "--cube", "work")
    assert json.loads(found.stdout)[0]["item"]["content"] == "Alice's birthday is June 2"
    bad = _memos(home, "add", "", "--cube", "work")
    assert bad.returncode == 2
    assert bad.stderr.startswith("memos: error:") and "Traceback" not in bad.stderr
    missing = _memos(home, "history", "77")
    assert missing.returncode == 3


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "memos"
    assert script.exists(), "the `memos` command is missing; run pip install -e ."
    done = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "cube" in done.stdout


def test_search_explain_filters_and_weights(run) -> None:  # type: ignore[no-untyped-def]
    run("cube", "create", "work")
    run("add", "Deploy window is Friday", "--cube", "work", "--tag", "ops", "--source", "slack")
    run("add", "Deploy script fixed", "--cube", "work", "--source", "git")
    explained = run("search", "deploy window", "--cube", "work", "--explain")
    assert explained.exit_code == 0
    assert "vector=" in explained.stdout and "lexical=" in explained.stdout
    run("add", "Deploy freeze starts", "--cube", "work", "--valid-from", "2026-03-02")
    dated = run("search", "deploy on 2 March 2026", "--cube", "work", "--explain")
    assert dated.exit_code == 0 and "Deploy freeze" in dated.stdout.splitlines()[0]
    assert "when=0.300" in dated.stdout.splitlines()[1]
    only_git = json.loads(run("search", "deploy", "--cube", "work", "--source", "git",
                              json_out=True).stdout)  # fmt: skip
    assert [h["item"]["source"] for h in only_git] == ["git"]
    tagged = json.loads(run("search", "deploy", "-c", "work", "--tag", "ops", json_out=True).stdout)
    assert [h["item"]["tags"] for h in tagged] == [["ops"]]
    no_lexical = json.loads(run("search", "deploy", "-c", "work", "--weight", "lexical=0",
                                json_out=True).stdout)  # fmt: skip
    weight = SearchWeights().vector
    assert all(h["scores"]["fused"] == pytest.approx(weight * h["scores"]["vector"])
               for h in no_lexical)  # fmt: skip
    bad = run("search", "deploy", "-c", "work", "--weight", "graph")
    assert bad.exit_code == 2 and "NAME=NUMBER" in bad.stderr
    unknown = run("search", "deploy", "-c", "work", "--weight", "speed=2")
    assert unknown.exit_code == 2 and "unknown search weight" in unknown.stderr
