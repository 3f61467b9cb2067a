"""bench/heldout and bench/lists/heldout are frozen held-out evaluation data (issue #12):
nothing in them may change, appear or disappear (a new version goes in a new folder), and
every instance must stay a valid MEMTRACK instance by memos' own validator, every list
case's facts values its message says."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from memos.eval.memtrack.format import load_instance

HELDOUT = Path(__file__).resolve().parent.parent / "bench" / "heldout"
MANIFEST = HELDOUT / "MANIFEST.sha256"
LISTS = Path(__file__).resolve().parent.parent / "bench" / "lists" / "heldout"


def _manifest(manifest: Path = MANIFEST) -> dict[str, str]:
    """relative path -> sha256, from `sha256sum` output ("<hex>  <path>" per line)."""
    entries: dict[str, str] = {}
    for number, line in enumerate(manifest.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        digest, _, name = line.partition("  ")
        assert len(digest) == 64 and name, f"MANIFEST.sha256 line {number} is malformed: {line!r}"
        entries[name.lstrip("*").removeprefix("./")] = digest.lower()
    return entries


def test_heldout_is_frozen_and_valid() -> None:
    expected = _manifest()
    present = {
        path.relative_to(HELDOUT).as_posix()
        for path in HELDOUT.rglob("*")
        if path.is_file() and path != MANIFEST
    }
    problems = [
        f"{name}: added (not in MANIFEST.sha256)" for name in sorted(present - set(expected))
    ]
    problems += [
        f"{name}: removed (listed in MANIFEST.sha256)" for name in sorted(set(expected) - present)
    ]
    for name in sorted(present & set(expected)):
        digest = hashlib.sha256((HELDOUT / name).read_bytes()).hexdigest()
        if digest != expected[name]:
            problems.append(f"{name}: changed (sha256 {digest}, manifest {expected[name]})")
    assert not problems, (
        "bench/heldout is frozen held-out data; put a new version in a new folder instead:\n"
        + "\n".join(problems)
    )

    instances = sorted(HELDOUT.glob("*/*.json"))
    assert len(instances) >= 12, f"expected at least 12 instances, found {len(instances)}"
    for path in instances:
        instance = load_instance(path)  # raises InvalidInputError naming the file and path
        truth_path = path.parent / "truth" / f"{path.stem}.truth.json"
        assert truth_path.is_file(), f"{path}: no state truth at {truth_path}"
        truth = json.loads(truth_path.read_text(encoding="utf-8"))
        assert truth["instance"] == instance.id, f"{truth_path}: instance {truth['instance']!r}"
        when = {event.id: event.timestamp for event in instance.events}
        for index, row in enumerate(truth["states"]):
            assert row["event"] in when, f"{truth_path}: states[{index}] names no event"
            assert row["entity"] in truth["entities"], f"{truth_path}: states[{index}] entity"
        assert len(truth["probes"]) >= 4, f"{truth_path}: fewer than 4 probes"


def test_list_heldout_is_frozen_and_valid() -> None:
    expected = _manifest(LISTS / "MANIFEST.sha256")
    present = {p.name for p in LISTS.iterdir() if p.is_file() and p.name != "MANIFEST.sha256"}
    assert present == set(expected), f"bench/lists/heldout is frozen: {present ^ set(expected)}"
    for name, digest in expected.items():
        actual = hashlib.sha256((LISTS / name).read_bytes()).hexdigest()
        assert actual == digest, f"bench/lists/heldout/{name} changed; put a new set beside it"
        for index, case in enumerate(json.loads((LISTS / name).read_text(encoding="utf-8"))):
            for fact in case["facts"]:
                assert fact["value"] in case["message"], f"{name}[{index}]: {fact['value']!r}"
