"""LLM clients behind the `LLMClient` protocol (`memos.protocols`).

`OpenAIClient` talks to any OpenAI-compatible chat-completions server over HTTP (hosted
APIs, vLLM, llama.cpp server, Ollama); `LocalClient` runs a transformers causal LM through
memos' runtime (SmolLM2-135M-Instruct by default); `memos.testing.ScriptedLLM` answers from
a script in tests. `MeteredLLM` wraps any of them to count calls and tokens. Structured
answers go through `ask` (lenient JSON, pydantic validation, one retry, then None so the
caller's offline path takes over).
"""

from typing import TYPE_CHECKING, Any

from memos.agents.llm.base import MeteredLLM, Usage
from memos.agents.structured import Attempt, UnparsableError, ask, parse_lenient

if TYPE_CHECKING:
    from memos.agents.llm.local import LocalClient
    from memos.agents.llm.openai import OpenAIClient


def __getattr__(name: str) -> Any:
    # The clients import httpx / torch helpers; `memos stats` and offline ingests need
    # neither, so they load on first mention.
    if name == "OpenAIClient":
        from memos.agents.llm.openai import OpenAIClient

        return OpenAIClient
    if name == "LocalClient":
        from memos.agents.llm.local import LocalClient

        return LocalClient
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Attempt",
    "LocalClient",
    "MeteredLLM",
    "OpenAIClient",
    "UnparsableError",
    "Usage",
    "ask",
    "parse_lenient",
]
