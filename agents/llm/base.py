"""What every client shares: usage counts and a metering wrapper."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from memos.models import Record
from memos.protocols import ChatMessage, Completion, LLMClient


@dataclass(frozen=True, slots=True)
class Usage(Record):
    """LLM calls and tokens spent (a failed call counts as a call and a failure)."""

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    failures: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.calls + other.calls,
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
            self.failures + other.failures,
        )


class MeteredLLM:
    """An `LLMClient` that counts what the client it wraps spends, and remembers the last
    error it raised (callers that fall back on failure still want to say why)."""

    def __init__(self, inner: LLMClient) -> None:
        self.inner = inner
        self.usage = Usage()
        self.last_error: Exception | None = None

    @property
    def model(self) -> str:
        return self.inner.model

    def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        json_schema: dict[str, Any] | None = None,
        max_tokens: int = 512,
        temperature: float = 0.0,
    ) -> Completion:
        try:
            answer = self.inner.complete(
                messages, json_schema=json_schema, max_tokens=max_tokens, temperature=temperature
            )
        except Exception as error:
            self.usage += Usage(calls=1, failures=1)
            self.last_error = error
            raise
        self.last_error = None
        self.usage += Usage(1, answer.prompt_tokens, answer.completion_tokens)
        return answer
