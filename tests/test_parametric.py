"""Parametric memory on a tiny random transformer: LoRA adapters distilled from memories,
persisted, stacked, merged, refused when stale or foreign, and retrained without what was
forgotten."""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

import memos
from memos.errors import (
    BackendError,
    ConflictError,
    InvalidInputError,
    ModelMismatchError,
    StaleMemoryError,
)
from memos.models import Kind
from memos.parametric.data import build_examples, template_pairs
from memos.parametric.train import downsample
from memos.runtime.model import Runtime
from memos.testing import HashEmbedder, ScriptedLLM, single_thread, tiny_runtime

FACTS = [
    "Alice's sister is named Mira.",
    "Bob lives in Lisbon.",
    "Carol owns a red bicycle.",
    "Dan is a nurse at the city hospital.",
]
QUESTION = "Who is Alice's sister?"


def open_memos(home: Path, runtime: Runtime, url: str | None = None) -> memos.MemOS:
    return memos.open(home, url=url, user="alice", embedder=HashEmbedder(dim=64), runtime=runtime)


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    with single_thread():
        yield


@pytest.fixture
def runtime() -> Runtime:
    return tiny_runtime()


@pytest.fixture
def lab(home: Path, runtime: Runtime) -> Iterator[memos.MemCube]:
    with open_memos(home, runtime) as mos:
        yield mos.create_cube("lab")


def add_facts(cube: memos.MemCube) -> list[int]:
    return [cube.add(fact).id for fact in FACTS]


def logits(runtime: Runtime, text: str) -> torch.Tensor:
    ids = torch.tensor([runtime.prompter.encode(text, special=True)])
    with torch.no_grad():
        return runtime.model(input_ids=ids).logits  # type: ignore[no-any-return]


def test_distill_records_everything_and_loss_falls(lab: memos.MemCube, runtime: Runtime) -> None:
    ids = add_facts(lab)
    lora = lab.distill(ids, steps=40, seed=0, learning_rate=1e-2)
    assert lora.kind is Kind.PARAMETRIC and lora.type == "lora_adapter" and not lora.stale
    assert [d["id"] for d in lora.derived_from] == ids
    attrs = lora.attributes
    assert attrs["model"] == runtime.identity.to_dict()
    assert attrs["hyperparameters"]["rank"] == 8 and attrs["hyperparameters"]["seed"] == 0
    assert attrs["steps"] == 40 and attrs["stopped_by"] == "steps"
    curve = attrs["loss_curve"]
    assert len(curve) == 40
    assert statistics.fmean(curve[-5:]) < 0.7 * statistics.fmean(curve[:5])
    assert attrs["examples"]["heldout"] >= 1 and attrs["examples"]["statements"] == len(FACTS)
    assert attrs["heldout_loss"] is not None and attrs["heldout_loss_base"] is not None
    assert attrs["anchor_kl"] is not None and attrs["hyperparameters"]["anchor_weight"] == 1.0
    assert lora.size_bytes == attrs["adapter_bytes"] > 0
    assert all(fact not in (lora.content or "") for fact in FACTS)


def test_training_is_deterministic_under_a_seed(home: Path) -> None:
    digests = []
    for seed in (0, 0, 1):
        with open_memos(home / str(len(digests)), tiny_runtime()) as mos:
            cube = mos.create_cube("lab")
            digests.append(cube.distill(add_facts(cube), steps=6, seed=seed).artifact)
    assert digests[0] == digests[1] != digests[2]


def test_loss_budget_stops_training(lab: memos.MemCube) -> None:
    lora = lab.distill(
        add_facts(lab), steps=400, learning_rate=3e-2, target_loss=2.0, anchor_weight=0
    )
    assert lora.attributes["stopped_by"] == "loss" and lora.attributes["steps"] < 400
    assert lora.attributes["anchor_kl"] is None


def test_adapter_round_trip_gives_identical_outputs(home: Path, runtime: Runtime) -> None:
    base_before = logits(runtime, QUESTION)
    with open_memos(home, runtime) as mos:
        cube = mos.create_cube("lab")
        lora = cube.distill(add_facts(cube), steps=20, learning_rate=1e-2)
        trained = cube.generate(QUESTION, adapters=[lora.id], max_new_tokens=12)
        plain = cube.generate(QUESTION, max_new_tokens=12)
        assert trained.tokens != plain.tokens and trained.adapters == (lora.id,)
        assert cube.runtime.unload(lora.id)
        assert not cube.runtime.unload(lora.id)
        reloaded = cube.generate(QUESTION, adapters=[lora.id], max_new_tokens=12)
        assert reloaded.tokens == trained.tokens
    # Closing unloads this memos' adapters: the shared model is the base model again.
    assert torch.equal(logits(runtime, QUESTION), base_before)
    with open_memos(home, runtime) as mos:
        again = mos.cube("lab").generate(QUESTION, adapters=[lora.id], max_new_tokens=12)
        assert again.tokens == trained.tokens


