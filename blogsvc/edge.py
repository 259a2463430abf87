"""What every HTTP request gets, in one layer around the whole app (so 404s and 405s get it too):
a request id echoed in the response and bound to its log lines, the security headers, 304 for a
GET whose If-None-Match names the response's ETag, route metrics, the access log line, and OPTIONS
answered with every method of the path.

One layer with one send wrapper, not a middleware each: every layer costs a coroutine and a send
wrapper per request, and a Litestar route middleware costs an exception handler per route as well.
Route middleware is kept for the routes that need it (Idempotency-Key on POST, and service tokens
when configured), so a GET runs none."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from litestar.enums import ScopeType

from blogsvc import conditional, logs
from blogsvc.metrics import RouteMetrics
from blogsvc.security import headers
from blogsvc.security.methods import ALLOW, AllowedMethods

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Message, Receive, Scope, Send

_NO_CONTENT = 204
_IF_NONE_MATCH = b"if-none-match"


class Edge:
    def __init__(self, app: ASGIApp, log_level: str) -> None:
        self.app = app
        self.logging = logs.logs_requests(log_level)
        self.metrics = RouteMetrics()
        self.allowed = AllowedMethods()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        given_id = if_none_match = None
        for name, value in scope["headers"]:  # one pass over the request's headers
            if name == logs.REQUEST_ID_HEADER:
                given_id = value
            elif name == _IF_NONE_MATCH and method == "GET":
                if_none_match = value
        this_id = logs.request_id_for(given_id)
        status = 500
        body_dropped = False

        async def send_completed(message: Message) -> None:
            nonlocal status, body_dropped
            if message["type"] == "http.response.start":
                start = message
                if if_none_match is not None and (replaced := conditional.not_modified(start, if_none_match)):
                    start, body_dropped = replaced, True
                status = start["status"]
                sent = headers.completed(start.get("headers", ()))
                sent.append((logs.REQUEST_ID_HEADER, this_id))
                if method == "OPTIONS" and status == _NO_CONTENT and (allow := self.allowed.of(scope)) is not None:
                    sent = [(name, allow if name.lower() == ALLOW else value) for name, value in sent]
                start["headers"] = sent
                message = start
            elif body_dropped:  # a 304 has none: one empty last message for all of the body
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        token = logs.request_id.set(this_id.decode())
        in_progress = self.metrics.in_progress(method)
        in_progress.inc()
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_completed)
        finally:
            seconds = time.perf_counter() - started
            in_progress.dec()
            # Set by the router: requests no route matched are not counted (their paths are unbounded).
            route = scope.get("path_template")
            if route is not None:
                self.metrics.record(method, route, status, seconds)
            if self.logging:
                logs.log_request(method, route or scope["path"], status, seconds)
            logs.request_id.reset(token)
