"""Shared by the benchmark scripts: the machine line and appending an entry to its section
of docs/BENCHMARKS.md (created at the end of the file on first use)."""

from __future__ import annotations

import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path


def machine() -> str:
    cpu = platform.processor() or "unknown cpu"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def record(path: Path, section: str, intro: str, title: str, body: str, script: str) -> None:
    """Insert `### title (date)` with machine, command and `body` at the end of `## section`
    (other sections may follow it in the file)."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    command = f"python {script} " + " ".join(sys.argv[1:])
    entry = (
        f"\n### {title} ({stamp})\n\nMachine: {machine()}. Command: `{command.strip()}`.\n\n"
        f"{body.rstrip()}\n"
    )
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    header = f"## {section}"
    if header not in text:
        path.write_text(text.rstrip("\n") + f"\n\n{header}\n\n{intro.strip()}\n{entry}")
        return
    start = text.index(header)
    following = text.find("\n## ", start + len(header))
    end = len(text) if following == -1 else following
    path.write_text(text[:end].rstrip("\n") + "\n" + entry + text[end:])
