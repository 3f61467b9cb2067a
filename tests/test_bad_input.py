"""Bad input gets a clear error naming the problem, and nothing stored is lost."""

from __future__ import annotations

import json
import shutil
import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import memos
from memos.cli.app import app
from memos.config import DEFAULT_MAX_CONTENT_CHARS
from memos.testing import single_thread, tiny_runtime


@pytest.fixture
def stocked(cube: memos.MemCube) -> tuple[memos.MemCube, memos.MemoryItem]:
    return cube, cube.add("a memory that must survive every bad call", tags=["keep"])


def _intact(cube: memos.MemCube, item: memos.MemoryItem) -> None:
    assert cube.get(item.id) == item
    assert cube.search("memory that must survive", k=1)[0].item.id == item.id
    assert cube.stats()["items"] == 1


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda c, i: c.add(""), "empty"),
        (lambda c, i: c.add("   \n\t "), "empty"),
        (lambda c, i: c.add("x" * (DEFAULT_MAX_CONTENT_CHARS + 1)), "over the limit"),
        (lambda c, i: c.add("nul \x00 byte"), "NUL"),
        (lambda c, i: c.add("lone \ud800 surrogate"), "UTF-8"),
        (lambda c, i: c.add(42), "must be text"),
        (lambda c, i: c.add("ok", type="Not A Type"), "type"),
        (lambda c, i: c.add("ok", valid_from="31/02/2024"), "ISO 8601"),
        (lambda c, i: c.add("ok", valid_from="2024-01-02", valid_to="2024-01-01"), "after"),
        (lambda c, i: c.add("ok", ttl="soon"), "duration"),
        (lambda c, i: c.add("ok", importance=3), "between 0 and 1"),
        (lambda c, i: c.add("ok", tags=[""]), "tags"),
        (lambda c, i: c.add("ok", attributes=["not", "a", "dict"]), "attributes"),
        (lambda c, i: c.add("ok", status="deleted"), "generated"),
        (lambda c, i: c.update(i.id), "nothing to update"),
        (lambda c, i: c.update(i.id, ""), "empty"),
        (lambda c, i: c.update(i.id, "x", colour="red"), "cannot update"),
        (lambda c, i: c.search(""), "empty"),
        (lambda c, i: c.search("q", k=0), "k must be"),
        (lambda c, i: c.search("q", k=10_000), "k must be"),
        (lambda c, i: c.get(i.id, as_of="yesterday"), "ISO 8601"),
        (lambda c, i: c.get(True), "not an item id"),
        (lambda c, i: c.link(i.id, i.id, kind="Bad Kind"), "link kind"),
        (lambda c, i: c.set_status(i.id, "sleeping"), "status"),
        (lambda c, i: c.grant("bob", "superuser"), "permission"),
    ],
)
def test_invalid_input(
    stocked: tuple[memos.MemCube, memos.MemoryItem], call: object, message: str
) -> None:
    cube, item = stocked
    with pytest.raises(memos.InvalidInputError, match=message):
        call(cube, item)  # type: ignore[operator]
    _intact(cube, item)


def test_unknown_ids_and_cubes(
    stocked: tuple[memos.MemCube, memos.MemoryItem], mos: memos.MemOS
) -> None:
    cube, item = stocked
    for call in (
        lambda: cube.get(999_999),
        lambda: cube.get("no-such-uid"),
        lambda: cube.update(999_999, "x"),
        lambda: cube.forget(999_999),
        lambda: cube.history(999_999),
        lambda: cube.link(item.id, 999_999),
        lambda: mos.cube("missing"),
        lambda: mos.cube_of(999_999),
        lambda: mos.drop_cube("missing"),
        lambda: cube.unlink(12345),
    ):
        with pytest.raises(memos.NotFoundError):
            call()
    _intact(cube, item)


def test_bad_cube_names(mos: memos.MemOS) -> None:
    for name in ("", "has space", "../escape", "-dash-first", "x" * 200):
        with pytest.raises(memos.InvalidInputError, match="cube name"):
            mos.create_cube(name)


