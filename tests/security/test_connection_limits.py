"""Probes at the connection, against a real `blogsvc serve --workers 2` (http/server_protocol.py): slow and
half-sent requests are closed within their bounds and never count as server errors, a huge head is a 431
that costs a worker no memory, the probes keep answering through a slowloris flood, and the framing and
charset a request declares are checked (RFC 9112, RFC 8259)."""

from __future__ import annotations

import asyncio
import http.client
import re
import socket
import threading
import time
from typing import TYPE_CHECKING

import httpx
import msgspec
import pytest

from tests.e2e_server import Server

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from blogsvc.config import Settings

HEADER_TIMEOUT = 5.0  # the default
BODY_TIMEOUT = 2.0
SLACK = 1.5  # for a busy machine: a timer fires late, a close takes a turn of the loop
POST_USERS = b"POST /users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"


@pytest.fixture(scope="module")
def server(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    served = Server(
        settings, tmp_path_factory.mktemp("limits") / "serve.log", workers=2, BLOGSVC_BODY_TIMEOUT=str(BODY_TIMEOUT)
    )
    try:
        served.wait_until_healthy()
        yield served
    finally:
        served.stop()


def metric(server: Server, name: str, **labels: str) -> float:
    """A sample of /metrics (summed over both workers), 0 if it has none yet."""
    wanted = {f'{key}="{value}"' for key, value in labels.items()}
    total = 0.0
    for line in httpx.get(f"{server.base_url}/metrics", timeout=5).text.splitlines():
        if line.startswith(name + "{") and wanted <= set(line[len(name) + 1 : line.index("}")].split(",")):
            total += float(line.rsplit(" ", 1)[1])
    return total


def wait_for_metric(server: Server, name: str, at_least: float, **labels: str) -> float:
    deadline = time.monotonic() + 5
    while (value := metric(server, name, **labels)) < at_least and time.monotonic() < deadline:
        time.sleep(0.1)
    return value


def exchange(server: Server, data: bytes, wait: float = 15) -> tuple[bytes, float]:
    """Send `data` on a new connection, then read until the server closes it: what came, and when (s)."""
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.settimeout(wait)
        started = time.monotonic()
        sock.sendall(data)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
        return answer, time.monotonic() - started


def problem(answer: bytes, status: int) -> dict[str, object]:
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 %d " % status), answer[:300]
    assert b"content-type: application/problem+json" in head.lower(), head
    for header in (b"cache-control: no-store", b"x-content-type-options: nosniff", b"content-security-policy: "):
        assert header in head.lower(), head  # the app's answers have them, and so do the server's own
    document: dict[str, object] = msgspec.json.decode(body)
    assert document["status"] == status, document
    return document


def worker_rss_kib(server: Server) -> dict[int, int]:
    """The resident memory of each of the server's worker processes."""
    rss = {}
    children = (p for p in _proc_dirs() if _parent(p) == server.process.pid)
    for stat in (p for p in children if b"spawn_main" in (p / "cmdline").read_bytes()):  # not the resource tracker
        status = (stat / "status").read_text()
        rss[int(stat.name)] = int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1))  # type: ignore[union-attr]
    assert len(rss) == 2, rss
    return rss


def _proc_dirs() -> list[Path]:
    from pathlib import Path

    return [p for p in Path("/proc").iterdir() if p.name.isdigit()]


def _parent(proc: Path) -> int | None:
    try:
        return int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


# ---- slow requests ----


