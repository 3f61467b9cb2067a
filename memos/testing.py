"""Deterministic fakes that are real implementations, for tests and examples.

`HashEmbedder` (from `memos.retrieval.embedders`) embeds text by feature hashing of words
and character trigrams: no model, no randomness, and texts that share words really do
score closer. `FakeClock` lets tests
move time (TTL, validity) without sleeping.
`tiny_runtime()` is a real (random) Llama-architecture transformer with a byte-level BPE
tokenizer built in code, for fast activation and parametric memory tests.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from memos.protocols import ChatMessage, Completion
from memos.retrieval.embedders import HashEmbedder  # noqa: F401  (re-exported for tests)

if TYPE_CHECKING:
    from memos.runtime.model import Runtime


class FakeClock:
    """A clock that moves only when told, plus one microsecond per reading so that
    successive writes stay strictly ordered."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2025, 1, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(microseconds=1)
        return self.now

    def advance(self, **delta: float) -> datetime:
        """Move forward, e.g. `clock.advance(days=2)`."""
        self.now += timedelta(**delta)
        return self.now


# -- a tiny random transformer for activation and parametric memory tests ---------------

_TINY_CORPUS = (
    "Alice lives in Lisbon and works at Acme. Bob's birthday is March 3. Carol owns a red "
    "bicycle. The launch moved to March 10. What do you remember about the offsite? Use "
    "these memories when you answer. Question: where does Dan live? Answer: in Porto. "
    "The quick brown fox jumps over the lazy dog. Erin was born in Oslo in 1990. "
    "Frank prefers green tea; Grace is allergic to peanuts. Heidi's sister is named Mira. "
    "Complete this memory: system user assistant"
)
TINY_CHAT_TEMPLATE = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + "
    "message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


def tiny_tokenizer(*, vocab_size: int = 512) -> Any:
    """A byte-level BPE tokenizer trained in code on a fixed corpus (offline, ~10 ms), with
    a ChatML chat template like SmolLM2's. Any text encodes (bytes are the alphabet)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    core.train_from_iterator([_TINY_CORPUS] * 4, trainer)
    tokenizer = PreTrainedTokenizerFast(  # type: ignore[no-untyped-call]
        tokenizer_object=core, eos_token="<|im_end|>", pad_token="<|endoftext|>"
    )
    tokenizer.chat_template = TINY_CHAT_TEMPLATE
    return tokenizer


def tiny_model(tokenizer: Any, *, seed: int = 0, layers: int = 2, hidden: int = 64) -> Any:
    """A random Llama-architecture causal LM (about 0.1M parameters). Weights are drawn
    wide (std 0.2) so greedy choices are decisive rather than near-ties."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        intermediate_size=hidden * 2,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        initializer_range=0.2,
        tie_word_embeddings=False,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=None,
    )
    torch.manual_seed(seed)
    model: Any = LlamaForCausalLM(config)
    return model.eval()


def tiny_runtime(*, seed: int = 0, layers: int = 2) -> Runtime:
    """A loaded `Runtime` over a fresh tiny model; different seeds, different identities."""
    from memos.runtime.model import Runtime

    tokenizer = tiny_tokenizer()
    model = tiny_model(tokenizer, seed=seed, layers=layers)
    return Runtime.from_model(model, tokenizer, model_id=f"memos/tiny-llama-{layers}l-s{seed}")


def save_tiny_model(folder: Path, *, seed: int = 0) -> Path:
    """Write a tiny model folder (config, safetensors, tokenizer) for MEMOS_RUNTIME_MODEL."""
    tokenizer = tiny_tokenizer()
    tiny_model(tokenizer, seed=seed).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@contextmanager
def single_thread() -> Iterator[None]:
    """Run torch on one thread for a while: tiny models are dominated by threading overhead,
    and on a shared machine a second thread mostly waits for a busy core."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class ScriptedLLM:
    """An LLM client that answers from a script: queued answers first (`enqueue`), else
    the first rule whose trigger text occurs in the last user message, else a default.
    Every call is recorded in `calls` for assertions; token counts are word counts."""

    def __init__(self, default: str = "", *, model: str = "scripted") -> None:
        self.default = default
        self._model = model
        self._queue: list[str | BaseException] = []
        self._rules: list[tuple[str, str]] = []
        self.calls: list[dict[str, Any]] = []

    @property
    def model(self) -> str:
        return self._model

    def enqueue(self, *answers: str | BaseException) -> ScriptedLLM:
        """Answer the next calls with these, in order; an exception is raised instead."""
        self._queue.extend(answers)
        return self

    def when(self, trigger: str, answer: str) -> ScriptedLLM:
        """Answer `answer` whenever the last user message contains `trigger`."""
        self._rules.append((trigger, answer))
        return self

    def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        json_schema: dict[str, Any] | None = None,
        max_tokens: int = 512,
        temperature: float = 0.0,
    ) -> Completion:
        self.calls.append({"messages": list(messages), "json_schema": json_schema})
        last = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
        if self._queue:
            answer = self._queue.pop(0)
            if isinstance(answer, BaseException):
                raise answer
        else:
            answer = next((a for t, a in self._rules if t in last), self.default)
        prompt = sum(len(m["content"].split()) for m in messages)
        return Completion(answer, self._model, prompt, len(answer.split()))