def test_non_utf8_import_keeps_everything(
    stocked: tuple[memos.MemCube, memos.MemoryItem], mos: memos.MemOS, tmp_path: Path
) -> None:
    cube, item = stocked
    export = tmp_path / "work.jsonl"
    cube.export_jsonl(export)
    lines = export.read_bytes().splitlines(keepends=True)
    broken = tmp_path / "broken.jsonl"
    broken.write_bytes(lines[0] + b'{"record": "item", "content": "caf\xe9"}\n' + lines[1])
    with pytest.raises(memos.InvalidInputError, match=r"broken.jsonl:2: not UTF-8"):
        mos.import_jsonl(broken, name="copy")
    assert [c.name for c in mos.cubes()] == ["work"]
    _intact(cube, item)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty file"),
        (b"not json\n", "not valid JSON"),
        (b'{"record": "item"}\n', "not a memos export"),
        (
            b'{"record": "cube", "format": "memos-export", "format_version": 99, "name": "x"}\n',
            "version 99",
        ),
        (
            b'{"record": "cube", "format": "memos-export", "format_version": 1, "name": "x"}\n'
            b'{"record": "item", "uid": "u1"}\n',
            "missing",
        ),
        (
            b'{"record": "cube", "format": "memos-export", "format_version": 1, "name": "x"}\n'
            b'{"record": "link", "src_uid": "a", "dst_uid": "b", "kind": "related",'
            b' "created_by": "x", "created_at": "2024-01-01"}\n',
            "unknown item uid",
        ),
    ],
)
def test_malformed_import_files(
    mos: memos.MemOS, tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(content)
    with pytest.raises(memos.InvalidInputError, match=message):
        mos.import_jsonl(path)
    assert mos.cubes() == []


def test_missing_import_file(mos: memos.MemOS, tmp_path: Path) -> None:
    with pytest.raises(memos.NotFoundError, match="no export file"):
        mos.import_jsonl(tmp_path / "nope.jsonl")


def test_bad_settings(tmp_path: Path) -> None:
    with pytest.raises(memos.ConfigError, match="unknown embedder"):
        memos.open(tmp_path, embedder="no-such-model")
    with pytest.raises(memos.ConfigError, match="unsupported database"):
        memos.open(tmp_path, url="mysql://localhost/x", embedder="hash")
    with pytest.raises(memos.ConfigError, match="max_content_chars"):
        memos.open(tmp_path, embedder="hash", max_content_chars=-1)


# -- issue #14: every malformed call ends in a MemosError, and nothing is written ----------


def _export_lines(cube: memos.MemCube, tmp_path: Path) -> list[str]:
    path = tmp_path / "valid.jsonl"
    cube.export_jsonl(path)
    return path.read_text(encoding="utf-8").splitlines()


def _item_record(lines: list[str]) -> dict[str, Any]:
    record = json.loads(lines[1])
    assert record["record"] == "item"
    return dict(record)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"content": "x" * 10_000_001}, "over the limit"),
        ({"content": " \n\t "}, "empty"),
        ({"type": "Bad Type!"}, "type"),
        ({"tags": "abc"}, "tags"),
        ({"stale": "no"}, "stale"),
        ({"version": -5}, "version"),
        (
            {"valid_from": "2024-02-01T00:00:00+00:00", "valid_to": "2024-01-01T00:00:00+00:00"},
            "valid_to must be after valid_from",
        ),
        ({"importance": 5.0}, "importance"),
        ({"size_bytes": -1}, "size_bytes"),
        ({"importance": "high"}, "importance"),
        ({"tags": [1, 2]}, "tags"),
        ({"attributes": [1, 2]}, "attributes"),
        ({"access_count": "many"}, "access_count"),
        ({"derived_from": "abc"}, "derived_from"),
        ({"attributes": {"big": "x" * 70_000}}, "attributes"),
        ({"visibility": "secret"}, "visibility"),
        ({"status": "sleeping"}, "status"),
        ({"owner": 7}, "owner"),
        ({"versions": []}, "versions"),
        ({"versions": [7]}, "versions"),
        ({"created_at": "yesterday"}, "created_at"),
        ({"valid_from": "0001-01-01T00:00:00+14:00"}, "out of range"),
        ({"uid": ""}, "uid"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_import_refuses_every_malformed_field(
    stocked: tuple[memos.MemCube, memos.MemoryItem],
    mos: memos.MemOS,
    tmp_path: Path,
    change: dict[str, Any],
    message: str,
) -> None:
    cube, item = stocked
    lines = _export_lines(cube, tmp_path)
    record = {**_item_record(lines), **change}
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join([lines[0], json.dumps(record), *lines[2:]]) + "\n")
    with pytest.raises(memos.InvalidInputError, match=message) as raised:
        mos.import_jsonl(path, name="copy")
    assert "bad.jsonl:2" in str(raised.value)
    assert [c.name for c in mos.cubes()] == ["work"]
    _intact(cube, item)


