"""`memos note`, `memos graph` and `memos concept` through the CLI (CliRunner)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from memos.cli.app import app


@pytest.fixture
def run(home: Path, db_url: str | None):  # type: ignore[no-untyped-def]
    runner = CliRunner()
    base = ["--home", str(home), "--embedder", "hash", "--user", "alice"]
    if db_url is not None:
        base += ["--url", db_url]

    def invoke(*args: str, json_out: bool = False, stdin: str | None = None):  # type: ignore[no-untyped-def]
        result = runner.invoke(app, [*base, *(["--json"] if json_out else []), *args], input=stdin)
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result

    return invoke


def test_note_and_graph_commands(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run("cube", "create", "kb")
    texts = [
        "The payments service times out when the database pool is exhausted.",
        "We raised the database pool size for the payments service.",
        "Database pool exhaustion hit the payments service again.",
    ]
    made = [json.loads(run("note", "add", t, "-c", "kb", json_out=True).stdout) for t in texts]
    first, _, third = (m["note"]["id"] for m in made)
    assert made[0]["construction"] == "offline" and made[0]["note"]["keywords"]
    assert {link["dst_id"] for link in made[2]["links"]} >= {first}
    human = run("note", "add", "Pool alarms for the payments service", "-c", "kb", "--agent", "ops")
    assert human.exit_code == 0 and "built by offline" in human.stdout

    plain = json.loads(run("add", "nobody links this", "-c", "kb", json_out=True).stdout)
    assert json.loads(run("graph", "neighbors", str(plain["id"]), json_out=True).stdout) == []
    neighbours = json.loads(run("graph", "neighbors", str(first), json_out=True).stdout)
    assert isinstance(neighbours, list) and neighbours
    assert {"id", "kind", "reason", "direction", "created_by"} <= set(neighbours[0])
    assert third in {n["id"] for n in neighbours}
    assert all(n["kind"] == "related" and n["reason"] for n in neighbours)
    assert "-> " in run("note", "links", str(third)).stdout
    shown = json.loads(run("note", "show", str(third), json_out=True).stdout)
    assert shown["note"]["id"] == third and shown["links"]

    steps = json.loads(run("graph", "path", str(third), str(first), json_out=True).stdout)
    assert steps[0]["id"] == third and steps[-1]["id"] == first
    assert "topic 1" in run("graph", "topics", "-c", "kb").stdout
    out = tmp_path / "kb.graphml"
    exported = json.loads(run("graph", "export", str(out), "-c", "kb", json_out=True).stdout)
    assert exported["format"] == "graphml" and exported["edges"] >= 2 and out.is_file()
    undone = run("note", "undo", str(made[-1]["note"]["id"]))
    assert undone.exit_code == 0


def test_concept_commands(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run("cube", "create", "arc")
    added = run("concept", "add", "flood fill", "-c", "arc", "--kind", "routine",
                "-d", "fill from a seed", "--cue", "enclosed region", json_out=True)  # fmt: skip
    concept = json.loads(added.stdout)["concept"]
    assert concept["name"] == "flood fill" and concept["cues"] == ["enclosed region"]
    trace = tmp_path / "trace.txt"
    trace.write_text("Heuristic: border first - start from the border\n1. scan\n")
    result = json.loads(
        run("concept", "abstract", str(trace), "-c", "arc", "--task", "grid fill",
            "--used", str(concept["id"]), json_out=True).stdout
    )  # fmt: skip
    assert result["changes"][0]["concept"]["name"] == "border first"
    piped = run("concept", "abstract", "-", "-c", "arc", "--outcome", "failure",
                stdin="Pitfall: diagonals - count 4-neighbours only\n")  # fmt: skip
    assert "created" in piped.stdout and "diagonals (pitfall)" in piped.stdout
    found = json.loads(
        run("concept", "for", "an enclosed region", "-c", "arc", json_out=True).stdout
    )
    assert found[0]["name"] == "flood fill" and found[0]["uses"] == 1
    outcome = run("concept", "outcome", str(concept["id"]), "-c", "arc", "--failure")
    assert "used 2x, 1 ok" in outcome.stdout
    listed = run("concept", "list", "-c", "arc", "--kind", "pitfall").stdout
    assert "diagonals" in listed and "flood fill" not in listed


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("graph", "neighbors", "9999"), 3, "no memory item"),
        (("graph", "export", "out.txt", "-c", "kb"), 2, "graphml or json"),
        (("graph", "export", "no/such/dir/g.json", "-c", "kb"), 2, "cannot write the graph"),
        (("concept", "list", "-c", "kb", "--kind", "trick"), 2, "unknown concept kind"),
        (("note", "add", " ", "-c", "kb"), 2, "empty"),
        (("note", "add", "x", "-c", "kb", "--candidates", "0"), 2, "candidates"),
        (("concept", "add", "x", "-c", "kb", "--kind", "trick", "-d", "y"), 2, "kind"),
        (("concept", "abstract", "missing.txt", "-c", "kb"), 3, "no trace file"),
        (("concept", "abstract", "-", "-c", "kb", "--outcome", "meh"), 2, "outcome"),
        (("concept", "for", "x", "-c", "nope"), 3, "nope"),
    ],
)
def test_bad_input_is_one_line_and_an_exit_code(  # type: ignore[no-untyped-def]
    run, args: tuple[str, ...], code: int, message: str
) -> None:
    run("cube", "create", "kb")
    result = run(*args, stdin="step\n")
    assert result.exit_code == code, result.output
    assert message in result.stderr and "Traceback" not in result.output
    assert result.stderr.startswith("memos: error:")
