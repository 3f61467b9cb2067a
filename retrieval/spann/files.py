"""Checksummed files of a SPANN index: the manifest and the blobs it names.

The manifest is the commit point. Everything it names is written, fsynced and renamed into
place first; the manifest itself is swapped atomically (temp file, fsync, rename, fsync of
the directory). A crash at any point leaves either the old manifest with all of its files or
the new one with all of its files.
"""

from __future__ import annotations

import json
import os
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from memos.errors import BackendError

MANIFEST = "manifest.json"
FORMAT = "memos-spann-2"  # 2: fast-scan code blocks, balanced postings
REBUILD_HINT = "delete the index directory (a cube rebuilds it from SQL) or rebuild it"


def raw(array: npt.NDArray[Any]) -> memoryview:
    """The bytes of a C-contiguous array, without a copy."""
    return array.data.cast("B")


def crc32(data: bytes | memoryview | npt.NDArray[Any], start: int = 0) -> int:
    if isinstance(data, np.ndarray):
        data = raw(np.ascontiguousarray(data).reshape(-1))
    return zlib.crc32(data, start) & 0xFFFFFFFF


# One read: file descriptor, destination buffers (filled in order), file offset.
ReadRequest = tuple[int, list[memoryview], int]


def read_many(requests: list[ReadRequest]) -> bool:
    """Fill every request; return False if one came back short (a truncated file).

    Each read is first tried with RWF_NOWAIT, which succeeds only from the page cache; the
    rest are announced together with POSIX_FADV_WILLNEED, so the kernel fetches them in
    parallel, and only then read. A warm read costs one syscall, a cold batch one disk
    round trip rather than one per read.
    """
    missed = []
    for request in requests:
        fd, buffers, offset = request
        size = sum(len(b) for b in buffers)
        try:
            got = os.preadv(fd, buffers, offset, os.RWF_NOWAIT)
        except BlockingIOError:
            got = -1
        if got != size:
            missed.append((request, size))
    for (fd, _, offset), size in missed:
        os.posix_fadvise(fd, offset, size, os.POSIX_FADV_WILLNEED)
    return all(os.preadv(fd, buffers, offset) == size for (fd, buffers, offset), size in missed)


def fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes | memoryview) -> None:
    """Replace `path` with `data` so that a crash leaves the old or the new file, whole."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with temp.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    temp.replace(path)
    fsync_directory(path.parent)


def write_blob(directory: Path, name: str, array: npt.NDArray[Any]) -> dict[str, Any]:
    """Write an array's bytes under `name`; return the manifest entry that vouches for it."""
    view = raw(np.ascontiguousarray(array))
    atomic_write(directory / name, view)
    return {"name": name, "bytes": len(view), "crc": crc32(view)}


def read_blob(directory: Path, entry: dict[str, Any], dtype: npt.DTypeLike) -> npt.NDArray[Any]:
    """Read a blob named by the manifest, checking its length and checksum.

    Raises:
        BackendError: the file is missing, short, or fails its checksum.
    """
    path = directory / str(entry["name"])
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BackendError(
            f"SPANN index file {path} is unreadable ({exc}); {REBUILD_HINT}"
        ) from None
    if len(data) != int(entry["bytes"]) or crc32(data) != int(entry["crc"]):
        raise BackendError(f"SPANN index file {path} fails its checksum; {REBUILD_HINT}")
    return np.frombuffer(data, dtype=dtype).copy()


def _manifest_crc(body: dict[str, Any]) -> int:
    return crc32(json.dumps(body, sort_keys=True).encode())


def write_manifest(directory: Path, body: dict[str, Any]) -> None:
    document = {**body, "format": FORMAT}
    document["checksum"] = _manifest_crc(document)
    atomic_write(directory / MANIFEST, json.dumps(document, indent=1, sort_keys=True).encode())


def read_manifest(directory: Path) -> dict[str, Any]:
    """The manifest, verified.

    Raises:
        BackendError: it is unreadable, of an unknown format, or fails its checksum.
    """
    path = directory / MANIFEST
    try:
        document = json.loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise BackendError(f"SPANN manifest {path} is unreadable ({exc}); {REBUILD_HINT}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise BackendError(f"{path} is not a {FORMAT} manifest; {REBUILD_HINT}")
    claimed = document.pop("checksum", None)
    if claimed != _manifest_crc(document):
        raise BackendError(f"SPANN manifest {path} fails its checksum; {REBUILD_HINT}")
    return document
