"""Hardening: security headers on every response, 405 with Allow, OPTIONS, 413, 415, and every bound
checked before the database is touched (an app whose database cannot be reached answers them all)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from blogsvc.app import create_app
from blogsvc.config import DatabaseURL
from blogsvc.ops.docs import asset_url
from tests.helpers import assert_problem, new_user_body
from tests.security.conftest import READ, WRITE

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from litestar import Litestar

    from blogsvc.config import Settings

    Client = AsyncTestClient[Litestar]

CSS = asset_url("swagger-ui-dist", "swagger-ui.css")


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/users", 200),
        ("GET", "/healthz", 200),
        ("GET", "/openapi.json", 200),
        ("GET", "/users/999999999", 404),
        ("GET", "/nowhere", 404),
        ("PUT", "/users", 405),
        ("POST", "/users", 400),
    ],
)
async def test_every_response_has_the_security_headers(client: Client, method: str, path: str, status: int) -> None:
    response = await client.request(method, path, json={} if method == "POST" else None)
    assert response.status_code == status
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


async def test_401_and_403_have_them_too(secure_client: Client) -> None:
    unauthorized, forbidden = await secure_client.get("/users"), await secure_client.delete("/users/1", headers=READ)
    assert (unauthorized.status_code, forbidden.status_code) == (401, 403)
    for response in (unauthorized, forbidden):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_docs_pages_keep_their_policy_and_forbid_framing(client: Client, page: str) -> None:
    response = await client.get(page)
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self' 'unsafe-inline'" in csp  # service.DOCS_CSP, not the API's default-src 'none'
    assert response.headers.get_list("content-security-policy") == [csp]
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_docs_assets_stay_cacheable(client: Client) -> None:
    response = await client.get(CSS)
    assert response.status_code == 200
    assert response.headers.get_list("cache-control") == ["max-age=31536000, public, immutable"]
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/users", {"GET", "HEAD", "POST", "OPTIONS"}),
        ("POST", "/users/1", {"GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"}),
        ("DELETE", "/auth/verify", {"POST", "OPTIONS"}),
        ("PATCH", "/articles", {"GET", "HEAD", "OPTIONS"}),
    ],
)
async def test_wrong_method_is_405_with_allow(client: Client, method: str, path: str, allowed: set[str]) -> None:
    response = await client.request(method, path)
    assert_problem(response, 405)
    assert set(response.headers["allow"].replace(" ", "").split(",")) == allowed


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/users", "GET, HEAD, OPTIONS, POST"),
        ("/users/1", "DELETE, GET, HEAD, OPTIONS, PATCH, PUT"),
        ("/users/1/articles", "GET, HEAD, OPTIONS, POST"),
        ("/articles/7", "DELETE, GET, HEAD, OPTIONS, PATCH"),
    ],
)
async def test_options_lists_every_method_of_the_path(client: Client, path: str, allowed: str) -> None:
    response = await client.options(path)
    assert response.status_code == 204
    assert response.headers["allow"] == allowed


async def test_options_needs_a_token_like_the_rest(secure_client: Client) -> None:
    assert_problem(await secure_client.options("/users"), 401)
    assert (await secure_client.options("/users", headers=WRITE)).headers["allow"] == "GET, HEAD, OPTIONS, POST"


async def test_body_over_1_mib_is_413(client: Client) -> None:
    body = b'{"title": "' + b"x" * (1024 * 1024) + b'"}'
    response = await client.post("/users/1/articles", content=body, headers={"Content-Type": "application/json"})
    assert_problem(response, 413)


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml", ""])
async def test_non_json_body_is_415(client: Client, content_type: str) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = await client.post("/users", content=b'{"email": "a@example.com"}', headers=headers)
    assert_problem(response, 415)


# ---- nothing reaches the database before every bound is checked ----


@pytest.fixture
async def no_database(settings: Settings) -> AsyncIterator[Client]:
    """An app whose database cannot be reached: anything that touches it is a 503."""
    nowhere = DatabaseURL(user="root", password="", host="127.0.0.1", port=1, database="blogsvc")
    async with AsyncTestClient(create_app(msgspec.structs.replace(settings, database=nowhere))) as client:
        yield client


LONG = "x" * 101
BAD_REQUESTS: list[tuple[str, str, dict[str, Any], int]] = [
    ("GET", "/users?limit=101", {}, 400),
    ("GET", "/users?limit=0", {}, 400),
    ("GET", "/users?offset=-1", {}, 400),
    ("GET", "/users?offset=1000001", {}, 400),
    ("GET", "/users?order=sideways", {}, 400),
    ("GET", "/users?cursor=" + "c" * 65, {}, 400),
    ("GET", "/users?cursor=forged", {}, 400),
    ("GET", "/users?email=" + "e" * 255, {}, 400),
    ("GET", "/articles?author_id=0", {}, 400),
    ("GET", "/users/0", {}, 400),
    ("GET", "/users/9007199254740992", {}, 400),
    ("GET", "/articles/1e3", {}, 400),
    ("POST", "/users", {"json": new_user_body(email="x" * 250 + "@example.com")}, 400),
    ("POST", "/users", {"json": new_user_body(first_name=LONG)}, 400),
    ("POST", "/users", {"json": new_user_body(password="short")}, 400),
    ("POST", "/users", {"json": new_user_body(password="p" * 257)}, 400),
    ("POST", "/users", {"json": new_user_body(password="password1")}, 400),
    ("POST", "/users", {"json": new_user_body(id=5)}, 400),
    ("PATCH", "/users/1", {"json": {"city": LONG}}, 400),
    ("PUT", "/users/1", {"json": {"email": "a@example.com"}}, 400),
    ("POST", "/users/1/articles", {"json": {"title": "t" * 201}}, 400),
    ("POST", "/users/1/articles", {"json": {"title": "t", "body": "b" * 100_001}}, 400),
    ("PATCH", "/articles/1", {"json": {"title": None}}, 400),
    ("POST", "/auth/verify", {"json": {"email": "a@example.com", "password": "p" * 257}}, 400),
    ("POST", "/users", {"json": new_user_body(), "headers": {"Idempotency-Key": "k" * 256}}, 400),
    ("POST", "/users", {"json": new_user_body(first_name=LONG), "headers": {"Idempotency-Key": "k"}}, 400),
    ("POST", "/users", {"content": b"{}", "headers": {"Content-Type": "text/plain"}}, 415),
    ("POST", "/users", {"content": b"[" * 2_000_000, "headers": {"Content-Type": "application/json"}}, 413),
]


@pytest.mark.parametrize(("method", "path", "kwargs", "status"), BAD_REQUESTS)
async def test_bounds_are_checked_before_the_database(
    no_database: Client, method: str, path: str, kwargs: dict[str, Any], status: int
) -> None:
    assert_problem(await no_database.request(method, path, **kwargs), status)


async def test_the_unreachable_database_is_really_unreachable(no_database: Client) -> None:
    """The control for the test above: a good request does need the database."""
    assert_problem(await no_database.get("/users"), 503)
    assert_problem(await no_database.post("/users", json=new_user_body(), headers={"Idempotency-Key": "k"}), 503)
