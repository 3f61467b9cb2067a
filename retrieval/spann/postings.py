"""Posting lists on disk, in our own format.

A posting is one extent in an append-only data file, laid out as

    [capacity x (id int64, slot uint32)] [capacity / 32 x code block]

where a code block holds 32 records' 4-bit codes in faiss's fast-scan layout (blocks.py),
so search reads a posting's records and code blocks with one `preadv`, the blocks landing
straight in the scanner's lists. The extent is sized for `posting_max` records; records are
appended in place past the current length. An append rewrites the posting's last, partly
filled block, keeping the codes below the length as they were (bytes a reader or the last
checkpoint relies on keep their meaning) and clearing any above it (left by a call that a
crash cut short); slack that was never written stays a hole in the file. A posting that
must change otherwise (split, move, compaction) is written as a new extent elsewhere; old
extents are only reclaimed when their whole file is retired by compaction.

The table (one row per posting id, in RAM, saved at checkpoints) holds each extent's place,
its length, and CRCs of the records and of the codes (in flat order, see blocks.flat) up
to that length, kept up to date incrementally on every append and checked the first time a
process reads the posting.
"""

from __future__ import annotations

import contextlib
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from memos.errors import BackendError
from memos.retrieval.spann.blocks import (
    BLOCK,
    Blocks,
    SubCodes,
    below_masks,
    block_bytes,
    blocks_for,
    flat,
    pack,
    scatter,
    unpack,
)
from memos.retrieval.spann.files import REBUILD_HINT, ReadRequest, crc32, raw, read_many

META = np.dtype([("id", "<i8"), ("slot", "<u4")])
TABLE = np.dtype(
    [
        ("file", "<u4"),
        ("offset", "<u8"),
        ("capacity", "<u4"),
        ("length", "<u4"),
        ("crc_meta", "<u4"),
        ("crc_codes", "<u4"),
        ("alive", "u1"),
    ]
)
ALIGN = 4096
MetaArray = npt.NDArray[np.void]
TableArray = npt.NDArray[np.void]


def data_file_name(number: int) -> str:
    return f"postings.{number}.dat"


@dataclass
class DataFile:
    number: int
    fd: int
    end: int  # where the next extent goes
    users: int = 0
    retired: bool = False


