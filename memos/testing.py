"""Deterministic fakes that are real implementations, for tests and examples.

`HashEmbedder` embeds text by feature hashing of words and character trigrams: no model,
no randomness, and texts that share words really do score closer. `FakeClock` lets tests
move time (TTL, validity) without sleeping.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import numpy as np

from memos.models import EmbedderSpec
from memos.protocols import FloatArray
from memos.retrieval.embedders import BaseEmbedder

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


class FakeClock:
    """A clock that moves only when told, plus one microsecond per reading so that
    successive writes stay strictly ordered."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2025, 1, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(microseconds=1)
        return self.now

    def advance(self, **delta: float) -> datetime:
        """Move forward, e.g. `clock.advance(days=2)`."""
        self.now += timedelta(**delta)
        return self.now
