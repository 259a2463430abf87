"""blogsvc.http.server_protocol: a connection's writes in one turn of the event loop leave as one write."""

from __future__ import annotations

import asyncio
from typing import Any

from blogsvc.http.server_protocol import _JoinedWrites


class RecordingTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: Any) -> None:
        assert not self.closed, "written after close"
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

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
