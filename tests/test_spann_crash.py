"""A SpannIndex killed at any point (mid-build, mid-append, mid-split, mid-checkpoint,
mid-compaction) reopens consistent: every acknowledged add is there with its vector, no
acknowledged remove is undone. Children die by SIGKILL at named crash points and at random
moments; the parent checks the reopened index against the calls the child acknowledged."""

from __future__ import annotations

import copy
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from memos.errors import NotFoundError
from memos.retrieval.spann import SpannIndex

DIM = 16

# The child logs each call before making it ("begin ...") and after it returns ("ack").
CHILD = """
import os, sys
import numpy as np
from memos.retrieval.spann import SpannIndex, SpannParams

DIM = 16
path, mode, seed, steps = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
params = SpannParams(flat_limit=32, posting_size=8, posting_max=24, max_probe=8, rerank=16,
                     wal_bytes=30_000, compact_ratio=0.2)

def vectors(ids, version):
    rows = np.stack([np.random.default_rng([int(i), version]).standard_normal(DIM) for i in ids])
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)

def say(*words):
    print(*words, flush=True)

rng = np.random.default_rng(seed)
if mode == "build":
    ids = np.arange(0, 300)
    say("begin add 0", " ".join(map(str, ids)))
    index = SpannIndex.build(path, ids, vectors(ids, 0), params=params)
    say("ack")
else:
    try:
        index = SpannIndex.open(path)
    except Exception:
        index = SpannIndex.create(path, dim=DIM, params=params)
say("opened", len(index))
next_id = int(sys.argv[5])
live = [int(i) for i in sys.argv[6].split(",")] if len(sys.argv) > 6 and sys.argv[6] else []
for step in range(steps):
    action = rng.choice(["add", "add", "remove", "replace", "flush", "compact"],
                        p=[0.35, 0.2, 0.2, 0.15, 0.05, 0.05])
    if action == "add" or not live:
        ids = np.arange(next_id, next_id + int(rng.integers(1, 80)))
        next_id += len(ids)
        say("begin add 0", " ".join(map(str, ids)))
        index.add(ids, vectors(ids, 0))
        live.extend(ids.tolist())
    elif action == "remove":
        ids = rng.choice(live, size=min(len(live), int(rng.integers(1, 30))), replace=False)
        say("begin remove", " ".join(map(str, ids)))
        index.remove(ids)
        live = [i for i in live if i not in set(ids.tolist())]
    elif action == "replace":
        ids = rng.choice(live, size=min(len(live), int(rng.integers(1, 20))), replace=False)
        version = step + 1
        say(f"begin add {version}", " ".join(map(str, ids)))
        index.add(ids, vectors(ids, version))
    elif action == "flush":
        say("begin flush")
        index.flush()
    else:
        say("begin compact")
        index.compact()
    say("ack")
say("done")
"""


def vectors(ids: list[int], version: int) -> np.ndarray:
    rows = np.stack([np.random.default_rng([i, version]).standard_normal(DIM) for i in ids])
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


@dataclass
class Model:
    """What the child acknowledged: id -> version of its vector; ids it removed."""

    live: dict[int, int] = field(default_factory=dict)
    removed: set[int] = field(default_factory=set)
    next_id: int = 0
    cut: tuple[str, int, list[int]] | None = None  # the call the kill cut short

    @property
    def uncertain(self) -> set[int]:
        return set(self.cut[2]) if self.cut is not None else set()

    def read(self, lines: list[str]) -> None:
        for line in lines:
            if not line.endswith("\n"):
                continue  # the kill cut this line short: the call it announces never began
            words = line.split()
            if not words:
                continue
            if words[0] == "begin":
                ids = [int(w) for w in words[3 if words[1] == "add" else 2 :]]
                version = int(words[2]) if words[1] == "add" else 0
                self.cut = (words[1], version, ids)
                if words[1] == "add":
                    self.next_id = max([self.next_id, *(i + 1 for i in ids)])
            elif words[0] == "ack" and self.cut is not None:
                self._apply(*self.cut)
                self.cut = None

    def _apply(self, action: str, version: int, ids: list[int]) -> None:
        for item_id in ids:
            if action == "add":
                self.live[item_id] = version
                self.removed.discard(item_id)
            elif action == "remove" and item_id in self.live:
                del self.live[item_id]
                self.removed.add(item_id)

    def settle(self, index: SpannIndex) -> None:
        """The cut-short call either happened whole or not at all: see which, and go on."""
        if self.cut is None:
            return
        action, version, ids = self.cut
        present = [index.contains(i) for i in ids]
        if action == "remove":
            assert len(set(present)) <= 1, "a remove was applied in part"
            if not any(present):
                self._apply(action, version, ids)
        elif action == "add":
            found, scores = index.search(vectors(ids, version), 1, max_probe=10_000)
            rows = zip(found[:, 0], ids, scores[:, 0], strict=True)
            new = [f == i and s > 1 - 1e-5 for f, i, s in rows]
            assert len(set(new)) <= 1, "an add was applied in part"
            if all(new):
                self._apply(action, version, ids)
        self.cut = None


