"""The derived-memory half of `MemCube`: KV caches and LoRA adapters, built from plaintext
items by `memos.activation` and `memos.parametric` through the kernel's `DerivedHost`
protocol. Those features import torch, so they load when first used, not with the SDK."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from memos.activation.prefix import chronological
from memos.errors import InvalidInputError
from memos.kernel.events import Generated
from memos.models import Hit, Kind, MemoryItem
from memos.parametric.data import QAFunction, llm_pairs
from memos.protocols import ItemRef
from memos.runtime.prompts import check_template

if TYPE_CHECKING:
    from memos.kernel import CubeKernel
    from memos.mos import MemOS
    from memos.runtime.cube_runtime import CubeRuntime, Generation


class DerivedMemory:
    """KV caches and adapters of one cube (mixed into `MemCube`)."""

    _mos: MemOS
    _kernel: CubeKernel

    if TYPE_CHECKING:

        def get(self, item: ItemRef) -> MemoryItem: ...

        def search(self, query: str, *, k: int = 10) -> list[Hit]: ...

    @property
    def runtime(self) -> CubeRuntime:
        """The runtime model as this cube uses it: `generate`, `perplexity`, `evaluate`,
        `unload`, `merged`, `kv_stats`. The model loads on first real use."""
        from memos.runtime.cube_runtime import CubeRuntime  # torch: only when used

        return CubeRuntime(self._kernel, self._mos.runtime_parts)

    def build_activation(
        self,
        item_ids: Iterable[ItemRef] | ItemRef,
        *,
        template: str | None = None,
        storage: str = "native",
    ) -> MemoryItem:
        """Activation memory: the KV cache of a prefix rendered from these plaintext items
        (`memos.runtime.prompts`); `storage` 'native' (lossless), 'float16', 'bfloat16'
        or 'int8'."""
        from memos.activation.build import KVRecipe
        from memos.runtime.derived import derive

        return derive(self._kernel, self._mos.runtime_parts, KVRecipe.of(template, storage),
                      item_ids)  # fmt: skip

    def generate(
        self,
        prompt: str,
        *,
        retrieve: int | None = None,
        activation: ItemRef | None = None,
        memories: Iterable[ItemRef] | None = None,
        adapters: Iterable[ItemRef] | ItemRef = (),
        template: str | None = None,
        max_new_tokens: int = 32,
    ) -> Generation:
        """Greedy generation. With `retrieve=k`: search the cube for the prompt and read
        the k best memories first (in the order they became true); when a fresh KV cache
        covers a leading run of them (the scheduler builds those for runs that recur) it is
        continued instead of recomputing that run, and `.activation_id` names it. Without:
        after a KV cache (`activation`), or memories recomputed (`memories`), with
        `adapters` stacked (see `CubeRuntime.generate`). The tokens are the same with or
        without a cache.

        Raises:
            InvalidInputError: bad options (retrieve= chooses the memories itself).
            StaleMemoryError: a given cache or adapter is stale; rebuild it.
        """
        if retrieve is None:
            return self.runtime.generate(
                prompt, activation=activation, adapters=adapters, memories=memories,
                template=template, max_new_tokens=max_new_tokens,
            )  # fmt: skip
        if activation is not None or memories is not None or adapters != ():
            raise InvalidInputError(
                "retrieve= picks the memories itself; it takes no activation=, memories= or "
                "adapters="
            )
        template = check_template(template)
        hits = self.search(prompt, k=retrieve)
        sources = chronological(hit.item for hit in hits)
        scheduler = self._mos.scheduler
        cache = scheduler.prefix_cache(self._kernel, sources, template) if sources else None
        generation, segments = self.runtime.generate_over(
            prompt,
            sources,
            cache=cache,
            template=template,
            max_new_tokens=max_new_tokens,
        )
        self._mos.kernel.events.emit(
            Generated(
                cube_id=self._kernel.cube_id,
                user=self._kernel.user,
                sources=tuple((s.id, s.version) for s in sources),
                template=template,
                tokens=tuple(segments.tokens(j) for j in range(len(sources) + 1)),
                cached=generation.cached_tokens,
                activation=generation.activation_id,
                ttft_s=generation.ttft_s,
            )
        )
        return generation

    def distill(
        self,
        item_ids: Iterable[ItemRef] | ItemRef,
        *,
        qa: QAFunction | None = None,
        rank: int = 8,
        **plan: Any,
    ) -> MemoryItem:
        """Parametric memory: a LoRA adapter trained on these plaintext items. `plan`
        holds the `TrainingPlan` fields (steps, seed, learning_rate, batch_size,
        target_loss, heldout_fraction, anchor_weight); `qa` adds question-answer pairs
        (default: paraphrases from `mos.llm`, if configured)."""
        from memos.parametric.distill import LoraRecipe
        from memos.parametric.train import TrainingPlan
        from memos.runtime.derived import derive

        recipe = LoraRecipe(TrainingPlan.of(rank=rank, **plan), self._qa(qa))
        return derive(self._kernel, self._mos.runtime_parts, recipe, item_ids)

    def _qa(self, qa: QAFunction | None) -> QAFunction | None:
        if qa is not None and not callable(qa):
            raise InvalidInputError(f"qa must be a function of a statement, got {qa!r:.40}")
        client = self._mos.llm
        return llm_pairs(client) if qa is None and client is not None else qa

    def rebuild(
        self, item: ItemRef, *, force: bool = False, qa: QAFunction | None = None
    ) -> MemoryItem:
        """Rebuild a KV cache or adapter from its sources' current versions, leaving out
        forgotten ones (a new version, fresh again).

        Raises:
            InvalidInputError: the item is plaintext.
            ConflictError: frozen (pass force=True) or archived, or no source is left.
        """
        from memos.activation.build import KVRecipe
        from memos.parametric.distill import LoraRecipe
        from memos.runtime.derived import Recipe, rebuild

        current = self.get(item)
        if current.kind is Kind.ACTIVATION:
            recipe: Recipe = KVRecipe.recorded(current)
        elif current.kind is Kind.PARAMETRIC:
            recipe = LoraRecipe.recorded(current, self._qa(qa))
        else:
            raise InvalidInputError(
                f"item #{current.id} is plaintext; only derived memory rebuilds"
            )
        return rebuild(self._kernel, self._mos.runtime_parts, recipe, current, force=force)
