"""The runtime model: prefill a prefix into a KV cache, greedy generation, perplexity."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from memos.config import Settings
from memos.errors import InvalidInputError
from memos.progress import status
from memos.runtime.identity import ModelIdentity
from memos.runtime.loader import LoadedModel, identity_of, load_folder, model_folder, prepare
from memos.runtime.loader import resolve_device as _resolve_device
from memos.runtime.prompts import Prompter

if TYPE_CHECKING:
    from transformers import DynamicCache

KVLayers = tuple[tuple[torch.Tensor, torch.Tensor], ...]
_SCORE_BATCH = 8


class Runtime:
    """A causal language model with its tokenizer and identity, loaded on first use.

    One lock serialises use of the model: generation, scoring and adapter changes from
    several threads take turns instead of interleaving on shared module state.
    """

    def __init__(self, load: Callable[[], LoadedModel], *, name: str) -> None:
        self._load = load
        self.name = name
        self._loaded: LoadedModel | None = None
        self._prompter: Prompter | None = None
        self.lock = threading.RLock()

    def __repr__(self) -> str:
        state = self._loaded.identity.short() if self._loaded else "not loaded"
        return f"Runtime({self.name!r}, {state})"

    @classmethod
    def from_model(cls, model: Any, tokenizer: Any, *, model_id: str) -> Runtime:
        """Wrap a model already in memory (tests, custom models); hashes its weights now."""
        model = prepare(model, str(_device_of(model)))
        ready = LoadedModel(model, tokenizer, identity_of(model, tokenizer, model_id=model_id))
        runtime = cls(lambda: ready, name=model_id)
        runtime._loaded = ready
        return runtime

    @classmethod
    def from_settings(cls, settings: Settings, home: Path) -> Runtime:
        """The runtime MEMOS_RUNTIME_MODEL names; nothing loads until first use."""
        models_dir = settings.resolved_models_dir()

        def load() -> LoadedModel:
            device = _resolve_device(settings.runtime_device)
            folder, model_id = model_folder(settings.runtime_model, models_dir)
            with status(f"loading runtime model {model_id}"):
                return load_folder(
                    folder,
                    model_id=model_id,
                    dtype=settings.runtime_dtype,
                    device=device,
                    models_dir=models_dir,
                )

        return cls(load, name=settings.runtime_model)

    # -- parts --------------------------------------------------------------------------

    @property
    def loaded(self) -> bool:
        return self._loaded is not None

    def _ready(self) -> LoadedModel:
        if self._loaded is None:
            with self.lock:
                if self._loaded is None:
                    self._loaded = self._load()
        return self._loaded

    @property
    def model(self) -> Any:
        return self._ready().model

    @property
    def tokenizer(self) -> Any:
        return self._ready().tokenizer

    @property
    def identity(self) -> ModelIdentity:
        return self._ready().identity

    @property
    def prompter(self) -> Prompter:
        if self._prompter is None:
            self._prompter = Prompter(self.tokenizer)
        return self._prompter

    @property
    def device(self) -> torch.device:
        return _device_of(self.model)

    @property
    def dtype(self) -> torch.dtype:
        return next(iter(self.model.parameters())).dtype  # type: ignore[no-any-return]

    @property
    def max_positions(self) -> int | None:
        value = getattr(self.model.config, "max_position_embeddings", None)
        return int(value) if value else None

    def decode(self, ids: Sequence[int]) -> str:
        return str(self.tokenizer.decode(list(ids), skip_special_tokens=True))

    # -- work ---------------------------------------------------------------------------

    def _cache(self, layers: KVLayers | None) -> DynamicCache:
        from transformers import DynamicCache

        if not layers:
            return DynamicCache(config=self.model.config)
        # A clone per use: generation appends to the cache, and the stored one must not move.
        return DynamicCache(
            ddp_cache_data=[(k.clone(), v.clone()) for k, v in layers], config=self.model.config
        )

    def _check_length(self, total: int) -> None:
        limit = self.max_positions
        if limit is not None and total > limit:
            raise InvalidInputError(
                f"{total} tokens exceed the model's context of {limit}; use fewer or shorter "
                "memories, a shorter prompt or fewer new tokens"
            )

    def prefill(self, ids: Sequence[int]) -> KVLayers:
        """The keys and values of every layer after reading `ids` (on the model's device)."""
        if not ids:
            raise InvalidInputError("a KV cache needs at least one prefix token")
        self._check_length(len(ids))
        with self.lock, torch.no_grad():
            cache = self._cache(None)
            tokens = torch.tensor([list(ids)], dtype=torch.long, device=self.device)
            self.model(input_ids=tokens, cache=cache, use_cache=True, logits_to_keep=1)
            layers: list[Any] = list(cache.layers)
            return tuple((layer.keys, layer.values) for layer in layers)

    def generate(
        self,
        ids: Sequence[int],
        *,
        past: KVLayers | None = None,
        max_new_tokens: int = 32,
        started: float | None = None,
    ) -> tuple[list[int], float]:
        """Greedy continuation of `ids` (after the cached tokens of `past`, if any).

        Returns the new tokens (stopping at end-of-sequence) and the time to the first one,
        counted from `started` (default: now).
        """
        begin = time.perf_counter() if started is None else started
        if not ids:
            raise InvalidInputError("generation needs at least one prompt token")
        cached = int(past[0][0].shape[-2]) if past else 0
        self._check_length(cached + len(ids) + max_new_tokens)
        stops = self.prompter.stop_ids(self.model.config)
        out: list[int] = []
        first = 0.0
        with self.lock, torch.no_grad():
            cache = self._cache(past)
            step = torch.tensor([list(ids)], dtype=torch.long, device=self.device)
            for position in range(max_new_tokens):
                logits = self.model(
                    input_ids=step, cache=cache, use_cache=True, logits_to_keep=1
                ).logits
                token = int(logits[0, -1].argmax())
                if position == 0:
                    first = time.perf_counter() - begin
                if token in stops:
                    break
                out.append(token)
                step = torch.tensor([[token]], dtype=torch.long, device=self.device)
        return out, first

    def score(self, pairs: Sequence[tuple[Sequence[int], Sequence[int]]]) -> tuple[float, int]:
        """Summed negative log-likelihood of each target given its context, and the number
        of target tokens scored (a target with no context scores from its second token)."""
        total, count = 0.0, 0
        with self.lock, torch.no_grad():
            for start in range(0, len(pairs), _SCORE_BATCH):
                nll, n = self._score_batch(pairs[start : start + _SCORE_BATCH])
                total += nll
                count += n
        return total, count

    def _score_batch(
        self, pairs: Sequence[tuple[Sequence[int], Sequence[int]]]
    ) -> tuple[float, int]:
        rows = [list(c) + list(t) for c, t in pairs]
        width = max(len(r) for r in rows)
        self._check_length(width)
        pad = int(self.tokenizer.pad_token_id or 0)
        tokens = torch.full((len(rows), width), pad, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        labels = torch.full((len(rows), width), -100, dtype=torch.long)
        for row, ((context, _), joined) in enumerate(zip(pairs, rows, strict=True)):
            tokens[row, : len(joined)] = torch.tensor(joined)
            mask[row, : len(joined)] = 1
            first = max(len(context), 1)
            labels[row, first : len(joined)] = torch.tensor(joined[first:])
        logits = self.model(
            input_ids=tokens.to(self.device), attention_mask=mask.to(self.device)
        ).logits.float()
        shifted = logits[:, :-1].reshape(-1, logits.shape[-1])
        wanted = labels[:, 1:].reshape(-1).to(self.device)
        nll = torch.nn.functional.cross_entropy(shifted, wanted, ignore_index=-100, reduction="sum")
        return float(nll), int((wanted != -100).sum())


def perplexity(nll: float, count: int) -> float:
    """exp of the mean negative log-likelihood per token."""
    if count == 0:
        raise InvalidInputError("nothing to score: give texts with at least two tokens")
    return math.exp(nll / count)


def _device_of(model: Any) -> torch.device:
    return next(iter(model.parameters())).device  # type: ignore[no-any-return]
