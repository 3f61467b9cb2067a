"""Progress for long work: bars and spinners on a terminal, silence otherwise."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from tqdm import tqdm

T = TypeVar("T")

_quiet = False


def set_quiet(quiet: bool) -> None:
    """Silence progress output (the CLI does this for --json)."""
    global _quiet
    _quiet = quiet


def enabled() -> bool:
    """Progress shows only on an interactive terminal and when not silenced."""
    return not _quiet and sys.stderr.isatty()


def progress(items: Iterable[T], *, desc: str, total: int | None = None) -> Iterator[T]:
    """Iterate with a progress bar on stderr when enabled."""
    if not enabled():
        yield from items
        return
    yield from tqdm(items, desc=desc, total=total, leave=False, file=sys.stderr)


@contextmanager
def status(message: str) -> Iterator[None]:
    """Say what slow step is running and how long it took, on a terminal."""
    if not enabled():
        yield
        return
    started = time.perf_counter()
    sys.stderr.write(f"{message} ...")
    sys.stderr.flush()
    try:
        yield
    finally:
        sys.stderr.write(f" done ({time.perf_counter() - started:.1f}s)\n")
        sys.stderr.flush()


def quiet_library_progress() -> None:
    """Keep transformers' own bars out of the output unless we show progress ourselves."""
    if enabled():
        return
    try:
        from transformers.utils import logging as hf_logging
    except ImportError:
        return
    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    hf_logging.set_verbosity_error()  # type: ignore[no-untyped-call]
