"""LoRA adapter artifacts and the bank of adapters loaded on the runtime model.

Artifact: one safetensors file holding the adapter's tensors as peft names them
(`model.layers.N.self_attn.q_proj.lora_A.weight`, ...) and one metadata key, `memos`: a
JSON object with the format tag, the base model's identity and the LoRA configuration.

Loaded adapters live inside the runtime model as peft LoRA layers, named after their
digest, and are *disabled* except inside `applied(...)`: with every adapter off, a LoRA
layer returns its base layer's output exactly, so KV caches and plain generation see the
base model bit for bit.
"""

from __future__ import annotations

import copy
import json
import warnings
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import torch
from peft import LoraConfig, inject_adapter_in_model, set_peft_model_state_dict
from peft.tuners.tuners_utils import BaseTunerLayer
from safetensors import SafetensorError
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors

from memos.errors import BackendError
from memos.runtime.identity import ModelIdentity, require_same
from memos.runtime.model import Runtime
from memos.stores.artifacts import FileArtifactStore

FORMAT = "memos.lora/1"
CONFIG_FIELDS = ("r", "lora_alpha", "target_modules", "layers_to_transform", "lora_dropout")


def adapter_name(digest: str) -> str:
    # peft keeps adapters in ModuleDicts, whose keys may not contain dots.
    return f"memos_{digest[:16]}"


def lora_config(settings: Mapping[str, Any]) -> LoraConfig:
    """A peft LoraConfig from the recorded fields (`CONFIG_FIELDS`)."""
    return LoraConfig(
        r=int(settings["r"]),
        lora_alpha=int(settings["lora_alpha"]),
        target_modules=list(settings["target_modules"]),
        layers_to_transform=(
            None
            if settings.get("layers_to_transform") is None
            else [int(i) for i in settings["layers_to_transform"]]
        ),
        lora_dropout=float(settings.get("lora_dropout", 0.0)),
        bias="none",
    )


def encode(
    tensors: Mapping[str, torch.Tensor], identity: ModelIdentity, config: dict[str, Any]
) -> bytes:
    """The artifact bytes of an adapter."""
    header = {"format": FORMAT, "identity": identity.to_dict(), "config": config}
    data = {name: t.detach().to("cpu").contiguous() for name, t in tensors.items()}
    return save_tensors(data, metadata={"memos": json.dumps(header, sort_keys=True)})


def decode(data: bytes) -> tuple[dict[str, torch.Tensor], ModelIdentity, dict[str, Any]]:
    """Tensors, base identity and LoRA config of an adapter artifact.

    Raises:
        BackendError: not a memos adapter.
    """
    try:
        length = int.from_bytes(data[:8], "little")
        header = json.loads(json.loads(data[8 : 8 + length])["__metadata__"]["memos"])
        tensors = load_tensors(data)
    except (ValueError, KeyError, TypeError, SafetensorError):
        raise BackendError("the file is not a memos LoRA adapter (no readable header)") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise BackendError(f"the file is not a {FORMAT} adapter")
    return tensors, ModelIdentity.from_dict(header["identity"]), dict(header["config"])


