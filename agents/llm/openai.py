"""`OpenAIClient`: any OpenAI-compatible chat-completions server over HTTP.

Hosted APIs, vLLM, llama.cpp's server and Ollama all speak `POST {base}/chat/completions`.
They differ in structured output: some take `response_format: json_schema`, some only
`json_object`, some neither. The client starts with the strictest form and steps down for
the rest of its life when a server rejects it; callers validate answers anyway.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

import httpx

from memos.errors import BackendError, ConfigError
from memos.protocols import ChatMessage, Completion

# Worth another try: rate limits, overload and gateway hiccups.
RETRY_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
_FORMATS = ("json_schema", "json_object", "off")
_MAX_RETRY_AFTER_S = 30.0


def endpoint(base_url: str) -> str:
    """The chat-completions URL for a base URL such as `http://localhost:8000/v1`.

    Raises:
        ConfigError: not an http(s) URL.
    """
    url = base_url.strip().rstrip("/")
    try:
        host = httpx.URL(url).host if url.startswith(("http://", "https://")) else ""
    except httpx.InvalidURL:
        host = ""
    if not host:
        raise ConfigError(
            f"LLM base URL {base_url!r} is not an http(s) URL; set MEMOS_LLM_BASE_URL to the "
            "server's OpenAI-compatible root, e.g. http://localhost:11434/v1"
        )
    return url if url.endswith("/chat/completions") else f"{url}/chat/completions"


class OpenAIClient:
    """Chat completions from an OpenAI-compatible server; no network until `complete`."""

    def __init__(
        self,
        base_url: str,
        *,
        model: str,
        api_key: str | None = None,
        timeout_s: float = 60.0,
        max_retries: int = 2,
        backoff_s: float = 0.5,
    ) -> None:
        if not model or not model.strip():
            raise ConfigError(
                "an OpenAI-compatible LLM needs a model name; set MEMOS_LLM_MODEL (e.g. "
                "gpt-4o-mini, or the name your vLLM / Ollama server serves)"
            )
        if max_retries < 0 or timeout_s <= 0 or backoff_s < 0:
            raise ConfigError("LLM timeout must be > 0, retries and backoff >= 0")
        self.url = endpoint(base_url)
        self._model = model.strip()
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.response_format = _FORMATS[0]
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        # Connecting should fail fast; reading waits for a whole generation.
        timeout = httpx.Timeout(timeout_s, connect=min(timeout_s, 10.0))
        self._http = httpx.Client(timeout=timeout, headers=headers)

    def __repr__(self) -> str:
        return f"OpenAIClient({self.url!r}, model={self._model!r})"

    @property
    def model(self) -> str:
        return self._model

    def close(self) -> None:
        self._http.close()

    def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        json_schema: dict[str, Any] | None = None,
        max_tokens: int = 512,
        temperature: float = 0.0,
    ) -> Completion:
        """One chat completion.

        Raises:
            ConfigError: the server refused the API key, or the URL or model is wrong.
            BackendError: the server is unreachable, timed out or kept failing after the
                retries, or answered with something that is not a chat completion.
        """
        body: dict[str, Any] = {
            "model": self._model,
            "messages": [{"role": m["role"], "content": m["content"]} for m in messages],
            "max_tokens": max_tokens,
            "temperature": temperature,
        }
        while True:
            form = self._format(json_schema)
            response = self._post(body if form is None else {**body, "response_format": form})
            if response.status_code in (400, 422) and form is not None:
                # This server does not take that response_format; step down and remember.
                self.response_format = _FORMATS[_FORMATS.index(self.response_format) + 1]
                continue
            if response.status_code >= 400:
                raise BackendError(
                    f"the LLM server at {self.url} rejected the request (HTTP "
                    f"{response.status_code}: {_detail(response)}); check MEMOS_LLM_MODEL and "
                    "the prompt size"
                )
            return self._completion(response)

    def _format(self, json_schema: dict[str, Any] | None) -> dict[str, Any] | None:
        if json_schema is None or self.response_format == "off":
            return None
        if self.response_format == "json_object":
            return {"type": "json_object"}
        name = str(json_schema.get("title") or "answer")[:64]
        return {"type": "json_schema", "json_schema": {"name": name, "schema": json_schema}}

    def _post(self, body: dict[str, Any]) -> httpx.Response:
        problem = "no attempt made"
        asked: float | None = None
        for attempt in range(self.max_retries + 1):
            if attempt:
                backoff = self.backoff_s * 2 ** (attempt - 1)
                time.sleep(min(asked, _MAX_RETRY_AFTER_S) if asked is not None else backoff)
            try:
                response = self._http.post(self.url, json=body)
            except httpx.TimeoutException:
                problem, asked = f"no answer within {self.timeout_s:g}s", None
                continue
            except httpx.TransportError as error:
                problem, asked = f"cannot connect: {error or type(error).__name__}", None
                continue
            except httpx.RequestError as error:  # an undecodable body, a redirect loop
                problem, asked = f"bad answer: {error or type(error).__name__}", None
                continue
            if response.status_code in (401, 403):
                raise ConfigError(
                    f"the LLM server at {self.url} refused the API key (HTTP "
                    f"{response.status_code}: {_detail(response)}); set MEMOS_LLM_API_KEY to a "
                    "valid key"
                )
            if response.status_code == 404:
                raise ConfigError(
                    f"the LLM server at {self.url} answered 404 ({_detail(response)}); check "
                    "MEMOS_LLM_BASE_URL (most servers want the root ending in /v1) and "
                    f"MEMOS_LLM_MODEL ({self._model!r})"
                )
            if response.status_code not in RETRY_STATUSES:
                return response
            problem = f"HTTP {response.status_code}: {_detail(response)}"
            asked = _retry_after(response)
        raise BackendError(
            f"the LLM server at {self.url} failed {self.max_retries + 1} time(s), last: "
            f"{problem}; check that it is running and that MEMOS_LLM_BASE_URL is right"
        )

    def _completion(self, response: httpx.Response) -> Completion:
        try:
            data = response.json()
            message = data["choices"][0]["message"]
            text = message.get("content") or ""
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            raise BackendError(
                f"the LLM server at {self.url} answered with no chat completion "
                f"({response.text[:200]!r}); is it an OpenAI-compatible endpoint?"
            ) from None
        usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
        return Completion(
            text=str(text),
            model=str(data.get("model") or self._model),
            prompt_tokens=_count(usage.get("prompt_tokens")),
            completion_tokens=_count(usage.get("completion_tokens")),
        )


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds a 429 / 503 asks the client to wait (the numeric form of Retry-After)."""
    try:
        seconds = float(response.headers.get("retry-after", ""))
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def _detail(response: httpx.Response) -> str:
    """The server's own error message, short."""
    try:
        data = response.json()
    except ValueError:
        return response.text.strip()[:200] or response.reason_phrase
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict) and error.get("message"):
        return str(error["message"])[:200]
    if isinstance(error, str):
        return error[:200]
    return str(data)[:200]