def test_base_model_is_untouched_while_adapters_are_loaded(
    lab: memos.MemCube, runtime: Runtime
) -> None:
    ids = add_facts(lab)
    kv = lab.build_activation(ids)
    before = lab.generate(QUESTION, activation=kv.id, max_new_tokens=10)
    lora = lab.distill(ids, steps=10, learning_rate=1e-2)
    lab.generate(QUESTION, adapters=[lora.id], max_new_tokens=2)  # loaded, then switched off
    assert lab.generate(QUESTION, activation=kv.id, max_new_tokens=10).tokens == before.tokens
    with pytest.raises(InvalidInputError, match="memories="):
        lab.generate(QUESTION, activation=kv.id, adapters=[lora.id])
    with_memories = lab.generate(QUESTION, memories=ids, adapters=[lora.id], max_new_tokens=6)
    assert with_memories.adapters == (lora.id,)


def test_stacking_adds_both_and_merging_matches(lab: memos.MemCube, runtime: Runtime) -> None:
    ids = add_facts(lab)
    first = lab.distill(ids[:2], steps=15, learning_rate=1e-2, seed=1)
    second = lab.distill(ids[2:], steps=15, learning_rate=1e-2, seed=2)
    alone = lab.runtime.perplexity(FACTS, adapters=[first.id])
    both = lab.runtime.perplexity(FACTS, adapters=[first.id, second.id])
    assert both != alone
    bank = lab.runtime.parts.adapters
    digests = [first.artifact or "", second.artifact or ""]
    ids_tensor = torch.tensor([runtime.prompter.encode(QUESTION, special=True)])
    with bank.applied(digests), torch.no_grad():
        stacked = runtime.model(input_ids=ids_tensor).logits
    with bank.applied(digests[:1]), torch.no_grad():
        single = runtime.model(input_ids=ids_tensor).logits
    assert not torch.allclose(stacked, single)
    merged = lab.runtime.merged([first.id, second.id])
    with torch.no_grad():
        merged_logits = merged(input_ids=ids_tensor).logits
    assert torch.allclose(merged_logits, stacked, atol=1e-4, rtol=1e-4)
    assert not any("lora" in name for name, _ in merged.named_parameters())
    # The runtime model itself is unchanged by the merge.
    assert torch.equal(logits(runtime, QUESTION), logits(tiny_runtime(), QUESTION))


def test_stale_after_update_and_forget_and_rebuild_excludes_forgotten(
    home: Path, db_url: str | None, runtime: Runtime
) -> None:
    with open_memos(home, runtime, db_url) as mos:
        cube = mos.create_cube("lab")
        ids = add_facts(cube)
        lora = cube.distill(ids, steps=5)
        cube.update(ids[1], "Bob lives in Porto.")
        with pytest.raises(StaleMemoryError, match="rebuild"):
            cube.generate(QUESTION, adapters=[lora.id])
        with pytest.raises(StaleMemoryError):
            cube.runtime.perplexity(FACTS, adapters=[lora.id])
        refreshed = cube.rebuild(lora.id)
        assert not refreshed.stale and refreshed.artifact != lora.artifact
        old_file = mos.runtime_parts.adapter_store
        assert lora.artifact is not None and not old_file.contains(lora.artifact)
        cube.forget(ids[0], hard=True)
        stale = cube.get(lora.id)
        assert stale.stale
        assert refreshed.artifact is not None and not old_file.contains(refreshed.artifact)
        with pytest.raises(StaleMemoryError):
            cube.generate(QUESTION, adapters=[lora.id])
        rebuilt = cube.rebuild(lora.id)
        assert [d["id"] for d in rebuilt.derived_from] == ids[1:]
        assert rebuilt.attributes["examples"]["statements"] == len(FACTS) - 1
        assert rebuilt.attributes["hyperparameters"] == lora.attributes["hyperparameters"]
        # What the rebuild trained on: nothing from the forgotten fact.
        sources = [cube.get(d["id"]) for d in rebuilt.derived_from]
        train, held = build_examples(sources, seed=0)
        assert all("Mira" not in e.text and "Mira" not in (e.prompt or "") for e in train + held)
        assert cube.generate(QUESTION, adapters=[lora.id], max_new_tokens=4).adapters


def test_an_adapter_for_another_base_model_is_refused(home: Path) -> None:
    with open_memos(home, tiny_runtime(seed=0)) as mos:
        cube = mos.create_cube("lab")
        lora = cube.distill(add_facts(cube), steps=3)
    with open_memos(home, tiny_runtime(seed=5)) as mos, pytest.raises(ModelMismatchError):
        mos.cube("lab").generate(QUESTION, adapters=[lora.id])


