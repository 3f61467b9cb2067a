"""Reconciliation: each candidate against what the cube already holds.

Keyed states (`candidates.State`) are found by their key, never by resemblance: the live
item whose `attributes.state_key` matches (searched with the key's two tags as a filter,
which makes the lookup exact). Then

* no such item: add;
* same value: skip (already current);
* a new value from a later time: add, and supersede the old item from that time (it
  keeps its history and answers `as_of`; default search shows only the new one);
* a new value at the very same time: update the item (a correction, a new version);
* an older time (events arrive out of order): splice it into the chain of versions of
  that key where it belongs, so `as_of` answers stay right;
* an ended state ("Erin no longer works at Acme") supersedes the current item when that
  item holds the value it ends (a delete that keeps history); otherwise it ends nothing
  known and is stored as the plain statement it is.

Other candidates are checked against the most similar live items: an exact or
near-duplicate, or one that says less than an existing item, is skipped; one that says
everything an existing fact says and more updates it (a new version of the same item);
otherwise it is added. A free statement never rewrites a keyed state's item (that item's
value and key must stay what its text says). Events at different times are different
events, so they are only duplicates within `event_window`. With an LLM, its advice (add /
update / supersede / skip, against the similar items it was shown) decides what the
deterministic rules leave open; it can never point at an item it was not shown.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from memos.agents.candidates import Candidate, State
from memos.agents.report import Action, Entry
from memos.agents.similarity import Shape, covers, jaccard, normalized, same_specifics
from memos.errors import NotFoundError
from memos.models import Kind, MemoryItem, Status

if TYPE_CHECKING:
    from memos.protocols import Memory


@dataclass(frozen=True, slots=True)
class Advice:
    """An LLM's reconciliation decision for one candidate."""

    action: str  # add | update | supersede | skip
    target: int | None = None
    content: str | None = None
    reason: str = ""


