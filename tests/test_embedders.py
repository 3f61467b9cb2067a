"""Embedders: the real offline MiniLM model, and the deterministic hash embedder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import memos
from memos.errors import ConfigError
from memos.retrieval.embedders import MINILM_ID, SentenceTransformerEmbedder, make_embedder
from memos.testing import HashEmbedder


@pytest.fixture(scope="session")
def minilm() -> SentenceTransformerEmbedder:
    embedder = make_embedder("minilm")
    assert isinstance(embedder, SentenceTransformerEmbedder)
    return embedder


def test_minilm_identity_needs_no_model_load(minilm: SentenceTransformerEmbedder) -> None:
    fresh = make_embedder("minilm")
    spec = fresh.spec
    assert (spec.model, spec.dim, spec.metric) == (MINILM_ID, 384, "ip")
    assert fresh._model is None  # type: ignore[attr-defined]


@pytest.mark.model
def test_minilm_vectors(minilm: SentenceTransformerEmbedder) -> None:
    vectors = minilm.embed_documents(
        ["a cat sat on the mat", "a kitten rested on the rug", "quarterly tax filing deadline"]
    )
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2
    assert minilm.embed_queries([]).shape == (0, 384)


@pytest.mark.model
def test_semantic_search_with_minilm(tmp_path: Path, minilm: SentenceTransformerEmbedder) -> None:
    with memos.open(tmp_path, embedder=minilm) as mos:
        cube = mos.create_cube("life")
        facts = {
            "pet": "Alice owns a golden retriever named Max",
            "launch": "The product release is scheduled for March 3",
            "food": "Bob is allergic to peanuts",
            "move": "Carol relocated to Lisbon last spring",
        }
        ids = {key: cube.add(text).id for key, text in facts.items()}
        for _ in range(20):
            cube.add(f"meeting notes {_}: we discussed the budget spreadsheet")
        questions = {
            "pet": "What kind of dog does Alice have?",
            "launch": "When do we ship?",
            "food": "Which foods must Bob avoid?",
            "move": "Where does Carol live now?",
        }
        for key, question in questions.items():
            assert cube.search(question, k=1)[0].item.id == ids[key], question


def test_hash_embedder_is_deterministic() -> None:
    first = HashEmbedder(dim=32).embed_documents(["same text", "other words"])
    second = HashEmbedder(dim=32).embed_documents(["same text", "other words"])
    assert np.array_equal(first, second)
    assert first[0] @ first[0] == pytest.approx(1.0)
    assert HashEmbedder(dim=32).embed_documents(["!!!"]).shape == (1, 32)


def test_embedder_by_folder_and_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a sentence-transformers model folder"):
        SentenceTransformerEmbedder(tmp_path)
    with pytest.raises(ConfigError, match="unknown embedder"):
        make_embedder(str(tmp_path / "missing"))
    assert make_embedder("hash:16").spec.dim == 16
