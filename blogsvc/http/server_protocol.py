"""uvicorn's httptools protocol as `blogsvc serve` runs it: each response leaves in one write, and a
connection is held only as long as it keeps to the limits below.

One write: uvicorn writes a response's head when the app sends `http.response.start` and its body when
the app sends `http.response.body`: two system calls for the small JSON answers this service gives,
each a full trip through the TCP stack (14% of a worker's samples under load on single reads). Here the
connection's writes made in one turn of the event loop are joined and written once, at the start of the
next turn.

Limits (uvicorn has none of these; its concurrency limit counted idle and half-sent connections, so a
thousand slow sockets made every request a 503, probes included):
- a request's head (request line and headers) must arrive within `header_timeout` of the connection
  opening or of the request's first byte, else 408 (or, if nothing came, the connection just closes);
- its body within `body_timeout` of the head, else 408 (the app is told the client is gone);
- a head of at most `max_header_bytes` and `max_headers` fields, else 431 (one still arriving is refused once
  it passes the limit, give or take one read, so a huge header is never held);
- at most `max_requests` requests in progress in the worker, else 503; the probes are never refused,
  and a connection that is only open, or still sending its head, is not a request in progress.
Each is answered with a problem document and `Connection: close`, and reported to `on_rejected`
(metrics and a log line, ops/metrics.py). A timer is armed only when a head or body is still incomplete
after a read, so a request that arrives whole (nearly all) costs none."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httptools
import msgspec
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from blogsvc.http import headers
from blogsvc.http.problems import problem_document

if TYPE_CHECKING:
    import asyncio

    from litestar.types import Receive, Scope, Send

# In a request's scope once the server has answered for it (a body that came too slowly): the Edge logs
# and counts that status instead of the 499 of a client that went away.
ANSWERED_BY_SERVER = "blogsvc.answered_by_server"
# In a request's scope when its connection was lost before its answer began: the app may never call receive()
# again (the body was all in), so the Edge learns from this that the client left (499), whatever it answered.
CLIENT_GONE = "blogsvc.client_gone"
PROBES = frozenset({b"/healthz", b"/readyz"})  # as the request line has them
_HEAD, _BODY = "head", "body"  # the deadlines a connection's one timer can be
LINGER = 2.0  # seconds a refused connection is still read (and dropped) after its answer, before the close

# (reason, status): status 0 when the connection was closed without an answer (it had sent nothing).
RejectionRecorder = Callable[[str, int], None]


class ConnectionLimits(msgspec.Struct, frozen=True):
    header_timeout: float = 5.0
    body_timeout: float = 10.0
    max_requests: int | None = 1000  # in progress per worker, probes not counted; None: no limit
    max_header_bytes: int = 64 * 1024
    max_headers: int = 100


class _Refusal(Exception):
    """Raised in a parser callback to stop the parse; feed_data raises it again as the __context__ of its own."""

    def __init__(self, reason: str, status: int, detail: str) -> None:
        super().__init__(detail)
        self.reason, self.status, self.detail = reason, status, detail


class ServerProtocol(HttpToolsProtocol):
    def __init__(
        self,
        *args: Any,
        limits: ConnectionLimits | None = None,
        on_rejected: RejectionRecorder | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.limits = limits or ConnectionLimits()
        self.limit_concurrency = None  # uvicorn's counts connections; on_headers_complete counts requests
        self._on_rejected = on_rejected or _not_recorded
        self._timer: asyncio.TimerHandle | None = None
        self._armed: str | None = None  # which deadline the timer is: _HEAD or _BODY
        self._head_bytes = 0  # read outside bodies since the last head was complete (or the connection opened)
        self._lingering = False
        self._body_done = True  # the request being read, if any, has all its body (none yet: nothing to wait for)

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(_JoinedWrites(transport, self.loop))  # type: ignore[arg-type]
        self._arm(_HEAD, self.limits.header_timeout, self._head_too_slow)  # a connection that sends nothing too

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        if (cycle := self.cycle) is not None and not cycle.response_started:
            cycle.scope[CLIENT_GONE] = True  # type: ignore[literal-required]
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._lingering:  # answered and closing: what still comes is dropped
            return
        self._unset_keepalive_if_required()
        cycle = self.cycle
        if cycle is None or not cycle.more_body or cycle.scope is not self.scope:  # not in the middle of a body
            self._head_bytes += len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:  # as uvicorn's own data_received
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
        except httptools.HttpParserError as exc:
            refusal = exc.__context__ if isinstance(exc.__context__, _Refusal) else None
            self._refuse(refusal or _Refusal("bad_request", 400, "The request is not valid HTTP/1.1."))
            return
        if self._in_head():
            if self._head_bytes > self.limits.max_header_bytes or len(self.headers) > self.limits.max_headers:
                self._refuse(_head_too_large(self.limits, len(self.headers)))
            elif self._armed != _HEAD:
                self._arm(_HEAD, self.limits.header_timeout, self._head_too_slow)
        elif (cycle := self.cycle) is not None and not self._body_done:
            # A body still arriving, answered already or not (uvicorn drops what comes after its answer, and
            # the bytes would otherwise hold the connection for as long as they trickle in).
            if self._armed != _BODY:
                self._arm(_BODY, self.limits.body_timeout, self._body_too_slow)
        elif cycle is not None and not cycle.response_complete:  # all in, the app is at work: no deadline
            self._disarm()
        elif self._armed != _HEAD:
            # No request under way, yet bytes came (blank lines, the end of a body answered early): uvicorn's
            # keep-alive timer is gone (any read cancels it), so the wait for the next head is bounded here.
            self._arm(_HEAD, self.limits.header_timeout, self._head_too_slow)

    def _in_head(self) -> bool:
        """A request has begun and its head is not all in (uvicorn makes its cycle when the head is complete)."""
        return self.scope is not None and (self.cycle is None or self.cycle.scope is not self.scope)

    # Parser callbacks
    def on_message_begin(self) -> None:
        self._body_done = False
        super().on_message_begin()

    def on_message_complete(self) -> None:
        # uvicorn's own ignores the end of a body that comes after the answer; it is noted here whatever came.
        self._body_done = True
        super().on_message_complete()

    def on_headers_complete(self) -> None:
        # A head that came whole in one large read is measured here (only then: a read may hold a body too).
        limits, fields = self.limits, len(self.headers)
        if fields > limits.max_headers or (
            self._head_bytes > limits.max_header_bytes and _head_size(self.url, self.headers) > limits.max_header_bytes
        ):
            raise _head_too_large(limits, fields)
        self._head_bytes = 0  # counted from here: so a head may pass the limit by the rest of one read
        if limits.max_requests is not None and len(self.tasks) >= limits.max_requests and not self._probe():
            self._on_rejected("overloaded", 503)
            app, self.app = self.app, _overloaded  # for this request only
            try:
                super().on_headers_complete()
            finally:
                self.app = app
            return
        super().on_headers_complete()

    def _probe(self) -> bool:
        return self.url.partition(b"?")[0] in PROBES

    # Limits
    def _arm(self, deadline: str, seconds: float, callback: Callable[[], None]) -> None:
        self._disarm()
        self._timer, self._armed = self.loop.call_later(seconds, callback), deadline

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = self._armed = None

    def _head_too_slow(self) -> None:
        self._timer = self._armed = None
        if self.transport.is_closing():
            return
        if not self._in_head():  # nothing sent: no request to answer
            self._on_rejected("header_timeout", 0)
            self.transport.close()
            return
        seconds = f"{self.limits.header_timeout:g}"
        self._refuse(_Refusal("header_timeout", 408, f"The request's headers did not arrive within {seconds} s."))

    def _body_too_slow(self) -> None:
        self._timer = self._armed = None
        cycle = self.cycle
        if self.transport.is_closing() or cycle is None:
            return
        seconds = f"{self.limits.body_timeout:g}"
        refusal = _Refusal("body_timeout", 408, f"The request's body did not arrive within {seconds} s.")
        if cycle.response_started:  # the app answered before reading it all: nothing more to say
            self._on_rejected(refusal.reason, 0)
            self.transport.close()
            return
        self._refuse(refusal)

    def _refuse(self, refusal: _Refusal) -> None:
        """Answer with a problem document and end the connection (keep-alive cannot go on after any of these).

        The close lingers, as nginx's does: the answer goes, then the sending side is shut, and what the
        client still sends is read and dropped for LINGER seconds. A plain close with unread bytes makes
        the kernel reset the connection, and the client would see the reset instead of the answer."""
        self._disarm()
        self._on_rejected(refusal.reason, refusal.status)
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            # The app may be at work on this request (a body refused after its head was passed on): it is
            # told the client is gone, and what it still sends is dropped, for this answer is the last word.
            if cycle.scope is self.scope:
                cycle.scope[ANSWERED_BY_SERVER] = refusal.status  # type: ignore[literal-required]
            cycle.disconnected = True
            cycle.message_event.set()
        if self.transport.is_closing():
            return
        self.transport.write(_answer(refusal.status, refusal.detail))
        self._lingering = True
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self._arm("linger", LINGER, self.transport.close)


def _head_size(url: bytes, fields: list[tuple[bytes, bytes]]) -> int:
    return len(url) + sum(len(name) + len(value) + 4 for name, value in fields)  # ": " and CRLF


def _head_too_large(limits: ConnectionLimits, fields: int) -> _Refusal:
    if fields > limits.max_headers:
        return _Refusal("too_many_headers", 431, f"A request may have at most {limits.max_headers} headers.")
    return _Refusal("headers_too_large", 431, f"A request's headers may hold at most {limits.max_header_bytes} bytes.")


def _answer(status: int, detail: str) -> bytes:
    """A whole HTTP/1.1 response carrying a problem document, that closes the connection."""
    body = problem_document(status, detail)
    head = [
        STATUS_LINE[status],
        b"content-type: application/problem+json\r\n",
        b"content-length: %d\r\n" % len(body),
        b"connection: close\r\n",
        *(b"%s: %s\r\n" % header for header in headers.completed(())),  # as the app's answers have them
        b"\r\n",
    ]
    return b"".join(head) + body


_OVERLOADED = problem_document(503, "The server is busy; try again in a second.")
_OVERLOADED_HEADERS = headers.completed(
    [
        (b"content-type", b"application/problem+json"),
        (b"content-length", b"%d" % len(_OVERLOADED)),
        (b"retry-after", b"1"),
        (b"connection", b"close"),  # a flood's connections are not kept
    ]
)


async def _overloaded(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 503, "headers": _OVERLOADED_HEADERS})
    await send({"type": "http.response.body", "body": _OVERLOADED, "more_body": False})


def _not_recorded(reason: str, status: int) -> None:
    pass


class _JoinedWrites:
    """A transport whose writes wait for the end of the loop's turn; the rest is the transport's own."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []
        self._eof = False

    def write(self, data: bytes) -> None:
        if self._eof:  # the sending side is shut: nothing more can go
            return
        if not self._pending:
            self._loop.call_soon(self._flush)
        self._pending.append(data)

    def _flush(self) -> None:
        if self._pending:
            data = b"".join(self._pending)
            self._pending.clear()
            if not self._transport.is_closing():
                self._transport.write(data)

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def write_eof(self) -> None:
        self._flush()
        self._eof = True
        self._transport.write_eof()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)
