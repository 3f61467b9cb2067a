"""The lifecycle state machine: every legal move works, every illegal one is refused."""

from __future__ import annotations

import itertools

import pytest

import memos
from memos.lifecycle import TRANSITIONS, can_transition, check_transition
from memos.models import Status
from memos.testing import FakeClock

LEGAL = {(a, b) for a, targets in TRANSITIONS.items() for b in targets}
ALL_PAIRS = list(itertools.product(Status, Status))


def test_table_covers_every_status() -> None:
    assert set(TRANSITIONS) == set(Status)
    assert TRANSITIONS[Status.DELETED] == frozenset()
    assert Status.DELETED in TRANSITIONS[Status.ACTIVATED]
    assert Status.EXPIRED not in TRANSITIONS[Status.FROZEN]  # frozen items are pinned


@pytest.mark.parametrize(("current", "target"), ALL_PAIRS)
def test_check_transition(current: Status, target: Status) -> None:
    if (current, target) in LEGAL:
        check_transition(current, target)
        assert can_transition(current, target)
    else:
        with pytest.raises(memos.InvalidTransitionError, match=f"{current.value!r} to"):
            check_transition(current, target)


def _item_in(cube: memos.MemCube, clock: FakeClock, status: Status, label: str) -> int:
    """A fresh item driven to `status` along legal moves only."""
    if status is Status.GENERATED:
        return cube.add(f"{label} generated", status="generated").id
    if status is Status.EXPIRED:
        item = cube.add(f"{label} expiring", ttl=60)
        clock.advance(seconds=61)
        assert cube.get(item.id).status is Status.EXPIRED
        return item.id
    item = cube.add(f"{label} {status.value}")
    if status is Status.FROZEN:
        cube.freeze(item.id)
    elif status is Status.ARCHIVED:
        cube.archive(item.id)
    elif status is Status.MERGED:
        other = cube.add(f"{label} merge target")
        cube.merge(item.id, into=other.id)
    elif status is Status.DELETED:
        cube.forget(item.id)
    return item.id


def _move(cube: memos.MemCube, item_id: int, target: Status) -> None:
    if target is Status.MERGED:
        other = cube.add(f"merge target for {item_id}")
        cube.merge(item_id, into=other.id)
    else:
        cube.set_status(item_id, target)


def test_every_transition_through_the_store(cube: memos.MemCube, clock: FakeClock) -> None:
    for number, (current, target) in enumerate(ALL_PAIRS):
        item_id = _item_in(cube, clock, current, f"case {number}")
        before = cube.history(item_id)
        if (current, target) in LEGAL:
            _move(cube, item_id, target)
            after = cube.history(item_id)
            assert after[-1].status is target, (current, target)
            assert len(after) == len(before) + 1
        else:
            with pytest.raises(memos.InvalidTransitionError):
                _move(cube, item_id, target)
            # A refused move writes nothing.
            assert len(cube.history(item_id)) == len(before), (current, target)


def test_frozen_items_refuse_updates_without_force(cube: memos.MemCube) -> None:
    item = cube.add("pinned fact")
    cube.freeze(item.id)
    with pytest.raises(memos.ConflictError, match="frozen"):
        cube.update(item.id, "changed")
    updated = cube.update(item.id, "changed", force=True)
    assert updated.content == "changed"
    assert updated.status is Status.FROZEN


def test_archived_items_leave_default_search_but_stay_reachable(cube: memos.MemCube) -> None:
    item = cube.add("the archive room is in the basement")
    cube.archive(item.id)
    assert all(h.item.id != item.id for h in cube.search("archive basement"))
    hits = cube.search("archive basement", statuses=["archived"])
    assert [h.item.id for h in hits] == [item.id]
    with pytest.raises(memos.ConflictError, match="archived"):
        cube.update(item.id, "new text")
    cube.activate(item.id)
    assert cube.search("archive basement")[0].item.id == item.id