def check(path: Path, model: Model) -> None:
    with SpannIndex.open(path) as index:
        certain = {i: v for i, v in model.live.items() if i not in model.uncertain}
        for item_id in certain:
            assert index.contains(item_id), f"acknowledged add of {item_id} lost"
        for item_id in model.removed - model.uncertain:
            assert not index.contains(item_id), f"acknowledged remove of {item_id} undone"
        assert len(certain) <= len(index) <= len(certain) + len(model.uncertain)
        known = sorted(certain)
        known = known[:: max(1, len(known) // 100)] + known[-30:]  # a spread, plus the newest
        if known:
            queries = np.concatenate([vectors([i], certain[i]) for i in known])
            found, scores = index.search(queries, 1, max_probe=10_000)
            assert found[:, 0].tolist() == known
            assert np.allclose(scores[:, 0], 1.0, atol=1e-5)
        everything = vectors(list(range(0, max(model.next_id, 1), 7)), 0)
        found, _ = index.search(everything, 10)
        assert not set(found[found >= 0].tolist()) & (model.removed - model.uncertain)
        model.settle(index)


def run_child(
    path: Path, mode: str, seed: int, steps: int, model: Model, crash_at: str | None = None
) -> subprocess.CompletedProcess[str]:
    live = ",".join(str(i) for i in model.live)
    env = {**os.environ}
    if crash_at:
        env["MEMOS_CRASH_AT"] = crash_at
    return subprocess.run(
        [sys.executable, "-c", CHILD, str(path), mode, str(seed), str(steps), str(model.next_id),
         live],
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip


CRASH_POINTS = [
    ("build", "spann-layout-before-publish"),
    ("build", "spann-build-before-manifest"),
    ("build", "spann-checkpoint-before-manifest"),
    ("grow", "spann-add-logged"),
    ("grow", "spann-append"),
    ("grow", "spann-split-before-publish"),
    ("grow", "spann-remove-logged"),
    ("grow", "spann-checkpoint-start"),
    ("grow", "spann-checkpoint-after-manifest"),
    ("grow", "spann-compact-chunk"),
]


@pytest.fixture(scope="module")
def grown(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Model]:
    """An index built and checkpointed without faults, for crash tests to copy and break."""
    path = tmp_path_factory.mktemp("grown") / "index"
    model = Model()
    done = run_child(path, "grow", 1, 12, model)
    assert done.returncode == 0, done.stderr
    model.read(done.stdout.splitlines(keepends=True))
    return path, model


@pytest.mark.parametrize(("mode", "point"), CRASH_POINTS)
def test_crash_point_recovers(
    tmp_path: Path, grown: tuple[Path, Model], mode: str, point: str
) -> None:
    path = tmp_path / "index"
    model = Model()
    if mode == "grow":
        shutil.copytree(grown[0], path)
        model = copy.deepcopy(grown[1])
    done = run_child(path, mode, 2, 60, model, crash_at=point)
    assert done.returncode == -signal.SIGKILL, f"{point} not reached: {done.stderr[-2000:]}"
    model.read(done.stdout.splitlines(keepends=True))
    if mode == "build":
        # A build cut short (its first checkpoint is its commit point) leaves no index, and
        # a new one can be made in its place.
        with pytest.raises(NotFoundError):
            SpannIndex.open(path)
        SpannIndex.create(path, dim=DIM).close()
        return
    check(path, model)
    if point in ("spann-checkpoint-after-manifest", "spann-compact-chunk"):
        # And it keeps working: more calls, then a clean reopen.
        done = run_child(path, "grow", 3, 20, model)
        assert done.returncode == 0, done.stderr
        model.read(done.stdout.splitlines(keepends=True))
        check(path, model)


def _kill_rounds(tmp_path: Path, rounds: int, seed: int) -> None:
    path = tmp_path / "index"
    model = Model()
    rng = random.Random(seed)
    for number in range(rounds):
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(path), "grow", str(seed * 100 + number), "100000",
             str(model.next_id), ",".join(str(i) for i in model.live)],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert child.stdout is not None
        lines = []
        deadline = time.monotonic() + 60
        wanted = rng.randint(5, 120)
        while len(lines) < wanted and time.monotonic() < deadline:
            line = child.stdout.readline()
            if not line:
                break
            lines.append(line)
        time.sleep(rng.random() * 0.05)  # land the kill anywhere, not just between calls
        child.send_signal(signal.SIGKILL)
        child.wait()
        lines.extend(child.stdout)
        child.stdout.close()
        model.read(lines)
        check(path, model)
    assert len(model.live) > 20


def test_random_kills_lose_nothing_acknowledged(tmp_path: Path) -> None:
    _kill_rounds(tmp_path, rounds=4, seed=7)


@pytest.mark.slow
def test_many_random_kills_lose_nothing_acknowledged(tmp_path: Path) -> None:
    _kill_rounds(tmp_path, rounds=12, seed=11)
