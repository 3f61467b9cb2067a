"""Tuning knobs of a SPANN index, saved in its manifest so a reopened index behaves the same."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from memos.errors import InvalidInputError

CODECS = ("sq8", "float16", "float32")
# The default probe count: PROBE_SCALE * sqrt(postings), at least PROBE_MIN.
PROBE_MIN = 32
PROBE_SCALE = 2.0
METRICS = ("ip", "l2")


@dataclass(frozen=True)
class SpannParams:
    """Defaults are tuned for recall@10 >= 0.95 on 384-d sentence embeddings (bench/ann.py).

    codec: how postings store vectors. "sq8" (8-bit scalar quantisation, a quarter of the
        bytes) and "float16" are re-ranked exactly from the full-precision vector file;
        "float32" scores postings exactly.
    flat_limit: up to this many vectors the index is one exact brute-force list; past it
        the clustered layout forms by itself.
    posting_size: vectors per posting that clustering aims for (before replication); a
        posting that grows past twice this is split.
    posting_max: hard bound on a posting's length (its extent's capacity).
    replicas: how many postings a boundary vector may be stored in, at most.
    replica_eps: a vector is replicated only into postings whose centroid is within
        (1 + replica_eps) of its nearest one (squared L2), and not behind one already chosen
        (the RNG rule).
    max_probe / eps: search reads at most max_probe postings, and only those whose centroid
        is within (1 + eps) of the nearest (squared L2). Left unset, max_probe grows with
        the index, as `PROBE_SCALE * sqrt(postings)` but at least `PROBE_MIN`: with a fixed
        posting size, a fixed probe count covers an ever smaller share of a growing index
        (on bench/ann.py's data, recall@10 at 32 probes fell from 0.96 to 0.88 from 100k to
        200k vectors).
    rerank: candidates re-scored exactly from full-precision vectors (at least 2 * k).
    wal_bytes: a checkpoint is written once the write-ahead log grows past this.
    compact_ratio: compaction starts once removed or replaced vectors reach this fraction.
    """

    codec: str = "sq8"
    flat_limit: int = 2048
    posting_size: int = 256
    posting_max: int = 1024
    replicas: int = 4
    replica_eps: float = 0.3
    max_probe: int | None = None
    eps: float = 0.6
    rerank: int = 24
    wal_bytes: int = 128 << 20
    compact_ratio: float = 0.3

    def __post_init__(self) -> None:
        if self.codec not in CODECS:
            raise InvalidInputError(f"codec must be one of {', '.join(CODECS)}, got {self.codec!r}")
        positive = ("flat_limit", "posting_size", "posting_max", "replicas", "rerank")
        for name in (*positive, "wal_bytes"):
            if int(getattr(self, name)) < 1:
                raise InvalidInputError(f"{name} must be at least 1")
        if self.max_probe is not None and self.max_probe < 1:
            raise InvalidInputError("max_probe must be at least 1 (or unset, to scale)")
        if self.posting_max < 2 * self.posting_size:
            raise InvalidInputError("posting_max must be at least twice posting_size")
        if self.eps < 0 or self.replica_eps < 0:
            raise InvalidInputError("eps and replica_eps must not be negative")
        if not 0 < self.compact_ratio <= 1:
            raise InvalidInputError("compact_ratio must be in (0, 1]")

    def probe(self, postings: int) -> int:
        """Postings a query reads at most when the call does not say."""
        if self.max_probe is not None:
            return self.max_probe
        return max(PROBE_MIN, math.ceil(PROBE_SCALE * math.sqrt(postings)))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SpannParams:
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})
