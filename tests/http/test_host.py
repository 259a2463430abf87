"""RFC 9112 3.2: an HTTP/1.1 request without a Host header, or with more than one, is a 400 (a problem
document, from the edge, on every route); HTTP/1.0 needs none."""

from __future__ import annotations

import json
import socket
from typing import TYPE_CHECKING

import pytest

from tests.e2e_server import Server

if TYPE_CHECKING:
    from collections.abc import Iterator

    from blogsvc.config import Settings


@pytest.fixture(scope="module")
def server(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = Server(settings, tmp_path_factory.mktemp("host") / "serve.log")
    try:
        running.wait_until_healthy()
        yield running
    finally:
        running.stop()


def exchange(server: Server, request: bytes) -> tuple[str, dict[str, str], bytes]:
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as conn:
        conn.sendall(request)
        received = b""
        while chunk := conn.recv(65536):
            received += chunk
    head, body = received.split(b"\r\n\r\n", 1)
    status, *lines = head.decode("latin-1").split("\r\n")
    return status, {name.lower(): value for name, value in (line.split(": ", 1) for line in lines)}, body


@pytest.mark.parametrize(
    "headers",
    [b"", b"Host: a\r\nHost: b\r\n", b"Host:\r\n", b"Host: a, b\r\n", b"Host: ex ample\r\n", b"Host: x:80:90\r\n"],
    ids=["no Host", "two Hosts", "empty", "a list", "a space", "two ports"],
)
@pytest.mark.parametrize("path", [b"/healthz", b"/users/1", b"/no/such/path"])
def test_http_1_1_needs_exactly_one_host(server: Server, headers: bytes, path: bytes) -> None:
    status, response_headers, body = exchange(
        server, b"GET " + path + b" HTTP/1.1\r\n" + headers + b"Connection: close\r\n\r\n"
    )
    assert status == "HTTP/1.1 400 Bad Request"
    assert response_headers["content-type"] == "application/problem+json"
    assert response_headers["x-content-type-options"] == "nosniff" and response_headers["x-request-id"]
    assert json.loads(body) == {
        "type": "urn:blogsvc:problem:bad-request",
        "title": "Bad Request",
        "status": 400,
        "detail": "An HTTP/1.1 request needs exactly one Host header, naming a host (and port).",
    }


def test_http_1_0_needs_no_host(server: Server) -> None:
    status, _, body = exchange(server, b"GET /healthz HTTP/1.0\r\n\r\n")
    assert status == "HTTP/1.1 200 OK" and json.loads(body) == {"status": "ok"}


@pytest.mark.parametrize("host", [b"blogsvc", b"blogsvc:8123", b"127.0.0.1:8123", b"[::1]:8123", b"a,b"])
def test_one_host_is_served(server: Server, host: bytes) -> None:
    status, _, _ = exchange(server, b"GET /healthz HTTP/1.1\r\nHost: " + host + b"\r\nConnection: close\r\n\r\n")
    assert status == "HTTP/1.1 200 OK"


def test_http_1_0_with_a_bad_host_is_400(server: Server) -> None:
    status, _, _ = exchange(server, b"GET /healthz HTTP/1.0\r\nHost: a, b\r\n\r\n")
    assert status == "HTTP/1.1 400 Bad Request"