def test_slow_headers_are_answered_408_within_the_timeout(server: Server) -> None:
    answer, took = exchange(server, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    document = problem(answer, 408)
    assert "5 s" in str(document["detail"])
    assert HEADER_TIMEOUT - 0.1 <= took <= HEADER_TIMEOUT + 2.0 + SLACK  # + the lingering close


def test_a_connection_that_sends_nothing_is_closed_without_a_word(server: Server) -> None:
    before = metric(server, "blogsvc_connections_closed_total", reason="header_timeout")
    answer, took = exchange(server, b"")
    assert answer == b""
    assert HEADER_TIMEOUT - 0.1 <= took <= HEADER_TIMEOUT + SLACK
    assert (
        wait_for_metric(server, "blogsvc_connections_closed_total", before + 1, reason="header_timeout") >= before + 1
    )


@pytest.mark.parametrize(
    "request_head",
    [
        POST_USERS + b'Content-Length: 100\r\n\r\n{"em',
        POST_USERS + b"Transfer-Encoding: chunked\r\n\r\n5\r\n{",
    ],
    ids=["short-content-length", "unterminated-chunked"],
)
def test_a_half_sent_body_is_408_within_its_bound_and_no_server_error(server: Server, request_head: bytes) -> None:
    errors = metric(server, "blogsvc_requests_error_total", path="/users")
    timeouts = metric(server, "blogsvc_requests_total", path="/users", status_code="408")
    answer, took = exchange(server, request_head)
    assert "body did not arrive within 2 s" in str(problem(answer, 408)["detail"])
    assert BODY_TIMEOUT - 0.1 <= took <= BODY_TIMEOUT + 2.0 + SLACK
    assert wait_for_metric(server, "blogsvc_requests_total", timeouts + 1, path="/users", status_code="408") == (
        timeouts + 1
    )
    assert metric(server, "blogsvc_requests_error_total", path="/users") == errors


def test_a_client_that_leaves_mid_body_is_a_499_not_a_500(server: Server) -> None:
    errors = metric(server, "blogsvc_requests_error_total", path="/users")
    left = metric(server, "blogsvc_requests_total", path="/users", status_code="499")
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(POST_USERS + b"Content-Length: 50\r\n\r\n{")
        time.sleep(0.2)  # the request has reached the app, which waits for the rest
    assert wait_for_metric(server, "blogsvc_requests_total", left + 1, path="/users", status_code="499") == left + 1
    assert metric(server, "blogsvc_requests_error_total", path="/users") == errors
    assert metric(server, "blogsvc_requests_total", path="/users", status_code="500") == 0


def test_blank_lines_alone_do_not_hold_a_connection(server: Server) -> None:
    """The parser skips a CRLF before a request; before, that one read disarmed the head's timer for good."""
    answer, took = exchange(server, b"\r\n", wait=HEADER_TIMEOUT + 10)
    assert answer == b""
    assert HEADER_TIMEOUT - 0.1 <= took <= HEADER_TIMEOUT + SLACK


def test_a_body_still_trickling_in_after_an_early_answer_is_closed_within_its_bound(server: Server) -> None:
    """A 404 (or 405, 413) answered before the body is read: the rest of the body, a byte now and then, is
    dropped, and before, it held the connection for as long as it came (each read cancelled keep-alive)."""
    closed_before = metric(server, "blogsvc_connections_closed_total", reason="body_timeout")
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.settimeout(0.5)
        started = time.monotonic()
        sock.sendall(b"POST /no-such-route HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n\r\n{")
        answer = b""
        while time.monotonic() - started < BODY_TIMEOUT + 10:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                chunk = None
            if chunk == b"":
                break
            answer += chunk or b""
            try:
                sock.sendall(b" ")
            except ConnectionError:
                break
        took = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 404 "), answer[:200]
    assert took <= BODY_TIMEOUT + SLACK, took
    assert wait_for_metric(server, "blogsvc_connections_closed_total", closed_before + 1, reason="body_timeout") >= (
        closed_before + 1
    )


def test_a_body_the_parser_refuses_after_the_head_is_the_servers_400(server: Server) -> None:
    """A chunk size that is no number: the app, already waiting for the body, is stopped; the request is
    logged and counted as the 400 it got, not as a client's 499."""
    refused = metric(server, "blogsvc_requests_total", path="/users", status_code="400")
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(POST_USERS + b"Transfer-Encoding: chunked\r\n\r\n")
        time.sleep(0.2)  # the request has reached the app, which waits for the body
        sock.settimeout(5)
        sock.sendall(b"zz\r\n{}\r\n0\r\n\r\n")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    problem(answer, 400)
    assert wait_for_metric(server, "blogsvc_requests_total", refused + 1, path="/users", status_code="400") == (
        refused + 1
    )


def test_slowloris_sockets_are_closed_and_the_probes_keep_answering(server: Server) -> None:
    """3,000 sockets sending their headers a byte every 10 s: each is closed within the header timeout,
    and /healthz and /readyz, asked on a new connection every 50 ms throughout, answer 200 well within the
    probes' timeout in deploy/k8s (2 s). The 100 ms goal is a timing figure: bench/slowloris.py measures it
    with the sockets in a process of their own (here they share the test's GIL with the prober)."""
    probes: list[tuple[str, int, float]] = []
    stop = threading.Event()

    def probe() -> None:
        paths = ("/healthz", "/readyz")
        while not stop.is_set():
            path = paths[len(probes) % 2]
            started = time.monotonic()
            connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
            try:
                connection.request("GET", path)
                status = connection.getresponse().status
            finally:
                connection.close()
            probes.append((path, status, time.monotonic() - started))
            time.sleep(0.05)

    async def slowloris(count: int) -> list[float]:
        async def one() -> float:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            opened = time.monotonic()
            writer.write(b"G")
            try:
                while True:  # a byte every 10 s until the server closes the connection
                    try:
                        await asyncio.wait_for(reader.read(), 10)
                        break
                    except TimeoutError:
                        writer.write(b"E")
            except ConnectionError:
                pass
            writer.close()
            return time.monotonic() - opened

        tasks = []
        for start in range(0, count, 100):  # 100 at a time, so the listen queue never overflows
            tasks += [asyncio.create_task(one()) for _ in range(start, min(count, start + 100))]
            await asyncio.sleep(0.05)
        return await asyncio.gather(*tasks)

    closed_before = metric(server, "blogsvc_connections_closed_total", reason="header_timeout")
    prober = threading.Thread(target=probe)
    prober.start()
    try:
        held = asyncio.run(slowloris(3000))
        time.sleep(1)  # and a second more of probes after the last slow socket went
    finally:
        stop.set()
        prober.join()
    assert max(held) <= HEADER_TIMEOUT + 2.0 + SLACK, sorted(held)[-5:]  # + the lingering close
    assert min(held) >= HEADER_TIMEOUT - 0.5  # timed from the server's accept, a moment before the client's
    assert len(probes) > 50, len(probes)
    assert {status for _, status, _ in probes} == {200}, [p for p in probes if p[1] != 200][:5]
    slowest = max(probes, key=lambda p: p[2])
    assert slowest[2] < 1.0, (slowest, sorted(p[2] for p in probes)[-10:])
    closed = wait_for_metric(server, "blogsvc_connections_closed_total", closed_before + 3000, reason="header_timeout")
    assert closed >= closed_before + 3000


# ---- huge heads ----


def test_a_200_mib_header_is_431_and_costs_a_worker_no_memory(server: Server) -> None:
    before = worker_rss_kib(server)
    received = bytearray()
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.settimeout(15)

        def read() -> None:
            try:
                while chunk := sock.recv(65536):
                    received.extend(chunk)
            except OSError:
                pass

        reader = threading.Thread(target=read)
        reader.start()
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ")
        chunk = b"a" * (1024 * 1024)
        sent = 0
        try:
            for sent in range(1, 201):  # noqa: B007  (how far it got is kept)
                sock.sendall(chunk)
        except OSError:
            pass  # the server closed the connection: it would not take 200 MiB
        reader.join(15)
    document = problem(bytes(received), 431)
    assert "at most 65536 bytes" in str(document["detail"])
    after = worker_rss_kib(server)
    grew = {pid: after[pid] - before[pid] for pid in before}
    assert max(grew.values()) < 5 * 1024, (grew, sent)


def test_ten_thousand_headers_are_431(server: Server) -> None:
    many = b"".join(b"X-H%d: 1\r\n" % i for i in range(10_000))
    answer, _ = exchange(server, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n")
    assert "at most 100 headers" in str(problem(answer, 431)["detail"])


def test_a_70_kib_header_sent_at_once_is_431(server: Server) -> None:
    answer, _ = exchange(server, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n")
    problem(answer, 431)


def test_a_head_within_the_limits_is_served(server: Server) -> None:
    headers = b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 500) for i in range(90))  # 90 headers, about 46 KiB
    answer, _ = exchange(server, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + headers + b"\r\n")
    assert answer.startswith(b"HTTP/1.1 200 "), answer[:200]


# ---- framing and charset ----


@pytest.mark.parametrize(
    "codings",
    [[b"identity, chunked"], [b"gzip, chunked"], [b"chunked", b"chunked"], [b"identity"]],
    ids=["identity-chunked", "gzip-chunked", "twice", "identity"],
)
def test_a_transfer_encoding_other_than_plain_chunked_is_400(server: Server, codings: list[bytes]) -> None:
    head = b"".join(b"Transfer-Encoding: %s\r\n" % coding for coding in codings)
    answer, _ = exchange(
        server, b"POST /auth/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" + head + b"\r\n0\r\n\r\n"
    )
    problem(answer, 400)  # the edge's, or the parser's where llhttp refuses the framing itself (identity alone)


def test_a_coding_both_the_edge_and_the_parser_refuse_is_answered_once(server: Server) -> None:
    """`gzip` alone, with a body: the edge refuses the head, and llhttp the body that follows it. Before, the
    edge's answer was written after the parser's had shut the sending side: a RuntimeError in the error log."""
    body = b'{"email": "nobody.coding@example.com", "password": "x"}'
    answer, _ = exchange(
        server,
        b"POST /auth/verify HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\nContent-Type: application/json\r\n"
        b"Connection: close\r\n\r\n" + body,
    )
    assert answer.count(b"HTTP/1.1 4") == 1, answer
    problem(answer, 400)
    time.sleep(0.3)
    assert "Exception in ASGI application" not in server.output()


def test_plain_chunked_is_read(server: Server) -> None:
    body = b'{"email": "nobody.chunked@example.com", "password": "x"}'
    answer, _ = exchange(
        server,
        b"POST /auth/verify HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n" % (len(body), body),
    )
    problem(answer, 401)  # read whole: the credentials were checked


@pytest.mark.parametrize(
    ("charset", "status"),
    [("latin-1", 415), ("utf-16", 415), ("iso-8859-1", 415), ('"utf-16le"', 415)]
    + [("utf-8", 401), ("UTF-8", 401), ('"utf-8"', 401), ("utf8", 401)],  # read: the credentials were checked
)
def test_a_body_declared_in_a_charset_other_than_utf8_is_415(server: Server, charset: str, status: int) -> None:
    response = httpx.post(
        f"{server.base_url}/auth/verify",
        content=b'{"email": "nobody.charset@example.com", "password": "x"}',
        headers={"Content-Type": f"application/json; charset={charset}"},
    )
    assert response.status_code == status, response.text
    assert status != 415 or "UTF-8" in response.json()["detail"]


@pytest.mark.parametrize(
    "content_type",
    ["application/json; charset=utf-8; charset=latin-1", "application/json; charset=utf-8;charset=utf-16"],
)
def test_every_charset_declared_counts(server: Server, content_type: str) -> None:
    response = httpx.post(
        f"{server.base_url}/auth/verify",
        content=b'{"email": "nobody.charset@example.com", "password": "x"}',
        headers={"Content-Type": content_type},
    )
    assert response.status_code == 415, response.text


def test_two_content_types_are_400(server: Server) -> None:
    answer, _ = exchange(
        server,
        b"POST /auth/verify HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\n"
        b"Content-Type: text/plain\r\nContent-Length: 2\r\n\r\n{}",
    )
    assert "exactly one Content-Type" in str(problem(answer, 400)["detail"])
