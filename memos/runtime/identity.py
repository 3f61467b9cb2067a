"""Model identity: what a KV cache or an adapter was built with, so a mismatch is refused.

Two runtimes are interchangeable for derived memory when their weights, dtype and
tokenizer are the same. The model id is a label for people; it is reported, not compared
(the same weights loaded by name or by path are the same model).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from memos.errors import BackendError, ModelMismatchError
from memos.models import Record

if TYPE_CHECKING:
    import torch

COMPARED = ("weights", "dtype", "tokenizer")


@dataclass(frozen=True, slots=True)
class ModelIdentity(Record):
    """Model id, sha256 of the weights, dtype and sha256 of the tokenizer."""

    model: str
    weights: str
    dtype: str
    tokenizer: str

    def short(self) -> str:
        return f"{self.model} ({self.dtype}, weights {self.weights[:12]})"

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelIdentity:
        """Raises: BackendError: the record lacks a field."""
        try:
            return cls(
                model=str(data["model"]),
                weights=str(data["weights"]),
                dtype=str(data["dtype"]),
                tokenizer=str(data["tokenizer"]),
            )
        except (KeyError, TypeError):
            raise BackendError(f"unreadable model identity {data!r}") from None

    def differences(self, other: ModelIdentity) -> list[str]:
        return [name for name in COMPARED if getattr(self, name) != getattr(other, name)]


def require_same(built: ModelIdentity, current: ModelIdentity, what: str) -> None:
    """Refuse derived memory made by another model.

    Raises:
        ModelMismatchError: weights, dtype or tokenizer differ.
    """
    differ = built.differences(current)
    if differ:
        raise ModelMismatchError(
            f"{what} was built with {built.short()} but the runtime model is "
            f"{current.short()} (different {', '.join(differ)}); rebuild it with this model "
            "(cube.rebuild(id)) or set MEMOS_RUNTIME_MODEL / MEMOS_RUNTIME_DTYPE to the one "
            "it was built with"
        )


def weights_digest(tensors: Iterable[tuple[str, torch.Tensor]]) -> str:
    """sha256 over every tensor's name, dtype, shape and bytes, in name order: the same
    weights give the same digest whether they came from a file or were built in memory."""
    digest = hashlib.sha256()
    for name, tensor in sorted(tensors, key=lambda pair: pair[0]):
        flat = tensor.detach().to("cpu").contiguous()
        digest.update(f"{name}|{flat.dtype}|{tuple(flat.shape)}\n".encode())
        digest.update(flat.reshape(-1).view(_byte_dtype()).numpy().data)
    return digest.hexdigest()


def _byte_dtype() -> torch.dtype:
    import torch

    return torch.uint8


def tokenizer_digest(tokenizer: Any) -> str:
    """sha256 of the tokenizer's full definition (vocabulary, merges, normaliser, special
    tokens) and its chat template, which shapes every prompt."""
    digest = hashlib.sha256()
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None:
        digest.update(backend.to_str().encode())
    else:
        digest.update(json.dumps(sorted(tokenizer.get_vocab().items())).encode())
    digest.update(b"\x00" + str(getattr(tokenizer, "chat_template", None) or "").encode())
    special = {k: str(v) for k, v in sorted(tokenizer.special_tokens_map.items())}
    digest.update(b"\x00" + json.dumps(special, sort_keys=True).encode())
    return digest.hexdigest()
