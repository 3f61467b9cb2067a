"""Fuzzing the `memos` command: every command of the typer app (found by walking it, so a
new command is fuzzed without touching this file), with generated arguments and options,
against one shared home.

Each call either succeeds, or ends with exactly one `memos: error:` line on stderr and an
exit code from 2 to 8 — never a traceback — and a refused call writes nothing (the
database's counts and operation log are the same before and after).
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from memos.cli.app import app

# Commands that serve forever or run whole benchmarks are not fuzzed here, nor those with a
# known defect outside this room (tests/test_bad_input.py holds it as a strict xfail).
SKIPPED = {("serve",), ("mcp",), ("eval",)}
CUBE = "work"
# Words that make an argument plausible enough to get past parsing, and values that are
# known to have broken something once.
WORDS = [
    "", " ", "-1", "0", "1", "2", "3", "5", "99999", "9223372036854775807",
    "9223372036854775808", "18446744073709551616", "²", "٣", "1.5", "nan", "inf", "-inf",
    "1e400", "abc", "work", "team", "nope", "x" * 300, "\t\n", "../escape", "/", "alice",
    "bob", "carol", "*", "read", "write", "admin", "superuser", "private", "shared",
    "public", "activated", "archived", "frozen", "merged", "deleted", "generated",
    "expired", "sleeping", "fact", "Bad Type!", "note", "related", "Bad Kind", "supports",
    "routine", "heuristic", "pitfall", "success", "failure", "graphml", "json", "xml",
    "7d", "99999999999d", "1e400s", "-3d", "0s", "30m", "2024-01-01", "2024-13-45",
    "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "yesterday", "graph=0",
    "graph=nan", "=1", "vector=-1", "nope=1", "graph=1e999", "native", "int8", "float16",
    "bogus", "none", "local", "openai", "\u202e", "emoji 🎉", "nul\x00byte", "lone\ud800",
    "'; DROP TABLE memos_items; --", "%", "_", "{}", "[]", "null",
]  # fmt: skip
PROTECTED = {CUBE, "team"}


@dataclass
class Home:
    """The shared home, the files a command may be pointed at, and what to compare."""

    root: Path
    files: list[str]
    ids: list[str]

    def fingerprint(self) -> tuple[Any, ...]:
        """What a write changes: counts of every table and the log (expiry, which any read
        may trigger once a short TTL has passed, left out)."""
        with sqlite3.connect(f"file:{self.root / 'memos.db'}?mode=ro", uri=True) as conn:
            tables = [
                r[0]
                for r in conn.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'memos_%'"
                    " AND name NOT LIKE 'memos_fts%' AND name NOT IN ('memos_oplog',"
                    " 'memos_item_versions', 'memos_meta', 'memos_log_heads')"
                )
            ]
            counts = tuple(
                (t, conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]) for t in tables
            )
            log = conn.execute(
                "SELECT count(*) FROM memos_oplog WHERE operation NOT IN ('expire', 'stale')"
            ).fetchone()
            versions = conn.execute(
                "SELECT count(*) FROM memos_item_versions WHERE operation NOT IN "
                "('expire', 'stale')"
            ).fetchone()
        return counts, log, versions


def _invoke(runner: CliRunner, args: list[str]) -> Any:
    return runner.invoke(app, args, catch_exceptions=True)


@pytest.fixture(scope="module")
def shared_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Home]:
    folder = tmp_path_factory.mktemp("fuzz-cli")
    root = folder / "home"
    previous = Path.cwd()
    os.chdir(folder)  # relative paths the fuzzer makes up land here, not in the checkout
    saved = os.environ.get("MEMOS_RUNTIME_MODEL")
    # KV and LoRA commands get as far as loading the model, which fails at once.
    os.environ["MEMOS_RUNTIME_MODEL"] = str(folder / "no-model")
    runner = CliRunner()
    base = ["--home", str(root), "--embedder", "hash", "--user", "alice", "--json"]

    def run(*args: str) -> Any:
        result = _invoke(runner, [*base, *args])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout) if result.stdout.strip().startswith(("{", "[")) else None

    run("cube", "create", CUBE)
    run("cube", "create", "team")
    run("cube", "grant", CUBE, "bob", "read")
    run("cube", "grant", CUBE, "carol", "write")
    ids: list[str] = []
    for text, visibility in [
        ("The launch is on March 3 at the Lisbon office", "shared"),
        ("Alice's private salary review is on Friday", "private"),
        ("The cafeteria closes at 3pm on Fridays", "public"),
    ]:
        item = run("add", text, "-c", CUBE, "--visibility", visibility, "--tag", "seed")
        ids += [str(item["id"]), item["uid"]]
    note = run("note", "add", "Launch preparations for the Lisbon office", "-c", CUBE)
    ids.append(str(note["note"]["id"]))
    run("link", ids[0], ids[4], "--reason", "private reason")
    run("concept", "add", "bleed first", "-c", CUBE, "--kind", "heuristic", "-d", "Bleed.")
    files = {
        "export": folder / "export.jsonl",
        "messages": folder / "messages.jsonl",
        "roles": folder / "roles.jsonl",
        "garbage": folder / "garbage.bin",
        "empty": folder / "empty.jsonl",
        "trace": folder / "trace.txt",
    }
    run("export", str(files["export"]), "-c", CUBE)
    files["messages"].write_text(
        json.dumps({"role": "user", "content": "I moved to Bergen in May"}) + "\n"
    )
    files["roles"].write_text(json.dumps({"role": "wizard", "content": "I cast a spell"}) + "\n")
    files["garbage"].write_bytes(b"\xff\xfe\x00garbage\n{not json")
    files["empty"].write_bytes(b"")
    files["trace"].write_text("Step 1: check the logs\nHeuristic: retry - back off first\n")
    paths = [str(p) for p in files.values()]
    paths += [str(folder), str(folder / "missing" / "x.jsonl"), str(folder / "out.jsonl"), "-"]
    try:
        yield Home(root, paths, ids)
    finally:
        os.chdir(previous)
        if saved is None:
            os.environ.pop("MEMOS_RUNTIME_MODEL", None)
        else:
            os.environ["MEMOS_RUNTIME_MODEL"] = saved


def _commands() -> list[tuple[tuple[str, ...], Any]]:
    found: list[tuple[tuple[str, ...], Any]] = []

    def walk(command: Any, path: tuple[str, ...]) -> None:
        if any(path[: len(s)] == s for s in SKIPPED):
            return
        children = getattr(command, "commands", None)
        if children:
            for name, child in sorted(children.items()):
                walk(child, (*path, name))
        else:
            found.append((path, command))

    walk(typer.main.get_command(app), ())
    return found


COMMANDS = _commands()


SENTENCES = ["The launch moved to March 10", "Lisbon office launch", "retry with back off"]
PLAUSIBLE: dict[str, list[str]] = {
    "cube": [CUBE, "team"],
    "name": [CUBE, "team", "fresh-cube", "bleed first"],
    "text": SENTENCES,
    "query": SENTENCES,
    "problem": SENTENCES,
    "prompt": SENTENCES,
    "description": ["Bleed before opening."],
    "type": ["fact", "note", "event"],
    "status": ["activated", "archived", "frozen", "generated"],
    "kind": ["related", "supports", "routine", "heuristic"],
    "permission": ["read", "write", "admin"],
    "tag": ["seed", "launch"],
    "ttl": ["7d", "3600"],
    "valid_from": ["2024-01-01", "2024-05-01T10:00:00+02:00"],
    "valid_to": ["2030-01-01"],
    "as_of": ["2030-01-01T00:00:00Z"],
    "known_at": ["2030-01-01T00:00:00Z"],
    "weight": ["graph=0", "vector=2"],
    "visibility": ["private", "shared", "public"],
    "format": ["json", "graphml"],
    "outcome": ["success", "failure"],
    "storage": ["native", "int8"],
    "source": ["slack", "git"],
    "source_ref": ["msg-17"],
    "author": ["alice"],
    "agent": ["ops"],
    "reason": ["both about the launch"],
    "task": ["fix the retry"],
    "llm": ["none"],
    "scope": ["read", "write"],
    "label": ["laptop"],
    "expires": ["30d"],
}
NUMBERS = {"k", "depth", "min_size", "candidates", "max_new_tokens", "batch_size", "rank",
           "steps", "seed", "n", "events", "budget", "conversations", "port"}  # fmt: skip


def _value(draw: Any, home: Home, name: str, *, junk: bool) -> str:
    """A value for a parameter: plausible for its name, or (`junk`) anything at all."""
    if junk:
        made_up = str(draw(st.text(max_size=24) if draw(st.integers(0, 3)) == 0
                           else st.sampled_from(WORDS)))  # fmt: skip
        if made_up.startswith(("/", "~")) and made_up != "/":
            # Kept inside the test's folder (the working directory while fuzzing).
            return "./" + made_up.lstrip("/~")
        return made_up
    if name in ("item", "src", "dst", "items", "concepts", "kv", "memory", "adapter",
                "used", "key_id"):  # fmt: skip
        return str(draw(st.sampled_from(home.ids)))
    if name in ("file", "trace", "out_dir", "paths", "data", "workdir", "out"):
        return str(draw(st.sampled_from(home.files)))
    if name == "user":
        return str(draw(st.sampled_from(["alice", "bob", "carol", "*", "mallory"])))
    if name in NUMBERS:
        return str(draw(st.integers(1, 5)))
    return str(draw(st.sampled_from(PLAUSIBLE.get(name) or WORDS)))


@st.composite
def invocations(draw: Any, home: Home) -> tuple[tuple[str, ...], list[str]]:
    """One command line: plausible values but for at most one fuzzed parameter, so that
    calls get past the first check and reach the deeper ones."""
    path, command = draw(st.sampled_from(COMMANDS))
    junk = draw(st.integers(-2, len(command.params)))  # which parameter (none if < 0)
    args: list[str] = []
    options: list[str] = []
    for number, param in enumerate(command.params):
        name = param.name or ""
        bad = number == junk
        if param.param_type_name == "argument":
            if bad and draw(st.integers(0, 9)) == 0:
                continue  # now and then a missing argument
            count = draw(st.integers(1, 2)) if param.nargs == -1 else 1
            args += [_value(draw, home, name, junk=bad) for _ in range(count)]
            continue
        if not (param.required or bad or draw(st.booleans())):
            continue
        flag = param.opts[0]
        if getattr(param, "is_flag", False):
            options.append(flag if not param.secondary_opts or draw(st.booleans())
                           else param.secondary_opts[0])  # fmt: skip
            continue
        for _ in range(draw(st.integers(1, 2)) if param.multiple else 1):
            options += [flag, _value(draw, home, name, junk=bad)]
    if path == ("cube", "drop") and args and args[0] in PROTECTED:
        args[0] = "scratch"  # keep the shared cubes for the other calls
    if draw(st.integers(0, 19)) == 0:
        options.append(draw(st.sampled_from(["--bogus", "-z", "--cube"])))
    user = "alice"
    head = ["--home", str(home.root), "--embedder", "hash", "--user", user]
    if draw(st.booleans()):
        head.append("--json")
    roll = draw(st.integers(0, 39))
    if roll < 6:
        head[5] = draw(st.sampled_from(["bob", "carol", "mallory", "", " ", "x" * 200, "*"]))
    elif roll == 6:
        head += ["--url", draw(st.sampled_from(
            ["mysql://x/y", "not a url", "sqlite:////nonexistent/dir/x.db", ""]))]  # fmt: skip
    elif roll == 7:
        head[1] = draw(st.sampled_from(home.files))
    elif roll == 8:
        head[3] = draw(st.sampled_from(["minilm-nope", "", "hash"]))
    ordered = [*args, *options] if draw(st.booleans()) else [*options, *args]
    return path, [*head, *path, *ordered]


def _check(result: Any, path: tuple[str, ...], args: list[str]) -> None:
    shown = f"memos {' '.join(repr(a) for a in args[6:])}"
    error = result.exception
    assert error is None or isinstance(error, SystemExit), f"{shown}: {error!r}"
    assert "Traceback" not in result.output, shown
    if result.exit_code == 0:
        return
    lines = [line for line in result.stderr.splitlines() if line.startswith("memos: error:")]
    if path == ("cube", "drop") and result.exit_code == 1:
        return  # declined the confirmation (no --yes): nothing to report
    assert 2 <= result.exit_code <= 8, f"{shown}: exit {result.exit_code}: {result.output}"
    assert len(lines) == 1, f"{shown}: {result.stderr!r}"


# Outcomes by command and exit code: `pytest -s` prints them after the run.
OUTCOMES: Counter[tuple[str, int]] = Counter()
SAMPLES: dict[tuple[str, int], str] = {}


@settings(
    max_examples=int(os.environ.get("FUZZ_N", "600")),
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_every_command_refuses_bad_input_cleanly(shared_home: Home, data: Any) -> None:
    path, args = data.draw(invocations(shared_home))
    before = shared_home.fingerprint()
    result = _invoke(CliRunner(), args)
    OUTCOMES[" ".join(path), result.exit_code] += 1
    SAMPLES.setdefault((" ".join(path), result.exit_code), f"{args[4:]} -> {result.stderr[-200:]}")
    _check(result, path, args)
    if result.exit_code != 0 and args[1] == str(shared_home.root):
        assert shared_home.fingerprint() == before, f"refused but wrote: {args[6:]}"


def test_the_shared_home_is_still_healthy(shared_home: Home, tmp_path: Path) -> None:
    """Whatever the fuzzing accepted can still be read, exported and imported."""
    print(f"\nfuzzed {sum(OUTCOMES.values())} CLI calls:")
    for (command, code), count in sorted(OUTCOMES.items()):
        print(f"  {command:<24} exit {code}: {count}   {SAMPLES[command, code]!r}"[:400])
    runner = CliRunner()
    base = ["--home", str(shared_home.root), "--embedder", "hash", "--user", "alice"]
    listed = _invoke(runner, [*base, "--json", "cube", "list"])
    assert listed.exit_code == 0, listed.output
    for cube in json.loads(listed.stdout):
        target = tmp_path / f"{cube['name']}.jsonl"
        exported = _invoke(runner, [*base, "export", str(target), "-c", cube["name"]])
        assert exported.exit_code == 0, exported.output
        again = _invoke(runner, [*base, "import", str(target), "--name", f"{cube['name']}-again"])
        assert again.exit_code == 0, again.output
        assert _invoke(runner, [*base, "stats", "-c", cube["name"]]).exit_code == 0
