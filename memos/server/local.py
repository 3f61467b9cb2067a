"""`<home>/serve.json`: how the CLI of this machine finds a running `memos serve`.

The file (owner-only, 0600) names the server's URL, its process id, the user and database
it serves, and a token made at each start that authenticates as that user from loopback
only. `memos add` and `memos search` use the server when the file names a live one that
serves the same database as the same user with the same embedder; results are the same
either way, the served path only skips loading the embedder. Nothing here imports
FastAPI: the CLI reads this on every command.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

from memos.fsutil import PRIVATE_FILE_MODE, fsync_directory, temp_path
from memos.timeutil import isoformat, utcnow

SERVE_FILE = "serve.json"


@dataclass(frozen=True, slots=True)
class ServeInfo:
    """What a running server recorded about itself."""

    url: str
    pid: int
    token: str
    user: str
    embedder: str
    database: str | None
    started_at: str


def new_token() -> str:
    return secrets.token_urlsafe(32)


def write_serve_file(home: Path, info: ServeInfo) -> Path:
    """Write `serve.json` atomically, owner-only from its first byte."""
    target = home / SERVE_FILE
    temp = temp_path(target)
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(asdict(info), handle, indent=2)
            handle.flush()
            os.fsync(handle.fileno())
        temp.replace(target)
        fsync_directory(home)
    finally:
        temp.unlink(missing_ok=True)
    return target


def remove_serve_file(home: Path, pid: int) -> None:
    """Remove `serve.json` if it still names process `pid` (a later server keeps its own)."""
    found = read_serve_file(home)
    if found is not None and found.pid == pid:
        with contextlib.suppress(OSError):
            (home / SERVE_FILE).unlink()


def read_serve_file(home: Path) -> ServeInfo | None:
    """The recorded server, or None when there is no readable, well-formed file."""
    try:
        data = json.loads((home / SERVE_FILE).read_text(encoding="utf-8"))
        return ServeInfo(**data)
    except (OSError, ValueError, TypeError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False  # someone else's process reuses the id: not our server
    return True


def _loopback_url(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    return host in ("127.0.0.1", "localhost", "::1") or host.startswith("127.")


def live_server(home: Path, *, user: str, embedder: str, database: str | None) -> ServeInfo | None:
    """The server recorded in `home` if it is alive, on loopback, and serves this
    database as this user with this embedder; else None (use memory in process)."""
    found = read_serve_file(home)
    if found is None or not _alive(found.pid) or not _loopback_url(found.url):
        return None
    if (found.user, found.embedder, found.database) != (user, embedder, database):
        return None
    return found


def started_now() -> str:
    return str(isoformat(utcnow()))
