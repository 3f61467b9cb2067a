"""`memos keys` (create, list, revoke) and the options of `memos serve` / `memos mcp`."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

import memos
from memos.cli.app import app
from memos.testing import HashEmbedder


def _run(home: Path, db_url: str | None, *args: str) -> object:
    base = ["--home", str(home), "--embedder", "hash", "--user", "alice"]
    if db_url is not None:
        base += ["--url", db_url]
    return CliRunner().invoke(app, [*base, *args])


def test_keys_create_list_revoke(home: Path, db_url: str | None) -> None:
    made = _run(
        home,
        db_url,
        "--json",
        "keys",
        "create",
        "bob",
        "--scope",
        "read",
        "--expires",
        "30d",
        "--label",
        "laptop",
    )
    assert made.exit_code == 0, made.output  # type: ignore[attr-defined]
    record = json.loads(made.stdout)  # type: ignore[attr-defined]
    assert record["user"] == "bob" and record["scope"] == "read" and record["label"] == "laptop"
    assert record["expires_at"] is not None and record["key"].startswith(f"memos_{record['id']}_")
    human = _run(home, db_url, "keys", "create", "carol")
    assert "Keep it now" in human.stdout and "write scope" in human.stdout  # type: ignore[attr-defined]

    listed = json.loads(_run(home, db_url, "--json", "keys", "list").stdout)  # type: ignore[attr-defined]
    assert [(k["user"], k["state"]) for k in listed] == [("bob", "active"), ("carol", "active")]
    assert all("key" not in k and "secret_hash" not in k for k in listed)
    assert record["key"] not in _run(home, db_url, "keys", "list").stdout  # type: ignore[attr-defined]
    only_bob = json.loads(_run(home, db_url, "--json", "keys", "list", "--user", "bob").stdout)  # type: ignore[attr-defined]
    assert [k["id"] for k in only_bob] == [record["id"]]

    revoked = _run(home, db_url, "keys", "revoke", record["id"])
    assert revoked.exit_code == 0 and "revoked" in revoked.stdout  # type: ignore[attr-defined]
    with memos.open(home, url=db_url, user="alice", embedder=HashEmbedder(dim=64)) as mos:
        try:
            mos.kernel.store.authenticate_api_key(record["key"])
        except memos.PermissionDeniedError as exc:
            assert "revoked" in str(exc)
        else:
            raise AssertionError("a revoked key still works")
    states = {
        k["id"]: k["state"] for k in json.loads(_run(home, db_url, "--json", "keys", "list").stdout)
    }  # type: ignore[attr-defined]
    assert states[record["id"]] == "revoked"


def test_keys_refuse_bad_input(home: Path) -> None:
    assert _run(home, None, "keys", "create", "bob", "--scope", "owner").exit_code == 2  # type: ignore[attr-defined]
    assert _run(home, None, "keys", "create", "bob", "--expires", "soon").exit_code == 2  # type: ignore[attr-defined]
    assert _run(home, None, "keys", "revoke", "nope").exit_code == 3  # type: ignore[attr-defined]
    assert _run(home, None, "keys", "list").stdout.strip() == "no API keys"  # type: ignore[attr-defined]


def test_serve_and_mcp_help() -> None:
    serve = CliRunner().invoke(app, ["serve", "--help"])
    for option in ("--home", "--url", "--host", "--port", "--scheduler", "--no-scheduler"):
        assert option in serve.stdout, option
    assert "127.0.0.1" in serve.stdout and "8765" in serve.stdout
    assert "stdin" in CliRunner().invoke(app, ["mcp", "--help"]).stdout
    for command in ("add", "search"):
        assert "--no-server" in CliRunner().invoke(app, [command, "--help"]).stdout
