"""Training a LoRA adapter on the runtime model, on the CPU or the model's device.

Deterministic under a seed: the adapter's initial weights come from `torch.manual_seed`,
the batch order from `random.Random(seed)`, and there is no dropout. Only the upper half
of the layers carries LoRA by default, so the backward pass stops halfway down the model
(about half the cost of adapting every layer), and only answer tokens reach the output
layer, which for a 49k-token vocabulary is a large share of the work.
"""

from __future__ import annotations

import dataclasses
import math
import random
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from peft import get_peft_model_state_dict, inject_adapter_in_model

from memos.errors import InvalidInputError
from memos.parametric.adapters import (
    CONFIG_FIELDS,
    activate,
    adapters_of,
    lora_config,
    quiet_peft,
    tuner_layers,
)
from memos.parametric.anchor import ANCHOR_TEXTS
from memos.parametric.data import Example
from memos.progress import progress
from memos.runtime.model import Runtime

_TRAINING_NAME = "memos_training"
_LOSS_WINDOW = 5
MAX_CURVE_POINTS = 200


@dataclass(frozen=True, slots=True)
class TrainingPlan:
    """Hyper-parameters of one training run (recorded on the adapter item)."""

    rank: int = 8
    alpha: int = 16
    learning_rate: float = 1e-3
    steps: int | None = None
    batch_size: int = 8
    target_loss: float | None = None
    seed: int = 0
    heldout_fraction: float = 0.2
    target_modules: tuple[str, ...] | None = None
    layers: tuple[int, ...] | None = None
    # Weight of the KL penalty that keeps the adapter near the base model on anchor text
    # (0 turns it off), and how many anchor texts each step sees.
    anchor_weight: float = 1.0
    anchor_batch: int = 4

    @classmethod
    def of(cls, *, rank: int = 8, **given: Any) -> TrainingPlan:
        """A checked plan from caller options; `alpha` defaults to twice the rank.

        Raises:
            InvalidInputError: an unknown option or a value out of range.
        """
        known = {f.name for f in dataclasses.fields(cls)} - {"rank"}
        unknown = set(given) - known
        if unknown:
            raise InvalidInputError(
                f"unknown training option(s) {', '.join(sorted(unknown))}; known: "
                f"rank, {', '.join(sorted(known))}"
            )
        whole = {"rank", "alpha", "steps", "batch_size", "seed", "anchor_batch"}
        for name, value in {"rank": rank, **given}.items():
            if name in ("steps", "target_loss", "target_modules", "layers") and value is None:
                continue
            if name in ("target_modules", "layers"):
                continue  # sequences, checked when the adapter is built
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InvalidInputError(f"{name} must be a number, got {value!r:.40}")
            if name in whole and not isinstance(value, int):
                raise InvalidInputError(f"{name} must be a whole number, got {value!r}")
            if not math.isfinite(value):
                raise InvalidInputError(f"{name} must be finite, got {value!r}")
        given.setdefault("alpha", 2 * rank)
        return cls(rank=rank, **given).check()

    def check(self) -> TrainingPlan:
        """Raises: InvalidInputError: a value is out of range."""
        if not 1 <= self.rank <= 256:
            raise InvalidInputError(f"rank must be 1..256, got {self.rank}")
        if self.steps is not None and not 1 <= self.steps <= 100_000:
            raise InvalidInputError(f"steps must be 1..100000, got {self.steps}")
        if not 1 <= self.batch_size <= 512:
            raise InvalidInputError(f"batch_size must be 1..512, got {self.batch_size}")
        if not 0 < self.learning_rate < 1:
            raise InvalidInputError(f"learning_rate must be in (0, 1), got {self.learning_rate}")
        if not 0 <= self.heldout_fraction < 1:
            raise InvalidInputError("heldout_fraction must be in [0, 1)")
        if self.target_loss is not None and self.target_loss <= 0:
            raise InvalidInputError("target_loss must be positive")
        if not 0 <= self.seed < 2**63:
            raise InvalidInputError(f"seed must be 0..2**63-1, got {self.seed}")
        if self.anchor_weight < 0 or self.anchor_batch < 1:
            raise InvalidInputError("anchor_weight must be >= 0 and anchor_batch >= 1")
        return self


