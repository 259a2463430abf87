"""blogsvc.http.server_protocol: a connection's writes in one turn of the event loop leave as one write, and a
request past the limits is answered and the connection ended (tests/security/test_connection_limits.py
tries the limits against a real server)."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
import uvicorn
from uvicorn.server import ServerState

from blogsvc.http.edge import Edge
from blogsvc.http.server_protocol import ANSWERED_BY_SERVER, ConnectionLimits, ServerProtocol, _JoinedWrites


class RecordingTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False
        self.eof = False

    def write(self, data: Any) -> None:
        assert not self.closed, "written after close"
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        self.eof = True

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("127.0.0.1", 8000) if name == "sockname" else default


async def test_writes_of_one_turn_leave_together_at_the_next() -> None:
    transport = RecordingTransport()
    joined = _JoinedWrites(transport, asyncio.get_running_loop())
    joined.write(b"HTTP/1.1 200 OK\r\n\r\n")
    joined.write(b"{}")
    assert transport.writes == []  # nothing yet: the turn is not over
    await asyncio.sleep(0)
    assert transport.writes == [b"HTTP/1.1 200 OK\r\n\r\n{}"]
    joined.write(b"next")
    await asyncio.sleep(0)
    assert transport.writes == [b"HTTP/1.1 200 OK\r\n\r\n{}", b"next"]


async def test_close_sends_what_is_waiting_first() -> None:
    transport = RecordingTransport()
    joined = _JoinedWrites(transport, asyncio.get_running_loop())
    joined.write(b"last words")
    joined.close()
    assert transport.writes == [b"last words"]
    assert transport.closed
    await asyncio.sleep(0)  # the flush scheduled by the write finds nothing left to send
    assert transport.writes == [b"last words"]


async def test_a_transport_closed_meanwhile_gets_nothing() -> None:
    transport = RecordingTransport()
    joined = _JoinedWrites(transport, asyncio.get_running_loop())
    joined.write(b"too late")
    transport.close()  # e.g. the peer went away
    await asyncio.sleep(0)
    assert transport.writes == []


async def test_everything_else_is_the_transports() -> None:
    transport = RecordingTransport()
    joined = _JoinedWrites(transport, asyncio.get_running_loop())
    assert joined.get_extra_info("sockname") == ("127.0.0.1", 8000)
    assert not joined.is_closing()
    transport.close()
    assert joined.is_closing()


async def _unused_app(scope: Any, receive: Any, send: Any) -> None:
    raise AssertionError("no request past the limits reaches the app")


def serving(app: Any, **limits: Any) -> tuple[RecordingTransport, list[tuple[str, int]], ServerProtocol]:
    """A protocol on a connection just made, serving `app`: its transport, and the refusals it reports."""
    config = uvicorn.Config(app, lifespan="off", log_config=None)
    config.load()
    rejected: list[tuple[str, int]] = []
    protocol = ServerProtocol(
        config=config,
        server_state=ServerState(),
        app_state={},
        limits=ConnectionLimits(**limits),
        on_rejected=lambda reason, status: rejected.append((reason, status)),
    )
    transport = RecordingTransport()
    protocol.connection_made(transport)
    return transport, rejected, protocol


def refused(data: bytes, **limits: Any) -> tuple[RecordingTransport, list[tuple[str, int]], ServerProtocol]:
    transport, rejected, protocol = serving(_unused_app, **limits)
    protocol.data_received(data)
    return transport, rejected, protocol


def answered(transport: RecordingTransport, status: int) -> dict[str, Any]:
    (written,) = transport.writes
    head, _, body = written.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 %d " % status), head
    assert b"connection: close" in head
    document: dict[str, Any] = msgspec.json.decode(body)
    return document


async def test_too_many_headers_is_431_and_the_connection_ends() -> None:
    headers = b"".join(b"X-%d: 1\r\n" % i for i in range(4))
    transport, rejected, protocol = refused(b"GET / HTTP/1.1\r\nHost: t\r\n" + headers + b"\r\n", max_headers=4)
    assert answered(transport, 431)["detail"] == "A request may have at most 4 headers."
    assert rejected == [("too_many_headers", 431)]
    assert transport.eof and not transport.closed  # the close lingers: what the client still sends is read
    protocol.data_received(b"more of the same")  # and dropped
    assert len(transport.writes) == 1


async def test_a_head_over_the_byte_limit_is_431() -> None:
    transport, rejected, _ = refused(b"GET / HTTP/1.1\r\nX-Big: " + b"a" * 2000, max_header_bytes=1024)
    assert "at most 1024 bytes" in answered(transport, 431)["detail"]
    assert rejected == [("headers_too_large", 431)]


async def test_a_head_over_the_byte_limit_in_one_read_is_431_too() -> None:
    head = b"GET / HTTP/1.1\r\nHost: t\r\nX-Big: " + b"a" * 2000 + b"\r\n\r\n"
    transport, rejected, _ = refused(head, max_header_bytes=1024)
    assert rejected == [("headers_too_large", 431)]
    answered(transport, 431)


async def test_a_large_body_in_the_same_read_as_a_small_head_is_no_large_head() -> None:
    body = b"{" + b" " * 5000 + b"}"
    request = b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    transport, rejected, protocol = refused(request, max_header_bytes=1024)
    assert rejected == [] and transport.writes == []
    for task in protocol.tasks:
        task.cancel()


async def test_what_is_not_http_is_a_400_problem() -> None:
    transport, rejected, _ = refused(b"NOT HTTP AT ALL\r\n\r\n")
    assert answered(transport, 400)["type"] == "urn:blogsvc:problem:bad-request"
    assert rejected == [("bad_request", 400)]


async def test_a_whole_request_arms_no_timer() -> None:
    """The limits cost a request that arrives in one read nothing but a few flags (the hot path)."""
    _, rejected, protocol = refused(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    assert protocol._timer is None and rejected == []
    for task in protocol.tasks:
        task.cancel()


async def test_blank_lines_do_not_stop_the_wait_for_a_head() -> None:
    """Before, one CRLF (which the parser skips) disarmed the head's timer: the connection was held for good."""
    transport, rejected, protocol = refused(b"\r\n")
    assert protocol._armed == "head"
    protocol._timer.cancel()  # type: ignore[union-attr]
    protocol._head_too_slow()  # what the timer does when it fires
    assert transport.closed and transport.writes == []
    assert rejected == [("header_timeout", 0)]


