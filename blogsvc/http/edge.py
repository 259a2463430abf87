"""What every HTTP request gets, in one layer around the whole app (so 404s and 405s get it too):
a request id echoed in the response and bound to its log lines, the security headers, 304 for a
GET whose If-None-Match names the response's ETag, HEAD answered as the GET without its body, route
metrics, the access log line, and OPTIONS and 405 answered with every method of the path.

One layer with one send wrapper, not a middleware each: every layer costs a coroutine and a send
wrapper per request, and a Litestar route middleware costs an exception handler per route as well.
Route middleware is kept for the routes that need it (Idempotency-Key on POST, and service tokens
when configured), so a GET runs none. What it records (route metrics, the access log) is given to it
by the app (ops/), so this layer knows nothing of how either is kept."""

from __future__ import annotations

import itertools
import re
import secrets
import time
from contextvars import ContextVar
from typing import TYPE_CHECKING, Protocol, cast

from litestar.enums import ScopeType

from blogsvc.http import conditional, headers
from blogsvc.http.methods import ALLOW, AllowedMethods, with_head
from blogsvc.http.problems import problem_document
from blogsvc.http.server_protocol import ANSWERED_BY_SERVER, CLIENT_GONE

if TYPE_CHECKING:
    from collections.abc import Callable

    from litestar.types import ASGIApp, HTTPResponseStartEvent, Message, Receive, ReceiveMessage, Scope, Send

_NO_CONTENT = 204
_METHOD_NOT_ALLOWED = 405
_IF_NONE_MATCH = b"if-none-match"
_HOST = b"host"
_TRANSFER_ENCODING = b"transfer-encoding"
# RFC 9112 3.2: a server answers 400 to an HTTP/1.1 request with no Host header or more than one, and to a
# Host value that is no authority (empty, "a, b"): a reg-name or an IP literal, then maybe a port (RFC 3986
# 3.2). Litestar's router refused some bad values with a bare 400 of its own, and took the rest.
_BAD_HOST = problem_document(400, "An HTTP/1.1 request needs exactly one Host header, naming a host (and port).")
_HOST_VALUE = re.compile(rb"(?:[0-9A-Za-z\-._~!$&'()*+,;=%]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]*)?")
# A body's framing is plain chunked or a Content-Length: any other coding (identity, gzip, a list) is one
# that a proxy in front may read differently (request smuggling), and the service takes none of them.
_BAD_TRANSFER_ENCODING = problem_document(400, "Transfer-Encoding may only be chunked.")
REQUEST_ID_HEADER = b"x-request-id"
# A caller's id is kept only if it is a plain token: nothing to inject into a log line.
_GOOD_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:-]{1,128}")

# The request being served, for every log line written while it is (a plain ContextVar: structlog's
# bound_contextvars costs several times more per request).
request_id: ContextVar[str | None] = ContextVar("blogsvc_request_id", default=None)


class Counter(Protocol):
    def inc(self) -> None: ...
    def dec(self) -> None: ...


class RouteRecorder(Protocol):
    """Where each request's method, route template, status and duration go (ops/metrics.py)."""

    def in_progress(self, method: str) -> Counter: ...
    def record(self, method: str, route: str, status: int, seconds: float) -> None: ...


class Edge:
    def __init__(
        self, app: ASGIApp, metrics: RouteRecorder, log_request: Callable[[str, str, int, float], None] | None
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.log_request = log_request  # None: no access log at this log level
        self.allowed = AllowedMethods()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        given_id = if_none_match = None
        transfer_encoding = b""
        hosts = codings = 0
        host = b""
        for name, value in scope["headers"]:  # one pass over the request's headers
            if name == _HOST:
                hosts += 1
                host = value
            elif name == REQUEST_ID_HEADER:
                given_id = value
            elif name == _IF_NONE_MATCH and method in ("GET", "HEAD"):
                if_none_match = value
            elif name == _TRANSFER_ENCODING:
                codings += 1
                transfer_encoding = value
        this_id = request_id_for(given_id)
        if (hosts != 1 and scope["http_version"] == "1.1") or (hosts and not _HOST_VALUE.fullmatch(host)):
            refused: bytes | None = _BAD_HOST
        elif codings and (codings > 1 or transfer_encoding.strip().lower() != b"chunked"):
            refused = _BAD_TRANSFER_ENCODING
        else:
            refused = None
        status = 0  # until the response starts
        client_gone = False
        # HEAD runs the GET route: the router sees GET (in a copy: the server keeps its HEAD and sends no
        # body), and the body is dropped here too, whatever the server.
        head = method == "HEAD"
        app_scope = {**scope, "method": "GET"} if head else scope
        body_dropped = head

        async def receive_watched() -> ReceiveMessage:
            nonlocal client_gone
            message = await receive()
            if message["type"] == "http.disconnect" and status == 0:
                client_gone = True
            return message

        async def send_completed(message: Message) -> None:
            nonlocal status, body_dropped
            if message["type"] == "http.response.start":
                start = message
                if if_none_match is not None and (replaced := conditional.not_modified(start, if_none_match)):
                    start, body_dropped = replaced, True
                status = start["status"]
                sent = headers.completed(start.get("headers", ()))
                sent.append((REQUEST_ID_HEADER, this_id))
                if method == "OPTIONS" and status == _NO_CONTENT and (allow := self.allowed.of(app_scope)) is not None:
                    sent = [(name, allow if name.lower() == ALLOW else value) for name, value in sent]
                elif status == _METHOD_NOT_ALLOWED:  # the router stops before naming the route: complete its list
                    sent = [(name, with_head(value) if name.lower() == ALLOW else value) for name, value in sent]
                start["headers"] = sent
                message = start
            elif body_dropped:  # a 304 has none: one empty last message for all of the body
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        token = request_id.set(this_id.decode())
        in_progress = self.metrics.in_progress(method)
        in_progress.inc()
        started = time.perf_counter()
        try:
            if refused is None:
                await self.app(app_scope, receive_watched, send_completed)
            else:
                await send_completed(_bad_request_start(refused))
                await send_completed({"type": "http.response.body", "body": refused, "more_body": False})
        finally:
            seconds = time.perf_counter() - started
            if client_gone or CLIENT_GONE in scope:  # gone before the answer: not the server's error (nginx's
                status = cast("int", scope.get(ANSWERED_BY_SERVER, 499))  # 499), unless the server refused it
            elif status == 0:
                status = 500
            in_progress.dec()
            # Set by the router: requests no route matched are not counted (their paths are unbounded).
            route = app_scope.get("path_template")
            if route is not None:
                self.metrics.record(method, route, status, seconds)
            if self.log_request is not None:
                self.log_request(method, route or scope["path"], status, seconds)
            request_id.reset(token)


def _bad_request_start(body: bytes) -> HTTPResponseStartEvent:
    headers = [
        (b"content-type", b"application/problem+json"),
        (b"content-length", b"%d" % len(body)),
        (b"connection", b"close"),  # what follows such a request is not to be trusted to frame the next
    ]
    return {"type": "http.response.start", "status": 400, "headers": headers}


# Unique without a system call per request: a random prefix per process, then a counter.
_REQUEST_ID_PREFIX = secrets.token_hex(8)
_request_ids = itertools.count(1)


def request_id_for(given: bytes | None) -> bytes:
    """The caller's X-Request-ID if it is a plain token, else a new id."""
    if given is not None and _GOOD_REQUEST_ID.fullmatch(given):
        return given
    return f"{_REQUEST_ID_PREFIX}{next(_request_ids):08x}".encode()
