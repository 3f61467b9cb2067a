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


def record(path: Path, title: str, body: str) -> None:
    """Append a titled result with machine, command and UTC time."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    command = "python " + " ".join([sys.argv[0], *sys.argv[1:]])
    with path.open("a") as handle:
        handle.write(
            f"\n### {title} ({stamp})\n\nMachine: {machine()}. Command: `{command}`.\n\n{body}\n"
        )
