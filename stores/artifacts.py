"""Content-addressed artifact files (KV caches, LoRA adapters) and the item rows behind them.

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
import secrets
from pathlib import Path

from sqlalchemy import Engine, select

from memos.errors import BackendError, InvalidInputError, NotFoundError
from memos.models import Kind, MemoryItem, Status
from memos.stores.engine import transaction
from memos.stores.rows import item_from_row
from memos.stores.schema import items as items_table

_DIGEST = re.compile(r"^[0-9a-f]{64}$")
_TEMP_PREFIX = ".tmp-"


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
        temp = final.parent / f"{_TEMP_PREFIX}{digest[:16]}-{secrets.token_hex(4)}"
        try:
            with temp.open("wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            temp.replace(final)
            _fsync_dir(final.parent)
        except OSError as exc:
            temp.unlink(missing_ok=True)
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


def _fsync_dir(directory: Path) -> None:
    # The rename is durable only once the directory entry is on disk.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


DERIVED_KINDS = (Kind.ACTIVATION.value, Kind.PARAMETRIC.value)


def derived_items(engine: Engine, cube_id: int, source_id: int) -> list[MemoryItem]:
    """Activation and parametric items of a cube built from `source_id`, whatever their
    owner or visibility: forgetting a source must reach every copy of its text."""
    with transaction(engine, write=False) as conn:
        rows = conn.execute(
            select(items_table).where(
                items_table.c.cube_id == cube_id,
                items_table.c.kind.in_(DERIVED_KINDS),
                items_table.c.artifact.is_not(None),
            )
        ).mappings()
        found = [item_from_row(r) for r in rows]
    return [i for i in found if any(int(d.get("id", -1)) == source_id for d in i.derived_from)]


def artifact_in_use(engine: Engine, digest: str, *, excluding: int) -> bool:
    """Whether a live, fresh item other than `excluding` still points at an artifact (two
    items built from identical text share one file)."""
    with transaction(engine, write=False) as conn:
        found = conn.execute(
            select(items_table.c.id)
            .where(
                items_table.c.artifact == digest,
                items_table.c.id != excluding,
                items_table.c.status != Status.DELETED.value,
                items_table.c.stale.is_(False),
            )
            .limit(1)
        ).first()
    return found is not None


def artifact_users(engine: Engine, digests: list[str]) -> dict[str, list[int]]:
    """Ids of the live items that point at each of `digests`."""
    if not digests:
        return {}
    users: dict[str, list[int]] = {d: [] for d in digests}
    with transaction(engine, write=False) as conn:
        rows = conn.execute(
            select(items_table.c.id, items_table.c.artifact).where(
                items_table.c.artifact.in_(digests),
                items_table.c.status != Status.DELETED.value,
            )
        )
        for item_id, digest in rows:
            users[str(digest)].append(int(item_id))
    return users


def cube_artifacts(engine: Engine, cube_id: int) -> list[tuple[Kind, str]]:
    """The kind and digest of every artifact the cube's derived items point at."""
    with transaction(engine, write=False) as conn:
        rows = conn.execute(
            select(items_table.c.kind, items_table.c.artifact).where(
                items_table.c.cube_id == cube_id,
                items_table.c.kind.in_(DERIVED_KINDS),
                items_table.c.artifact.is_not(None),
            )
        )
        return sorted({(Kind(kind), str(digest)) for kind, digest in rows})
