"""As a calling service sees it: a real `blogsvc serve` with two workers and tokens, over HTTP."""

from __future__ import annotations

import secrets
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import httpx
import pytest

from tests.e2e_server import Server
from tests.helpers import new_user_body, unique_email

if TYPE_CHECKING:
    from collections.abc import Iterator

    from blogsvc.config import Settings

WRITE_TOKEN, READ_TOKEN = secrets.token_urlsafe(32), secrets.token_urlsafe(32)


@pytest.fixture(scope="module")
def server(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = Server(
        settings,
        tmp_path_factory.mktemp("secure-serve") / "serve.log",
        workers=2,
        BLOGSVC_API_TOKENS=f"write:{WRITE_TOKEN},read:{READ_TOKEN}",
        BLOGSVC_ENV="production",
        BLOGSVC_DRAIN_DELAY="0",
    )
    try:
        running.wait_until_healthy()
        yield running
    finally:
        running.stop()


def client(server: Server, token: str | None = WRITE_TOKEN) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    # A new connection per request, so that requests spread over both workers.
    return httpx.Client(
        base_url=server.base_url, headers=headers, timeout=10, limits=httpx.Limits(max_keepalive_connections=0)
    )


def test_tokens_over_http(server: Server) -> None:
    with client(server, token=None) as anonymous, client(server, READ_TOKEN) as reader, client(server) as writer:
        assert anonymous.get("/healthz").status_code == 200
        denied = anonymous.get("/users")
        assert denied.status_code == 401 and denied.headers["www-authenticate"].startswith("Bearer")
        assert reader.get("/users").status_code == 200
        assert reader.post("/users", json=new_user_body()).status_code == 403
        assert writer.post("/users", json=new_user_body()).status_code == 201
    assert WRITE_TOKEN not in server.output() and READ_TOKEN not in server.output()


def test_lockout_over_http_across_workers(server: Server) -> None:
    email = unique_email("e2e-lock")
    with client(server) as http:
        statuses = [
            http.post("/auth/verify", json={"email": email, "password": "guess"}).status_code for _ in range(12)
        ]
        assert statuses == [401] * 10 + [429] * 2
        assert (
            800 < int(http.post("/auth/verify", json={"email": email, "password": "x"}).headers["retry-after"]) <= 900
        )


def test_idempotency_over_http(server: Server) -> None:
    body, key = new_user_body(), f"e2e-{secrets.token_hex(8)}"
    with client(server) as http:

        def post() -> httpx.Response:
            return http.post("/users", json=body, headers={"Idempotency-Key": key})

        with ThreadPoolExecutor(max_workers=4) as pool:
            responses = list(pool.map(lambda _: post(), range(4)))
        responses.append(post())
        created = [r for r in responses if r.status_code == 201]
        assert {r.status_code for r in responses} <= {201, 409}
        assert responses[-1].status_code == 201
        assert len({r.json()["id"] for r in created}) == 1
        assert sum("idempotent-replayed" not in r.headers for r in created) == 1
        assert len(http.get("/users", params={"email": body["email"]}).json()["data"]) == 1
        assert http.post("/users", json=new_user_body(), headers={"Idempotency-Key": key}).status_code == 422
