"""Shared by the benchmark scripts: the machine description and appending a result to
docs/BENCHMARKS.md with its command and date."""

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


def record(
    path: Path, title: str, body: str, *, section: str | None = None, intro: str = ""
) -> None:
    """Add `### title (date)` with machine, command and `body` to docs/BENCHMARKS.md.

    Without `section` the entry goes at the end of the file; with one, at the end of
    `## section` (created at the end of the file, with `intro`, on first use), so that
    later sections stay where they are.
    """
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    command = "python " + " ".join([sys.argv[0], *sys.argv[1:]])
    entry = (
        f"\n### {title} ({stamp})\n\nMachine: {machine()}. Command: `{command}`.\n\n"
        f"{body.rstrip()}\n"
    )
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    if section is None:
        path.write_text(text + entry)
        return
    header = f"## {section}"
    if header not in text:
        path.write_text(text.rstrip("\n") + f"\n\n{header}\n\n{intro.strip()}\n{entry}")
        return
    start = text.index(header)
    following = text.find("\n## ", start + len(header))
    end = len(text) if following == -1 else following
    path.write_text(text[:end].rstrip("\n") + "\n" + entry + text[end:])
