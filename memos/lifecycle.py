"""The lifecycle state machine of memory items (DESIGN.md, Lifecycle).

    generated -> activated -> merged -> archived -> (expired | deleted)
                     |    ^                ^
                     v    |                |
                   frozen -+----------------+

Beyond the drawn chain: archiving is allowed straight from `activated` (the scheduler
demotes cold items), an archived item can be restored to `activated`, and any state that
is not final may be forgotten (`deleted`). `frozen` items are pinned, so TTL expiry does
not apply to them. `expired` only moves on to `deleted`; `deleted` is final.
"""

from __future__ import annotations

from memos.errors import InvalidTransitionError
from memos.models import Status

TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.GENERATED: frozenset({Status.ACTIVATED, Status.MERGED, Status.EXPIRED, Status.DELETED}),
    Status.ACTIVATED: frozenset(
        {Status.MERGED, Status.FROZEN, Status.ARCHIVED, Status.EXPIRED, Status.DELETED}
    ),
    Status.FROZEN: frozenset({Status.ACTIVATED, Status.ARCHIVED, Status.DELETED}),
    Status.MERGED: frozenset({Status.ARCHIVED, Status.EXPIRED, Status.DELETED}),
    Status.ARCHIVED: frozenset({Status.ACTIVATED, Status.EXPIRED, Status.DELETED}),
    Status.EXPIRED: frozenset({Status.DELETED}),
    Status.DELETED: frozenset(),
}

# States whose content may still change through `update` (frozen needs force=True).
MUTABLE_STATES = frozenset({Status.GENERATED, Status.ACTIVATED, Status.FROZEN})


def can_transition(current: Status, target: Status) -> bool:
    """Whether the state machine allows moving from `current` to `target`."""
    return target in TRANSITIONS[current]


def check_transition(current: Status, target: Status) -> None:
    """Raise unless the move from `current` to `target` is legal.

    Raises:
        InvalidTransitionError: the transition is not in the state machine.
    """
    if not can_transition(current, target):
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "nothing (final state)"
        raise InvalidTransitionError(
            f"cannot move an item from {current.value!r} to {target.value!r}; "
            f"from {current.value!r} it may move to: {allowed}"
        )
