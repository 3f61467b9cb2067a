"""One error shape for every response: `{"error": {"type", "message"}}`.

The type is the name of the `memos.errors` class that was raised, so a client raises the
same class again (`memos.client`); the status code follows the class. Anything that is
not a `MemosError` is a bug: the caller gets a 500 with a generic message and the trace
goes to the server's log, never into a response.
"""

from __future__ import annotations

from memos.errors import (
    BackendError,
    ConfigError,
    ConflictError,
    IndexMismatchError,
    InvalidInputError,
    MemosError,
    NotFoundError,
    PermissionDeniedError,
)


class AuthenticationError(MemosError):
    """No API key, or one the server does not accept (HTTP 401)."""


# Most specific first: the first class in an error's MRO found here decides.
STATUS_OF: dict[type[MemosError], int] = {
    AuthenticationError: 401,
    InvalidInputError: 422,
    PermissionDeniedError: 403,
    NotFoundError: 404,
    ConflictError: 409,
    IndexMismatchError: 409,
    ConfigError: 503,
    BackendError: 503,
}

# Statuses the framework answers by itself (unknown route, wrong method, bad JSON).
TYPE_OF_STATUS = {
    400: "InvalidInputError",
    401: "AuthenticationError",
    403: "PermissionDeniedError",
    404: "NotFoundError",
    405: "InvalidInputError",
    409: "ConflictError",
    413: "InvalidInputError",
    415: "InvalidInputError",
    422: "InvalidInputError",
    503: "BackendError",
}

INTERNAL_MESSAGE = "internal server error; the server's log has the details"


def status_of(error: MemosError) -> int:
    for kind in type(error).__mro__:
        if kind in STATUS_OF:
            return STATUS_OF[kind]
    return 500


def error_body(kind: str, message: str) -> dict[str, dict[str, str]]:
    return {"error": {"type": kind, "message": message}}


def describe(error: MemosError) -> dict[str, dict[str, str]]:
    return error_body(type(error).__name__, str(error))
