"""Tuning knobs of a SPANN index, saved in its manifest so a reopened index behaves the same."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from memos.errors import InvalidInputError
from memos.retrieval.spann.codec import CODECS

# Without `max_probe`, a query reads its nearest postings until they hold `scan_records`
# records, at least PROBE_MIN postings and at most PROBE_MAX.
PROBE_MIN = 12
PROBE_MAX = 64
METRICS = ("ip", "l2")


@dataclass(frozen=True)
class SpannParams:
    """Defaults are tuned for recall@10 >= 0.95 on 384-d sentence embeddings (bench/ann.py).

    codec: how postings store vectors, scanned with faiss's 4-bit fast-scan kernels: "pq2"
        (2 bits per dimension, 96 bytes at 384-d), "pq4" (4 bits, twice the bytes, finer),
        or "auto": pq2 from 128 dimensions up, pq4 below. Search re-scores its best
        candidates exactly from the full-precision vector file.
    flat_limit: up to this many vectors the index is one exact brute-force list; past it
        the clustered layout forms by itself.
    posting_size: vectors per posting that clustering aims for; a posting that would grow
        past `posting_max` is split in two.
    posting_max: hard bound on a posting's length (its extent's capacity).
    max_probe: postings a query reads. Left unset, a query reads its nearest postings
        until they hold `scan_records` records (at least 12 postings, at most 64), so that
        small postings cost no more than large ones. The budget need not grow with the
        index: postings are large, and on bench/ann.py's data (where a topic holds 20k
        vectors at any size) the same budget reaches about the same recall@10 at 200k and
        at 1M vectors.
    scan_records: the records a query reads when `max_probe` is unset, in an index as large
        as when its postings were last laid out whole (built or formed). Inserts split
        postings to keep their size, so an index grown by inserts holds more vectors near
        each query than its postings' count says: the budget grows in proportion (as IVF
        lists grow in place), up to 64 postings, and a rebuild resets it. On bench/ann.py's
        data, where growing 2x doubles every topic, a fixed budget lost recall@10 0.98 ->
        0.83 at 200k.
    rerank: candidates re-scored exactly from full-precision vectors (at least 4 * k).
    wal_bytes: a checkpoint is written once the write-ahead log grows past this.
    compact_ratio: compaction starts once removed or replaced vectors reach this fraction.
    """

    codec: str = "auto"
    flat_limit: int = 2048
    posting_size: int = 1024
    posting_max: int = 2048
    max_probe: int | None = None
    scan_records: int = 28_672
    rerank: int = 64
    wal_bytes: int = 128 << 20
    compact_ratio: float = 0.3

    def __post_init__(self) -> None:
        if self.codec not in (*CODECS, "auto"):
            known = ", ".join((*CODECS, "auto"))
            raise InvalidInputError(f"codec must be one of {known}, got {self.codec!r}")
        positive = ("flat_limit", "posting_size", "posting_max", "scan_records", "rerank")
        for name in (*positive, "wal_bytes"):
            if int(getattr(self, name)) < 1:
                raise InvalidInputError(f"{name} must be at least 1")
        if self.max_probe is not None and self.max_probe < 1:
            raise InvalidInputError("max_probe must be at least 1 (or unset, for the default)")
        if self.posting_max < 2 * self.posting_size:
            raise InvalidInputError("posting_max must be at least twice posting_size")
        if not 0 < self.compact_ratio <= 1:
            raise InvalidInputError("compact_ratio must be in (0, 1]")

    def probe(self, max_probe: int | None = None, growth: float = 1.0) -> tuple[int, int | None]:
        """(postings to consider, record budget or None) for a query; `max_probe` given by
        the call overrides the index's. `growth`: the index's size over its size when its
        postings were last laid out whole."""
        chosen = self.max_probe if max_probe is None else max_probe
        if chosen is not None:
            return chosen, None
        return PROBE_MAX, round(self.scan_records * max(1.0, growth))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SpannParams:
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})
