"""Posting lists on disk, in our own format.

A posting is one extent in an append-only data file, laid out as

    [capacity x (id int64, slot uint32)] [capacity x code]

so search reads a posting's records and codes with one `preadv`, the codes landing straight
in the scorer's buffer. The extent is sized for `posting_max` records; records are appended
in place past the current length, so appends never touch bytes a reader or the last
checkpoint relies on, and slack that was never written stays a hole in the file. A posting
that must change otherwise (split, compaction) is written as a new extent elsewhere; old
extents are only reclaimed when their whole file is retired by compaction.

The table (one row per posting id, in RAM, saved at checkpoints) holds each extent's place,
its length, and CRCs of the record and code bytes up to that length, kept up to date
incrementally on every append and checked the first time a process reads the posting.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from memos.errors import BackendError
from memos.retrieval.spann.codec import CodeArray
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

    def __init__(self, directory: Path, code_size: int, capacity: int) -> None:
        self.directory = directory
        self.code_size = code_size
        self.capacity = capacity
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
        size = self.capacity * (META.itemsize + self.code_size)
        return -(-size // ALIGN) * ALIGN

    def write_extent(self, meta: MetaArray, codes: CodeArray) -> np.void:
        """Write records as a new extent in the active file; return its table row."""
        if len(meta) > self.capacity:
            raise ValueError("posting longer than its capacity")
        data = self.files[self.active]
        offset = data.end
        data.end += self._extent_bytes()
        meta_bytes = np.ascontiguousarray(meta).view(np.uint8)
        code_bytes = np.ascontiguousarray(codes, dtype=np.uint8).reshape(-1)
        self._pwrite(data, meta_bytes, offset)
        self._pwrite(data, code_bytes, offset + self.capacity * META.itemsize)
        if data.end > os.fstat(data.fd).st_size:
            # Extend the file so an extent's unwritten slack reads as zeros, not EOF.
            os.ftruncate(data.fd, data.end)
        row = np.zeros(1, dtype=TABLE)[0]
        row["file"], row["offset"], row["capacity"] = data.number, offset, self.capacity
        row["length"], row["alive"] = len(meta), 1
        row["crc_meta"], row["crc_codes"] = crc32(meta_bytes), crc32(code_bytes)
        return row  # type: ignore[no-any-return]

    def append(
        self, pids: npt.NDArray[np.int64], meta: MetaArray, codes: CodeArray, bounds: list[int]
    ) -> npt.NDArray[np.void]:
        """Append records in place: posting pids[i] gets meta/codes[bounds[i]:bounds[i + 1]],
        which must fit. Return the updated rows, for `publish_appends` (under the state lock).
        """
        rows = self.table[pids].copy()
        offsets = rows["offset"].tolist()
        lengths = rows["length"].tolist()
        capacities = rows["capacity"].tolist()
        files = rows["file"].tolist()
        crc_meta = rows["crc_meta"].tolist()
        crc_codes = rows["crc_codes"].tolist()
        meta_bytes = np.ascontiguousarray(meta).view(np.uint8).reshape(len(meta), -1)
        code_bytes = np.ascontiguousarray(codes, dtype=np.uint8)
        record = META.itemsize
        for at in range(len(pids)):
            start, end = bounds[at], bounds[at + 1]
            length, capacity, offset = lengths[at], capacities[at], offsets[at]
            if length + end - start > capacity:
                raise ValueError("appended records do not fit their posting")
            data = self.files[files[at]]
            block_meta = meta_bytes[start:end].reshape(-1)
            block_codes = code_bytes[start:end].reshape(-1)
            self._pwrite(data, block_meta, offset + length * record)
            self._pwrite(data, block_codes, offset + capacity * record + length * self.code_size)
            lengths[at] = length + end - start
            crc_meta[at] = crc32(block_meta, crc_meta[at])
            crc_codes[at] = crc32(block_codes, crc_codes[at])
        rows["length"], rows["crc_meta"], rows["crc_codes"] = lengths, crc_meta, crc_codes
        return rows

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
        codes: CodeArray,
    ) -> MetaArray:
        """Read postings (as of `rows`) into `codes`, back to back; return their records.

        Raises:
            BackendError: a posting is short or fails its checksum.
        """
        capacity_meta = rows["capacity"].astype(np.int64) * META.itemsize
        meta_raw = np.empty(int(capacity_meta.sum()), dtype=np.uint8)
        lengths = rows["length"].astype(np.int64)
        requests: list[ReadRequest] = []
        spans = []
        meta_at = code_at = 0
        for row, meta_span, length in zip(
            rows, capacity_meta.tolist(), lengths.tolist(), strict=True
        ):
            code_span = length * self.code_size
            meta_view = meta_raw[meta_at : meta_at + meta_span]
            code_view = codes[code_at : code_at + code_span]
            data = pinned[int(row["file"])]
            requests.append((data.fd, [raw(meta_view), raw(code_view)], int(row["offset"])))
            spans.append((meta_view[: length * META.itemsize], code_view))
            meta_at += meta_span
            code_at += code_span
        if not read_many(requests):
            raise BackendError(f"SPANN data file in {self.directory} is truncated; {REBUILD_HINT}")
        verified = self.verified
        for pid, row, (meta_view, code_view) in zip(pids.tolist(), rows, spans, strict=True):
            if not verified[pid]:
                self._verify(pid, row, meta_view, code_view)
        joined = np.concatenate([m for m, _ in spans]) if spans else np.zeros(0, dtype=np.uint8)
        return joined.view(META)

    def _verify(
        self, pid: int, row: np.void, meta: npt.NDArray[np.uint8], codes: CodeArray
    ) -> None:
        if crc32(meta) != int(row["crc_meta"]) or crc32(codes) != int(row["crc_codes"]):
            name = data_file_name(int(row["file"]))
            raise BackendError(f"SPANN posting {pid} in {name} fails its checksum; {REBUILD_HINT}")
        self.verified[pid] = True

    def read(self, pid: int, row: np.void) -> tuple[MetaArray, CodeArray]:
        """One posting's records and codes (for splits and compaction)."""
        pinned = self.acquire({int(row["file"])})
        try:
            codes = np.empty(int(row["length"]) * self.code_size, dtype=np.uint8)
            pids = np.asarray([pid], dtype=np.int64)
            rows = np.asarray([row], dtype=TABLE)
            meta = self.read_into(pids, rows, {d.number: d for d in pinned}, codes)
        finally:
            self.release(pinned)
        return meta.copy(), codes.reshape(-1, self.code_size)
