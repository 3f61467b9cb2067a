#!/usr/bin/env bash
# ruff (lint + format) and mypy --strict over the whole package.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
"$PY" -m ruff check .
"$PY" -m ruff format --check .
# mypy cannot follow pyproject's package-dir mapping (stores/ -> memos.stores, ...), so it
# checks a tree of links laid out the way the package installs.
tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
mkdir "$tree/memos"
for f in memos/*.py memos/py.typed; do ln -s "$PWD/$f" "$tree/memos/"; done
for sub in memos/*/; do sub=${sub%/}; [ "${sub##*/}" = __pycache__ ] || ln -s "$PWD/$sub" "$tree/memos/${sub##*/}"; done
for room in stores retrieval agents cli; do ln -s "$PWD/$room" "$tree/memos/$room"; done
"$PY" -m mypy --config-file pyproject.toml "$tree/memos"