def test_imported_derived_memory_is_stale_and_without_artifact(
    stocked: tuple[memos.MemCube, memos.MemoryItem], mos: memos.MemOS, tmp_path: Path
) -> None:
    """A digest in an export file must never adopt an artifact already on this host."""
    cube, _ = stocked
    lines = _export_lines(cube, tmp_path)
    forged = {
        **_item_record(lines),
        "kind": "activation",
        "artifact": "0" * 64,
        "stale": False,
        "tier": "gpu",
        "size_bytes": 123456,
    }
    forged["versions"] = [{**v, "kind": "activation", "artifact": "0" * 64, "stale": False}
                          for v in forged["versions"]]  # fmt: skip
    path = tmp_path / "forged.jsonl"
    path.write_text("\n".join([lines[0], json.dumps(forged)]) + "\n")
    copy = mos.import_jsonl(path, name="copy")
    [derived] = copy.items(kind=["activation"])
    assert derived.stale and derived.artifact is None and derived.size_bytes == 0
    assert all(v.item.artifact is None for v in copy.history(derived.id))


@pytest.mark.parametrize("ref", [2**63, "9223372036854775808", "²", "٣", -1, 0, True, 1.5, None])
def test_ids_out_of_range_are_refused_everywhere(
    stocked: tuple[memos.MemCube, memos.MemoryItem], ref: object
) -> None:
    cube, item = stocked
    calls = (
        lambda: cube.get(ref),  # type: ignore[arg-type]
        lambda: cube.update(ref, "x"),  # type: ignore[arg-type]
        lambda: cube.history(ref),  # type: ignore[arg-type]
        lambda: cube.forget(ref),  # type: ignore[arg-type]
        lambda: cube.link(item.id, ref),  # type: ignore[arg-type]
        lambda: cube.links(ref),  # type: ignore[arg-type]
        lambda: cube.revert(item.id, ref),  # type: ignore[arg-type]
        lambda: cube.unlink(ref),  # type: ignore[arg-type]
    )
    for call in calls:
        with pytest.raises((memos.InvalidInputError, memos.NotFoundError)):
            call()
    _intact(cube, item)


@pytest.mark.parametrize(
    "ttl",
    ["99999999999d", "1e400s", float("inf"), float("nan"), 1e20, timedelta.max, -5, "-3d", "0s"],
)
def test_ttl_overflow_is_refused(
    stocked: tuple[memos.MemCube, memos.MemoryItem], ttl: object
) -> None:
    cube, item = stocked
    with pytest.raises(memos.InvalidInputError, match="ttl"):
        cube.add("expires some day", ttl=ttl)
    with pytest.raises(memos.InvalidInputError, match="ttl"):
        cube.update(item.id, ttl=ttl)
    _intact(cube, item)


def test_dates_out_of_range_once_in_utc(stocked: tuple[memos.MemCube, memos.MemoryItem]) -> None:
    cube, item = stocked
    for call in (
        lambda: cube.add("x", valid_from="0001-01-01T00:00:00+14:00"),
        lambda: cube.add("x", valid_to="9999-12-31T23:59:59-14:00"),
        lambda: cube.get(item.id, as_of="0001-01-01T00:00:00+01:00"),
        lambda: cube.get(item.id, known_at="0001-01-01T00:00:00+01:00"),
        lambda: cube.search("memory", as_of="0001-01-01T00:00:00+01:00"),
        lambda: cube.supersede(item.id, by=item.id, at="0001-01-01T00:00:00+01:00"),
    ):
        with pytest.raises(memos.InvalidInputError, match="out of range"):
            call()
    _intact(cube, item)


