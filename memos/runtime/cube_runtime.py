"""The runtime model as one cube uses it: generation with KV caches, memories and
adapters; perplexity; adapter evaluation, unloading and merging; tier statistics."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from memos import validation
from memos.activation import build as kv_build
from memos.errors import InvalidInputError, NotFoundError
from memos.models import Kind, MemoryItem, Record
from memos.protocols import DerivedHost, ItemRef
from memos.runtime.derived import check_model, source_items, usable
from memos.runtime.identity import ModelIdentity
from memos.runtime.model import KVLayers, Runtime, perplexity
from memos.runtime.prompts import Segments, check_template

if TYPE_CHECKING:
    from memos.runtime.parts import RuntimeParts

MAX_NEW_TOKENS = 4096


@dataclass(frozen=True, slots=True)
class Generation(Record):
    """A greedy continuation: its text and tokens, and how long it took.

    `ttft_s` runs from the call to the first new token, so it includes loading a KV cache
    from its tier; `cached_tokens` were read from that cache instead of recomputed.
    """

    text: str
    tokens: tuple[int, ...]
    ttft_s: float
    total_s: float
    prompt_tokens: int
    cached_tokens: int = 0
    activation: int | None = None
    adapters: tuple[int, ...] = ()

    @property
    def activation_id(self) -> int | None:
        """The KV cache this generation continued from; None when its prefix was recomputed."""
        return self.activation


def new_tokens(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInputError(f"max_new_tokens must be an integer, got {value!r}")
    if not 1 <= value <= MAX_NEW_TOKENS:
        raise InvalidInputError(f"max_new_tokens must be 1..{MAX_NEW_TOKENS}, got {value}")
    return value


def _refs(values: Iterable[ItemRef] | ItemRef) -> list[ItemRef]:
    return validation.item_refs(values, field="adapters")


class CubeRuntime:
    """Generation and scoring over one cube's derived memory."""

    def __init__(self, host: DerivedHost, parts: RuntimeParts) -> None:
        self.cube = host
        self.parts = parts

    def __repr__(self) -> str:
        return f"CubeRuntime(cube={self.cube.cube_id}, {self.parts.runtime!r})"

    @property
    def runtime(self) -> Runtime:
        return self.parts.runtime

    @property
    def identity(self) -> ModelIdentity:
        """The runtime model's identity (loads the model)."""
        return self.runtime.identity

    def adapter_items(self, refs: Iterable[ItemRef] | ItemRef) -> list[MemoryItem]:
        """Usable adapter items, checked against the runtime model.

        Raises:
            StaleMemoryError, ConflictError, ModelMismatchError: see `derived.usable`.
        """
        found: list[MemoryItem] = []
        for ref in _refs(refs):
            item = usable(self.cube, ref, Kind.PARAMETRIC)
            check_model(item, self.runtime.identity)
            if not self.parts.adapter_store.contains(item.artifact or ""):
                raise NotFoundError(
                    f"adapter #{item.id}'s file is not in {self.parts.adapter_store.root} (another "
                    f"host's memos home?); retrain it here with cube.rebuild({item.id})"
                )
            if all(item.id != f.id for f in found):
                found.append(item)
        return found

    def _applied(self, items: Sequence[MemoryItem]) -> Any:
        if not items:
            return nullcontext()
        return self.parts.adapters.applied([i.artifact or "" for i in items])

    def generate(
        self,
        prompt: str,
        *,
        activation: ItemRef | None = None,
        adapters: Iterable[ItemRef] | ItemRef = (),
        memories: Iterable[ItemRef] | None = None,
        template: str | None = None,
        max_new_tokens: int = 32,
    ) -> Generation:
        """Greedy generation from `prompt`, after a KV cache (`activation`), or after the
        same memory prefix recomputed from text (`memories`), with adapters stacked.

        Raises:
            InvalidInputError: bad prompt or options, or a cache combined with adapters.
            StaleMemoryError: the cache or an adapter is stale (rebuild it).
            ModelMismatchError: built with another model.
        """
        text = validation.content(prompt, max_chars=self.cube.max_content_chars, field="prompt")
        count = new_tokens(max_new_tokens)
        if activation is not None and memories is not None:
            raise InvalidInputError("give activation= (a KV cache) or memories=, not both")
        if activation is not None and template is not None:
            raise InvalidInputError("a KV cache keeps the template it was built with")
        adapter_items = self.adapter_items(adapters)
        if activation is not None and adapter_items:
            raise InvalidInputError(
                "a KV cache holds the base model's keys and values, which adapters change; "
                "to use adapters with memories pass memories= instead of activation="
            )
        started = time.perf_counter()
        runtime = self.runtime
        prompter = runtime.prompter
        past = None
        cached = 0
        used: list[int] = [i.id for i in adapter_items]
        kv_id = None
        if activation is not None:
            item = usable(self.cube, activation, Kind.ACTIVATION)
            cache = kv_build.load(self.cube, self.parts, item)
            past, cached, kv_id = cache.layers, cache.tokens, item.id
            ids = prompter.prompt_ids(text, after_prefix=True)
            used.append(item.id)
        elif memories is not None:
            sources = source_items(self.cube, memories)
            prefix = prompter.prefix_ids(
                [s.content or "" for s in sources], check_template(template)
            )
            ids = prefix + prompter.prompt_ids(text, after_prefix=True)
            used.extend(s.id for s in sources)
        else:
            ids = prompter.prompt_ids(text, after_prefix=False)
        with self._applied(adapter_items):
            tokens, ttft = runtime.generate(ids, past=past, max_new_tokens=count, started=started)
        total = time.perf_counter() - started
        self.cube.touch(used)
        return Generation(
            text=runtime.decode(tokens),
            tokens=tuple(tokens),
            ttft_s=ttft,
            total_s=total,
            prompt_tokens=cached + len(ids),
            cached_tokens=cached,
            activation=kv_id,
            adapters=tuple(i.id for i in adapter_items),
        )

    def generate_over(
        self,
        prompt: str,
        sources: Sequence[MemoryItem],
        *,
        cache: MemoryItem | None = None,
        template: str | None = None,
        max_new_tokens: int = 32,
    ) -> tuple[Generation, Segments]:
        """Greedy generation after `sources` (memories already read and ordered), their
        prefix tokenized in segments; `cache` is an open-prefix KV cache over a leading run
        of them (`memos.activation.prefix`), continued instead of recomputing that run.
        The tokens are the same with or without it. Returns the generation and the
        segments (their sizes tell a scheduler what caching them would save).

        Raises:
            InvalidInputError: bad prompt or options.
        """
        text = validation.content(prompt, max_chars=self.cube.max_content_chars, field="prompt")
        count = new_tokens(max_new_tokens)
        chosen = check_template(template)
        started = time.perf_counter()
        runtime = self.runtime
        prompter = runtime.prompter
        segments = prompter.segments([s.content or "" for s in sources], chosen)
        used = [s.id for s in sources]
        past = self._prefix_cache(cache, segments) if cache is not None and sources else None
        covered = len(cache.derived_from) if past is not None and cache is not None else 0
        if past is not None and cache is not None:
            used.append(cache.id)
            ids = segments.rest(covered) + prompter.prompt_ids(text, after_prefix=True)
        elif sources:
            everything = segments.prefix(len(sources)) + segments.rest(len(sources))
            ids = everything + prompter.prompt_ids(text, after_prefix=True)
        else:
            ids = prompter.prompt_ids(text, after_prefix=False)
        tokens, ttft = runtime.generate(ids, past=past, max_new_tokens=count, started=started)
        self.cube.touch(used)
        cached = segments.tokens(covered) if past is not None else 0
        generation = Generation(
            text=runtime.decode(tokens),
            tokens=tuple(tokens),
            ttft_s=ttft,
            total_s=time.perf_counter() - started,
            prompt_tokens=cached + len(ids),
            cached_tokens=cached,
            activation=cache.id if past is not None and cache is not None else None,
        )
        return generation, segments

    def _prefix_cache(self, cache: MemoryItem, segments: Segments) -> KVLayers | None:
        """The layers of a prefix cache if using it beats recomputing; None otherwise (a
        cache whose tokens differ from the segments' is never used)."""
        item = usable(self.cube, cache.id, Kind.ACTIVATION)
        check_model(item, self.runtime.identity)
        covered = len(item.derived_from)
        cost = float(item.attributes.get("prefill_s", 0.0))
        if not self.parts.tiers.worth_loading(item.artifact or "", item.size_bytes, cost):
            return None
        loaded = kv_build.load(self.cube, self.parts, item)
        if list(loaded.prefix_ids) != segments.prefix(covered):
            return None
        return loaded.layers

    def perplexity(
        self,
        texts: Sequence[str] | str,
        *,
        adapters: Iterable[ItemRef] | ItemRef = (),
        prompts: Sequence[str] | None = None,
    ) -> float:
        """Mean per-token perplexity of `texts` (exp of the mean negative log-likelihood
        over all their tokens). With `prompts`, each text is scored as the answer to its
        prompt, rendered as `generate` renders a prompt.

        Raises:
            InvalidInputError: no texts, or prompts that do not pair with them.
        """
        batch = (
            [texts]
            if isinstance(texts, str)
            else validation.listed(texts, field="texts", of="texts")
        )
        if not batch or any(not isinstance(t, str) or not t.strip() for t in batch):
            raise InvalidInputError("perplexity needs one or more non-empty texts")
        if prompts is not None and len(prompts) != len(batch):
            raise InvalidInputError("give one prompt per text")
        prompter = self.runtime.prompter
        pairs: list[tuple[list[int], list[int]]] = []
        for index, text in enumerate(batch):
            if prompts is None:
                pairs.append(([], prompter.encode(text, special=True)))
            else:
                answer = prompter.answer_ids(text)
                if self.runtime.tokenizer.eos_token_id is not None:
                    answer = answer[:-1]  # score the answer, not the end of the turn
                pairs.append((prompter.prompt_ids(prompts[index], after_prefix=False), answer))
        with self._applied(self.adapter_items(adapters)):
            nll, count = self.runtime.score(pairs)
        return perplexity(nll, count)

    def evaluate(self, adapter: ItemRef, texts: Sequence[str] | None = None) -> dict[str, Any]:
        """Perplexity of `texts` (default: the adapter's source statements) with and
        without the adapter, and the held-out losses recorded at training."""
        item = self.adapter_items(adapter)[0]
        if texts is None:
            texts = [
                s.content or ""
                for s in source_items(self.cube, [int(d["id"]) for d in item.derived_from])
            ]
        base = self.perplexity(texts)
        tuned = self.perplexity(texts, adapters=[item.id])
        return {
            "adapter": item.id,
            "texts": len(texts),
            "perplexity_base": round(base, 4),
            "perplexity_adapter": round(tuned, 4),
            "ratio": round(base / tuned, 4),
            "heldout_loss_base": item.attributes.get("heldout_loss_base"),
            "heldout_loss": item.attributes.get("heldout_loss"),
        }

    def unload(self, adapter: ItemRef) -> bool:
        """Take an adapter off the model (it loads again when next used)."""
        item = self.cube.read(adapter)
        if item.kind is not Kind.PARAMETRIC or item.artifact is None:
            raise InvalidInputError(f"item #{item.id} is not an adapter")
        return self.parts.adapters.unload(item.artifact)

    def merged(self, adapters: Iterable[ItemRef] | ItemRef) -> Any:
        """A copy of the base model with these adapters merged into its weights (a plain
        transformers model; the runtime model is unchanged)."""
        items = self.adapter_items(adapters)
        if not items:
            raise InvalidInputError("give one or more adapters to merge")
        return self.parts.adapters.merged_model([i.artifact or "" for i in items])

    def kv_stats(self) -> dict[str, Any]:
        """Per-tier entries, bytes and budgets of KV caches, and hit/eviction counters."""
        return self.parts.kv_stats()
