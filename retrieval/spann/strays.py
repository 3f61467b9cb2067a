"""Strays: records that sit far outside their posting, watched until a nearer home appears.

A vector is inserted into its nearest posting. The first vectors of a new topic have no
posting of their own yet, so they land in some old one, far from its centroid. As the
topic grows, its postings multiply around them; left alone, their own posting sinks below
all of those in the ranking a query for them probes, and they can no longer be found.

So a record appended (or placed by a split or a seed) at more than STRAY times its
posting's radius is registered here. Each time new centroids appear, every stray counts
those nearer to it than its own posting; once RECHECK have, its real rank is looked up,
and if its posting is no longer among its SAFE nearest, it moves to the nearest one with
room. All of this uses the full-precision rows, not codes: the codes of exactly these
records may be poor (their region may lie outside what the codec was trained on). Few
records register on 384-d data, where a posting's members lie within about 1.3 times its
radius.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from memos.protocols import FloatArray, IdArray
from memos.retrieval.spann.centroids import CentroidIndex

STRAY = 1.5
# A posting's radius counts as at least FLOOR times the typical one (a posting of one
# vector has none).
FLOOR = 0.25
RECHECK = 3
SAFE = 4
# The watch keeps at most this many records (the newest); each check reads their rows.
LIMIT = 4_096
ENTRY = np.dtype([("id", "<i8"), ("slot", "<u4"), ("home", "<i8"), ("nearer", "<i4")])


class Strays:
    def __init__(self, entries: npt.NDArray[np.void] | None = None) -> None:
        self.entries = np.zeros(0, dtype=ENTRY) if entries is None else entries

    def __len__(self) -> int:
        return len(self.entries)

    def add(self, ids: IdArray, slots: IdArray, homes: IdArray) -> None:
        fresh = np.zeros(len(ids), dtype=ENTRY)
        fresh["id"], fresh["slot"], fresh["home"] = ids, slots, homes
        self.entries = np.concatenate([self.entries, fresh])[-LIMIT:]

    def forget(self, keep: npt.NDArray[np.bool_]) -> None:
        self.entries = self.entries[keep]

    def forget_homes(self, pids: IdArray) -> None:
        """A rewritten posting's records are placed afresh (and watched again if need be)."""
        self.forget(~np.isin(self.entries["home"], pids))

    def notice(self, nearer: npt.NDArray[np.int32]) -> npt.NDArray[np.intp]:
        """Count, per stray, new centroids nearer to it than its posting; return the rows
        whose real rank is due for a check."""
        self.entries["nearer"] += nearer
        return np.flatnonzero(self.entries["nearer"] >= RECHECK)


def register(
    strays: Strays,
    centroids: CentroidIndex,
    meta: npt.NDArray[np.void],
    homes: IdArray,
    distances: FloatArray,
) -> None:
    """Watch the records placed at these squared distances from their postings `homes` that
    lie far outside them (call under the state lock)."""
    floor = FLOOR * centroids.typical_radius()
    far = distances > STRAY * np.maximum(centroids.radii[homes], floor)
    if far.any():
        ids = np.ascontiguousarray(meta["id"][far])
        strays.add(ids, meta["slot"][far].astype(np.int64), homes[far])