@contextmanager
def quiet_peft() -> Iterator[None]:
    """Silence peft's notices about what memos does on purpose: several adapters on one
    model, and deleting the adapter that was active (memos then switches all off)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*peft_config.*", category=UserWarning)
        warnings.filterwarnings("ignore", message=".*was active which is now deleted.*")
        yield


def tuner_layers(model: Any) -> list[BaseTunerLayer]:
    return [m for m in model.modules() if isinstance(m, BaseTunerLayer)]


def activate(model: Any, names: Sequence[str]) -> None:
    """Make exactly `names` the active adapters (none: the plain base model)."""
    for layer in tuner_layers(model):
        if names:
            layer.enable_adapters(True)
            layer.set_adapter(list(names))
        else:
            layer.enable_adapters(False)


class AdapterBank:
    """Adapters loaded on the runtime model, least recently used unloaded past a limit."""

    def __init__(self, runtime: Runtime, store: FileArtifactStore, *, max_loaded: int) -> None:
        self.runtime = runtime
        self.store = store
        self.max_loaded = max_loaded
        self._loaded: OrderedDict[str, str] = OrderedDict()  # digest -> adapter name

    def loaded(self) -> list[str]:
        return list(self._loaded)

    def ensure(self, digest: str, *, what: str = "adapter") -> str:
        """Load an adapter artifact (checked against the base model) unless loaded.

        Raises:
            ModelMismatchError: trained on another base model.
            NotFoundError, BackendError: the file is missing or corrupt.
        """
        with self.runtime.lock:
            name = self._loaded.get(digest)
            if name is not None:
                self._loaded.move_to_end(digest)
                return name
            tensors, identity, config = decode(self.store.get(digest))
            require_same(identity, self.runtime.identity, what)
            name = adapter_name(digest)
            self.install(name, tensors, config)
            self._loaded[digest] = name
            self._evict(keep=digest)
            return name

    def install(
        self, name: str, tensors: Mapping[str, torch.Tensor], config: Mapping[str, Any]
    ) -> None:
        """Inject an adapter's layers and weights into the model, leaving it disabled.

        Raises:
            BackendError: the tensors do not fit the model.
        """
        model = self.runtime.model
        with self.runtime.lock, quiet_peft():
            inject_adapter_in_model(lora_config(config), model, adapter_name=name)
            moved = {k: v.to(self.runtime.device, self.runtime.dtype) for k, v in tensors.items()}
            result: Any = set_peft_model_state_dict(model, moved, adapter_name=name)
            missing = [k for k in result.missing_keys if f".{name}." in k]
            activate(model, [])
            if missing or result.unexpected_keys:
                self._remove(name)
                raise BackendError(
                    f"adapter tensors do not fit the model (missing {missing[:3]}, "
                    f"unexpected {list(result.unexpected_keys)[:3]}); rebuild the adapter"
                )

    def _evict(self, keep: str) -> None:
        while len(self._loaded) > self.max_loaded:
            digest = next(iter(self._loaded))
            if digest == keep:
                break
            self.unload(digest)

    def unload(self, digest: str) -> bool:
        """Remove an adapter's layers from the model; False when it was not loaded."""
        with self.runtime.lock:
            name = self._loaded.pop(digest, None)
            if name is None:
                return False
            self._remove(name)
            return True

    def _remove(self, name: str) -> None:
        with quiet_peft():
            for layer in tuner_layers(self.runtime.model):
                if name in adapters_of(layer):
                    layer.delete_adapter(name)
        activate(self.runtime.model, [])

    @contextmanager
    def applied(self, digests: Sequence[str]) -> Iterator[None]:
        """Run the model with these adapters stacked (their updates add up)."""
        with self.runtime.lock:
            names = [self.ensure(d) for d in digests]
            activate(self.runtime.model, names)
            try:
                yield
            finally:
                activate(self.runtime.model, [])

    def merged_model(self, digests: Sequence[str]) -> Any:
        """A copy of the base model with these adapters merged into its weights; the
        runtime model is left as it was."""
        with self.runtime.lock:
            names = [self.ensure(d) for d in digests]
            merged = copy.deepcopy(self.runtime.model)
        for layer in tuner_layers(merged):
            present = [n for n in names if n in adapters_of(layer)]
            if present:
                layer.merge(adapter_names=present)
        _strip_tuners(merged)
        return merged


def adapters_of(layer: BaseTunerLayer) -> set[str]:
    found: set[str] = set()
    for attribute in getattr(layer, "adapter_layer_names", ()):
        found.update(getattr(layer, attribute, {}).keys())
    return found


def _strip_tuners(model: Any) -> None:
    """Replace each LoRA wrapper by its (merged) base layer: a plain transformers model."""
    for parent in list(model.modules()):
        for child_name, child in list(parent.named_children()):
            if isinstance(child, BaseTunerLayer):
                setattr(parent, child_name, child.get_base_layer())
