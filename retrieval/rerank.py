"""Re-ranking the head of a result list with a slower, more precise scorer.

No cross-encoder ships inside a PyPI package that loads offline, so memos brings a
deterministic `TermCoverageReranker` and a `CrossEncoderReranker` for any
sentence-transformers cross-encoder folder you have on disk:

    mos = memos.open(reranker=CrossEncoderReranker(Path("~/models/ms-marco-MiniLM-L-6-v2")))
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from memos.errors import ConfigError
from memos.progress import quiet_library_progress, status
from memos.text import query_terms


@runtime_checkable
class Reranker(Protocol):
    """Scores (query, text) pairs; higher = more relevant. Only the order matters."""

    def score(self, query: str, texts: Sequence[str]) -> list[float]: ...


class TermCoverageReranker:
    """Share of the query's content words a text contains (prefix-matched, so 'paint'
    covers 'painting'), plus a bonus for query word pairs that appear next to each other."""

    def __init__(self, prefix: int = 5, pair_bonus: float = 0.5) -> None:
        self.prefix = prefix
        self.pair_bonus = pair_bonus

    def _stems(self, words: Sequence[str]) -> list[str]:
        return [w[: self.prefix] for w in words]

    def score(self, query: str, texts: Sequence[str]) -> list[float]:
        wanted = self._stems(query_terms(query))
        if not wanted:
            return [0.0] * len(texts)
        pairs = set(itertools.pairwise(wanted))
        out = []
        for text in texts:
            stems = self._stems(query_terms(text))
            present = set(stems)
            coverage = sum(1 for w in wanted if w in present) / len(wanted)
            adjacent = set(itertools.pairwise(stems)) & pairs
            out.append(coverage + self.pair_bonus * len(adjacent) / max(len(pairs), 1))
        return out


class CrossEncoderReranker:
    """A sentence-transformers CrossEncoder loaded lazily from a local folder, offline."""

    def __init__(self, path: Path, *, device: str = "cpu", batch_size: int = 32) -> None:
        path = Path(path).expanduser()
        if not (path / "config.json").is_file():
            raise ConfigError(f"{path} is not a cross-encoder model folder (no config.json)")
        self.path = path
        self.device = device
        self.batch_size = batch_size
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                with status(f"loading cross-encoder {self.path.name}"):
                    quiet_library_progress()
                    from sentence_transformers import CrossEncoder

                    self._model = CrossEncoder(str(self.path), device=self.device)
            return self._model

    def score(self, query: str, texts: Sequence[str]) -> list[float]:
        if not texts:
            return []
        model = self._load()
        scores = model.predict([(query, t) for t in texts], batch_size=self.batch_size,
                               show_progress_bar=False)  # fmt: skip
        return [float(s) for s in scores]
