"""Checkpoints and loading: the manifest generation cycle.

A checkpoint fsyncs the data files, writes generation g's blobs and an empty log, swaps the
manifest to name them, then deletes what generation g - 1 used alone. Files that no manifest
names (left by a crash between those steps) are removed when the index opens.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from memos.errors import BackendError
from memos.faults import crash_point
from memos.retrieval.spann.blocks import BLOCK
from memos.retrieval.spann.centroids import CentroidIndex
from memos.retrieval.spann.codec import Codec
from memos.retrieval.spann.files import (
    MANIFEST,
    REBUILD_HINT,
    fsync_directory,
    read_blob,
    write_blob,
    write_manifest,
)
from memos.retrieval.spann.idmap import ENTRY, IdMap, SlotAllocator
from memos.retrieval.spann.layout import Layout
from memos.retrieval.spann.params import SpannParams
from memos.retrieval.spann.postings import TABLE, data_file_name
from memos.retrieval.spann.strays import ENTRY as STRAY_ENTRY
from memos.retrieval.spann.strays import Strays
from memos.retrieval.spann.vectors import VECTORS
from memos.retrieval.spann.wal import WriteAheadLog

# Files this index owns; anything else in the directory (a cube's identity file) is left be.
OWNED = re.compile(r"^((ids|table|centroids|radii|strays|codec)\.\d+\.bin|wal\.\d+\.log"
                   r"|postings\.\d+\.dat|vectors\.dat|\..+\.tmp)$")  # fmt: skip


def remove_leftovers(directory: Path, keep: set[str]) -> None:
    for path in directory.iterdir():
        if OWNED.match(path.name) and path.name not in keep:
            path.unlink(missing_ok=True)


def checkpoint(
    layout: Layout, generation: int, applied_seq: int, wal: WriteAheadLog | None
) -> WriteAheadLog:
    """Write generation `generation` and return its (empty) log. Caller holds the write lock."""
    directory = layout.directory
    postings = layout.postings
    crash_point("spann-checkpoint-start")
    postings.sync()
    layout.vectors.sync()
    with layout.state_lock:
        entries = layout.ids.entries()
        table = postings.table.copy()
        # Row for row with the table (the two arrays grow separately).
        centroids, radii = layout.centroid_index.rows(len(table))
        strays = layout.strays.entries.copy()
    alive = table[table["alive"] == 1]
    in_use = set(alive["file"].tolist()) | ({postings.active} if postings.active >= 0 else set())
    body: dict[str, Any] = {
        "dim": layout.dim,
        "metric": layout.metric,
        "params": layout.params.to_dict(),
        "generation": generation,
        "applied_seq": applied_seq,
        "count": len(entries),
        "clustered": layout.clustered,
        "next_slot": layout.slots.next_slot,
        "dead": layout.dead,
        "garbage": layout.garbage,
        "laid_out": layout.laid_out,
        "ids": write_blob(directory, f"ids.{generation}.bin", entries),
        "data_files": {str(n): postings.files[n].end for n in sorted(in_use)},
    }
    if layout.clustered:
        body["table"] = write_blob(directory, f"table.{generation}.bin", table)
        body["centroids"] = write_blob(directory, f"centroids.{generation}.bin", centroids)
        body["radii"] = write_blob(directory, f"radii.{generation}.bin", radii)
        body["strays"] = write_blob(directory, f"strays.{generation}.bin", strays)
    if layout.codec.trained:
        codec = np.frombuffer(layout.codec.state(), dtype=np.uint8)
        body["codec"] = write_blob(directory, f"codec.{generation}.bin", codec)
    log_name = f"wal.{generation}.log"
    (directory / log_name).unlink(missing_ok=True)
    fresh = WriteAheadLog(directory / log_name, layout.dim)
    fresh.sync()
    fsync_directory(directory)
    body["wal"] = log_name
    crash_point("spann-checkpoint-before-manifest")
    write_manifest(directory, body)
    crash_point("spann-checkpoint-after-manifest")
    if wal is not None:
        wal.close()
    with layout.state_lock:
        postings.retire_unused()
    layout.slots.checkpointed()
    remove_leftovers(directory, _named(body))
    return fresh


def _named(body: dict[str, Any]) -> set[str]:
    names = {MANIFEST, VECTORS, str(body["wal"])}
    names |= {data_file_name(int(n)) for n in body["data_files"]}
    for key in ("ids", "table", "centroids", "radii", "strays", "codec"):
        if key in body:
            names.add(str(body[key]["name"]))
    return names


def load(directory: Path, manifest: dict[str, Any]) -> Layout:
    """Rebuild the in-RAM structures from a verified manifest and its blobs.

    Raises:
        BackendError: a file is missing, short or fails its checksum.
    """
    dim, metric = int(manifest["dim"]), str(manifest["metric"])
    params = SpannParams.from_dict(manifest["params"])
    state = None
    if "codec" in manifest:
        state = read_blob(directory, manifest["codec"], np.uint8).tobytes()
    layout = Layout(directory, dim, metric, params, Codec(params.codec, dim, metric, state))
    try:
        _fill(layout, directory, manifest)
    except BaseException:
        layout.close()
        raise
    remove_leftovers(directory, _named(manifest))
    return layout


def _fill(layout: Layout, directory: Path, manifest: dict[str, Any]) -> None:
    entries = read_blob(directory, manifest["ids"], ENTRY)
    slots = entries["slot"].astype(np.int64)
    if len(slots) and int(slots.max()) >= layout.vectors.rows:
        raise BackendError(f"SPANN vector file in {directory} is truncated; {REBUILD_HINT}")
    layout.ids = IdMap(entries)
    layout.slots = SlotAllocator(int(manifest["next_slot"]), slots)
    layout.dead = int(manifest.get("dead", 0))
    layout.garbage = int(manifest.get("garbage", 0))
    layout.laid_out = int(manifest.get("laid_out", 0))
    for number, end in manifest["data_files"].items():
        layout.postings.open_file(int(number), int(end))
    if not manifest["clustered"]:
        return
    table = read_blob(directory, manifest["table"], TABLE)
    centroids = read_blob(directory, manifest["centroids"], np.float32).reshape(-1, layout.dim)
    radii = read_blob(directory, manifest["radii"], np.float32)
    strays = read_blob(directory, manifest["strays"], STRAY_ENTRY)
    alive = table[table["alive"] == 1]
    postings = layout.postings
    if (alive["capacity"] != postings.capacity).any():
        raise BackendError(f"SPANN table in {directory} does not fit its params; {REBUILD_HINT}")
    extent = postings.meta_bytes + postings.capacity // BLOCK * postings.block_bytes
    for number in set(alive["file"].tolist()):
        if number not in layout.postings.files:
            raise BackendError(f"SPANN table in {directory} names a missing file; {REBUILD_HINT}")
        ends = alive["offset"][alive["file"] == number].astype(np.int64) + extent
        if int(ends.max()) > layout.postings.files[number].end:
            raise BackendError(f"SPANN data file {number} in {directory} is short; {REBUILD_HINT}")
    if len(centroids) != len(table) or len(radii) != len(table):
        raise BackendError(f"SPANN centroids in {directory} do not match the table; {REBUILD_HINT}")
    postings.load_table(table)
    layout.centroid_index = CentroidIndex(layout.dim, centroids, radii, postings.alive_ids())
    layout.strays = Strays(strays)
    layout.clustered = True


def describe(layout: Layout) -> dict[str, Any]:
    """Shape, RAM and disk figures for `stats()`."""
    with layout.state_lock:
        table = layout.postings.table
        alive = table[table["alive"] == 1]
        count = len(layout.ids)
        lengths = alive["length"].astype(np.int64)
        centroid_bytes = layout.centroid_index.vectors.nbytes
    apparent = allocated = 0
    for path in layout.directory.iterdir():
        if path.is_file():
            status = path.stat()
            apparent += status.st_size
            allocated += status.st_blocks * 512
    return {
        "count": count,
        "dim": layout.dim,
        "metric": layout.metric,
        "codec": layout.codec.kind,
        "layout": "clustered" if layout.clustered else "exact",
        "postings": len(alive),
        "records": int(lengths.sum()),
        "replication": round(float(lengths.sum()) / max(count, 1), 3),
        "subquantizers": layout.codec.subquantizers,
        "posting_length_mean": round(float(lengths.mean()), 1) if len(lengths) else 0.0,
        "posting_length_max": int(lengths.max()) if len(lengths) else 0,
        "stale": layout.dead,
        "strays": len(layout.strays),
        "superseded": layout.garbage,
        "centroid_bytes": centroid_bytes,
        "idmap_bytes": count * ENTRY.itemsize,
        "disk_bytes": allocated,
        "disk_apparent_bytes": apparent,
        "params": layout.params.to_dict(),
    }
