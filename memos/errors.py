"""Errors raised by memos. Every message says what went wrong and what to do next."""

from __future__ import annotations


class MemosError(Exception):
    """Base class of every error memos raises on purpose."""


class NotFoundError(MemosError):
    """A cube, item, version or file does not exist (or is not visible to the user)."""


class InvalidInputError(MemosError, ValueError):
    """The caller passed something memos cannot accept (empty text, bad date, bad file)."""


class PermissionDeniedError(MemosError):
    """The acting user lacks the permission the operation needs."""


class ConflictError(MemosError):
    """The operation conflicts with the current state (name taken, frozen item, ...)."""


class InvalidTransitionError(ConflictError):
    """A lifecycle transition that the state machine does not allow."""


class ConfigError(MemosError):
    """Settings are missing or inconsistent."""


class IndexMismatchError(MemosError):
    """A cube or index was built with a different embedder, dimension or metric."""


class ModelMismatchError(IndexMismatchError):
    """A KV cache or adapter was built by a different runtime model, dtype or tokenizer."""


class StaleMemoryError(ConflictError):
    """Derived memory (a KV cache or an adapter) is out of date with its sources."""


class BackendError(MemosError):
    """The database or a file on disk failed or is corrupt."""
