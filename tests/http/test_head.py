"""HEAD on every GET route: the GET's status and headers (ETag, Content-Length, Content-Type), no body; listed
in OPTIONS and in a 405's Allow; through the app and through a real server, whose connection stays usable."""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING

import pytest

from tests.e2e_server import Server
from tests.helpers import assert_problem, new_user_body

if TYPE_CHECKING:
    from pathlib import Path

    from litestar import Litestar
    from litestar.testing import AsyncTestClient

    from blogsvc.config import Settings

    Client = AsyncTestClient[Litestar]

COMPARED = ("etag", "content-length", "content-type", "cache-control", "x-content-type-options")


@pytest.fixture
async def paths(client: Client) -> list[str]:
    user = (await client.post("/users", json=new_user_body())).json()
    article = (await client.post(f"/users/{user['id']}/articles", json={"title": "Head", "body": "b"})).json()
    return [
        f"/users/{user['id']}",
        "/users?limit=2",
        f"/users/{user['id']}/articles",
        f"/articles/{article['id']}",
        "/articles?limit=3&order=desc",
        "/",
        "/healthz",
        "/readyz",
        "/openapi.json",
        "/articles/999999999",  # a 404 answers HEAD as GET answers it
        "/users/abc",  # and so does a 400
    ]


async def test_head_answers_as_get_without_a_body(client: Client, paths: list[str]) -> None:
    for path in paths:
        got, head = await client.get(path), await client.head(path)
        assert head.status_code == got.status_code, path
        assert head.content == b"", path
        for name in COMPARED:
            assert head.headers.get(name) == got.headers.get(name), (path, name)


async def test_head_takes_if_none_match(client: Client, paths: list[str]) -> None:
    etag = (await client.get(paths[0])).headers["etag"]
    response = await client.head(paths[0], headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert response.headers["etag"] == etag


async def test_head_is_not_allowed_where_get_is_not(client: Client) -> None:
    response = await client.head("/auth/verify")
    assert response.status_code == 405
    assert set(response.headers["allow"].replace(" ", "").split(",")) == {"POST", "OPTIONS"}
    assert_problem(await client.put("/articles"), 405)


def test_head_through_a_real_server_sends_headers_only(settings: Settings, tmp_path: Path) -> None:
    server = Server(settings, tmp_path / "serve.log")
    try:
        server.wait_until_healthy()
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as conn:
            # A HEAD and then a GET on the same connection: the GET's answer must start right after the
            # HEAD's headers, with no body bytes between them.
            conn.sendall(b"HEAD /healthz HTTP/1.1\r\nHost: t\r\n\r\nGET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
            received = b""
            while received.count(b"HTTP/1.1 200") < 2 or not received.endswith(b'{"status":"ok"}'):
                chunk = conn.recv(65536)
                assert chunk, received
                received += chunk
        head, rest = received.split(b"\r\n\r\n", 1)
        assert b"content-length: 15" in head.lower()
        assert rest.startswith(b"HTTP/1.1 200 OK"), received
    finally:
        assert server.stop() == 0