def test_window_checked_against_the_stored_item(
    stocked: tuple[memos.MemCube, memos.MemoryItem],
) -> None:
    cube, item = stocked
    before = item.valid_from - timedelta(days=1)
    with pytest.raises(memos.InvalidInputError, match="valid_from"):
        cube.update(item.id, valid_to=before)
    _intact(cube, item)


def test_merge_needs_another_target(stocked: tuple[memos.MemCube, memos.MemoryItem]) -> None:
    cube, item = stocked
    with pytest.raises(memos.InvalidInputError, match="itself"):
        cube.merge(item.id, into=item.id)
    with pytest.raises(memos.InvalidInputError, match="target"):
        cube.set_status(item.id, "merged")
    _intact(cube, item)


@pytest.mark.parametrize("weight", [float("nan"), float("inf"), -1.0, 1e9, "high", True, None])
def test_search_and_link_weights_must_be_finite(
    stocked: tuple[memos.MemCube, memos.MemoryItem], weight: object
) -> None:
    cube, item = stocked
    other = cube.add("another memory to link")
    with pytest.raises(memos.InvalidInputError, match="weight"):
        cube.search("memory", weights={"graph": weight})  # type: ignore[dict-item]
    with pytest.raises(memos.InvalidInputError, match="weight"):
        cube.link(item.id, other.id, weight=weight)  # type: ignore[arg-type]
    with pytest.raises(memos.InvalidInputError, match="weight"):
        cube.link(item.id, other.id, weight=0)
    assert cube.links(item.id) == []


@pytest.mark.parametrize("weights", [[1, 2], "graph=0", 5, {1: 2.0}, {"nope": 1.0}])
def test_search_weights_of_the_wrong_shape(
    stocked: tuple[memos.MemCube, memos.MemoryItem], weights: object
) -> None:
    cube, item = stocked
    with pytest.raises(memos.InvalidInputError, match="weight"):
        cube.search("memory", weights=weights)  # type: ignore[arg-type]
    _intact(cube, item)


def test_export_targets(stocked: tuple[memos.MemCube, memos.MemoryItem], tmp_path: Path) -> None:
    cube, _ = stocked
    with pytest.raises(memos.InvalidInputError, match="directory"):
        cube.export_jsonl(tmp_path)
    with pytest.raises(memos.InvalidInputError, match="does not exist"):
        cube.export_jsonl(tmp_path / "missing" / "out.jsonl")
    with pytest.raises(memos.InvalidInputError, match="file path"):
        cube.export_jsonl("  ")


def test_home_must_be_a_private_folder(tmp_path: Path) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("not a folder")
    with pytest.raises(memos.InvalidInputError, match="is a file"):
        memos.open(a_file, embedder="hash")
    with memos.open(tmp_path / "home", embedder="hash") as opened:
        opened.create_cube("work").add("something private")
    assert (tmp_path / "home").stat().st_mode & 0o777 == 0o700
    assert (tmp_path / "home" / "memos.db").stat().st_mode & 0o777 == 0o600


def test_a_foreign_sqlite_file_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER, name TEXT)")
    with pytest.raises(memos.BackendError, match="customers"):
        memos.open(tmp_path / "home", url=f"sqlite:///{other}", embedder="hash")
    with sqlite3.connect(other) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    assert names == ["customers"]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda c, i: c.add_many("abc"), "list of records"),
        (lambda c, i: c.add_many(5), "list of records"),
        (lambda c, i: c.add_many({"content": "x"}), "list of records"),
        (lambda c, i: c.add_many(["ok", {"content": ""}]), "record 1"),
        (lambda c, i: c.add_many([5]), "record 0"),
        (lambda c, i: c.add("x", attributes={"big": "x" * 70_000}), "bytes"),
        (lambda c, i: c.add("x", attributes={"a": {1, 2}}), "JSON"),
        (lambda c, i: c.add("x", attributes={"a": float("nan")}), "JSON"),
        (lambda c, i: c.add("x", attributes={1: "a"}), "string keys"),
        (lambda c, i: c.items(limit=-1), "limit"),
        (lambda c, i: c.items(limit=0), "limit"),
        (lambda c, i: c.items(offset=-1), "offset"),
        (lambda c, i: c.items(status=["sleeping"]), "status"),
        (lambda c, i: c.operations(after=-1), "offset"),
        (lambda c, i: c.link_many([5]), "link 0"),
        (lambda c, i: c.link_many([(i.id,)]), "link 0"),
        (lambda c, i: c.link_many(None), "list of links"),
        (lambda c, i: c.link_many([{"src": i.id}]), "dst"),
        (
            lambda c, i: c.ingest([{"role": "wizard", "content": "I cast a spell on the castle"}]),
            "role 'wizard'",
        ),
        (lambda c, i: c.ingest([{"role": 5, "content": "hello there"}]), "role"),
        (lambda c, i: c.ingest(5), "messages or events"),
        (lambda c, i: c.grant("bob", None), "permission"),
        (lambda c, i: c.note("x", visibility="secret"), "visibility"),
    ],
)
def test_more_invalid_input(
    stocked: tuple[memos.MemCube, memos.MemoryItem], call: object, message: str
) -> None:
    cube, item = stocked
    with pytest.raises(memos.InvalidInputError, match=message):
        call(cube, item)  # type: ignore[operator]
    _intact(cube, item)