class Reconciler:
    """Applies candidates to one cube, one at a time, and says what it did."""

    def __init__(
        self,
        cube: Memory,
        *,
        similar_k: int = 8,
        near_duplicate: float = 0.8,
        event_window: timedelta = timedelta(days=1),
    ) -> None:
        self.cube = cube
        self.similar_k = similar_k
        self.near_duplicate = near_duplicate
        self.event_window = event_window

    # -- lookups ------------------------------------------------------------------------

    def similar(self, candidate: Candidate) -> list[MemoryItem]:
        """The live plaintext items most like the candidate, best first."""
        hits = self.cube.search(candidate.content, k=self.similar_k)
        return [h.item for h in hits if h.item.kind is Kind.PLAINTEXT and h.item.content]

    def head(self, state: State) -> MemoryItem | None:
        """The current item of a state's key (the newest when a crash left two)."""
        query = f"{state.subject} {state.attribute}"  # not the value: the head has another
        hits = self.cube.search(query, k=5, tags=list(state.tags()))
        heads = [
            h.item
            for h in hits
            if h.item.attributes.get("state_key") == state.key and h.item.superseded_by is None
        ]
        return max(heads, key=lambda i: (i.valid_from, i.id), default=None)

    # -- applying -----------------------------------------------------------------------

    def apply(self, candidate: Candidate, advice: Advice | None = None) -> list[Entry]:
        if candidate.state is not None:
            return self._apply_state(candidate, candidate.state)
        return self._apply_statement(candidate, advice)

    def _entry(
        self,
        action: Action,
        reason: str,
        candidate: Candidate,
        item_id: int | None,
        related: int | None = None,
    ) -> Entry:
        return Entry(action, reason, item_id, candidate.origin.ref, candidate.content, related)

    def _add(self, candidate: Candidate) -> MemoryItem:
        fields = candidate.record()
        return self.cube.add(fields.pop("content"), **fields)

    def _revise(self, item: MemoryItem, candidate: Candidate, **changes: Any) -> MemoryItem:
        fields = candidate.record()
        return self.cube.revise(
            item.id,
            changes.pop("content", fields["content"]),
            created_by=fields["created_by"],
            operation="ingest",
            source=fields["source"],
            source_ref=fields["source_ref"],
            author=fields["author"],
            **changes,
        )

    # -- keyed states -----------------------------------------------------------------------

    def _apply_state(self, candidate: Candidate, state: State) -> list[Entry]:
        head = self.head(state)
        if state.ended and not _ends(state, head, candidate.valid_from):
            plain = candidate.plain or candidate.content
            return self._apply_statement(replace(candidate, content=plain, state=None), None)
        if head is None:
            added = self._add(candidate)
            return [
                self._entry(
                    Action.ADDED, f"new state {state.key} = {state.value}", candidate, added.id
                )
            ]
        at = candidate.valid_from
        if at is None or at > head.valid_from:
            return self._newer(candidate, state, head)
        if at == head.valid_from:
            if _value_key(head) == state.value_key:
                return [
                    self._entry(Action.SKIPPED, f"already current (#{head.id})", candidate, head.id)
                ]
            if head.status is Status.FROZEN:
                return [self._frozen(candidate, head)]
            fixed = self._revise(
                head,
                candidate,
                valid_from=at,
                context=candidate.context,
                attributes=candidate.record()["attributes"],
            )
            return [
                self._entry(
                    Action.UPDATED,
                    f"corrected {state.key} at the same time: {state.value}",
                    candidate,
                    fixed.id,
                )
            ]
        return self._older(candidate, state, head, at)

    def _newer(self, candidate: Candidate, state: State, head: MemoryItem) -> list[Entry]:
        if _value_key(head) == state.value_key or _same_name(head, state):
            return [
                self._entry(Action.SKIPPED, f"already current (#{head.id})", candidate, head.id)
            ]
        if head.status is Status.FROZEN:
            return [self._frozen(candidate, head)]
        added = self._add(candidate)
        old, new = self.cube.supersede(head.id, by=added.id, at=candidate.valid_from)
        change = f"{state.key}: {_shown(head)} -> {state.shown_value}"
        return [
            self._entry(Action.ADDED, f"replaces #{old.id} ({change})", candidate, new.id, old.id),
            Entry(
                Action.SUPERSEDED,
                f"replaced by #{new.id} from {_when(old.valid_to)} ({change})",
                old.id,
                old.source_ref,
                old.content,
                new.id,
            ),
        ]

    def _older(
        self, candidate: Candidate, state: State, head: MemoryItem, at: datetime
    ) -> list[Entry]:
        """A statement about a time before the current one: find its place in the chain."""
        later, earlier = head, None
        while True:
            if later.supersedes is None:
                break
            try:
                previous = self.cube.get(later.supersedes)
            except NotFoundError:
                break  # forgotten history: the chain starts here
            if previous.valid_from <= at:
                earlier = previous
                break
            later = previous
        if earlier is not None and _value_key(earlier) == state.value_key:
            return [
                self._entry(
                    Action.SKIPPED,
                    f"already known for that time (#{earlier.id})",
                    candidate,
                    earlier.id,
                )
            ]
        touched = [i for i in (earlier, later) if i is not None]
        if any(i.status is Status.FROZEN for i in touched):
            return [self._frozen(candidate, next(i for i in touched if i.status is Status.FROZEN))]
        if earlier is not None and earlier.valid_from == at:
            return [
                self._entry(
                    Action.SKIPPED,
                    f"conflicts with #{earlier.id} stated for the same time; kept the first",
                    candidate,
                    earlier.id,
                )
            ]
        if _value_key(later) == state.value_key:
            # The state already recorded from a later time held from this earlier one.
            moved = self.cube.revise(
                later.id,
                created_by=candidate.record()["created_by"],
                operation="ingest",
                valid_from=at,
            )
            if earlier is not None:
                self.cube.supersede(earlier.id, by=moved.id, at=at)
            return [
                self._entry(
                    Action.UPDATED,
                    f"{state.key} = {state.value} held from {_when(at)}, earlier than known",
                    candidate,
                    moved.id,
                )
            ]
        added = self._add(candidate)
        entries = [
            self._entry(
                Action.ADDED,
                f"history of {state.key}: {state.value} from {_when(at)} until #{later.id}",
                candidate,
                added.id,
                later.id,
            )
        ]
        if earlier is not None:
            old, _ = self.cube.supersede(earlier.id, by=added.id, at=at)
            entries.append(
                Entry(
                    Action.SUPERSEDED,
                    f"replaced by #{added.id} from {_when(at)}",
                    old.id,
                    old.source_ref,
                    old.content,
                    added.id,
                )
            )
        ended, _ = self.cube.supersede(added.id, by=later.id, at=later.valid_from)
        entries.append(
            Entry(
                Action.SUPERSEDED,
                f"replaced by #{later.id} from {_when(later.valid_from)} (arrived late)",
                ended.id,
                ended.source_ref,
                ended.content,
                later.id,
            )
        )
        return entries

    def _frozen(self, candidate: Candidate, item: MemoryItem) -> Entry:
        return self._entry(
            Action.SKIPPED, f"#{item.id} is frozen; not replaced", candidate, item.id
        )

    # -- free statements ----------------------------------------------------------------

    def _apply_statement(self, candidate: Candidate, advice: Advice | None) -> list[Entry]:
        similar = self.similar(candidate)
        shape = Shape.of(candidate.content)
        for item in similar:
            reason = self._repeat(candidate, shape, item)
            if reason is not None:
                return [self._entry(Action.SKIPPED, reason, candidate, item.id)]
        if advice is not None and advice.action != "add":
            followed = self._follow(candidate, advice, {i.id: i for i in similar})
            if followed is not None:
                return followed
        for item in similar:
            other = Shape.of(item.content or "")
            if (
                candidate.type != "event"
                and item.type == candidate.type
                and "state_key" not in item.attributes
                and len(other.words) >= 3
                and covers(shape, other)
                and item.status is not Status.FROZEN
            ):
                return self._extend(candidate, item, f"says more than #{item.id}")
        added = self._add(candidate)
        return [self._entry(Action.ADDED, "new", candidate, added.id)]

    def _repeat(self, candidate: Candidate, shape: Shape, item: MemoryItem) -> str | None:
        """Why the candidate repeats `item`, or None."""
        if candidate.type == "event" or item.type == "event":
            apart = _distance(candidate.valid_from, item.valid_from)
            if apart is not None and apart > self.event_window:
                return None  # the same words about another day: another event
        text = item.content or ""
        if normalized(text) == normalized(candidate.content):
            return f"duplicate of #{item.id}"
        other = Shape.of(text)
        if same_specifics(shape, other) and jaccard(shape, other) >= self.near_duplicate:
            return f"near-duplicate of #{item.id}"
        if covers(other, shape):
            return f"already covered by #{item.id}"
        return None

    def _extend(self, candidate: Candidate, item: MemoryItem, reason: str) -> list[Entry]:
        at = candidate.valid_from
        changes: dict[str, Any] = {
            "keywords": list(dict.fromkeys([*item.keywords, *candidate.keywords]))[:64],
            "tags": list(dict.fromkeys([*item.tags, *candidate.tags]))[:64],
        }
        if at is not None:
            changes["valid_from"] = max(at, item.valid_from)
        updated = self._revise(item, candidate, **changes)
        return [self._entry(Action.UPDATED, reason, candidate, updated.id)]

    def _follow(
        self, candidate: Candidate, advice: Advice, shown: dict[int, MemoryItem]
    ) -> list[Entry] | None:
        """Apply an LLM's advice when it is about an item it was shown and still live."""
        target = shown.get(advice.target) if advice.target is not None else None
        why = f" ({advice.reason})" if advice.reason else ""
        if advice.action == "skip":
            return [
                self._entry(
                    Action.SKIPPED,
                    f"LLM: nothing new{why}",
                    candidate,
                    target.id if target else None,
                )
            ]
        if target is None or target.status is Status.FROZEN:
            return None
        if advice.action == "update" and "state_key" not in target.attributes:
            merged = candidate
            if advice.content:
                merged = _with_content(candidate, advice.content)
            return self._extend(merged, target, f"LLM: updates #{target.id}{why}")
        if advice.action == "supersede":
            at = candidate.valid_from
            if at is not None and at <= target.valid_from:
                return None  # cannot end a fact before it began; add it instead
            added = self._add(candidate)
            old, new = self.cube.supersede(target.id, by=added.id, at=at)
            return [
                self._entry(
                    Action.ADDED, f"LLM: replaces #{old.id}{why}", candidate, new.id, old.id
                ),
                Entry(
                    Action.SUPERSEDED,
                    f"LLM: contradicted by #{new.id}{why}",
                    old.id,
                    old.source_ref,
                    old.content,
                    new.id,
                ),
            ]
        return None


