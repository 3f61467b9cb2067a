"""The write-ahead log: every add, remove and applied-sequence mark, written before it is
applied, so that a killed process reopens with every call that returned.

A record is one `write` of header, payload and CRC. The kernel keeps written pages when the
process dies, so a returned call survives SIGKILL without an fsync; `sync` (run by every
checkpoint) makes the log survive power loss too. On reopen the log is replayed up to the
first torn or corrupt record, which is where the crash cut the last unacknowledged call, and
cut back to there.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from memos.protocols import FloatArray, IdArray
from memos.retrieval.spann.files import crc32, raw

MAGIC = 0x4C57534D  # "MSWL"
HEADER = struct.Struct("<IB3xQQ")  # magic, kind, count, payload bytes
TRAILER = struct.Struct("<I")
ADD, REMOVE, APPLIED = 1, 2, 3


@dataclass(frozen=True)
class Record:
    kind: int
    ids: IdArray
    vectors: FloatArray | None = None
    seq: int = 0


class WriteAheadLog:
    """An append-only record file; one per checkpoint generation."""

    def __init__(self, path: Path, dim: int) -> None:
        self.path = path
        self.dim = dim
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        self.bytes = os.fstat(self._fd).st_size

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def sync(self) -> None:
        os.fsync(self._fd)

    def _append(self, kind: int, count: int, *parts: bytes | memoryview) -> None:
        size = sum(len(part) for part in parts)
        header = HEADER.pack(MAGIC, kind, count, size)
        crc = crc32(header)
        for part in parts:
            crc = crc32(part, crc)
        # One writev, without first copying megabytes of vectors into one buffer.
        record = [header, *parts, TRAILER.pack(crc)]
        expected = len(header) + size + TRAILER.size
        written = os.writev(self._fd, record)
        if written != expected:  # a short write to a regular file means a full disk
            raise OSError(f"short write to {self.path}")
        self.bytes += expected

    def append_add(self, ids: IdArray, vectors: FloatArray) -> None:
        self._append(ADD, len(ids), raw(np.ascontiguousarray(ids)), raw(vectors))

    def append_remove(self, ids: IdArray) -> None:
        self._append(REMOVE, len(ids), raw(np.ascontiguousarray(ids)))

    def append_applied(self, seq: int) -> None:
        self._append(APPLIED, 0, struct.pack("<q", seq))

    def replay(self) -> Iterator[Record]:
        """Yield intact records in order; cut the file at the first damaged one."""
        with self.path.open("rb") as handle:
            data = handle.read()
        position = 0
        while position + HEADER.size + TRAILER.size <= len(data):
            magic, kind, count, size = HEADER.unpack_from(data, position)
            end = position + HEADER.size + size
            if magic != MAGIC or end + TRAILER.size > len(data):
                break
            (claimed,) = TRAILER.unpack_from(data, end)
            if claimed != crc32(memoryview(data)[position:end]):
                break
            payload = memoryview(data)[position + HEADER.size : end]
            record = self._decode(kind, count, payload)
            if record is None:
                break
            yield record
            position = end + TRAILER.size
        if position < len(data):
            os.ftruncate(self._fd, position)
            self.bytes = position

    def _decode(self, kind: int, count: int, payload: memoryview) -> Record | None:
        if kind == APPLIED and len(payload) == 8:
            (seq,) = struct.unpack("<q", payload)
            return Record(APPLIED, np.zeros(0, dtype=np.int64), seq=seq)
        ids_bytes = count * 8
        if kind == REMOVE and len(payload) == ids_bytes:
            return Record(REMOVE, np.frombuffer(payload, dtype=np.int64).copy())
        if kind == ADD and len(payload) == ids_bytes + count * self.dim * 4:
            ids = np.frombuffer(payload[:ids_bytes], dtype=np.int64).copy()
            vectors = np.frombuffer(payload[ids_bytes:], dtype=np.float32).reshape(count, -1)
            return Record(ADD, ids, vectors.copy())
        return None