def test_known_roles_are_still_read(cube: memos.MemCube) -> None:
    report = cube.ingest(
        [
            {"role": "User", "content": "I moved to Bergen last spring"},
            {"role": "assistant", "content": "Noted, you moved to Bergen."},
        ]
    )
    assert report.messages == 2


@pytest.mark.parametrize(
    ("damage", "path"),
    [
        ("file", "indexes"),
        ("file", "indexes/local"),
        ("folder", "indexes/local/1/lock"),
        ("folder", "indexes/local/1/manifest.json"),
        ("folder", "indexes/local/1/vectors.dat"),
        ("garbage", "indexes/local/1/manifest.json"),
    ],
)
def test_damaged_index_folder_is_a_clear_error_or_rebuilt(
    tmp_path: Path, damage: str, path: str
) -> None:
    """An index path replaced by a file, or a file by a folder: a MemosError naming the
    path, or a rebuild from SQL; never a raw OSError."""
    home = tmp_path / "home"
    with memos.open(home, embedder="hash") as opened:
        opened.create_cube("work").add("hello world")
    target = home / path
    assert target.exists(), sorted(str(p.relative_to(home)) for p in home.rglob("*"))
    if damage == "file":
        shutil.rmtree(target)
        target.write_text("not a folder")
    elif damage == "folder":
        target.unlink()
        target.mkdir()
    else:
        target.write_bytes(b"\xff\x00garbage")
    try:
        with memos.open(home, embedder="hash") as opened:
            work = opened.cube("work")
            assert [h.item.content for h in work.search("hello world")] == ["hello world"]
            work.add("still writable")
    except memos.MemosError as error:
        assert "index" in str(error)


# -- derived memory (KV caches, adapters): found by tests/test_fuzz_sdk.py ---------------


@pytest.fixture(scope="module")
def derived(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with (
        single_thread(),
        memos.open(
            tmp_path_factory.mktemp("derived") / "home", user="alice", embedder="hash",
            runtime=tiny_runtime(),
        ) as opened,
    ):  # fmt: skip
        cube = opened.create_cube("lab")
        item = cube.add("Alice lives in Lisbon")
        kv = cube.build_activation([item.id])
        lora = cube.distill([item.id], steps=1, seed=0)
        yield cube, item, kv, lora


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda c, i, kv, lo: c.build_activation(None), id="build-None"),
        pytest.param(lambda c, i, kv, lo: c.build_activation(1.5), id="build-float"),
        pytest.param(lambda c, i, kv, lo: c.distill(None, steps=1), id="distill-None"),
        pytest.param(lambda c, i, kv, lo: c.generate("hi", memories=1.5), id="memories-float"),
        pytest.param(lambda c, i, kv, lo: c.generate("hi", adapters=None), id="adapters-None"),
        pytest.param(lambda c, i, kv, lo: c.distill([i.id], steps=2.5), id="steps-float"),
        pytest.param(lambda c, i, kv, lo: c.distill([i.id], steps=1, batch_size=1.5),
                     id="batch-float"),
        pytest.param(lambda c, i, kv, lo: c.distill([i.id], steps=1, seed=1.5), id="seed-float"),
        pytest.param(lambda c, i, kv, lo: c.distill([i.id], steps=1, qa=5), id="qa-int"),
        pytest.param(lambda c, i, kv, lo: c.rebuild(lo.id, qa=5), id="rebuild-qa"),
        pytest.param(lambda c, i, kv, lo: c.runtime.perplexity(5), id="perplexity-int"),
        pytest.param(lambda c, i, kv, lo: c.rebuild(kv.id, force=b"x"), id="rebuild-force"),
        pytest.param(lambda c, i, kv, lo: c.generate("hi", max_new_tokens=10**9), id="tokens"),
        pytest.param(lambda c, i, kv, lo: c.distill([i.id], steps=10**6), id="steps-huge"),
        pytest.param(lambda c, i, kv, lo: c.build_activation([i.id], storage="zip"), id="zip"),
    ],
)  # fmt: skip
def test_derived_memory_refuses_bad_input(derived: Any, call: Any) -> None:
    with pytest.raises(memos.MemosError):
        call(*derived)


