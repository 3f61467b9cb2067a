"""How the sync client sends a request: kept-alive HTTP/1.1 connections of the standard
library, or an httpx client.

On loopback, switching the sync client from httpx to `http.client` over kept-alive
sockets cut the added latency of a served call by about 1 ms (bench/server.py, paired;
httpx's request and response models and connection pool), against ~1.5 ms of the
server's own overhead per call. httpx stays the transport when a proxy applies to the
server's address (the standard library here connects directly), when the caller hands in
an httpx client (tests use its ASGI transport), and for the async client.
"""

from __future__ import annotations

import http.client
import json
import ssl
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlencode, urlsplit
from urllib.request import getproxies, proxy_bypass

import httpx

from memos.errors import BackendError, InvalidInputError

# Errors of a kept-alive connection the server closed while it sat idle (uvicorn closes
# them after 5 s). The request never reached the application, so sending it again on a
# new connection is safe, whatever its method.
_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


@dataclass(frozen=True, slots=True)
class Reply:
    """A server's answer: status, reason and body."""

    status: int
    reason: str
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class Transport(Protocol):
    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str],
    ) -> Reply: ...

    def close(self) -> None: ...


def encoded(body: Any, headers: Mapping[str, str]) -> tuple[bytes | None, dict[str, str]]:
    """The bytes of a JSON body (None: no body) and the headers to send with them.

    Raises:
        InvalidInputError: the body holds something JSON cannot carry.
    """
    if body is None:
        return None, dict(headers)
    try:
        text = json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"the request cannot be sent as JSON: {exc}") from None
    return text.encode("utf-8"), {**headers, "Content-Type": "application/json"}


def reply_of(response: httpx.Response) -> Reply:
    return Reply(response.status_code, response.reason_phrase, response.content)


def query_string(params: Mapping[str, Any] | None) -> str:
    """`?a=1&b=x&b=y` as httpx writes it: lists repeat the name, booleans are lowercase."""
    if not params:
        return ""
    pairs = []
    for name, value in params.items():
        for one in value if isinstance(value, list | tuple) else [value]:
            text = "" if one is None else str(one).lower() if isinstance(one, bool) else str(one)
            pairs.append((name, text))
    return "?" + urlencode(pairs)


def open_transport(url: str, timeout: float) -> Transport:
    """The standard library's connections to `url`, unless a proxy applies to it."""
    parts = urlsplit(url)
    proxied = parts.scheme in getproxies() and not proxy_bypass(parts.hostname or "")
    if proxied or parts.scheme not in ("http", "https") or not parts.hostname:
        return HttpxTransport(httpx.Client(base_url=url, timeout=timeout), url, owned=True)
    return KeptAlive(url, timeout)


class KeptAlive:
    """HTTP/1.1 connections to one server, kept open between calls and shared by threads
    (each call takes an idle one or opens one)."""

    def __init__(self, url: str, timeout: float) -> None:
        parts = urlsplit(url)
        self.url = url
        self._https = parts.scheme == "https"
        self._host = parts.hostname or "localhost"
        self._port = parts.port
        self._prefix = parts.path.rstrip("/")
        self._timeout = timeout
        self._context = ssl.create_default_context() if self._https else None
        self._idle: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()
        self._closed = False

    def _connection(self) -> http.client.HTTPConnection:
        if self._https:
            return http.client.HTTPSConnection(
                self._host, self._port, timeout=self._timeout, context=self._context
            )
        return http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str],
    ) -> Reply:
        target = self._prefix + path + query_string(params)
        payload, sent = encoded(body, {**headers, "Accept": "application/json"})
        with self._lock:
            reused = self._idle.pop() if self._idle else None
        connection = reused or self._connection()
        try:
            try:
                reply = self._exchange(connection, method, target, payload, sent)
            except _STALE:
                if reused is None:
                    raise
                connection.close()
                connection = self._connection()
                reply = self._exchange(connection, method, target, payload, sent)
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            raise BackendError(f"cannot reach the memos server at {self.url}: {exc}") from None
        with self._lock:
            if self._closed:
                connection.close()
            else:
                self._idle.append(connection)
        return reply

    @staticmethod
    def _exchange(
        connection: http.client.HTTPConnection,
        method: str,
        target: str,
        payload: bytes | None,
        headers: dict[str, str],
    ) -> Reply:
        # One send for headers and body (bytes), on a socket http.client sets TCP_NODELAY.
        connection.request(method, target, body=payload, headers=headers)
        response = connection.getresponse()
        body = response.read()
        if response.will_close:
            connection.close()  # the next call on it reconnects
        return Reply(response.status, response.reason, body)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()


class HttpxTransport:
    """Calls through an httpx client (one handed in, or made for a proxied server)."""

    def __init__(self, http: httpx.Client, url: str, *, owned: bool) -> None:
        self.http = http
        self.url = url
        self._owned = owned

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str],
    ) -> Reply:
        payload, sent = encoded(body, headers)
        try:
            response = self.http.request(method, path, content=payload, params=params, headers=sent)
        except httpx.TransportError as exc:
            raise BackendError(f"cannot reach the memos server at {self.url}: {exc}") from None
        return reply_of(response)

    def close(self) -> None:
        if self._owned:
            self.http.close()
