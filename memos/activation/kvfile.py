"""The KV cache artifact: one safetensors file per cache.

Tensors: `prefix_ids` (int64, the prefix's tokens) and, for every layer i, `keys.i` and
`values.i` shaped [batch=1, kv_heads, tokens, head_dim]. Storage is the model's dtype
(`native`, lossless), `float16` / `bfloat16`, or `int8`, which adds `keys.i.scale` and
`values.i.scale`: one float32 scale per channel (head x head_dim), the channel's largest
magnitude over the tokens / 127. The header's metadata holds a single key, `memos`, a JSON
object with the format tag, the storage, the layer count and the model identity (one key,
so the header's bytes, and hence the content hash, do not depend on map ordering).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors

from memos.activation.storage import check_storage
from memos.errors import BackendError
from memos.runtime.identity import ModelIdentity
from memos.runtime.model import KVLayers

FORMAT = "memos.kv/1"


@dataclass(frozen=True)
class KVCache:
    """A loaded cache: the layers' keys and values, the prefix tokens and the model."""

    layers: KVLayers
    prefix_ids: tuple[int, ...]
    identity: ModelIdentity
    storage: str

    @property
    def tokens(self) -> int:
        return len(self.prefix_ids)

    @property
    def nbytes(self) -> int:
        """Bytes the loaded tensors occupy."""
        return sum(
            k.numel() * k.element_size() + v.numel() * v.element_size() for k, v in self.layers
        )

    def to(self, device: torch.device | str) -> KVCache:
        moved = tuple((k.to(device), v.to(device)) for k, v in self.layers)
        return KVCache(moved, self.prefix_ids, self.identity, self.storage)


def quantize(tensor: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """int8 values and per-channel float32 scales (channel = last dim within each head)."""
    wide = tensor.float()
    scale = (wide.abs().amax(dim=-2, keepdim=True) / 127.0).clamp(min=1e-12)
    return torch.round(wide / scale).clamp(-127, 127).to(torch.int8), scale


def dequantize(values: torch.Tensor, scale: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    return (values.float() * scale).to(dtype)


def encode(
    layers: KVLayers, prefix_ids: Sequence[int], identity: ModelIdentity, storage: str
) -> bytes:
    """The artifact bytes of a cache."""
    check_storage(storage)
    tensors: dict[str, torch.Tensor] = {
        "prefix_ids": torch.tensor(list(prefix_ids), dtype=torch.int64)
    }
    for index, (keys, values) in enumerate(layers):
        for name, tensor in (("keys", keys), ("values", values)):
            data = tensor.detach().to("cpu")
            if storage == "int8":
                quantized, scale = quantize(data)
                tensors[f"{name}.{index}"] = quantized.contiguous()
                tensors[f"{name}.{index}.scale"] = scale.contiguous()
            elif storage == "native":
                tensors[f"{name}.{index}"] = data.contiguous()
            else:
                tensors[f"{name}.{index}"] = data.to(getattr(torch, storage)).contiguous()
    header = {
        "format": FORMAT,
        "storage": storage,
        "layers": len(layers),
        "dtype": identity.dtype,
        "identity": identity.to_dict(),
    }
    return save_tensors(tensors, metadata={"memos": json.dumps(header, sort_keys=True)})


def read_header(data: bytes) -> dict[str, Any]:
    """The `memos` metadata of a KV file. Raises: BackendError: not a memos KV cache."""
    try:
        length = int.from_bytes(data[:8], "little")
        raw = json.loads(data[8 : 8 + length])
        header = json.loads(raw["__metadata__"]["memos"])
    except (ValueError, KeyError, TypeError):
        raise BackendError("the file is not a memos KV cache (no readable header)") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise BackendError(f"the file is not a {FORMAT} KV cache")
    return header


def decode(data: bytes, *, dtype: torch.dtype, device: torch.device | str = "cpu") -> KVCache:
    """A cache from artifact bytes, widened back to the runtime's dtype.

    Raises:
        BackendError: not a memos KV cache, or its tensors are incomplete.
    """
    header = read_header(data)
    try:
        tensors = load_tensors(data)
    except SafetensorError as exc:
        raise BackendError(f"unreadable KV cache: {exc}") from None
    storage = str(header["storage"])
    layers = []
    try:
        for index in range(int(header["layers"])):
            pair = []
            for name in ("keys", "values"):
                tensor = tensors[f"{name}.{index}"]
                if storage == "int8":
                    tensor = dequantize(tensor, tensors[f"{name}.{index}.scale"], dtype)
                pair.append(tensor.to(device=device, dtype=dtype))
            layers.append((pair[0], pair[1]))
        prefix = tuple(int(i) for i in tensors["prefix_ids"].tolist())
    except KeyError as exc:
        raise BackendError(f"KV cache is missing tensor {exc}; rebuild it") from None
    return KVCache(tuple(layers), prefix, ModelIdentity.from_dict(header["identity"]), storage)
