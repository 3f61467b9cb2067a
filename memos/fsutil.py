"""Durable file writes: the one place memos replaces a file atomically.

A write goes to a unique temp name in the target's directory, is flushed and fsynced,
renamed over the target, and the directory entry is fsynced too, so a crash at any point
leaves either the old file or the new one, whole. Every writer of files that must survive
a crash (index snapshots, manifests, exports, artifacts, model caches) uses this module.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import IO

# Temp files start with this, so folders can tell leftovers of a crash from real files.
TEMP_PREFIX = ".tmp-"

# Homes and databases hold people's memories: owner-only by default.
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def temp_path(target: Path) -> Path:
    """A fresh temp name next to `target` (same filesystem, so the rename is atomic)."""
    return target.with_name(f"{TEMP_PREFIX}{target.name}-{os.getpid()}-{secrets.token_hex(4)}")


def fsync_directory(directory: Path) -> None:
    """Make renames in `directory` durable; a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems refuse fsync on directories; the rename itself still holds
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_file(target: Path, mode: str = "wb", *, durable: bool = True) -> Iterator[IO[bytes]]:
    """Open a temp file that replaces `target` when the block ends without an exception.

    With `durable=False` the data is not fsynced (a cache that is cheap to recompute);
    the replacement is still atomic.
    """
    target = Path(target)
    temp = temp_path(target)
    try:
        with temp.open(mode) as handle:
            yield handle
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        temp.replace(target)
        if durable:
            fsync_directory(target.parent)
    finally:
        temp.unlink(missing_ok=True)


def atomic_write(target: Path, data: bytes | memoryview | str, *, durable: bool = True) -> None:
    """Replace `target` with `data` (text is written as UTF-8)."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    with atomic_file(target, durable=durable) as handle:
        handle.write(payload)


def private_directory(path: Path) -> Path:
    """Create `path` (and parents) if needed; a folder memos creates is owner-only."""
    path = Path(path)
    if not path.exists():
        path.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(OSError):
            path.chmod(PRIVATE_DIR_MODE)
    return path


def restrict_file(path: Path) -> None:
    """Make an existing file owner-only (read and write), unless that is not possible."""
    with contextlib.suppress(OSError):
        if stat.S_IMODE(path.stat().st_mode) != PRIVATE_FILE_MODE:
            path.chmod(PRIVATE_FILE_MODE)