@dataclass
class TrainingResult:
    """The trained adapter's tensors and configuration, and how training went."""

    tensors: dict[str, torch.Tensor]
    config: dict[str, Any]
    steps: int
    stopped_by: str
    loss_curve: list[float] = field(default_factory=list)
    heldout_loss: float | None = None
    heldout_loss_base: float | None = None
    anchor_kl: float | None = None
    seconds: float = 0.0


def default_steps(examples: int, batch_size: int) -> int:
    """About ten passes over the data, within 30..400 steps."""
    return max(30, min(400, math.ceil(10 * examples / batch_size)))


def lora_fields(runtime: Runtime, plan: TrainingPlan) -> dict[str, Any]:
    """The LoRA configuration for this model: every linear projection inside the decoder
    layers (attention and MLP) of the upper half of the layers, unless the plan says."""
    model = runtime.model
    modules = plan.target_modules or tuple(
        sorted(
            {
                name.rsplit(".", 1)[-1]
                for name, module in model.named_modules()
                if isinstance(module, torch.nn.Linear) and ".layers." in name
            }
        )
    )
    total = int(model.config.num_hidden_layers)
    layers = plan.layers if plan.layers is not None else tuple(range(total // 2, total))
    if any(not 0 <= i < total for i in layers):
        raise InvalidInputError(f"layers must be within 0..{total - 1}")
    values = [plan.rank, plan.alpha, list(modules), list(layers), 0.0]
    return dict(zip(CONFIG_FIELDS, values, strict=True))


def encode(runtime: Runtime, example: Example) -> tuple[list[int], list[int]]:
    """Token ids and labels (-100 where nothing is learnt) of one example."""
    prompter = runtime.prompter
    if example.prompt is None:
        ids = prompter.encode(example.text, special=True)
        return ids, list(ids)
    context = prompter.prompt_ids(example.prompt, after_prefix=False)
    answer = prompter.answer_ids(example.text)
    return context + answer, [-100] * len(context) + answer


def train(
    runtime: Runtime,
    examples: Sequence[Example],
    heldout: Sequence[Example],
    plan: TrainingPlan,
    *,
    anchor: Sequence[str] = ANCHOR_TEXTS,
) -> TrainingResult:
    """Train a fresh adapter; the runtime model is left exactly as it was.

    Each step minimises the cross-entropy of the learnt tokens plus `plan.anchor_weight`
    times the KL divergence from the base model on a few `anchor` texts.
    """
    if not examples:
        raise InvalidInputError("nothing to train on: give items with text")
    config = lora_fields(runtime, plan)
    encoded = [encode(runtime, e) for e in examples]
    held = [encode(runtime, e) for e in heldout]
    anchors = [runtime.prompter.encode(t, special=True) for t in anchor]
    anchoring = plan.anchor_weight > 0 and bool(anchors)
    steps = plan.steps or default_steps(len(encoded), plan.batch_size)
    model = runtime.model
    rng = random.Random(plan.seed)
    started = time.perf_counter()
    with runtime.lock:
        base_loss = _mean_loss(runtime, held) if held else None
        torch.manual_seed(plan.seed)
        with quiet_peft():
            inject_adapter_in_model(lora_config(config), model, adapter_name=_TRAINING_NAME)
        try:
            activate(model, [_TRAINING_NAME])
            weights = [p for n, p in model.named_parameters() if f".{_TRAINING_NAME}." in n]
            for weight in weights:
                weight.requires_grad_(True)
            optimizer = torch.optim.AdamW(weights, lr=plan.learning_rate, weight_decay=0.0)
            curve: list[float] = []
            drift: list[float] = []
            order: list[int] = []
            stopped_by = "steps"
            for _ in progress(range(steps), desc="training LoRA adapter", total=steps):
                if len(order) < plan.batch_size:
                    fresh = list(range(len(encoded)))
                    rng.shuffle(fresh)
                    order.extend(fresh)
                batch = [encoded[order.pop(0)] for _ in range(min(plan.batch_size, len(encoded)))]
                loss = _loss(runtime, batch)
                total = loss
                if anchoring:
                    chosen = rng.sample(anchors, min(plan.anchor_batch, len(anchors)))
                    kl = _anchor_kl(runtime, chosen, weights)
                    total = loss + plan.anchor_weight * kl
                    drift.append(kl.item())
                total.backward()  # type: ignore[no-untyped-call]
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
                curve.append(loss.item())
                recent = curve[-_LOSS_WINDOW:]
                if (
                    plan.target_loss is not None
                    and len(recent) == _LOSS_WINDOW
                    and statistics.fmean(recent) <= plan.target_loss
                ):
                    stopped_by = "loss"
                    break
            activate(model, [_TRAINING_NAME])
            held_loss = _mean_loss(runtime, held) if held else None
            tensors = {
                k: v.detach().to("cpu").clone()
                for k, v in get_peft_model_state_dict(model, adapter_name=_TRAINING_NAME).items()
            }
        finally:
            with quiet_peft():
                for layer in tuner_layers(model):
                    if _TRAINING_NAME in adapters_of(layer):
                        layer.delete_adapter(_TRAINING_NAME)
            activate(model, [])
    return TrainingResult(
        tensors=tensors,
        config=config,
        steps=len(curve),
        stopped_by=stopped_by,
        loss_curve=curve,
        heldout_loss=held_loss,
        heldout_loss_base=base_loss,
        anchor_kl=statistics.fmean(drift[-_LOSS_WINDOW:]) if drift else None,
        seconds=time.perf_counter() - started,
    )


def _batch_tensors(
    runtime: Runtime, batch: Sequence[tuple[list[int], list[int]]]
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    width = max(len(ids) for ids, _ in batch)
    pad = int(runtime.tokenizer.pad_token_id or 0)
    ids = torch.full((len(batch), width), pad, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    labels = torch.full((len(batch), width), -100, dtype=torch.long)
    for row, (tokens, wanted) in enumerate(batch):
        ids[row, : len(tokens)] = torch.tensor(tokens)
        mask[row, : len(tokens)] = 1
        labels[row, : len(wanted)] = torch.tensor(wanted)
    device = runtime.device
    return ids.to(device), mask.to(device), labels.to(device)


def _loss(runtime: Runtime, batch: Sequence[tuple[list[int], list[int]]]) -> torch.Tensor:
    """Mean cross-entropy over learnt tokens. The output layer runs only on the positions
    that predict a learnt token (for models whose logits are the output embedding of the
    decoder's last hidden state, as in the Llama, Mistral and Qwen families)."""
    ids, mask, labels = _batch_tensors(runtime, batch)
    model = runtime.model
    hidden = model.get_decoder()(input_ids=ids, attention_mask=mask).last_hidden_state
    wanted = labels[:, 1:]
    chosen = wanted != -100
    logits = model.get_output_embeddings()(hidden[:, :-1][chosen]).float()
    return torch.nn.functional.cross_entropy(logits, wanted[chosen])


def _anchor_kl(
    runtime: Runtime, texts: Sequence[list[int]], weights: Sequence[torch.Tensor]
) -> torch.Tensor:
    """Mean per-token KL(base || adapted) of the next-token distributions on `texts`."""
    model = runtime.model
    ids, mask, _ = _batch_tensors(runtime, [(t, t) for t in texts])
    with torch.no_grad():
        activate(model, [])
        base = torch.log_softmax(model(input_ids=ids, attention_mask=mask).logits.float(), -1)
    activate(model, [_TRAINING_NAME])
    for weight in weights:  # switching adapters off above also froze them
        weight.requires_grad_(True)
    adapted = torch.log_softmax(model(input_ids=ids, attention_mask=mask).logits.float(), -1)
    per_token = (base.exp() * (base - adapted)).sum(-1)
    return (per_token * mask).sum() / mask.sum()


def _mean_loss(runtime: Runtime, encoded: Sequence[tuple[list[int], list[int]]]) -> float:
    """Token-weighted mean loss of examples under the model's current adapters."""
    total, count = 0.0, 0
    with torch.no_grad():
        for start in range(0, len(encoded), 16):
            batch = encoded[start : start + 16]
            tokens = sum(sum(1 for t in wanted[1:] if t != -100) for _, wanted in batch)
            total += float(_loss(runtime, batch)) * tokens
            count += tokens
    return total / count if count else float("nan")


def downsample(curve: Sequence[float], points: int = MAX_CURVE_POINTS) -> list[float]:
    """At most `points` values: means of equal windows (the full curve of a long run would
    bloat every version of the item)."""
    if len(curve) <= points:
        return [round(v, 5) for v in curve]
    size = len(curve) / points
    return [
        round(
            statistics.fmean(curve[int(i * size) : max(int((i + 1) * size), int(i * size) + 1)]), 5
        )
        for i in range(points)
    ]