async def _answers_at_once(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 404, "headers": [(b"content-length", b"0")]})
    await send({"type": "http.response.body", "body": b""})


async def test_a_body_still_coming_after_the_answer_keeps_its_deadline() -> None:
    """The app answered without reading the body (a 404, a 413): what trickles in after is dropped by uvicorn,
    and before, it also cancelled uvicorn's keep-alive timer, so a byte now and then held the connection."""
    transport, rejected, protocol = serving(_answers_at_once)
    protocol.data_received(b"POST /nope HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000\r\n\r\n{")
    await asyncio.gather(*protocol.tasks)
    await asyncio.sleep(0)
    assert protocol.cycle is not None and protocol.cycle.response_complete
    protocol.data_received(b"a")
    assert protocol._armed == "body"
    protocol._timer.cancel()  # type: ignore[union-attr]
    protocol._body_too_slow()
    assert transport.closed
    assert rejected == [("body_timeout", 0)]


async def test_the_end_of_a_body_after_the_answer_leaves_a_bound_on_the_wait_for_the_next_head() -> None:
    transport, rejected, protocol = serving(_answers_at_once)
    protocol.data_received(b"POST /nope HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{")
    await asyncio.gather(*protocol.tasks)
    await asyncio.sleep(0)
    protocol.data_received(b"}")  # the body ends; no request follows
    assert protocol._armed == "head"
    protocol._timer.cancel()  # type: ignore[union-attr]
    protocol._head_too_slow()
    assert transport.closed and rejected == [("header_timeout", 0)]


async def test_a_body_refused_while_the_app_reads_it_stops_the_app_and_is_the_last_word() -> None:
    received: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        received.append(await receive())
        received.append(scope.get(ANSWERED_BY_SERVER))
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"0")]})
        await send({"type": "http.response.body", "body": b""})

    transport, rejected, protocol = serving(app)
    protocol.data_received(b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
    await asyncio.sleep(0)  # the app waits for the body
    protocol.data_received(b"zz\r\n{}\r\n0\r\n\r\n")  # not a chunk size
    await asyncio.wait_for(asyncio.gather(*protocol.tasks), 2)  # before, the app waited until the close
    await asyncio.sleep(0)
    assert received == [{"type": "http.disconnect"}, 400]  # logged as the server's 400, not as a client's 499
    assert rejected == [("bad_request", 400)]
    answered(transport, 400)  # and nothing after it: the app's own answer is dropped


async def test_nothing_is_written_after_the_sending_side_is_shut() -> None:
    transport = RecordingTransport()
    joined = _JoinedWrites(transport, asyncio.get_running_loop())
    joined.write(b"answer")
    joined.write_eof()
    joined.write(b"too late")  # before, the close that followed raised "Cannot call write() after write_eof()"
    joined.close()
    assert transport.writes == [b"answer"] and transport.eof and transport.closed


class _Counter:
    def inc(self) -> None:
        pass

    def dec(self) -> None:
        pass


class _Metrics:
    def in_progress(self, method: str) -> _Counter:
        return _Counter()

    def record(self, method: str, route: str, status: int, seconds: float) -> None:
        pass


async def test_a_client_gone_before_the_answer_is_a_499_though_the_app_never_reads_again() -> None:
    """The body was all in, so the app never hears of the close from receive(); before, the request was logged
    with the status the app gave its unsent answer (a 201 for a user it made, a 401 for a guess)."""
    at_work = asyncio.Event()
    logged: list[int] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()  # the whole body
        await at_work.wait()  # hashing a password, say, when the client leaves
        await send({"type": "http.response.start", "status": 201, "headers": [(b"content-length", b"0")]})
        await send({"type": "http.response.body", "body": b""})

    for leaves, status in ((True, 499), (False, 201)):
        at_work.clear()
        edge = Edge(app, _Metrics(), lambda method, route, status, seconds: logged.append(status))
        transport, _, protocol = serving(edge)
        protocol.data_received(b"POST /users HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{}")
        tasks = list(protocol.tasks)
        await asyncio.sleep(0)
        if leaves:
            protocol.connection_lost(None)
        at_work.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 2)
        assert logged.pop() == status
