"""memos: a memory operating system for LLM agents."""

from pathlib import Path as _Path

# In a source checkout the architecture folders (stores/, retrieval/, agents/, cli/) sit
# beside memos/ and are mapped into this namespace by pyproject's package-dir. Python run
# from the checkout root finds this folder before the installed mapping, so extend the
# search path to the checkout root; an installed wheel has the folders inside memos/.
_checkout = _Path(__file__).resolve().parent.parent
if not (_Path(__file__).parent / "stores").is_dir() and (_checkout / "stores").is_dir():
    __path__.append(str(_checkout))

from memos.cube import MemCube  # noqa: E402
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
from memos.mos import MemOS, open  # noqa: E402

__version__ = "0.1.0"

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
    "open",
]
