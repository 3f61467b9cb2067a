"""Parametric memory as a `Recipe`: a LoRA adapter trained on plaintext items."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from memos.models import Kind, MemoryItem
from memos.parametric import adapters
from memos.parametric.data import QAFunction, build_examples
from memos.parametric.train import TrainingPlan, downsample, train
from memos.runtime.derived import Made, describe

if TYPE_CHECKING:
    from memos.runtime.parts import RuntimeParts


@dataclass(frozen=True, slots=True)
class LoraRecipe:
    """An adapter trained with `plan` on the sources' statements and question-answer
    pairs (`qa` adds pairs, e.g. paraphrases from an LLM)."""

    plan: TrainingPlan
    qa: QAFunction | None = None
    kind: Kind = Kind.PARAMETRIC
    type: str = "lora_adapter"
    created_by: str = "memos.parametric"

    @classmethod
    def recorded(cls, item: MemoryItem, qa: QAFunction | None = None) -> LoraRecipe:
        """The recipe an adapter was trained with (its recorded hyper-parameters)."""
        return cls(plan_of(item), qa)

    def describe(self, sources: Sequence[MemoryItem], made: Made) -> str:
        attributes = made.attributes
        held = attributes.get("heldout_loss")
        held_text = f", held-out loss {held:.3f}" if isinstance(held, float) else ""
        return (
            f"LoRA adapter (rank {attributes['hyperparameters']['rank']}) distilled from "
            f"{describe(sources)} ({attributes['examples']['train']} examples, "
            f"{attributes['steps']} steps{held_text})"
        )

    def materialise(self, parts: RuntimeParts, sources: Sequence[MemoryItem]) -> Made:
        self.plan.check()
        digest, size, attributes = _train(parts, sources, self.plan, self.qa)
        return Made(digest, size, attributes)


def plan_of(item: MemoryItem) -> TrainingPlan:
    recorded = item.attributes.get("hyperparameters")
    fields = {f.name for f in dataclasses.fields(TrainingPlan)}
    given: dict[str, Any] = {}
    if isinstance(recorded, Mapping):
        given = {k: v for k, v in recorded.items() if k in fields}
    for name in ("target_modules", "layers"):
        if given.get(name) is not None:
            given[name] = tuple(given[name])
    return TrainingPlan(**given).check()


def _train(
    parts: RuntimeParts,
    sources: Sequence[MemoryItem],
    plan: TrainingPlan,
    qa: QAFunction | None,
) -> tuple[str, int, dict[str, Any]]:
    runtime = parts.runtime
    examples, heldout = build_examples(
        sources, seed=plan.seed, heldout_fraction=plan.heldout_fraction, qa=qa
    )
    result = train(runtime, examples, heldout, plan)
    data = adapters.encode(result.tensors, runtime.identity, result.config)
    digest = parts.adapter_store.put(data)
    hyper = dataclasses.asdict(plan)
    for name in ("target_modules", "layers"):
        if hyper[name] is not None:
            hyper[name] = list(hyper[name])
    attributes = {
        "model": runtime.identity.to_dict(),
        "hyperparameters": hyper,
        "lora": result.config,
        "examples": {
            "train": len(examples),
            "heldout": len(heldout),
            "statements": sum(1 for e in examples if e.prompt is None),
            "qa": sum(1 for e in examples if e.prompt is not None),
            "questions": "templates" + ("+qa" if qa is not None else ""),
            "qa_pairs": sum(1 for e in examples + heldout if e.origin == "qa"),
        },
        "steps": result.steps,
        "stopped_by": result.stopped_by,
        "loss_curve": downsample(result.loss_curve),
        "final_loss": round(result.loss_curve[-1], 5) if result.loss_curve else None,
        "heldout_loss": _rounded(result.heldout_loss),
        "heldout_loss_base": _rounded(result.heldout_loss_base),
        "anchor_kl": _rounded(result.anchor_kl),
        "training_s": round(result.seconds, 2),
        "adapter_bytes": len(data),
    }
    return digest, len(data), attributes


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 5)
