"""Crash points for recovery tests.

Setting MEMOS_CRASH_AT=<name> in a child process makes it kill itself with SIGKILL when it
reaches the named point, so tests can prove that a crash there loses nothing. Unset, a
check costs one dictionary lookup.
"""

from __future__ import annotations

import os
import signal


def crash_point(name: str) -> None:
    """Die here, without cleanup, if MEMOS_CRASH_AT names this point."""
    if os.environ.get("MEMOS_CRASH_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
