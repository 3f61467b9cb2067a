"""Settings to an LLM client: `memos.open()` calls this on first use of `mos.llm`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from memos.config import Settings
from memos.errors import ConfigError
from memos.protocols import LLMClient

if TYPE_CHECKING:
    from memos.runtime.model import Runtime

CHOICES = ("openai", "local", "none")


def llm_choice(settings: Settings) -> str:
    """'openai', 'local' or 'none': MEMOS_LLM, else 'openai' when a base URL is set.

    Raises:
        ConfigError: MEMOS_LLM names something else.
    """
    chosen = (settings.llm or ("openai" if settings.llm_base_url else "none")).strip().lower()
    if chosen not in CHOICES:
        raise ConfigError(f"MEMOS_LLM {settings.llm!r} is not one of: {', '.join(CHOICES)}")
    return chosen


def make_llm(settings: Settings, runtime: Callable[[], Runtime], home: Path) -> LLMClient | None:
    """The configured client, or None (agents then take their offline paths). `runtime`
    gives the shared runtime model, used by 'local' unless MEMOS_LLM_MODEL names another
    model folder. Nothing connects or loads here.

    Raises:
        ConfigError: an unknown choice, or 'openai' without a base URL or model.
    """
    chosen = llm_choice(settings)
    if chosen == "none":
        return None
    if chosen == "openai":
        from memos.agents.llm.openai import OpenAIClient

        if not settings.llm_base_url:
            raise ConfigError(
                "MEMOS_LLM=openai needs MEMOS_LLM_BASE_URL, the server's OpenAI-compatible "
                "root (e.g. https://api.openai.com/v1 or http://localhost:8000/v1)"
            )
        key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
        return OpenAIClient(
            settings.llm_base_url,
            model=settings.llm_model or "",
            api_key=key,
            timeout_s=settings.llm_timeout_s,
            max_retries=settings.llm_max_retries,
        )
    from memos.agents.llm.local import LocalClient

    if settings.llm_model:
        from memos.runtime.model import Runtime

        # A separate model for the agents: the same loader, another folder.
        own = settings.model_copy(update={"runtime_model": settings.llm_model})
        return LocalClient(Runtime.from_settings(own, home))
    return LocalClient(runtime())
