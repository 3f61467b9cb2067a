"""The full-precision vector file: one float32 row per slot, read for exact re-scoring.

Rows are fixed size, so a slot is its own address. Each row's CRC lives in the id map and is
checked whenever the row is read; a row is only overwritten once no durable state names it.

Reads gather rows from a read-only memory map of the file: a query re-scores some 60
scattered rows, and a gather costs no system call per row where `preadv` costs one. Each
row is first announced with POSIX_FADV_WILLNEED, so that when the file is not cached the
kernel fetches all of a query's rows in parallel instead of faulting them in one by one.
Writes go through `pwrite`; the map sees them (one page cache).
"""

from __future__ import annotations

import contextlib
import mmap
import os
import threading
import zlib
from pathlib import Path

import numpy as np

from memos.errors import BackendError
from memos.protocols import FloatArray
from memos.retrieval.spann.files import REBUILD_HINT, raw
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
        self._map: mmap.mmap | None = None
        self._mapped: FloatArray = np.zeros((0, dim), dtype=np.float32)
        self._map_lock = threading.Lock()

    def unmap(self) -> None:
        """Drop the memory map (the next read maps the file again)."""
        with self._map_lock:
            self._mapped = np.zeros((0, self.dim), dtype=np.float32)
            if self._map is not None:
                with contextlib.suppress(BufferError):  # a reader still holds a view
                    self._map.close()
                self._map = None

    def close(self) -> None:
        self.unmap()
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def _rows_mapped(self, top: int) -> FloatArray:
        """A view of the file's rows covering slot `top - 1`, remapping if it grew."""
        mapped = self._mapped
        if top <= len(mapped):
            return mapped
        with self._map_lock:
            if top > len(self._mapped):
                rows = self.rows
                if top > rows:
                    raise BackendError(
                        f"SPANN vector file {self.path} is truncated; {REBUILD_HINT}"
                    )
                # The old map stays valid for readers that hold it; it closes when unused.
                self._map = mmap.mmap(self._fd, rows * self.row_bytes, prot=mmap.PROT_READ)
                self._mapped = np.frombuffer(self._map, dtype=np.float32).reshape(rows, -1)
            return self._mapped

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
        if len(slots) == 0:
            return np.empty((0, self.dim), dtype=np.float32)
        mapped = self._rows_mapped(int(slots.max()) + 1)
        for first, count, _ in _runs(np.sort(slots)):
            os.posix_fadvise(
                self._fd, first * self.row_bytes, count * self.row_bytes, os.POSIX_FADV_WILLNEED
            )
        return np.ascontiguousarray(mapped[slots])