def _same_name(item: MemoryItem, state: State) -> bool:
    """'Sara' after 'Sara Lindqvist' (or the reverse): the same person named shorter, not
    a change."""
    if item.attributes.get("ended") or state.ended:
        return False
    old = str(item.attributes.get("value", "")).split()
    new = state.value.split()
    if not old or not new or len(old) == len(new):
        return False
    if not all(w[:1].isupper() and w.isalpha() for w in [*old, *new]):
        return False
    short, long = (old, new) if len(old) < len(new) else (new, old)
    return long[: len(short)] == short


def _value_key(item: MemoryItem) -> str:
    return str(item.attributes.get("value_key", ""))


def _shown(item: MemoryItem) -> str:
    value = str(item.attributes.get("value"))
    return f"no longer {value}" if item.attributes.get("ended") else value


def _ends(state: State, head: MemoryItem | None, at: datetime | None) -> bool:
    """Whether an ended state applies to the key's current item: that item holds the
    value it ends (or already says it ended), from no later than the statement."""
    if head is None or (at is not None and at < head.valid_from):
        return False
    return _value_key(head) in (state.base_value_key, state.value_key)


def _distance(a: datetime | None, b: datetime | None) -> timedelta | None:
    if a is None or b is None:
        return None
    return abs(a - b)


def _when(moment: datetime | None) -> str:
    return moment.isoformat(timespec="minutes") if moment else "now"


def _with_content(candidate: Candidate, content: str) -> Candidate:
    return replace(candidate, content=content)
