#!/usr/bin/env bash
# ruff (lint + format), mypy --strict over the whole package, and the layer contracts.
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
# The layer contracts (pyproject's [tool.importlinter]) over a copy of the installed layout:
# the import graph builder does not follow the links above.
layout=$(mktemp -d)
trap 'rm -rf "$tree" "$layout"' EXIT
mkdir "$layout/memos"
cp -r memos/. "$layout/memos/"
for room in stores retrieval agents cli; do cp -r "$room" "$layout/memos/$room"; done
find "$layout" -name __pycache__ -prune -exec rm -rf {} +
cp pyproject.toml "$layout/"
bindir=$(cd "$(dirname "$PY")" && pwd)
(cd "$layout" && PYTHONPATH="$layout" "$bindir/lint-imports" --no-cache)
