"""memos: a memory operating system for LLM agents.

`memos.open(home)` opens memory (SQLite under a home, or PostgreSQL by `url=`). The
public names below load on first use, so `import memos` (and every CLI command that
needs no model) starts fast.
"""

from __future__ import annotations

import importlib
from pathlib import Path as _Path
from typing import TYPE_CHECKING, Any

# In a source checkout the architecture folders (stores/, retrieval/, agents/, cli/) sit
# beside memos/ and are mapped into this namespace by pyproject's package-dir. Python run
# from the checkout root finds this folder before the installed mapping, so extend the
# search path to the checkout root; an installed wheel has the folders inside memos/.
_checkout = _Path(__file__).resolve().parent.parent
if not (_Path(__file__).parent / "stores").is_dir() and (_checkout / "stores").is_dir():
    __path__.append(str(_checkout))

from memos.errors import (  # noqa: E402
    BackendError,
    ConfigError,
    ConflictError,
    IndexMismatchError,
    InvalidInputError,
    InvalidTransitionError,
    MemosError,
    ModelMismatchError,
    NotFoundError,
    PermissionDeniedError,
    StaleMemoryError,
)
from memos.models import (  # noqa: E402
    CubeInfo,
    Hit,
    Kind,
    Link,
    MemoryItem,
    Permission,
    Status,
    Tier,
    Version,
    Visibility,
)

if TYPE_CHECKING:
    from memos.client import connect, connect_async
    from memos.cube import MemCube
    from memos.mos import MemOS, open

__version__ = "0.2.0"

# name -> module that defines it; imported on first attribute access (PEP 562).
_LAZY = {
    "MemCube": "memos.cube",
    "MemOS": "memos.mos",
    "open": "memos.mos",
    "connect": "memos.client",
    "connect_async": "memos.client",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'memos' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "BackendError",
    "ConfigError",
    "ConflictError",
    "CubeInfo",
    "Hit",
    "IndexMismatchError",
    "InvalidInputError",
    "InvalidTransitionError",
    "Kind",
    "Link",
    "MemCube",
    "MemOS",
    "MemoryItem",
    "MemosError",
    "ModelMismatchError",
    "NotFoundError",
    "PermissionDeniedError",
    "Permission",
    "StaleMemoryError",
    "Status",
    "Tier",
    "Version",
    "Visibility",
    "connect",
    "connect_async",
    "open",
]
