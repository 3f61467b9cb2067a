"""What the routes share (the service, the authenticator, the metrics), kept on the app,
and the FastAPI dependencies that hand them out."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from memos.server.auth import Authenticator, Principal
from memos.server.metrics import Metrics
from memos.server.service import Service


@dataclass(frozen=True, slots=True)
class ServerParts:
    service: Service
    auth: Authenticator
    metrics: Metrics


def parts(request: Request) -> ServerParts:
    found = request.app.state.memos
    assert isinstance(found, ServerParts)
    return found


def caller(request: Request) -> Principal:
    """The authenticated caller. Raises: AuthenticationError (401)."""
    host = request.client.host if request.client is not None else None
    return parts(request).auth.principal(request.headers, host)
