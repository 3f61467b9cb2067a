#!/usr/bin/env bash
# Set up memos and run the quickstart on embedded defaults: SQLite under ./memos-home,
# the offline MiniLM embedder, no server and no API key.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
MEMOS_HOME=${MEMOS_HOME:-$PWD/memos-home} .venv/bin/python examples/quickstart.py
