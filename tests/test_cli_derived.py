"""`memos kv` and `memos lora` in process (CliRunner), on a tiny model folder named by
MEMOS_RUNTIME_MODEL, as a user would configure their own model."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from memos.cli.app import app
from memos.testing import save_tiny_model, single_thread


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    with single_thread():
        yield


@pytest.fixture(scope="module")
def model_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_model(tmp_path_factory.mktemp("tiny"), seed=0)


@pytest.fixture
def run(home: Path, model_folder: Path):  # type: ignore[no-untyped-def]
    runner = CliRunner()
    base = ["--home", str(home), "--embedder", "hash", "--user", "alice"]

    def invoke(*args: str, json_out: bool = False, model: Path | str = model_folder):  # type: ignore[no-untyped-def]
        full = [*base, *(["--json"] if json_out else []), *args]
        result = runner.invoke(app, full, env={"MEMOS_RUNTIME_MODEL": str(model)})
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result

    return invoke


def _facts(run) -> list[str]:  # type: ignore[no-untyped-def]
    assert run("cube", "create", "lab").exit_code == 0
    ids = []
    for text in ("Alice lives in Lisbon.", "Bob's birthday is March 3.", "Carol owns a bicycle."):
        ids.append(str(json.loads(run("add", text, "-c", "lab", json_out=True).stdout)["id"]))
    return ids


def test_kv_commands(run, home: Path) -> None:  # type: ignore[no-untyped-def]
    ids = _facts(run)
    built = run("kv", "build", *ids, "-c", "lab", json_out=True)
    assert built.exit_code == 0, built.output
    kv = json.loads(built.stdout)
    assert kv["kind"] == "activation" and [d["id"] for d in kv["derived_from"]] == [
        int(i) for i in ids
    ]
    listed = run("kv", "list", "-c", "lab")
    assert f"#{kv['id']} v1 activated fresh disk" in listed.stdout
    rows = json.loads(run("kv", "list", "-c", "lab", json_out=True).stdout)
    assert rows[0]["tier"] == "disk" and rows[0]["item"]["id"] == kv["id"]
    cached = json.loads(
        run("kv", "generate", "Where does Alice live?", "-c", "lab", "--kv", str(kv["id"]),
            "--max-new-tokens", "12", json_out=True).stdout
    )  # fmt: skip
    memory_args = [a for i in ids for a in ("--memory", i)]
    recomputed = json.loads(
        run("kv", "generate", "Where does Alice live?", "-c", "lab", *memory_args,
            "--max-new-tokens", "12", json_out=True).stdout
    )  # fmt: skip
    assert cached["tokens"] == recomputed["tokens"] and cached["cached_tokens"] > 0
    human = run("kv", "generate", "hi", "-c", "lab", "--kv", str(kv["id"]), "--max-new-tokens", "3")
    assert "ttft" in human.stdout
    stats = json.loads(run("kv", "stats", "-c", "lab", json_out=True).stdout)
    assert stats["caches"] == 1 and stats["tiers"]["disk"]["entries"] == 1
    assert "disk" in run("kv", "stats", "-c", "lab").stdout
    run("update", ids[0], "Alice lives in Porto.")
    stale = run("kv", "generate", "hi", "-c", "lab", "--kv", str(kv["id"]))
    assert stale.exit_code == 5 and "stale" in stale.stderr and "rebuild" in stale.stderr
    assert "STALE" in run("kv", "list", "-c", "lab").stdout
    assert run("kv", "rebuild", str(kv["id"])).exit_code == 0
    assert run("kv", "generate", "hi", "-c", "lab", "--kv", str(kv["id"])).exit_code == 0
    assert run("kv", "drop", str(kv["id"])).exit_code == 0
    assert not [p for p in (home / "artifacts" / "kv").rglob("*") if p.is_file()]
    assert "no KV caches" in run("kv", "list", "-c", "lab").stdout


def test_lora_commands(run, home: Path) -> None:  # type: ignore[no-untyped-def]
    ids = _facts(run)
    made = run("lora", "distill", *ids, "-c", "lab", "--steps", "6", "--seed", "1", json_out=True)
    assert made.exit_code == 0, made.output
    lora = json.loads(made.stdout)
    assert lora["kind"] == "parametric" and lora["attributes"]["steps"] == 6
    assert (
        f"#{lora['id']} v1 activated fresh rank 8 6 steps"
        in run("lora", "list", "-c", "lab").stdout
    )
    report = json.loads(run("lora", "eval", str(lora["id"]), json_out=True).stdout)
    assert report["texts"] == 3 and report["perplexity_adapter"] > 0
    scored = run("lora", "eval", str(lora["id"]), "--text", "Alice lives in Lisbon.")
    assert "without" in scored.stdout and "held-out loss" in scored.stdout
    out = run("kv", "generate", "Where does Alice live?", "-c", "lab", "--adapter",
              str(lora["id"]), "--max-new-tokens", "4", json_out=True)  # fmt: skip
    assert json.loads(out.stdout)["adapters"] == [lora["id"]]
    run("forget", ids[1])
    stale = run("lora", "eval", str(lora["id"]))
    assert stale.exit_code == 5 and "lora rebuild" in stale.stderr
    rebuilt = json.loads(run("lora", "rebuild", str(lora["id"]), json_out=True).stdout)
    assert [d["id"] for d in rebuilt["derived_from"]] == [int(ids[0]), int(ids[2])]
    assert run("lora", "drop", str(lora["id"])).exit_code == 0
    assert not [p for p in (home / "artifacts" / "lora").rglob("*") if p.is_file()]


def test_errors_are_one_line_with_exit_codes(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ids = _facts(run)
    kv = json.loads(run("kv", "build", ids[0], "-c", "lab", json_out=True).stdout)
    other = save_tiny_model(tmp_path / "other", seed=7)
    cases = [
        (("kv", "build", ids[0], "-c", "lab", "--storage", "int4"), 2, "storage", None),
        (("kv", "build", "999", "-c", "lab"), 3, "no memory item", None),
        (("kv", "drop", ids[0]), 2, "not a KV cache", None),
        (("lora", "drop", ids[0]), 2, "not an adapter", None),
        (("lora", "distill", ids[0], "-c", "lab", "--rank", "0"), 2, "rank", None),
        (("kv", "generate", "hi", "-c", "lab", "--kv", str(kv["id"])), 8, "weights", other),
        (("kv", "build", ids[0], "-c", "lab"), 7, "nor a Hugging Face", tmp_path / "nothing"),
    ]
    for args, code, message, model in cases:
        result = run(*args, **({} if model is None else {"model": model}))
        assert result.exit_code == code, (args, result.output)
        assert message in result.stderr and "Traceback" not in result.output
        assert len(result.stderr.strip().splitlines()) == 1
