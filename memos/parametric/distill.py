"""Distilling, rebuilding and evaluating parametric items (LoRA adapters)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from memos.models import Kind, MemoryItem
from memos.parametric import adapters
from memos.parametric.data import QAFunction, build_examples
from memos.parametric.train import TrainingPlan, downsample, train
from memos.runtime.derived import (
    current_sources,
    describe,
    record_new,
    record_rebuilt,
    source_items,
)

if TYPE_CHECKING:
    from memos.cube import ItemRef, MemCube
    from memos.runtime.parts import RuntimeParts

ADAPTER_TYPE = "lora_adapter"
CREATED_BY = "memos.parametric"


def distill(
    cube: MemCube,
    parts: RuntimeParts,
    refs: Iterable[ItemRef] | ItemRef,
    plan: TrainingPlan,
    *,
    qa: QAFunction | None = None,
) -> MemoryItem:
    """A new parametric item: an adapter trained on the items `refs`."""
    plan.check()
    sources = source_items(cube, refs)
    digest, size, attributes = _train(parts, sources, plan, qa)
    return record_new(
        cube,
        kind=Kind.PARAMETRIC,
        type=ADAPTER_TYPE,
        content=_content(sources, attributes),
        artifact=digest,
        size=size,
        sources=sources,
        attributes=attributes,
        created_by=CREATED_BY,
    )


def rebuild(
    cube: MemCube,
    parts: RuntimeParts,
    item: MemoryItem,
    *,
    force: bool = False,
    qa: QAFunction | None = None,
) -> MemoryItem:
    """Retrain with the recorded hyper-parameters on the sources' current versions; a
    forgotten source is left out of the training data entirely."""
    sources = current_sources(cube, item)
    plan = plan_of(item)
    digest, size, attributes = _train(parts, sources, plan, qa)
    return record_rebuilt(
        cube,
        parts,
        item,
        content=_content(sources, attributes),
        artifact=digest,
        size=size,
        sources=sources,
        attributes=attributes,
        force=force,
    )


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


def _content(sources: Sequence[MemoryItem], attributes: Mapping[str, Any]) -> str:
    # Describes the adapter without quoting its sources (see activation.build._content).
    held = attributes.get("heldout_loss")
    held_text = f", held-out loss {held:.3f}" if isinstance(held, float) else ""
    return (
        f"LoRA adapter (rank {attributes['hyperparameters']['rank']}) distilled from "
        f"{describe(sources)} ({attributes['examples']['train']} examples, "
        f"{attributes['steps']} steps{held_text})"
    )


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
