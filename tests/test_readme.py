"""Every code block of README.md runs as written, in a fresh folder, twice.

Python blocks run with the venv's interpreter, shell blocks with bash (`set -e`), both in
one temporary folder (so `./memos-home` is the README's own). The hash embedder is chosen by
the environment (`MEMOS_EMBEDDER=hash`), not by the code, to keep the test fast. A block
after `<!-- readme: model -->` uses the real runtime model; after `<!-- readme: server -->`
it runs against a `memos serve` the test starts on 127.0.0.1:8765 with an API key in
`MEMOS_API_KEY`; after `<!-- readme: skip REASON -->` it is not run, and the skipped blocks
are pinned below so that a new block cannot be skipped silently.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
_BLOCK = re.compile(
    r"(?:<!-- readme: (?P<mark>\w+)(?: (?P<reason>[^>]*?))? -->\n)?"
    r"```(?P<lang>python|bash)\n(?P<code>.*?)\n```",
    re.S,
)
SKIPPED = {"scripts/quickstart.sh", "scripts/lint.sh"}  # the first line of each skipped block
PORT = 8765


@dataclass(frozen=True)
class Block:
    number: int
    lang: str
    code: str
    mark: str | None
    reason: str | None

    @property
    def first_line(self) -> str:
        return self.code.strip().splitlines()[0].split()[0]


def blocks() -> list[Block]:
    found = []
    for number, match in enumerate(_BLOCK.finditer(README.read_text()), start=1):
        found.append(Block(number, match["lang"], match["code"], match["mark"], match["reason"]))
    return found


def test_only_the_set_up_and_benchmark_blocks_are_skipped() -> None:
    skipped = [b for b in blocks() if b.mark == "skip"]
    assert {b.first_line for b in skipped} == SKIPPED
    assert all(b.reason for b in skipped)
    assert {b.mark for b in blocks()} <= {None, "skip", "model", "server"}


def _environment(folder: Path) -> dict[str, str]:
    venv_bin = str(Path(sys.executable).parent)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEMOS_")}
    env.update(
        PATH=f"{venv_bin}:{env.get('PATH', '')}",
        MEMOS_EMBEDDER="hash",
        MEMOS_USER="alice",
        MEMOS_HOME=str(folder / "memos-home"),
        MEMOS_NO_SERVER="1",
        MEMOS_LOCOMO_DATA=os.environ.get(
            "MEMOS_LOCOMO_DATA", str(README.parent.parent / "shared" / "data" / "locomo10.json")
        ),
    )
    for name in ("MEMOS_MODELS_DIR",):
        if name in os.environ:
            env[name] = os.environ[name]
    return env


def _run(block: Block, folder: Path, env: dict[str, str]) -> None:
    if block.lang == "python":
        command = [sys.executable, "-c", block.code]
    else:
        command = ["bash", "-e", "-o", "pipefail", "-c", block.code]
    done = subprocess.run(
        command, cwd=folder, env=env, capture_output=True, text=True, timeout=900, check=False
    )
    assert done.returncode == 0, (
        f"README block {block.number} ({block.lang}) failed:\n{block.code}\n--- stdout\n"
        f"{done.stdout[-3000:]}\n--- stderr\n{done.stderr[-3000:]}"
    )


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("readme")
    examples = README.parent / "examples"
    shutil.copytree(examples, path / "examples")  # the eval block reads examples/memtrack
    return path


@pytest.fixture(scope="module")
def server(folder: Path) -> Iterator[dict[str, str]]:
    """`memos serve` on the README's home, and a write key for alice."""
    env = _environment(folder)
    made = subprocess.run(
        [sys.executable, "-m", "memos.cli.app", "--json", "keys", "create", "alice",
         "--scope", "write"],
        cwd=folder, env=env, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    env["MEMOS_API_KEY"] = json.loads(made.stdout)["key"]
    process = subprocess.Popen(
        [sys.executable, "-m", "memos.cli.app", "serve", "--port", str(PORT)],
        cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", PORT), timeout=1).close()
            break
        except OSError:
            if process.poll() is not None:
                raise AssertionError(f"memos serve exited: {process.stderr.read()}") from None
            time.sleep(0.2)
    else:
        process.kill()
        raise AssertionError("memos serve did not start within 2 minutes")
    try:
        yield env
    finally:
        process.terminate()
        process.wait(timeout=60)


_RUNNABLE = [b for b in blocks() if b.mark != "skip"]


@pytest.mark.slow
@pytest.mark.parametrize(
    "block",
    [
        pytest.param(b, id=f"{b.number}-{b.lang}-{b.first_line}",
                     marks=[pytest.mark.model] if b.mark == "model" else [])
        for b in _RUNNABLE
    ],
)  # fmt: skip
def test_block_runs_twice(block: Block, folder: Path, request: pytest.FixtureRequest) -> None:
    env = request.getfixturevalue("server") if block.mark == "server" else _environment(folder)
    if "eval locomo" in block.code and not Path(env["MEMOS_LOCOMO_DATA"]).is_file():
        pytest.skip(f"no LoCoMo data at {env['MEMOS_LOCOMO_DATA']} (set MEMOS_LOCOMO_DATA)")
    for _ in range(2):  # idempotent: a second run finds what the first made and still works
        _run(block, folder, env)
