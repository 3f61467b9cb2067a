"""Bad input gets a clear error naming the problem, and nothing stored is lost."""

from __future__ import annotations

from pathlib import Path

import pytest

import memos
from memos.config import DEFAULT_MAX_CONTENT_CHARS


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
