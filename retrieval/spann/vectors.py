"""The full-precision vector file: one float32 row per slot, read for exact re-scoring.

Rows are fixed size, so a slot is its own address. Each row's CRC lives in the id map and is
checked whenever the row is read; a row is only overwritten once no durable state names it.
"""

from __future__ import annotations

import os
import zlib
from pathlib import Path

import numpy as np

from memos.errors import BackendError
from memos.protocols import FloatArray
from memos.retrieval.spann.files import REBUILD_HINT, ReadRequest, raw, read_many
from memos.retrieval.spann.idmap import CrcArray, SlotArray

VECTORS = "vectors.dat"
WRITE_CHUNK = 64 << 20


def row_crcs(vectors: FloatArray) -> CrcArray:
    rows = np.ascontiguousarray(vectors, dtype=np.float32)
    return np.fromiter((zlib.crc32(row) for row in rows), dtype=np.uint32, count=len(rows))


def _runs(slots: SlotArray) -> list[tuple[int, int, int]]:
    """(first slot, count, position in `slots`) for each run of consecutive slots."""
    if len(slots) == 0:
        return []
    breaks = np.flatnonzero(np.diff(slots) != 1) + 1
    starts = np.concatenate([[0], breaks])
    ends = np.concatenate([breaks, [len(slots)]])
    return [(int(slots[s]), int(e - s), int(s)) for s, e in zip(starts, ends, strict=True)]


class VectorFile:
    def __init__(self, directory: Path, dim: int) -> None:
        self.path = directory / VECTORS
        self.dim = dim
        self.row_bytes = dim * 4
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def sync(self) -> None:
        os.fsync(self._fd)

    @property
    def rows(self) -> int:
        return os.fstat(self._fd).st_size // self.row_bytes

    def write(self, slots: SlotArray, vectors: FloatArray) -> None:
        """Write rows; `slots` need not be sorted."""
        order = np.argsort(slots, kind="stable")
        ordered_slots = slots[order]
        ordered = np.ascontiguousarray(vectors[order], dtype=np.float32)
        step = max(1, WRITE_CHUNK // self.row_bytes)  # one write() stops short of 2 GiB
        for first, count, at in _runs(ordered_slots):
            for part in range(0, count, step):
                block = raw(ordered[at + part : at + min(count, part + step)])
                written = os.pwrite(self._fd, block, (first + part) * self.row_bytes)
                if written != len(block):
                    raise OSError(f"short write to {self.path}")

    def erase(self, slots: list[int]) -> None:
        """Overwrite rows with zeros, so that a removed vector does not linger at full precision."""
        zero = bytes(self.row_bytes)
        for slot in slots:
            os.pwrite(self._fd, zero, slot * self.row_bytes)

    def read(self, slots: SlotArray) -> FloatArray:
        """Rows for `slots`, in that order (checksums are the caller's: see Layout.read_rows).

        Raises:
            BackendError: a row lies past the end of the file.
        """
        out = np.empty((len(slots), self.dim), dtype=np.float32)
        if len(slots) == 0:
            return out
        order = np.argsort(slots, kind="stable")
        staged = np.empty_like(out)
        requests: list[ReadRequest] = [
            (self._fd, [raw(staged[at : at + count])], first * self.row_bytes)
            for first, count, at in _runs(slots[order])
        ]
        if not read_many(requests):
            raise BackendError(f"SPANN vector file {self.path} is truncated; {REBUILD_HINT}")
        out[order] = staged
        return out