# -- the same through the command line: one `memos: error:` line and an exit code ----------


@pytest.fixture
def cli(tmp_path: Path) -> Any:
    runner = CliRunner()
    home = tmp_path / "home"
    base = ["--home", str(home), "--embedder", "hash", "--user", "alice"]

    def run(*args: str) -> Any:
        return runner.invoke(app, [*base, *args])

    assert run("cube", "create", "work").exit_code == 0
    assert run("add", "a memory that must survive", "-c", "work").exit_code == 0
    return run


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["get", "9223372036854775808"], 2, "out of range"),
        (["get", "²"], 3, "no memory item"),
        (["update", "9223372036854775808", "x"], 2, "out of range"),
        (["history", "18446744073709551616"], 2, "out of range"),
        (["forget", "9223372036854775808"], 2, "out of range"),
        (["forget", "-1"], 2, "No such option"),
        (["link", "1", "9223372036854775808"], 2, "out of range"),
        (["add", "x", "-c", "work", "--ttl", "99999999999d"], 2, "ttl"),
        (["add", "x", "-c", "work", "--ttl", "1e400s"], 2, "ttl"),
        (["add", "x", "-c", "work", "--valid-from", "0001-01-01T00:00:00+14:00"], 2, "range"),
        (["get", "1", "--as-of", "0001-01-01T00:00:00+01:00"], 2, "out of range"),
        (["search", "memory", "-c", "work", "--weight", "graph=nan"], 2, "weight"),
        (["search", "memory", "-c", "work", "-k", "many"], 2, "Invalid value"),
        (["status", "1", "merged"], 2, "merging needs a target"),
        (["export", ".", "-c", "work"], 2, "directory"),
        (["export", "missing/out.jsonl", "-c", "work"], 2, "does not exist"),
        (["graph", "topics", "-c", "work", "--min-size", "0"], 2, "min_size"),
        (["concept", "abstract", "x" * 300, "-c", "work"], 2, "cannot read"),
        (["search"], 2, "Missing argument"),
        (["--bogus", "cube", "list"], 2, "No such option"),
    ],
)
def test_cli_refuses_with_one_line(cli: Any, args: list[str], code: int, message: str) -> None:
    result = cli(*args)
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("memos: error:"), result.stderr
    assert message in lines[0] and "Traceback" not in result.output
    assert cli("get", "1").exit_code == 0


def test_cli_refuses_unknown_roles(cli: Any, tmp_path: Path) -> None:
    messages = tmp_path / "chat.jsonl"
    messages.write_text(json.dumps({"role": "wizard", "content": "I cast a spell"}) + "\n")
    result = cli("ingest", str(messages), "-c", "work")
    assert result.exit_code == 2 and "role 'wizard'" in result.stderr
    assert json.loads(cli("--json", "stats", "-c", "work").stdout)["items"] == 1


def test_cli_home_that_is_a_file(tmp_path: Path) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("x")
    result = CliRunner().invoke(app, ["--home", str(a_file), "--embedder", "hash", "cube", "list"])
    assert result.exit_code == 2 and result.stderr.startswith("memos: error: memos home")


def test_keys_list_checks_the_user(cli: Any) -> None:
    result = cli("keys", "list", "--user", "lone\ud800")
    assert result.exit_code == 2 and result.stderr.startswith("memos: error:")
