"""The derived-memory half of `MemCube`: KV caches and LoRA adapters, built from plaintext
items by `memos.activation` and `memos.parametric` through the kernel's `DerivedHost`
protocol. Those features import torch, so they load when first used, not with the SDK."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from memos.errors import InvalidInputError
from memos.models import Kind, MemoryItem
from memos.parametric.data import QAFunction, llm_pairs
from memos.protocols import ItemRef

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

    def generate(self, prompt: str, **options: Any) -> Generation:
        """Greedy generation after a KV cache (`activation`), or the same memory prefix
        recomputed (`memories`), with `adapters` stacked; same tokens either way. See
        `CubeRuntime.generate` for the options."""
        return self.runtime.generate(prompt, **options)

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
