"""Content-addressed artifact files (KV caches, LoRA adapters).

An artifact is named by the sha256 of its bytes and stored at `<root>/<ab>/<digest>`. A
write goes to a unique temp name in the same directory, is fsynced and renamed into place,
so readers see either nothing or the whole file; a read hashes the bytes again, so a torn,
truncated or tampered file is reported instead of used.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from pathlib import Path

from memos.errors import BackendError, InvalidInputError, NotFoundError
from memos.fsutil import atomic_write

_DIGEST = re.compile(r"^[0-9a-f]{64}$")


def digest_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class FileArtifactStore:
    """An `ArtifactStore` in a directory of the memos home."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def __repr__(self) -> str:
        return f"FileArtifactStore({str(self.root)!r})"

    def path(self, digest: str) -> Path:
        if not isinstance(digest, str) or not _DIGEST.match(digest):
            raise InvalidInputError(f"{digest!r} is not an artifact digest (64 hex digits)")
        return self.root / digest[:2] / digest

    def put(self, data: bytes) -> str:
        digest = digest_of(data)
        final = self.path(digest)
        if final.exists() and final.stat().st_size == len(data):
            return digest  # same name, same size: the same bytes (checked again on read)
        final.parent.mkdir(parents=True, exist_ok=True)
        try:
            atomic_write(final, data)
        except OSError as exc:
            raise BackendError(
                f"could not write artifact {digest[:12]} under {self.root}: {exc}; "
                "check free space and permissions of the memos home"
            ) from None
        return digest

    def get(self, digest: str) -> bytes:
        path = self.path(digest)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise NotFoundError(f"artifact {digest[:12]} is not in {self.root}") from None
        except OSError as exc:
            raise BackendError(f"could not read artifact {digest[:12]}: {exc}") from None
        if digest_of(data) != digest:
            raise BackendError(
                f"artifact {digest[:12]} at {path} is corrupt (checksum mismatch); "
                "delete it and rebuild the item that uses it (cube.rebuild(id))"
            )
        return data

    def contains(self, digest: str) -> bool:
        return self.path(digest).is_file()

    def delete(self, digest: str) -> bool:
        try:
            self.path(digest).unlink()
        except FileNotFoundError:
            return False
        return True

    def sizes(self) -> dict[str, int]:
        found: dict[str, int] = {}
        if not self.root.is_dir():
            return found
        for path in self.root.glob("??/*"):
            if _DIGEST.match(path.name):
                try:
                    found[path.name] = path.stat().st_size
                except FileNotFoundError:  # deleted by another process meanwhile
                    continue
        return found

    def touch(self, digest: str) -> None:
        """Mark an artifact as just used; the disk tier evicts the least recently used."""
        with contextlib.suppress(FileNotFoundError):
            os.utime(self.path(digest))

    def last_used(self, digest: str) -> float:
        try:
            return self.path(digest).stat().st_mtime
        except FileNotFoundError:
            return 0.0
