"""Request metrics in the Prometheus text format, and the last line of defence for errors.

`Instrument` wraps the whole app: it counts requests by route template, method and
status, times them into a histogram, and turns an exception nothing else handled into a
500 with the generic error body (the trace goes to the log, never to the caller).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from bisect import bisect_left
from collections.abc import Iterable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from memos.server.errors import INTERNAL_MESSAGE, error_body

log = logging.getLogger("memos.server")

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """Counters and a latency histogram per route; safe across threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: dict[tuple[str, str, int], int] = {}
        self._buckets: dict[str, list[int]] = {}
        self._sums: dict[str, float] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        with self._lock:
            key = (method, route, status)
            self._requests[key] = self._requests.get(key, 0) + 1
            counts = self._buckets.setdefault(route, [0] * (len(BUCKETS) + 1))
            counts[bisect_left(BUCKETS, seconds)] += 1
            self._sums[route] = self._sums.get(route, 0.0) + seconds

    def render(self, gauges: Iterable[tuple[str, str, dict[str, str], float]] = ()) -> str:
        """The text exposition format; `gauges` are (name, help, labels, value)."""
        lines = [
            "# HELP memos_http_requests_total HTTP requests by route, method and status.",
            "# TYPE memos_http_requests_total counter",
        ]
        with self._lock:
            requests = sorted(self._requests.items())
            buckets = {route: list(c) for route, c in sorted(self._buckets.items())}
            sums = dict(self._sums)
        for (method, route, status), count in requests:
            tags = _labels({"method": method, "route": route, "status": str(status)})
            lines.append(f"memos_http_requests_total{tags} {count}")
        lines += [
            "# HELP memos_http_request_duration_seconds Time to answer a request, by route.",
            "# TYPE memos_http_request_duration_seconds histogram",
        ]
        for route, counts in buckets.items():
            running = 0
            for bound, count in zip((*BUCKETS, float("inf")), counts, strict=True):
                running += count
                le = "+Inf" if bound == float("inf") else repr(bound)
                bucket = _labels({"route": route, "le": le})
                lines.append(f"memos_http_request_duration_seconds_bucket{bucket} {running}")
            lines.append(
                f"memos_http_request_duration_seconds_sum{_labels({'route': route})} "
                f"{sums[route]:.6f}"
            )
            lines.append(
                f"memos_http_request_duration_seconds_count{_labels({'route': route})} {running}"
            )
        seen: set[str] = set()
        for name, help_text, labels, value in gauges:
            if name not in seen:
                seen.add(name)
                lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
            lines.append(f"{name}{_labels(labels)} {value:g}")
        return "\n".join(lines) + "\n"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(labels: dict[str, str]) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items()) + "}"


class Instrument:
    """ASGI middleware: metrics for every HTTP request, and a 500 for unhandled errors."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_wrapper(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = int(message["status"])
                response_started = True
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception:
            log.exception("unhandled error in %s %s", scope.get("method"), scope.get("path"))
            status = 500
            if not response_started:
                await _send_json(send, 500, error_body("InternalError", INTERNAL_MESSAGE))
        finally:
            route: Any = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self.metrics.observe(
                str(scope.get("method", "")), str(template), status, time.perf_counter() - started
            )


async def _send_json(send: Send, status: int, body: Any) -> None:
    payload = json.dumps(body).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