class PostingStore:
    """Extents, the posting table and the data files; thread safety is the caller's lock."""

    def __init__(self, directory: Path, subquantizers: int, posting_max: int) -> None:
        self.directory = directory
        self.subquantizers = subquantizers
        self.capacity = blocks_for(posting_max) * BLOCK
        self.block_bytes = block_bytes(subquantizers)
        self.meta_bytes = self.capacity * META.itemsize
        self.table: TableArray = np.zeros(0, dtype=TABLE)
        self.verified = np.zeros(0, dtype=bool)
        self.files: dict[int, DataFile] = {}
        self.active = -1
        self._free_ids: list[int] = []
        self._file_lock = threading.Lock()

    # -- files -------------------------------------------------------------------------

    def open_file(self, number: int, end: int) -> None:
        path = self.directory / data_file_name(number)
        try:
            fd = os.open(path, os.O_RDWR)
        except FileNotFoundError:
            raise BackendError(f"SPANN data file {path} is missing; {REBUILD_HINT}") from None
        if os.fstat(fd).st_size < end:
            os.close(fd)
            raise BackendError(f"SPANN data file {path} is truncated; {REBUILD_HINT}")
        self.files[number] = DataFile(number, fd, end)
        self.active = max(self.active, number)

    def new_file(self) -> int:
        """Start a fresh data file; new extents go there from now on."""
        number = max(self.files, default=-1) + 1
        path = self.directory / data_file_name(number)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
        self.files[number] = DataFile(number, fd, 0)
        self.active = number
        return number

    def sync(self) -> None:
        for data in self.files.values():
            if not data.retired:
                os.fsync(data.fd)

    def acquire(self, numbers: set[int]) -> list[DataFile]:
        """Pin files for a read, so that retiring them waits until the read is done."""
        with self._file_lock:
            pinned = [self.files[n] for n in numbers]
            for data in pinned:
                data.users += 1
            return pinned

    def release(self, pinned: list[DataFile]) -> None:
        with self._file_lock:
            for data in pinned:
                data.users -= 1
                if data.retired and data.users == 0:
                    os.close(data.fd)

    def retire_unused(self) -> list[str]:
        """Drop data files no live posting uses; return their names for deletion."""
        alive = self.table[self.table["alive"] == 1]
        in_use = set(alive["file"].tolist()) | {self.active}
        names = []
        with self._file_lock:
            for number in [n for n in self.files if n not in in_use]:
                data = self.files.pop(number)
                data.retired = True
                if data.users == 0:
                    os.close(data.fd)
                names.append(data_file_name(number))
        return names

    def close(self) -> None:
        with self._file_lock:
            for data in self.files.values():
                if not data.retired:
                    os.close(data.fd)
            self.files.clear()

    def file_bytes(self) -> tuple[int, int]:
        """(apparent bytes, allocated bytes) over the data files."""
        apparent = allocated = 0
        for data in self.files.values():
            status = os.fstat(data.fd)
            apparent += status.st_size
            allocated += status.st_blocks * 512
        return apparent, allocated

    # -- table -------------------------------------------------------------------------

    def load_table(self, table: TableArray) -> None:
        self.table = table
        self.verified = np.zeros(len(table), dtype=bool)
        self._free_ids = np.flatnonzero(table["alive"] == 0)[::-1].tolist()

    def alive_ids(self) -> npt.NDArray[np.int64]:
        return np.flatnonzero(self.table["alive"] == 1)

    def allocate_id(self) -> int:
        """A free posting id; may grow the table (call under the state lock)."""
        if self._free_ids:
            return self._free_ids.pop()
        first = len(self.table)
        grown = max(16, 2 * first)
        table = np.zeros(grown, dtype=TABLE)
        table[:first] = self.table
        verified = np.zeros(grown, dtype=bool)
        verified[:first] = self.verified
        self._free_ids = list(range(grown - 1, first, -1))
        self.table, self.verified = table, verified
        return first

    def publish(self, pid: int, row: np.void) -> None:
        """Make a written extent the posting's content (call under the state lock)."""
        self.table[pid] = row
        # We computed its CRCs from the bytes we wrote; nothing to check on first read.
        self.verified[pid] = True

    def drop(self, pid: int) -> None:
        self.table["alive"][pid] = 0
        self._free_ids.append(pid)

    # -- extents -----------------------------------------------------------------------

    def _extent_bytes(self) -> int:
        size = self.meta_bytes + self.capacity // BLOCK * self.block_bytes
        return -(-size // ALIGN) * ALIGN

    def write_extent(self, meta: MetaArray, codes: SubCodes) -> np.void:
        """Write records as a new extent in the active file; return its table row."""
        return self.write_extents([(meta, codes)])[0]

    def write_extents(self, postings: list[tuple[MetaArray, SubCodes]]) -> list[np.void]:
        """Write several postings as new extents, back to back; return their table rows.

        The file is extended once, at the end, so that the slack of the last extent reads
        as zeros; the writes are made durable by the next checkpoint's single fsync.
        """
        data = self.files[self.active]
        rows = []
        for meta, codes in postings:
            if len(meta) > self.capacity:
                raise ValueError("posting longer than its capacity")
            offset = data.end
            data.end += self._extent_bytes()
            meta_bytes = np.ascontiguousarray(meta).view(np.uint8)
            self._pwrite(data, meta_bytes, offset)
            self._pwrite(data, pack(codes).reshape(-1), offset + self.meta_bytes)
            row = np.zeros(1, dtype=TABLE)[0]
            row["file"], row["offset"], row["capacity"] = data.number, offset, self.capacity
            row["length"], row["alive"] = len(meta), 1
            row["crc_meta"], row["crc_codes"] = crc32(meta_bytes), crc32(flat(codes))
            rows.append(row)
        if data.end > os.fstat(data.fd).st_size:
            os.ftruncate(data.fd, data.end)
        return rows

    def append(
        self, pids: npt.NDArray[np.int64], meta: MetaArray, codes: SubCodes, bounds: list[int]
    ) -> npt.NDArray[np.void]:
        """Append records in place: posting pids[i] gets meta/codes[bounds[i]:bounds[i + 1]],
        which must fit. Return the updated rows, for `publish_appends` (under the state lock).
        """
        rows = self.table[pids].copy()
        lengths = rows["length"].astype(np.int64)
        counts = np.diff(np.asarray(bounds, dtype=np.int64)).astype(np.int64)
        if (lengths + counts > rows["capacity"]).any():
            raise ValueError("appended records do not fit their posting")
        # Every block an append touches, all postings together, rebuilt and packed at once.
        first_block = lengths // BLOCK
        touched = (lengths + counts - 1) // BLOCK - first_block + 1
        starts = np.concatenate([[0], np.cumsum(touched)])
        packed = np.zeros((int(starts[-1]), self.block_bytes), dtype=np.uint8)
        within = np.arange(len(codes)) - np.repeat(np.asarray(bounds[:-1]), counts)
        slot = np.repeat(lengths % BLOCK, counts) + within  # from the first touched block
        block = np.repeat(starts[:-1], counts) + slot // BLOCK
        scatter(packed, block, slot % BLOCK, codes)
        self._keep_below_length(rows, lengths, first_block, starts, packed)
        meta_bytes = np.ascontiguousarray(meta).view(np.uint8).reshape(len(meta), -1)
        record = META.itemsize
        for at in range(len(pids)):
            start, end = bounds[at], bounds[at + 1]
            data = self.files[int(rows["file"][at])]
            offset = int(rows["offset"][at])
            length = int(lengths[at])
            block_meta = meta_bytes[start:end].reshape(-1)
            self._pwrite(data, block_meta, offset + length * record)
            blocks_at = offset + self.meta_bytes + int(first_block[at]) * self.block_bytes
            self._pwrite(data, packed[starts[at] : starts[at + 1]].reshape(-1), blocks_at)
            rows["crc_meta"][at] = crc32(block_meta, int(rows["crc_meta"][at]))
            rows["crc_codes"][at] = crc32(flat(codes[start:end]), int(rows["crc_codes"][at]))
        rows["length"] = lengths + counts
        return rows

    def _keep_below_length(
        self,
        rows: TableArray,
        lengths: npt.NDArray[np.int64],
        first_block: npt.NDArray[np.int64],
        starts: npt.NDArray[np.int64],
        packed: Blocks,
    ) -> None:
        """Merge the codes already in each partly filled last block into `packed` (whose
        nibbles there are zero), dropping any above the length."""
        partial = np.flatnonzero(lengths % BLOCK)
        if len(partial) == 0:
            return
        old = np.empty((len(partial), self.block_bytes), dtype=np.uint8)
        requests: list[ReadRequest] = []
        for n, at in enumerate(partial.tolist()):
            data = self.files[int(rows["file"][at])]
            block = int(first_block[at]) * self.block_bytes
            where = int(rows["offset"][at]) + self.meta_bytes + block
            requests.append((data.fd, [raw(old[n])], where))
        if not read_many(requests):
            raise BackendError(f"SPANN data file in {self.directory} is truncated; {REBUILD_HINT}")
        masks = below_masks(self.subquantizers)
        packed[starts[partial]] |= old & masks[lengths[partial] % BLOCK]

    def publish_appends(self, pids: npt.NDArray[np.int64], rows: npt.NDArray[np.void]) -> None:
        """Make appended records visible (call under the state lock)."""
        table = self.table
        table["length"][pids] = rows["length"]
        table["crc_meta"][pids] = rows["crc_meta"]
        table["crc_codes"][pids] = rows["crc_codes"]

    def _pwrite(self, data: DataFile, block: npt.NDArray[np.uint8], offset: int) -> None:
        if len(block) and os.pwrite(data.fd, raw(block), offset) != len(block):
            raise OSError(f"short write to {data_file_name(data.number)}")

    # -- reads -------------------------------------------------------------------------

    def read_into(
        self,
        pids: npt.NDArray[np.int64],
        rows: TableArray,
        pinned: dict[int, DataFile],
        meta_raw: npt.NDArray[np.uint8],
        code_views: list[npt.NDArray[np.uint8]],
    ) -> None:
        """Read postings (as of `rows`): posting j's records into meta_raw[j * capacity:]
        (as META), its code blocks into code_views[j].

        Raises:
            BackendError: a posting is short or fails its checksum.
        """
        requests: list[ReadRequest] = []
        span = self.meta_bytes
        for j, row in enumerate(rows):
            meta_view = meta_raw[j * span : (j + 1) * span]
            data = pinned[int(row["file"])]
            requests.append((data.fd, [raw(meta_view), raw(code_views[j])], int(row["offset"])))
        if not read_many(requests):
            raise BackendError(f"SPANN data file in {self.directory} is truncated; {REBUILD_HINT}")
        verified = self.verified
        for j, (pid, row) in enumerate(zip(pids.tolist(), rows, strict=True)):
            if not verified[pid]:
                meta_view = meta_raw[j * span : j * span + int(row["length"]) * META.itemsize]
                self._verify(pid, row, meta_view, code_views[j])

    def prefetch(self, pids: npt.NDArray[np.int64]) -> None:
        """Ask the kernel to start reading these postings (a hint: no wait, no pinning; a
        file retired meanwhile is skipped)."""
        rows = self.table[pids]
        for row in rows[rows["alive"] == 1]:
            data = self.files.get(int(row["file"]))
            if data is None or data.retired:
                continue
            span = self.meta_bytes + blocks_for(int(row["length"])) * self.block_bytes
            with contextlib.suppress(OSError):
                os.posix_fadvise(data.fd, int(row["offset"]), span, os.POSIX_FADV_WILLNEED)

    def _verify(
        self, pid: int, row: np.void, meta: npt.NDArray[np.uint8], blocks: npt.NDArray[np.uint8]
    ) -> None:
        length = int(row["length"])
        codes = unpack(blocks.reshape(-1, self.block_bytes), length, self.subquantizers)
        if crc32(meta) != int(row["crc_meta"]) or crc32(flat(codes)) != int(row["crc_codes"]):
            name = data_file_name(int(row["file"]))
            raise BackendError(f"SPANN posting {pid} in {name} fails its checksum; {REBUILD_HINT}")
        self.verified[pid] = True

    def read(self, pid: int, row: np.void) -> tuple[MetaArray, SubCodes]:
        """One posting's records and codes (for splits, moves and compaction)."""
        pinned = self.acquire({int(row["file"])})
        length = int(row["length"])
        try:
            meta_raw = np.empty(self.meta_bytes, dtype=np.uint8)
            blocks: Blocks = np.empty(blocks_for(length) * self.block_bytes, dtype=np.uint8)
            pids = np.asarray([pid], dtype=np.int64)
            rows = np.asarray([row], dtype=TABLE)
            self.read_into(pids, rows, {d.number: d for d in pinned}, meta_raw, [blocks])
        finally:
            self.release(pinned)
        meta = meta_raw[: length * META.itemsize].view(META).copy()
        return meta, unpack(blocks.reshape(-1, self.block_bytes), length, self.subquantizers)