def test_a_corrupt_adapter_file_is_detected(home: Path, runtime: Runtime) -> None:
    with open_memos(home, runtime) as mos:
        cube = mos.create_cube("lab")
        lora = cube.distill(add_facts(cube), steps=3)
    [path] = [p for p in (home / "artifacts" / "lora").rglob("*") if p.is_file()]
    data = bytearray(path.read_bytes())
    data[-10] ^= 0x01
    path.write_bytes(bytes(data))
    with open_memos(home, runtime) as mos, pytest.raises(BackendError, match="corrupt"):
        mos.cube("lab").generate(QUESTION, adapters=[lora.id])


def test_lifecycle_activated_frozen_archived(lab: memos.MemCube) -> None:
    ids = add_facts(lab)
    lora = lab.distill(ids, steps=3)
    assert lora.status.value == "activated"
    lab.freeze(lora.id)
    lab.generate(QUESTION, adapters=[lora.id], max_new_tokens=2)
    lab.update(ids[0], "Alice's sister is named Nora.")
    with pytest.raises(ConflictError, match="frozen"):
        lab.rebuild(lora.id)
    lab.rebuild(lora.id, force=True)
    lab.archive(lora.id)
    with pytest.raises(ConflictError, match="archived"):
        lab.generate(QUESTION, adapters=[lora.id])
    lab.activate(lora.id)
    assert lab.generate(QUESTION, adapters=[lora.id], max_new_tokens=2).adapters == (lora.id,)
    lab.forget(lora.id, hard=True)
    assert lora.artifact is not None
    assert not lab.runtime.parts.adapter_store.contains(lora.artifact)


def test_perplexity_and_evaluate(lab: memos.MemCube) -> None:
    ids = add_facts(lab)
    lora = lab.distill(ids, steps=40, learning_rate=1e-2)
    report = lab.runtime.evaluate(lora.id)
    assert report["texts"] == len(FACTS) and report["ratio"] > 1.0
    answers = lab.runtime.perplexity(["Mira"], prompts=[QUESTION], adapters=[lora.id])
    assert answers > 0
    with pytest.raises(InvalidInputError, match="one prompt per text"):
        lab.runtime.perplexity(["a", "b"], prompts=["q"])
    with pytest.raises(InvalidInputError, match="non-empty"):
        lab.runtime.perplexity([])
    with pytest.raises(InvalidInputError, match="rank"):
        lab.distill(ids, rank=0)
    with pytest.raises(InvalidInputError, match="not an adapter"):
        lab.generate(QUESTION, adapters=[ids[0]])


def test_training_data_templates_and_split() -> None:
    pairs = dict(template_pairs("Alice's sister is named Mira."))
    assert pairs["What is Alice's sister?"] == "named Mira"
    assert dict(template_pairs("Bob lives in Lisbon."))["Where does Bob live?"] == "In Lisbon."
    assert dict(template_pairs("The launch is on March 3"))["When is the launch?"] == "on March 3"
    assert template_pairs("ok") == []

    class Fake:
        def __init__(self, i: int, content: str) -> None:
            self.id, self.content = i, content

    items = [Fake(i, f) for i, f in enumerate(FACTS)]
    train, held = build_examples(items, seed=0)  # type: ignore[arg-type]
    again, held_again = build_examples(items, seed=0)  # type: ignore[arg-type]
    assert train == again and held == held_again and held
    assert {e.prompt for e in held}.isdisjoint({e.prompt for e in train})
    extra, _ = build_examples(items[:1], seed=0, heldout_fraction=0.0, qa=lambda s: [("Q?", "A")])  # type: ignore[arg-type]
    assert any(e.prompt == "Q?" for e in extra)
    assert downsample(list(range(1000)), 10)[0] == 49.5


def test_llm_paraphrases_join_the_templates_when_an_llm_is_configured(
    home: Path, runtime: Runtime
) -> None:
    llm = ScriptedLLM(default="not json")
    llm.when(
        "sister",
        '{"pairs": [{"question": "Who is the sister of Alice?", "answer": "Mira"},'
        ' {"question": "Invented?", "answer": "Zanzibar"}]}',
    )
    with memos.open(
        home, user="alice", embedder=HashEmbedder(dim=64), runtime=runtime, llm=llm
    ) as mos:
        cube = mos.create_cube("lab")
        lora = cube.distill(add_facts(cube), steps=2, heldout_fraction=0.0)
    assert len(llm.calls) == len(FACTS) and llm.calls[0]["json_schema"] is not None
    examples = lora.attributes["examples"]
    assert examples["questions"] == "templates+qa"
    assert examples["qa_pairs"] == 1  # the answer not in the statement was dropped


def test_a_missing_adapter_file_says_to_retrain(lab: memos.MemCube) -> None:
    lora = lab.distill(add_facts(lab), steps=2)
    lab.runtime.parts.adapter_store.delete(lora.artifact or "")
    with pytest.raises(memos.NotFoundError, match=rf"cube.rebuild\({lora.id}\)"):
        lab.generate(QUESTION, adapters=[lora.id])
    lab.rebuild(lora.id)
    assert lab.generate(QUESTION, adapters=[lora.id], max_new_tokens=2).adapters == (lora.id,)
