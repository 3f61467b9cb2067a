"""Which ids are live, and where each one's current full-precision vector is.

Postings hold (id, slot) records. A record is valid only while the id map still sends its id
to that slot, so a removed id, or the old copy of a replaced one, disappears from search the
moment the map changes, before any posting is rewritten. Slots are rows of the vector file.

The map is two sorted arrays (12 bytes per id, plus a row checksum) and a small dict of
recent changes folded in now and then, so that it stays compact at millions of ids.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from memos.protocols import IdArray

ENTRY = np.dtype([("id", "<i8"), ("slot", "<u4"), ("crc", "<u4")])
# Recent changes are folded into the sorted arrays past this many: each costs a dict entry
# (~150 bytes) and a Python-level check in every lookup.
FOLD_AT = 65_536
SlotArray = npt.NDArray[np.int64]
CrcArray = npt.NDArray[np.uint32]
_Recent = dict[int, tuple[int, int] | None]


class IdMap:
    """id -> (slot, checksum of the vector row)."""

    def __init__(self, entries: npt.NDArray[np.void] | None = None) -> None:
        entries = np.zeros(0, dtype=ENTRY) if entries is None else entries
        order = np.argsort(entries["id"], kind="stable")
        # One tuple swapped whole by `fold`, so a reader that took it sees the sorted arrays
        # and the dict of changes made since they were sorted (slot, crc; None = removed).
        self._state: tuple[IdArray, npt.NDArray[np.uint32], CrcArray, _Recent] = (
            np.ascontiguousarray(entries["id"][order]),
            np.ascontiguousarray(entries["slot"][order]),
            np.ascontiguousarray(entries["crc"][order]),
            {},
        )
        self._count = len(entries)
        # Bumped by every change, so a reader can tell whether its lookups are still current.
        self.version = 0

    def __len__(self) -> int:
        return self._count

    def get(self, item_id: int) -> tuple[int, int] | None:
        ids, slots, crcs, recent = self._state
        if item_id in recent:
            return recent[item_id]
        at = int(np.searchsorted(ids, item_id))
        if at < len(ids) and ids[at] == item_id:
            return int(slots[at]), int(crcs[at])
        return None

    def lookup(self, ids: IdArray) -> tuple[SlotArray, CrcArray]:
        """Slots (-1 where absent) and row checksums for many ids at once."""
        base_ids, base_slots, base_crcs, recent = self._state
        slots = np.full(len(ids), -1, dtype=np.int64)
        crcs = np.zeros(len(ids), dtype=np.uint32)
        if len(base_ids):
            at = np.minimum(np.searchsorted(base_ids, ids), len(base_ids) - 1)
            hit = base_ids[at] == ids
            slots[hit] = base_slots[at[hit]]
            crcs[hit] = base_crcs[at[hit]]
        if recent:
            for row, item_id in enumerate(ids.tolist()):
                if item_id in recent:
                    found = recent.get(item_id)
                    slots[row], crcs[row] = found if found is not None else (-1, 0)
        return slots, crcs

    def set(self, item_id: int, slot: int, crc: int) -> tuple[int, int] | None:
        """Point an id at a new row; return what it pointed at before."""
        before = self.get(item_id)
        self._state[3][item_id] = (slot, crc)
        self.version += 1
        if before is None:
            self._count += 1
        return before

    def set_many(self, ids: IdArray, slots: SlotArray, crcs: CrcArray) -> list[int]:
        """Point many ids at new rows; return the rows they pointed at before."""
        before, _ = self.lookup(ids)
        had = before >= 0
        recent = self._state[3]
        recent.update(
            zip(ids.tolist(), zip(slots.tolist(), crcs.tolist(), strict=True), strict=True)
        )
        self.version += 1
        self._count += int((~had).sum())
        if len(recent) > FOLD_AT:
            self.fold()
        return before[had].tolist()  # type: ignore[no-any-return]

    def delete(self, item_id: int) -> tuple[int, int] | None:
        before = self.get(item_id)
        if before is not None:
            self._state[3][item_id] = None
            self.version += 1
            self._count -= 1
        return before

    @property
    def pending(self) -> int:
        return len(self._state[3])

    def fold(self) -> None:
        """Merge recent changes into the sorted arrays (readers keep their old references)."""
        base_ids, base_slots, base_crcs, recent = self._state
        if not recent:
            return
        changed = np.fromiter(recent.keys(), dtype=np.int64, count=len(recent))
        keep = ~np.isin(base_ids, changed)
        live = [(i, v) for i, v in recent.items() if v is not None]
        new_ids = np.fromiter((i for i, _ in live), dtype=np.int64, count=len(live))
        new_slots = np.fromiter((v[0] for _, v in live), dtype=np.uint32, count=len(live))
        new_crcs = np.fromiter((v[1] for _, v in live), dtype=np.uint32, count=len(live))
        ids = np.concatenate([base_ids[keep], new_ids])
        order = np.argsort(ids, kind="stable")
        slots = np.concatenate([base_slots[keep], new_slots])[order]
        crcs = np.concatenate([base_crcs[keep], new_crcs])[order]
        self._state = (ids[order], slots, crcs, {})

    def entries(self) -> npt.NDArray[np.void]:
        """Every live (id, slot, crc), sorted by id."""
        self.fold()
        ids, slots, crcs, _ = self._state
        out = np.zeros(len(ids), dtype=ENTRY)
        out["id"], out["slot"], out["crc"] = ids, slots, crcs
        return out

    def live_slots(self) -> SlotArray:
        return self.entries()["slot"].astype(np.int64)


class SlotAllocator:
    """Hands out vector-file rows, reusing freed ones only after a checkpoint.

    A freed row may still be named by the last durable checkpoint, or be mid-read by a
    concurrent search; holding it back until the next checkpoint makes reuse safe for both.
    """

    def __init__(self, next_slot: int, live: SlotArray) -> None:
        self.next_slot = next_slot
        used = np.zeros(next_slot, dtype=bool)
        used[live] = True
        self._free = np.flatnonzero(~used).astype(np.int64)[::-1].copy()
        self._free_top = len(self._free)
        self._held: list[int] = []

    def allocate(self, count: int) -> SlotArray:
        take = min(count, self._free_top)
        reused = self._free[self._free_top - take : self._free_top][::-1]
        self._free_top -= take
        fresh = np.arange(self.next_slot, self.next_slot + count - take, dtype=np.int64)
        self.next_slot += count - take
        return np.concatenate([reused, fresh]) if take else fresh

    def release(self, slots: list[int]) -> None:
        self._held.extend(slots)

    def checkpointed(self) -> None:
        """The held rows are no longer named by any durable state: make them reusable."""
        if not self._held:
            return
        free = np.concatenate([self._free[: self._free_top], np.asarray(self._held, np.int64)])
        self._free = np.sort(free)[::-1].copy()
        self._free_top = len(self._free)
        self._held = []

    @property
    def free(self) -> int:
        return self._free_top + len(self._held)
